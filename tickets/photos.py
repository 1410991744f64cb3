"""Repair photos: checked by what the bytes are, not by the name or type the phone sent."""

from dataclasses import dataclass

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.http import FileResponse
from django.utils.translation import gettext as _
from PIL import Image, UnidentifiedImageError

from tickets.errors import invalid

# The formats phones write, each with the file type and content type it is stored under.
_FORMATS = {
    "JPEG": ("jpg", "image/jpeg"),
    "PNG": ("png", "image/png"),
    "WEBP": ("webp", "image/webp"),
}
# Decoding a bomb of a few KB into gigapixels is refused before it is tried.
_MAX_PIXELS = 50_000_000


@dataclass(frozen=True)
class CheckedPhoto:
    file: UploadedFile
    extension: str
    content_type: str


def photo_check(upload: UploadedFile, *, field: str = "photos") -> CheckedPhoto:
    """Return the upload with its real type if it is a photo of an allowed size, else raise."""
    if upload.size > settings.PHOTO_MAX_BYTES:
        raise invalid(
            {
                field: _("%(name)s is larger than %(limit)d MB; send a smaller photo.")
                % {"name": _display_name(upload), "limit": settings.PHOTO_MAX_BYTES // 2**20}
            }
        )
    try:
        upload.seek(0)
        with Image.open(upload) as image:
            kind = image.format
            if image.width * image.height > _MAX_PIXELS:
                raise UnidentifiedImageError
            image.verify()
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError):
        kind = None
    finally:
        upload.seek(0)
    if kind not in _FORMATS:
        raise invalid(
            {
                field: _("%(name)s is not a photo (JPEG, PNG or WebP).")
                % {"name": _display_name(upload)}
            }
        )
    extension, content_type = _FORMATS[kind]
    return CheckedPhoto(file=upload, extension=extension, content_type=content_type)


def _display_name(upload: UploadedFile) -> str:
    # Only the last part of what the phone sent, and short: it is shown back, never stored.
    name = (upload.name or "").replace("\\", "/").rsplit("/", 1)[-1]
    return name[:60] or _("The file")


def photo_response(photo) -> FileResponse:
    """Return the stored photo as the image itself, never kept by a shared cache."""
    response = FileResponse(photo.image.open("rb"), content_type=photo.content_type)
    response["Content-Disposition"] = f'inline; filename="{photo.key}.{photo.extension}"'
    response["Cache-Control"] = "private, no-store"
    return response
