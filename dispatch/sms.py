"""Text-message gateways. ``SMS_BACKEND`` names the one in use.

``LogSmsBackend`` writes each message to the log: the embedded demo's choice, like Django's
console e-mail backend. ``HttpSmsBackend`` posts JSON ``{"to", "text"}`` with a bearer token
to ``SMS_GATEWAY_URL``, the shape most SMS gateways and in-house relays take.
"""

import json
import logging
import urllib.request

from django.conf import settings
from django.utils.module_loading import import_string

logger = logging.getLogger(__name__)


class SmsError(Exception):
    """The gateway did not take the message."""


class LogSmsBackend:
    def send(self, *, to: str, text: str) -> None:
        logger.info("SMS to %s: %s", to, text)


class HttpSmsBackend:
    def send(self, *, to: str, text: str) -> None:
        request = urllib.request.Request(  # noqa: S310 - the address is the operator's setting
            settings.SMS_GATEWAY_URL,
            data=json.dumps({"to": to, "text": text}).encode(),
            headers={
                "Content-Type": "application/json",
                "Authorization": f"Bearer {settings.SMS_GATEWAY_TOKEN}",
            },
        )
        try:
            with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
                if response.status >= 300:
                    raise SmsError(f"gateway answered {response.status}")
        except OSError as error:
            raise SmsError(str(error)) from error


def sms_backend():
    return import_string(settings.SMS_BACKEND)()
