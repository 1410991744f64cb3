"""Open311 GeoReport v2: discovery, services and their definitions, requests filed and
followed, in JSON and XML, with the spec's errors and each partner's rate limit."""

import json
import re
from datetime import timedelta
from xml.etree import ElementTree

import jsonschema
import pytest
from django.core.cache import caches
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone, translation

from callcentre.models import Caller, Open311Request, Open311Service
from callcentre.open311 import selectors
from callcentre.open311.services import partner_issue, partner_key_renew
from dispatch.selectors import BoardFilters, board_lanes
from tests.callcentre import open311_schemas as schemas
from tests.conftest import T0, walk_to
from tickets.choices import Channel, Grade, State
from tickets.models import SlaPolicy, Ticket

pytestmark = pytest.mark.django_db
V2 = "/open311/v2"
PHONE = "13812345678"
OFFSET = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+08:00$")


def _valid(document, schema) -> None:
    jsonschema.validate(document, schema, format_checker=jsonschema.FormatChecker())


def _xml(response) -> ElementTree.Element:
    assert response["Content-Type"].startswith("text/xml")
    return ElementTree.fromstring(response.content)  # noqa: S314 - our own answer


@pytest.fixture
def web() -> Client:
    caches["shared"].clear()  # the rate limits' counts
    return Client(REMOTE_ADDR="203.0.113.9", HTTP_ACCEPT_LANGUAGE="en")


@pytest.fixture
def wechat(centre):
    return partner_issue(name="WeChat account", channel=Channel.WECHAT)


@pytest.fixture
def offered(centre):
    """The leak (a general repair), the burst main (an emergency) and the billing question."""
    return {
        fault.code: Open311Service.objects.create(
            code=fault.code, fault_type=fault, name=fault.name, group="Water"
        )
        for fault in (centre.leak, centre.burst, centre.billing)
    }


def _filing(wechat, **fields) -> dict:
    return {
        "api_key": wechat.key,
        "service_code": "household-leak",
        "address_string": "锦华苑",
        "attribute[building]": "5",
        "attribute[unit]": "1",
        "attribute[room]": "302",
        "attribute[water_cut]": "no",
        "attribute[pipe_diameter]": "20",
        "description": "卫生间墙内渗水",
        "first_name": "丽",
        "last_name": "王",
        "phone": PHONE,
        "email": "wang@example.com",
        **fields,
    }


def _file(web, wechat, **fields):
    return web.post(f"{V2}/requests.json", _filing(wechat, **fields))


class TestDiscoveryAndServices:
    def test_discovery_names_the_endpoint_in_both_formats(self, web):
        found = web.get("/open311/discovery.json")
        assert found.status_code == 200
        _valid(found.json(), schemas.DISCOVERY)
        endpoint = found.json()["endpoints"][0]
        assert endpoint["specification"] == "http://wiki.open311.org/GeoReport_v2"
        assert endpoint["url"] == "http://testserver/open311/v2/"
        assert endpoint["formats"] == ["text/xml", "application/json"]

        root = _xml(web.get("/open311/discovery.xml"))
        assert root.tag == "discovery"
        assert [f.text for f in root.iterfind("endpoints/endpoint/formats/format")] == [
            "text/xml",
            "application/json",
        ]

    def test_services_are_the_offered_fault_types(self, web, offered, centre):
        Open311Service.objects.filter(code="billing-question").update(is_active=False)
        services = web.get(f"{V2}/services.json").json()

        _valid(services, schemas.SERVICES)
        assert [s["service_code"] for s in services] == ["burst-main", "household-leak"]
        leak = next(s for s in services if s["service_code"] == "household-leak")
        assert (leak["metadata"], leak["type"], leak["group"]) == (True, "realtime", "Water")

        root = _xml(web.get(f"{V2}/services.xml"))
        assert root.tag == "services"
        assert [e.findtext("service_code") for e in root.iterfind("service")] == [
            "burst-main",
            "household-leak",
        ]
        assert root.find("service/metadata").text == "true"

    def test_a_repair_asks_for_building_unit_and_whether_the_water_is_off(self, web, offered):
        leak = web.get(f"{V2}/services/household-leak.json").json()
        _valid(leak, schemas.SERVICE_DEFINITION)
        attributes = {a["code"]: a for a in leak["attributes"]}
        assert list(attributes) == ["building", "unit", "room", "water_cut", "pipe_diameter"]
        assert attributes["building"]["required"]
        assert attributes["water_cut"]["required"]
        assert [v["key"] for v in attributes["water_cut"]["values"]] == ["yes", "no"]
        assert {"key": "100", "name": "DN100"} in attributes["pipe_diameter"]["values"]
        # A burst main on a road has no building to give.
        burst = web.get(f"{V2}/services/burst-main.json").json()
        assert not next(a for a in burst["attributes"] if a["code"] == "building")["required"]
        # A question has nothing beyond the standard fields.
        assert web.get(f"{V2}/services/billing-question.json").json()["attributes"] == []

        root = _xml(web.get(f"{V2}/services/household-leak.xml"))
        assert root.tag == "service_definition"
        water = next(
            a for a in root.iterfind("attributes/attribute") if a.findtext("code") == "water_cut"
        )
        assert [v.findtext("key") for v in water.iterfind("values/value")] == ["yes", "no"]
        assert water.findtext("required") == "true"

    def test_an_unknown_service_is_a_404_in_the_specs_error_format(self, web, offered):
        missing = web.get(f"{V2}/services/no-such.json")
        assert missing.status_code == 404
        _valid(missing.json(), schemas.ERRORS)
        assert missing.json()[0]["code"] == 404
        root = _xml(web.get(f"{V2}/services/no-such.xml"))
        assert root.tag == "errors"
        assert root.findtext("error/code") == "404"


class TestFiling:
    def test_a_request_becomes_a_ticket_as_the_console_makes_it(
        self, web, wechat, offered, centre, clock
    ):
        response = _file(web, wechat)

        assert response.status_code == 201, response.content
        _valid(response.json(), schemas.CREATED)
        answer = response.json()[0]
        ticket = Ticket.objects.get(number=answer["service_request_id"])
        assert (ticket.channel, ticket.fault_type, ticket.grade) == (
            Channel.WECHAT,
            centre.leak,
            Grade.GENERAL,
        )
        assert (ticket.building, ticket.unit, ticket.room, ticket.pipe_diameter) == (
            "5",
            "1",
            "302",
            20,
        )
        assert ticket.caller_name == "王丽"
        assert ticket.received_at == T0
        assert ticket.dispatch_due == T0 + timedelta(minutes=30)  # the general repair's SLA
        assert ticket.created_by == wechat.partner.user
        assert ticket.number in answer["service_notice"]
        filed = Open311Request.objects.get(ticket=ticket)
        assert str(filed.token) == answer["token"]
        assert filed.attributes["water_cut"] == "no"
        # The caller is known at the next call, with this address.
        assert Caller.objects.filter(phone="+8613812345678").exists()

    def test_the_water_being_off_is_in_the_description(self, web, wechat, offered):
        _file(web, wechat, **{"attribute[water_cut]": "yes"})
        assert "The water is off." in Ticket.objects.get().description

    def test_a_place_by_coordinates_alone_is_taken(self, web, wechat, offered):
        response = _file(web, wechat, address_string="", lat="30.659812", long="104.103201")
        assert response.status_code == 201, response.content
        assert Ticket.objects.get().address == "30.659812, 104.103201"

    @pytest.mark.parametrize(
        ("fields", "named"),
        [
            ({"address_string": ""}, "address_string"),
            ({"address_string": "", "lat": "30.6"}, "long"),
            ({"lat": "north", "long": "104.1"}, "lat"),
            ({"lat": "95", "long": "104.1"}, "lat"),
            ({"attribute[water_cut]": "maybe"}, "attribute[water_cut]"),
            ({"attribute[pipe_diameter]": "17"}, "attribute[pipe_diameter]"),
            ({"attribute[building]": ""}, "attribute[building]"),
            ({"description": "漏" * 4001}, "description"),
            ({"phone": ""}, "phone"),
            ({"phone": "not a phone"}, "phone"),
            ({"email": "wang"}, "email"),
            ({"media_url": "ftp://example.com/x.jpg"}, "media_url"),
            ({"service_code": ""}, "service_code"),
        ],
    )
    def test_bad_input_is_a_400_naming_what_is_wrong_and_nothing_is_filed(
        self, web, wechat, offered, fields, named
    ):
        response = _file(web, wechat, **fields)

        assert response.status_code == 400, response.content
        _valid(response.json(), schemas.ERRORS)
        assert any(e["description"].startswith(f"{named}: ") for e in response.json())
        assert not Ticket.objects.exists()
        assert not Open311Request.objects.exists()

    def test_4000_characters_of_description_are_taken(self, web, wechat, offered):
        assert _file(web, wechat, description="漏" * 4000).status_code == 201

    def test_an_unknown_service_code_is_a_404(self, web, wechat, offered):
        response = _file(web, wechat, service_code="no-such")
        assert response.status_code == 404
        assert "no-such" in response.json()[0]["description"]
        assert not Ticket.objects.exists()

    def test_a_nul_character_anywhere_is_a_400_naming_the_field(self, web, wechat, offered):
        response = _file(web, wechat, service_code="leak\x00", description="a\x00b")
        assert response.status_code == 400
        described = " ".join(error["description"] for error in response.json())
        assert "service_code" in described
        assert "description" in described
        assert web.get(f"{V2}/requests.json", {"service_code": "\x00"}).status_code == 400
        assert not Ticket.objects.exists()

    @pytest.mark.parametrize("key", ["", "not-the-key"])
    def test_no_key_or_a_wrong_one_is_a_403(self, web, wechat, offered, key):
        response = _file(web, wechat, api_key=key)
        assert response.status_code == 403
        _valid(response.json(), schemas.ERRORS)
        root = _xml(web.post(f"{V2}/requests.xml", _filing(wechat, api_key=key)))
        assert root.findtext("error/code") == "403"
        assert not Ticket.objects.exists()

    def test_a_partner_switched_off_is_refused_at_once(self, web, wechat, offered):
        assert _file(web, wechat).status_code == 201  # the partner is in the cache now
        wechat.partner.is_active = False
        wechat.partner.save()
        assert _file(web, wechat).status_code == 403

    def test_a_renewed_key_works_and_the_old_one_stops_at_once(self, web, wechat, offered):
        assert _file(web, wechat).status_code == 201
        renewed = partner_key_renew(partner=wechat.partner)
        assert _file(web, wechat).status_code == 403
        assert _file(web, wechat, api_key=renewed).status_code == 201

    def test_the_xml_answer_to_a_filing(self, web, wechat, offered):
        root = _xml(web.post(f"{V2}/requests.xml", _filing(wechat)))
        assert root.tag == "service_requests"
        assert root.findtext("request/service_request_id") == Ticket.objects.get().number
        assert root.findtext("request/token") == str(Open311Request.objects.get().token)


class TestFollowing:
    def test_a_request_is_read_without_the_callers_name_or_phone(self, web, wechat, offered, clock):
        number = _file(web, wechat).json()[0]["service_request_id"]

        found = web.get(f"{V2}/requests/{number}.json")
        assert found.status_code == 200
        _valid(found.json(), schemas.REQUESTS)
        request = found.json()[0]
        assert (request["status"], request["service_code"]) == ("open", "household-leak")
        assert OFFSET.match(request["requested_datetime"])
        assert OFFSET.match(request["expected_datetime"])
        assert request["agency_responsible"] == "The repair call centre"
        for personal in (PHONE, "王丽", "wang@example.com", "王"):
            assert personal not in found.content.decode()

        root = _xml(web.get(f"{V2}/requests/{number}.xml"))
        assert root.tag == "service_requests"
        assert root.findtext("request/status") == "open"
        assert root.find("request/zipcode").text is None
        assert PHONE not in ElementTree.tostring(root, encoding="unicode")

    def test_round_trip_filed_on_the_board_closed_and_read_as_closed(
        self, web, wechat, offered, centre, clock
    ):
        number = _file(web, wechat).json()[0]["service_request_id"]
        ticket = Ticket.objects.get(number=number)
        lanes = board_lanes(user=centre.dispatcher, filters=BoardFilters(), now=T0)
        assert number in [card.number for lane in lanes for card in lane.cards]

        walk_to(ticket, State.CLOSED, centre)

        request = web.get(f"{V2}/requests/{number}.json").json()[0]
        assert request["status"] == "closed"
        assert request["status_notes"] == "更换接头"  # what the crew did
        assert request["expected_datetime"] is None
        assert request["agency_responsible"] == str(centre.crew)
        assert OFFSET.match(request["updated_datetime"])

    def test_the_list_filters_by_status_service_and_dates(
        self, web, wechat, offered, centre, clock
    ):
        first = _file(web, wechat).json()[0]["service_request_id"]
        clock.shift(timedelta(days=2))
        second = _file(web, wechat, service_code="burst-main").json()[0]["service_request_id"]
        walk_to(Ticket.objects.get(number=first), State.CLOSED, centre)

        def numbers(**params):
            response = web.get(f"{V2}/requests.json", params)
            assert response.status_code == 200, response.content
            _valid(response.json(), schemas.REQUESTS)
            return [request["service_request_id"] for request in response.json()]

        assert numbers() == [second, first]
        assert numbers(status="closed") == [first]
        assert numbers(status="open") == [second]
        assert numbers(status="open, closed") == [second, first]
        assert numbers(service_code="burst-main") == [second]
        assert numbers(start_date=(T0 + timedelta(days=1)).isoformat()) == [second]
        assert numbers(end_date=(T0 + timedelta(days=1)).isoformat()) == [first]
        assert numbers(service_request_id=f"{first},{second}", status="open") == [second, first]
        clock.shift(timedelta(days=91))
        assert numbers() == []  # the last 90 days unless dates are given

    @pytest.mark.parametrize(
        ("params", "named"),
        [({"status": "pending"}, "status"), ({"start_date": "yesterday"}, "start_date")],
    )
    def test_a_bad_filter_is_a_400_naming_it(self, web, offered, params, named):
        response = web.get(f"{V2}/requests.json", params)
        assert response.status_code == 400
        assert response.json()[0]["description"].startswith(f"{named}: ")

    def test_a_token_leads_to_its_request(self, web, wechat, offered):
        answer = _file(web, wechat).json()[0]
        found = web.get(f"{V2}/tokens/{answer['token']}.json")
        assert found.json() == [
            {"service_request_id": answer["service_request_id"], "token": answer["token"]}
        ]
        root = _xml(web.get(f"{V2}/tokens/{answer['token']}.xml"))
        assert root.findtext("request/service_request_id") == answer["service_request_id"]
        unknown = "00000000-0000-0000-0000-000000000000"
        assert web.get(f"{V2}/tokens/{unknown}.json").status_code == 404

    def test_an_unknown_request_is_a_404(self, web, offered):
        assert web.get(f"{V2}/requests/261116-9999.json").status_code == 404

    def test_an_address_nothing_answers_is_a_404_in_the_specs_format(self, web):
        found = web.get(f"{V2}/no/such.json")
        assert found.status_code == 404
        assert found.json() == [{"code": 404, "description": found.json()[0]["description"]}]
        root = _xml(web.get(f"{V2}/no/such.xml"))
        assert root.tag == "errors"
        assert root.find("error/code").text == "404"

    def test_only_requests_filed_through_open311_are_listed(self, web, offered, make_ticket):
        make_ticket()  # a phone call's ticket
        assert web.get(f"{V2}/requests.json").json() == []


class TestRateLimit:
    def test_a_key_past_its_requests_per_minute_waits_with_a_429(self, web, wechat, offered, clock):
        wechat.partner.requests_per_minute = 2
        wechat.partner.save()
        assert _file(web, wechat).status_code == 201
        assert web.get(f"{V2}/services.json", {"api_key": wechat.key}).status_code == 200

        refused = _file(web, wechat)

        assert refused.status_code == 429
        _valid(refused.json(), schemas.ERRORS)
        assert 1 <= int(refused["Retry-After"]) <= 61
        assert Ticket.objects.count() == 1
        # Other clients are counted apart.
        assert web.get(f"{V2}/services.json").status_code == 200
        clock.shift(timedelta(minutes=1))
        assert _file(web, wechat).status_code == 201

    def test_clients_without_a_key_are_counted_by_address(self, web, offered, settings):
        settings.OPEN311_ANONYMOUS_PER_MINUTE = 1
        assert web.get(f"{V2}/services.json").status_code == 200
        assert web.get(f"{V2}/services.json").status_code == 429
        elsewhere = Client(REMOTE_ADDR="203.0.113.10")
        assert elsewhere.get(f"{V2}/services.json").status_code == 200


class TestTwoWaysToTheDocuments:
    """JSON lists are written by PostgreSQL, XML (and SQLite) built in Python: the two must
    be the same documents, field for field, in either language."""

    @pytest.mark.parametrize("language", ["zh-hans", "en"])
    def test_postgresql_writes_what_python_builds(
        self, web, wechat, offered, centre, clock, language
    ):
        numbers = [_file(web, wechat).json()[0]["service_request_id"] for _ in range(5)]
        numbers.append(
            _file(
                web, wechat, service_code="burst-main", lat="30.274084", long="120.155070"
            ).json()[0]["service_request_id"]
        )
        numbers.append(
            _file(web, wechat, service_code="billing-question").json()[0]["service_request_id"]
        )
        tickets = [Ticket.objects.get(number=number) for number in numbers]
        for ticket, state in zip(
            tickets,
            [State.NEW, State.DISPATCHED, State.CLOSED, State.CANCELLED, State.MERGED],
            strict=False,
        ):
            walk_to(ticket, state, centre)
            clock.shift(timedelta(minutes=1))
        walk_to(tickets[-1], State.REFERRED, centre)
        chosen = selectors.requests_chosen(now=timezone.now())

        with translation.override(language):
            written = json.loads(selectors.request_documents_json(chosen))
            built = selectors.request_documents(chosen)

        assert written == built
        assert len(written) == 7
        assert {document["status"] for document in written} == {"open", "closed"}
        assert len({document["agency_responsible"] for document in written}) == 3

    def test_a_ticket_filed_under_an_older_policy_keeps_its_promise(
        self, web, wechat, offered, centre
    ):
        older = _file(web, wechat).json()[0]["service_request_id"]
        SlaPolicy.objects.filter(grade=Grade.GENERAL).update(dispatch_minutes=45)
        caches["default"].clear()  # the policy as the next filing reads it
        newer = _file(web, wechat).json()[0]["service_request_id"]

        with translation.override("en"):
            with CaptureQueriesContext(connection) as today:
                selectors.request_documents_json(
                    selectors.requests_chosen(numbers=[newer], now=timezone.now())
                )
            chosen = selectors.requests_chosen(now=timezone.now())
            with CaptureQueriesContext(connection) as both:
                written = json.loads(selectors.request_documents_json(chosen))
            built = selectors.request_documents(chosen)

        assert written == built
        notices = {
            document["service_request_id"]: document["service_notice"] for document in written
        }
        assert "within 30 minutes" in notices[older]
        assert "within 45 minutes" in notices[newer]
        # The kinds of ticket a list holds are read only when a policy of today has not
        # made one of them.
        assert not any(" DISTINCT " in query["sql"] for query in today.captured_queries)
        assert any(" DISTINCT " in query["sql"] for query in both.captured_queries)

    def test_a_json_list_and_an_xml_list_say_the_same(self, web, wechat, offered, centre):
        _file(web, wechat)
        walk_to(Ticket.objects.get(), State.CLOSED, centre)
        listed = web.get(f"{V2}/requests.json").json()[0]
        request = _xml(web.get(f"{V2}/requests.xml")).find("request")
        for name, value in listed.items():
            text = request.find(name).text
            assert (text or None) == (None if value is None else str(value)), name
