"""Requests the centre makes to addresses an operator configured (the SMS gateway).

Such an address is checked before every request: http or https only, and every address its
name resolves to must be on the public internet, not this machine, the private network
behind it or a cloud's metadata service (loopback, private, link-local, shared, reserved
and multicast ranges are refused). The connection then goes to the address that was
checked, so a name that resolves differently a moment later (DNS rebinding) gains nothing,
and a redirect is an answer like any other, never followed. An in-house relay on the
private network is allowed by naming its network in ``OUTBOUND_ALLOWED_NETWORKS``.
"""

import http.client
import ipaddress
import socket
from urllib.parse import urlsplit

from django.conf import settings

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class OutboundRefused(Exception):
    """The address may not be called."""


def _allowed(address: IPAddress) -> bool:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped  # ::ffff:127.0.0.1 is 127.0.0.1
    for network in settings.OUTBOUND_ALLOWED_NETWORKS:
        if address in ipaddress.ip_network(network, strict=False):
            return True
    return address.is_global and not address.is_multicast


def outbound_address(url: str) -> tuple[str, str, int, IPAddress]:
    """Return the scheme, host, port and the checked address to connect to for ``url``, or
    raise ``OutboundRefused`` saying why not."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        raise OutboundRefused(f"only http and https may be called, not {parts.scheme or url!r}")
    if not parts.hostname:
        raise OutboundRefused(f"{url!r} names no host")
    if parts.username or parts.password:
        raise OutboundRefused("credentials go in a header, not in the address")
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError as error:
        raise OutboundRefused(str(error)) from error
    try:
        found = socket.getaddrinfo(parts.hostname, port, type=socket.SOCK_STREAM)
    except OSError as error:
        raise OutboundRefused(f"{parts.hostname} does not resolve: {error}") from error
    addresses = [ipaddress.ip_address(info[4][0].split("%")[0]) for info in found]
    refused = [str(address) for address in addresses if not _allowed(address)]
    if refused or not addresses:
        # One refused address refuses the name: which one a connection gets is not ours.
        raise OutboundRefused(
            f"{parts.hostname} resolves to an address that may not be called: {', '.join(refused)}"
        )
    return parts.scheme, parts.hostname, port, addresses[0]


def outbound_post(url: str, *, body: bytes, headers: dict[str, str], timeout: float) -> int:
    """POST ``body`` to ``url`` once it passes ``outbound_address``; return the status.

    A redirect is returned as its status (3xx), not followed.
    """
    scheme, host, port, address = outbound_address(url)
    parts = urlsplit(url)
    path = parts.path or "/"
    if parts.query:
        path = f"{path}?{parts.query}"
    connection_class = (
        http.client.HTTPSConnection if scheme == "https" else http.client.HTTPConnection
    )
    connection = connection_class(host, port, timeout=timeout)

    def connect_checked(_address, timeout, source_address=None):
        # The host name stays for the Host header, TLS's server name and its certificate.
        return socket.create_connection((str(address), port), timeout, source_address)

    connection._create_connection = connect_checked
    try:
        connection.request("POST", path, body=body, headers=headers)
        response = connection.getresponse()
        response.read()
        return response.status
    finally:
        connection.close()
