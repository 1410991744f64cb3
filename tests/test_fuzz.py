"""The whole API, fuzzed against its own OpenAPI schema: schemathesis sends what the schema
allows, and what it does not, to a live server with valid credentials (a token, the
switch's signature, a partner's Open311 key). No answer may be a 5xx, and every answer, its
status, media type, headers and body, must be one the schema describes.

Path parameters are mostly steered to things that exist (tickets in every state, the
alerts and callbacks they raised, Open311 requests), so that the fuzzer reaches the
services and not only the 404s.
"""

import time
import zlib
from dataclasses import dataclass

import pytest
import requests
import schemathesis
from django.contrib.auth.models import Group
from drf_spectacular.generators import SchemaGenerator
from hypothesis import HealthCheck, settings
from rest_framework.authtoken.models import Token
from schemathesis.specs.openapi.checks import negative_data_rejection, positive_data_acceptance

from callcentre.cti import cti_signature
from callcentre.models import Open311Request, Open311Service
from callcentre.open311 import services as open311
from followups.models import Callback
from staffing.roles import Role
from tickets.choices import Channel, State
from tickets.models import Alert, Ticket

SECRET = "switch-secret-for-the-fuzzer"
EXAMPLES = 30

schema = schemathesis.openapi.from_dict(SchemaGenerator().get_schema(request=None, public=True))


class SwitchSignature(requests.auth.AuthBase):
    """Sign the request as the telephone switch does, over the body as it is sent; one the
    fuzzer sends without a signature, to see it refused, stays so."""

    def __call__(self, request):
        if "X-CTI-Signature" not in request.headers:
            return request
        body = request.body or b""
        if isinstance(body, str):
            body = body.encode()
        if request.method == "GET":
            body = request.path_url.encode()  # a GET signs its path and query
        stamp = str(int(time.time()))
        request.headers["X-CTI-Timestamp"] = stamp
        request.headers["X-CTI-Signature"] = cti_signature(
            secret=SECRET, timestamp=stamp, body=body
        )
        return request


@dataclass
class World:
    """The live server, the credentials to send, and what exists there by parameter name."""

    base_url: str
    token: str
    open311_key: str
    values: dict[str, list[str]]

    def steer(self, case) -> None:
        """Point most generated path parameters at things that exist; keep the rest."""
        for name, value in (case.path_parameters or {}).items():
            known = self.values.get(name)
            chosen = zlib.crc32(str(value).encode())  # stable from run to run, unlike hash()
            if known and chosen % 5:
                case.path_parameters[name] = known[chosen % len(known)]

    def send(self, case):
        # Every check but two. Data the schema allows may still be refused for what it means
        # (a crew that does not exist, a phone number that is not one) with a 4xx; and the
        # API reads some data the schema does not allow as users would mean it (a number
        # sent for a text field, a cursor or page size it cannot read taken as none).
        checking = {
            "base_url": self.base_url,
            "excluded_checks": [positive_data_acceptance, negative_data_rejection],
        }
        path = case.operation.path
        if path.startswith("/api/v1/cti/"):
            return case.call_and_validate(**checking, auth=SwitchSignature())
        if path.startswith("/open311/"):
            return case.call_and_validate(**checking, params={"api_key": self.open311_key})
        return case.call_and_validate(**checking, headers={"Authorization": f"Token {self.token}"})


@pytest.fixture
def world(transactional_db, live_server, centre, make_ticket, rules, settings):
    """A centre with a ticket in every state, alerts and callbacks, an Open311 partner with
    requests filed, and a user who may do everything the API offers."""
    settings.CTI_SHARED_SECRET = SECRET
    fuzzer = centre.crew_leader  # leads the crew the tickets are dispatched to
    fuzzer.is_superuser = True
    fuzzer.extension = "8001"
    fuzzer.save()
    fuzzer.groups.add(*Group.objects.filter(name__in=Role.values))
    centre.department.members.add(fuzzer)
    numbers = [make_ticket(state).number for state in State.values if state != State.MITIGATED]
    numbers += [make_ticket(State.MITIGATED, fault_type=centre.burst).number]
    numbers += [make_ticket(State.REFERRED, fault_type=centre.billing).number]
    issued = open311.partner_issue(name="微信", channel=Channel.WECHAT, requests_per_minute=10**6)
    service = Open311Service.objects.create(code="leak", name="漏水", fault_type=centre.leak)
    filed = open311.open311_request_create(
        partner=issued.partner,
        service=service,
        data={
            "address_string": "锦华苑",
            "phone": "13812345678",
            "attribute[building]": "3",
            "attribute[unit]": "2",
            "attribute[water_cut]": "no",
        },
        at=Ticket.objects.get(number=numbers[0]).created_at,
    )
    return World(
        base_url=live_server.url,
        token=Token.objects.create(user=fuzzer).key,
        open311_key=issued.key,
        values={
            "number": [*numbers, filed.ticket.number],
            "id": [str(pk) for pk in Alert.objects.values_list("pk", flat=True)]
            + [str(pk) for pk in Callback.objects.values_list("pk", flat=True)],
            "code": [service.code],
            "token": [str(request.token) for request in Open311Request.objects.all()],
        },
    )


@schema.parametrize()
@settings(
    max_examples=EXAMPLES,
    derandomize=True,  # the same cases on every run: a failure here is one to reproduce
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_the_api_answers_everything_the_fuzzer_sends_as_its_schema_says(case, world):
    world.steer(case)
    world.send(case)
