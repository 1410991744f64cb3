"""Text-message gateways. ``SMS_BACKEND`` names the one in use.

``LogSmsBackend`` writes each message to the log, ``ConsoleSmsBackend`` to standard output
and ``FileSmsBackend`` to the end of ``SMS_FILE_PATH``, like Django's e-mail backends.
``DatabaseSmsBackend`` keeps each message in a table the admin shows: the demo's choice.
``HttpSmsBackend`` posts JSON ``{"to", "text"}`` with a bearer token to ``SMS_GATEWAY_URL``,
the shape most SMS gateways and in-house relays take.
"""

import http.client
import json
import logging
import sys

from django.conf import settings
from django.utils.module_loading import import_string

from callcentre.outbound import OutboundRefused, outbound_post

logger = logging.getLogger(__name__)


class SmsError(Exception):
    """The gateway did not take the message."""


class LogSmsBackend:
    def send(self, *, to: str, text: str) -> None:
        logger.info("SMS to %s: %s", to, text)


class ConsoleSmsBackend:
    def send(self, *, to: str, text: str) -> None:
        sys.stdout.write(f"SMS to {to}: {text}\n")
        sys.stdout.flush()


class FileSmsBackend:
    def send(self, *, to: str, text: str) -> None:
        try:
            with open(settings.SMS_FILE_PATH, "a", encoding="utf-8") as messages:
                messages.write(json.dumps({"to": to, "text": text}, ensure_ascii=False) + "\n")
        except OSError as error:
            raise SmsError(str(error)) from error


class DatabaseSmsBackend:
    def send(self, *, to: str, text: str) -> None:
        from dispatch.models import SmsRecord

        SmsRecord.objects.create(to_phone=to, body=text)


class HttpSmsBackend:
    """Posts to the gateway only if its address passes ``callcentre.outbound``'s checks; a
    redirect is a refusal like any other answer that is not 2xx."""

    def send(self, *, to: str, text: str) -> None:
        try:
            status = outbound_post(
                settings.SMS_GATEWAY_URL,
                body=json.dumps({"to": to, "text": text}).encode(),
                headers={
                    "Content-Type": "application/json",
                    "Authorization": f"Bearer {settings.SMS_GATEWAY_TOKEN}",
                },
                timeout=10,
            )
        except (OutboundRefused, OSError, http.client.HTTPException) as error:
            raise SmsError(str(error)) from error
        if status >= 300:
            raise SmsError(f"gateway answered {status}")


def sms_backend():
    return import_string(settings.SMS_BACKEND)()
