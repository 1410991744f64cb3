"""Outbound calls (the SMS gateway) go to public addresses only and never follow a redirect."""

import json
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer
from ipaddress import ip_address

import pytest

from callcentre.checks import outbound_settings_check
from callcentre.outbound import OutboundRefused, outbound_address
from dispatch.sms import HttpSmsBackend, SmsError


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1/send",
        "http://localhost:8000/send",
        "http://10.1.2.3/send",
        "http://172.16.0.1/send",
        "http://192.168.1.1/send",
        "http://169.254.169.254/latest/meta-data/",  # a cloud's metadata service
        "http://100.64.0.1/send",  # carrier-grade NAT, shared
        "http://0.0.0.0/send",
        "http://224.0.0.1/send",
        "http://[::1]/send",
        "http://[fe80::1]/send",
        "http://[fc00::1]/send",
        "http://[::ffff:127.0.0.1]/send",  # loopback written as IPv6
        "file:///etc/passwd",
        "ftp://198.51.100.1/",
        "http:///send",
        "http://user:secret@8.8.8.8/send",
    ],
)
def test_an_address_of_this_machine_its_network_or_another_scheme_is_refused(url, settings):
    settings.OUTBOUND_ALLOWED_NETWORKS = []

    with pytest.raises(OutboundRefused):
        outbound_address(url)


def test_a_public_address_is_allowed_and_its_port_kept(settings):
    settings.OUTBOUND_ALLOWED_NETWORKS = []

    assert outbound_address("https://8.8.8.8:8443/sms") == (
        "https",
        "8.8.8.8",
        8443,
        ip_address("8.8.8.8"),
    )


def test_an_in_house_relay_is_allowed_by_naming_its_network(settings):
    settings.OUTBOUND_ALLOWED_NETWORKS = ["10.20.0.0/24"]

    assert outbound_address("http://10.20.0.5/sms")[3] == ip_address("10.20.0.5")
    with pytest.raises(OutboundRefused):
        outbound_address("http://10.20.1.5/sms")


class _Gateway(BaseHTTPRequestHandler):
    """A gateway on the loopback: answers ``status`` and, for a redirect, points at /stolen."""

    status = 200
    seen: list[tuple[str, dict]] = []

    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        type(self).seen.append((self.path, json.loads(body)))
        self.send_response(type(self).status)
        if type(self).status in (301, 302, 307, 308):
            self.send_header("Location", f"http://127.0.0.1:{self.server.server_port}/stolen")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def gateway(settings):
    _Gateway.seen = []
    _Gateway.status = 200
    server = HTTPServer(("127.0.0.1", 0), _Gateway)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    settings.SMS_GATEWAY_URL = f"http://127.0.0.1:{server.server_port}/send"
    settings.SMS_GATEWAY_TOKEN = "token"
    yield _Gateway
    server.shutdown()
    server.server_close()


def test_the_gateway_on_the_loopback_is_never_called_unless_its_network_is_named(gateway, settings):
    settings.OUTBOUND_ALLOWED_NETWORKS = []

    with pytest.raises(SmsError, match="may not be called"):
        HttpSmsBackend().send(to="+8613812345678", text="您的工单已派出")

    assert gateway.seen == []
    settings.OUTBOUND_ALLOWED_NETWORKS = ["127.0.0.1/32"]
    HttpSmsBackend().send(to="+8613812345678", text="您的工单已派出")
    assert gateway.seen == [("/send", {"to": "+8613812345678", "text": "您的工单已派出"})]


@pytest.mark.parametrize("status", [301, 302, 307])
def test_a_redirect_is_a_refusal_and_is_not_followed(gateway, settings, status):
    settings.OUTBOUND_ALLOWED_NETWORKS = ["127.0.0.1/32"]
    gateway.status = status

    with pytest.raises(SmsError, match=str(status)):
        HttpSmsBackend().send(to="+8613812345678", text="hello")

    assert [path for path, _body in gateway.seen] == ["/send"]  # /stolen never asked


def test_the_settings_are_checked_at_start(settings):
    settings.OUTBOUND_ALLOWED_NETWORKS = ["10.20.0.0/24", "not-a-network"]
    settings.SMS_BACKEND = "dispatch.sms.HttpSmsBackend"
    settings.SMS_GATEWAY_URL = "ftp://gateway.example.com/"

    found = {error.id for error in outbound_settings_check(None)}

    assert found == {"callcentre.E001", "callcentre.E002"}
    settings.OUTBOUND_ALLOWED_NETWORKS = ["10.20.0.0/24"]
    settings.SMS_GATEWAY_URL = "https://gateway.example.com/send"
    assert outbound_settings_check(None) == []
