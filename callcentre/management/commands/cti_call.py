import json
import time
import urllib.error
import urllib.request
import uuid

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from callcentre.cti import cti_signature


class Command(BaseCommand):
    help = (
        "Act as the telephone switch: send signed ringing and answered events for one call "
        "to a running system, so the agent at that extension gets the screen pop."
    )

    def add_arguments(self, parser):
        parser.add_argument("--number", required=True, help="the caller's number")
        parser.add_argument("--extension", required=True, help="the answering agent's extension")
        parser.add_argument("--url", default="http://127.0.0.1:8000", help="the system's address")
        parser.add_argument("--end", action="store_true", help="also send the ended event")

    def handle(self, *args, number: str, extension: str, url: str, end: bool, **options):
        secret = settings.CTI_SHARED_SECRET
        if not secret:
            raise CommandError("Set CTI_SHARED_SECRET to the secret the system shares.")
        call_id = f"cli-{uuid.uuid4().hex[:12]}"
        events = [("ringing", ""), ("answered", extension)] + ([("ended", "")] if end else [])
        for event, agent_extension in events:
            body = json.dumps(
                {
                    "call_id": call_id,
                    "event": event,
                    "caller_number": number,
                    "agent_extension": agent_extension,
                }
            ).encode()
            stamp = str(int(time.time()))
            request = urllib.request.Request(  # noqa: S310 - an address the operator gives
                f"{url.rstrip('/')}/api/v1/cti/events/",
                data=body,
                headers={
                    "Content-Type": "application/json",
                    "X-CTI-Timestamp": stamp,
                    "X-CTI-Signature": cti_signature(secret=secret, timestamp=stamp, body=body),
                },
            )
            try:
                with urllib.request.urlopen(request, timeout=5) as response:  # noqa: S310
                    self.stdout.write(f"{event}: {response.status} {response.read().decode()}")
            except urllib.error.HTTPError as error:
                raise CommandError(f"{event}: {error.code} {error.read().decode()}") from error
