"""Signed events from the telephone switch (CTI): checking the signature and the time.

The switch sends ``X-CTI-Timestamp`` (Unix seconds) and ``X-CTI-Signature:
sha256=<hex>``, the HMAC-SHA256 with the shared secret of ``"<timestamp>.<raw body>"``; a
GET, which has no body, signs its path with the query instead (``/api/v1/cti/notices/?number=
…``), so a signature cannot be reused to ask about another number.
A request more than ``CTI_MAX_SKEW`` seconds from now is refused as a possible replay;
events themselves are idempotent per (call id, event) besides.
"""

import hashlib
import hmac
import time

from django.conf import settings
from django.utils.translation import gettext as _
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions


def cti_signature(*, secret: str, timestamp: str, body: bytes) -> str:
    """Return the signature header value for ``body`` sent at ``timestamp``."""
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"sha256={digest.hexdigest()}"


class CtiSwitch:
    """The telephone switch, as the authenticated party of a CTI request."""

    is_authenticated = True
    is_anonymous = False
    pk = None

    def __str__(self) -> str:
        return "CTI switch"


def signed_part(request) -> bytes:
    """What the signature covers: the body, or for a GET the path and query as sent."""
    if request.method == "GET":
        return request.get_full_path().encode()
    return request.body


class CtiSignatureAuthentication(authentication.BaseAuthentication):
    def authenticate(self, request):
        secret = settings.CTI_SHARED_SECRET
        if not secret:
            raise exceptions.PermissionDenied(_("CTI is not configured on this system."))
        timestamp = request.headers.get("X-CTI-Timestamp", "")
        signature = request.headers.get("X-CTI-Signature", "")
        if not timestamp.isdigit() or not signature:
            raise exceptions.PermissionDenied(_("The request is not signed."))
        if abs(time.time() - int(timestamp)) > settings.CTI_MAX_SKEW:
            raise exceptions.PermissionDenied(_("The signature has expired; check the clock."))
        expected = cti_signature(secret=secret, timestamp=timestamp, body=signed_part(request))
        if not hmac.compare_digest(expected, signature):
            raise exceptions.PermissionDenied(_("The signature does not match."))
        return CtiSwitch(), None


class CtiSignatureScheme(OpenApiAuthenticationExtension):
    """Describe the switch's signature in the OpenAPI schema."""

    target_class = CtiSignatureAuthentication
    name = "ctiSignature"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "header",
            "name": "X-CTI-Signature",
            "description": (
                "sha256=<hex>: HMAC-SHA256 with the shared secret of "
                '"<X-CTI-Timestamp>.<raw body>" (for a GET, of "<X-CTI-Timestamp>.<path and '
                'query>"); the timestamp is Unix seconds.'
            ),
        }
