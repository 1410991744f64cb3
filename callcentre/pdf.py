"""PDF files of the app's pages (the completion slip, the reports), by WeasyPrint.

A page becomes a PDF with its own stylesheets and fonts from the app's static files, and
nothing else: no address on the network, elsewhere on disk or in ``data:`` is ever read.
"""

import mimetypes
import posixpath
from pathlib import Path
from urllib.parse import unquote, urljoin

from django.conf import settings
from django.contrib.staticfiles import finders
from django.contrib.staticfiles.storage import staticfiles_storage


class ResourceRefused(ValueError):
    """The PDF asked for something that is not one of the app's own static files."""


def _pdf_base_url() -> str:
    return settings.PUBLIC_BASE_URL + "/"


def static_file_for_url(url: str) -> Path:
    """Return the static file that ``url`` names, or raise ResourceRefused.

    Only addresses under the app's static URL are served, from the files on disk: nothing
    is ever fetched from the network, the file system elsewhere or a ``data:`` address.
    """
    prefix = urljoin(_pdf_base_url(), settings.STATIC_URL)
    url = url.split("#", 1)[0].split("?", 1)[0]
    if not url.startswith(prefix):
        raise ResourceRefused(url)
    name = unquote(url[len(prefix) :])
    normalised = posixpath.normpath(name)
    if not name or normalised != name or normalised.startswith(("/", "..")) or "\\" in name:
        raise ResourceRefused(url)
    found = finders.find(name)
    if found is None and staticfiles_storage.exists(name):
        # Collected with hashed names (the manifest storage): the finders do not know them.
        found = staticfiles_storage.path(name)
    if found is None:
        raise ResourceRefused(url)
    return Path(found)


def pdf_from_html(html: str) -> bytes:
    """Return the page ``html`` rendered as a PDF, loading nothing from outside the app."""
    # Imported here: WeasyPrint takes half a second to load, and only a PDF needs it.
    from weasyprint import HTML
    from weasyprint.urls import URLFetcher, URLFetcherResponse

    class StaticFilesOnly(URLFetcher):
        def fetch(self, url, headers=None):
            path = static_file_for_url(url)
            mime_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
            return URLFetcherResponse(
                url, body=path.read_bytes(), headers={"Content-Type": mime_type}
            )

    return HTML(string=html, base_url=_pdf_base_url(), url_fetcher=StaticFilesOnly()).write_pdf()
