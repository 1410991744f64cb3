"""Headers every answer carries: the Content-Security-Policy, and no-store on personal data.

Django 5.2 has no Content-Security-Policy of its own (6.0 brings one); this is the small
part of it the centre needs: one policy for every answer, from ``CONTENT_SECURITY_POLICY``,
which a view that needs another (the API's documentation) sets itself.
"""

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils.cache import patch_cache_control

CSP_HEADER = "Content-Security-Policy"


def csp_header_value(**extra: list[str]) -> str:
    """Return the policy of ``CONTENT_SECURITY_POLICY``, with ``extra`` sources added.

    ``extra`` names a directive with underscores (``img_src=["data:"]``).
    """
    policy = {name: list(sources) for name, sources in settings.CONTENT_SECURITY_POLICY.items()}
    for name, sources in extra.items():
        policy.setdefault(name.replace("_", "-"), []).extend(sources)
    return "; ".join(" ".join([name, *sources]) for name, sources in policy.items())


class ContentSecurityPolicyMiddleware:
    """Give every answer the site's Content-Security-Policy, unless its view set its own."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        # Read once: the policy is the same for every answer.
        self.policy = csp_header_value()

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if CSP_HEADER not in response:
            response[CSP_HEADER] = self.policy
        return response


class PrivateNoStoreMiddleware:
    """Tell browsers and proxies never to store an answer that may carry personal data.

    That is every answer to a signed-in person, and every answer under
    ``PRIVATE_PATH_PREFIXES`` (the API, a ticket's public status) whoever asks. Static files
    are answered before this runs (WhiteNoise) and stay cacheable. A view's own
    Cache-Control is kept and no-store added to it; the board's poll, which sends the
    version it has itself, is answered 304 by the view as before.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self.private_prefixes = tuple(settings.PRIVATE_PATH_PREFIXES)
        self.static_prefix = "/" + settings.STATIC_URL.lstrip("/")

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if "no-store" in response.get("Cache-Control", ""):
            return response  # never_cache said it already: the board's polls stay cheap
        if request.path.startswith(self.static_prefix):
            return response
        user = getattr(request, "user", None)
        if request.path.startswith(self.private_prefixes) or (user and user.is_authenticated):
            patch_cache_control(response, no_store=True, private=True)
        return response
