"""System checks of settings that would otherwise fail only when first used."""

import ipaddress
from urllib.parse import urlsplit

from django.conf import settings
from django.core.checks import Error


def outbound_settings_check(app_configs, **kwargs) -> list[Error]:
    """The networks allowed for outbound calls parse, and an HTTP gateway has an http(s)
    address (whether it resolves to an allowed one is checked at every send)."""
    errors = []
    for network in settings.OUTBOUND_ALLOWED_NETWORKS:
        try:
            ipaddress.ip_network(network, strict=False)
        except ValueError:
            errors.append(
                Error(
                    f"OUTBOUND_ALLOWED_NETWORKS holds {network!r}, which is not a network.",
                    hint='Write networks as "10.20.0.0/24", separated by commas.',
                    id="callcentre.E001",
                )
            )
    if settings.SMS_BACKEND == "dispatch.sms.HttpSmsBackend":
        parts = urlsplit(settings.SMS_GATEWAY_URL)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            errors.append(
                Error(
                    "SMS_GATEWAY_URL must be an http or https address for HttpSmsBackend.",
                    id="callcentre.E002",
                )
            )
    return errors
