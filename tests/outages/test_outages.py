"""Outage notices: the area they cover, publishing on time or late, telling each customer
once per change, the switch's question, and the pages."""

import time
from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from callcentre.cti import cti_signature
from callcentre.models import Caller, CallerAddress
from dispatch.models import OutboundMessage
from outages import services
from outages.models import Outage, OutageChange
from outages.selectors import (
    accounts_to_call,
    customers_in_area,
    outage_for_number,
    outages_covering,
)
from outages.tasks import outage_notify_pending
from tests.conftest import T0
from tests.dispatch.factories import CommunityFactory
from tickets.errors import ApplicationError
from tickets.public import status_url

pytestmark = pytest.mark.django_db
SECRET = "switch-secret"


@pytest.fixture
def area(centre):
    """Two more communities: one in the centre's district, one in another."""
    return {
        "home": centre.community,
        "neighbour": CommunityFactory(district=centre.community.district),
        "elsewhere": CommunityFactory(),
    }


def _customer(phone: str, community, building: str = "3", **fields) -> Caller:
    caller = Caller.objects.create(phone=phone, **fields)
    CallerAddress.objects.create(
        caller=caller,
        community=community,
        address="人民路 1 号",
        building=building,
        unit="1",
        room="101",
        last_used_at=T0,
    )
    return caller


def _publish(actor, *, starts_in=timedelta(days=2), hours=6, **area):
    starts = timezone.now() + starts_in
    fields = {
        "supply": Outage.Supply.WATER,
        "title": "人民路主管更换",
        "reason": "DN300 主管更换",
        "customer_text": "请提前储水，临时供水点设在小区北门。",
        "starts_at": starts,
        "expected_end_at": starts + timedelta(hours=hours),
        **area,
    }
    return services.outage_publish(actor=actor, **fields)


class TestArea:
    def test_a_district_a_community_and_a_building_each_cover_their_addresses(
        self, centre, area, clock
    ):
        whole_district = _publish(
            centre.dispatcher, starts_in=timedelta(days=2), districts=[area["home"].district]
        )
        one_community = _publish(centre.dispatcher, communities=[area["elsewhere"]])
        one_building = _publish(centre.dispatcher, buildings=[(area["elsewhere"], "5")])
        clock.shift(timedelta(days=2, hours=1))
        now = timezone.now()

        assert outages_covering(community_id=area["neighbour"].pk, building="9", now=now) == [
            whole_district
        ]
        assert outages_covering(community_id=area["elsewhere"].pk, building="2", now=now) == [
            one_community
        ]
        covering = outages_covering(community_id=area["elsewhere"].pk, building="5栋", now=now)
        assert set(covering) == {one_community, one_building}
        assert outages_covering(community_id=None, building="5", now=now) == []

    def test_an_outage_covers_nothing_before_it_starts_or_after_supply_is_back(
        self, centre, area, clock
    ):
        outage = _publish(centre.dispatcher, communities=[area["home"]])
        where = {"community_id": area["home"].pk, "building": "3"}
        assert outages_covering(**where, now=timezone.now()) == []
        clock.shift(timedelta(days=2))
        assert outages_covering(**where, now=timezone.now()) == [outage]
        services.outage_restore(actor=centre.dispatcher, outage=outage)
        assert outages_covering(**where, now=timezone.now()) == []

    def test_the_customers_of_an_area_are_those_with_an_address_there_each_once(self, centre, area):
        inside = _customer("+8613800000001", area["home"])
        CallerAddress.objects.create(
            caller=inside, community=area["neighbour"], address="x", last_used_at=T0
        )
        _customer("+8613800000002", area["elsewhere"])
        in_building = _customer("+8613800000003", area["elsewhere"], building="5号楼")
        outage = _publish(
            centre.dispatcher,
            districts=[area["home"].district],
            buildings=[(area["elsewhere"], "5")],
        )
        assert set(customers_in_area(outage)) == {inside, in_building}


class TestPublishing:
    def test_a_notice_a_day_ahead_is_on_time(self, centre, area, clock):
        outage = _publish(centre.dispatcher, communities=[area["home"]])
        assert (outage.state, outage.is_late, outage.revision) == (Outage.State.PUBLISHED, False, 1)
        change = outage.changes.get()
        assert (change.action, change.actor) == (OutageChange.Action.PUBLISHED, centre.dispatcher)

    def test_less_than_24_hours_needs_a_supervisor_and_a_reason_and_is_marked_late(
        self, centre, area, clock
    ):
        soon = {"starts_in": timedelta(hours=3), "communities": [area["home"]]}
        with pytest.raises(ApplicationError) as refused:
            _publish(centre.dispatcher, **soon)
        assert "starts_at" in refused.value.fields
        with pytest.raises(ApplicationError) as refused:
            _publish(centre.supervisor, **soon)
        assert "late_reason" in refused.value.fields
        assert not Outage.objects.exists()

        outage = _publish(centre.supervisor, **soon, late_reason="管道突发渗漏，需尽快更换")
        assert outage.is_late
        assert outage.late_reason == "管道突发渗漏，需尽快更换"

    @pytest.mark.parametrize(
        ("changes", "named"),
        [
            ({"communities": []}, "districts"),
            ({"hours": -1}, "expected_end_at"),
            ({"title": " "}, "title"),
        ],
    )
    def test_bad_input_names_the_field_and_saves_nothing(self, centre, area, changes, named):
        fields = {"communities": [area["home"]], **changes}
        with pytest.raises(ApplicationError) as refused:
            _publish(centre.dispatcher, **fields)
        assert named in refused.value.fields
        assert not Outage.objects.exists()

    def test_an_agent_may_read_but_not_publish(self, centre, area):
        with pytest.raises(ApplicationError) as refused:
            _publish(centre.agent, communities=[area["home"]])
        assert refused.value.code == "forbidden"


class TestTellingCustomers:
    def test_each_customer_gets_one_message_per_change_and_none_outside(
        self, centre, area, clock, told, django_capture_on_commit_callbacks
    ):
        inside = _customer("+8613800000001", area["home"])
        CallerAddress.objects.create(
            caller=inside, community=area["home"], address="y", building="4", last_used_at=T0
        )
        _customer("+8613800000002", area["elsewhere"])
        _customer("+8613800000003", area["home"], language="en")

        with django_capture_on_commit_callbacks(execute=True):
            outage = _publish(centre.dispatcher, communities=[area["home"]])
        sent = OutboundMessage.objects.filter(kind="outage_published")
        assert sorted(sent.values_list("to_phone", flat=True)) == [
            "+8613800000001",
            "+8613800000003",
        ]
        assert "请提前储水" in sent.get(to_phone="+8613800000001").body
        assert sent.get(to_phone="+8613800000003").body.startswith("Planned water outage")
        change = outage.changes.get()
        assert (change.notified, change.notified_at is not None) == (2, True)
        assert len(told) == 1  # one batch to send

        # Told again by the sweep (a second worker, a retried task): nothing new.
        assert services.outage_notify(change=change) == 0

        with django_capture_on_commit_callbacks(execute=True):
            services.outage_change(
                actor=centre.dispatcher,
                outage=outage,
                starts_at=outage.starts_at,
                expected_end_at=outage.expected_end_at + timedelta(hours=2),
                customer_text=outage.customer_text,
            )
            services.outage_restore(actor=centre.dispatcher, outage=outage)
        assert OutboundMessage.objects.filter(kind="outage_changed").count() == 2
        assert OutboundMessage.objects.filter(kind="outage_restored").count() == 2
        changed = outage.changes.get(action=OutageChange.Action.CHANGED)
        assert list(changed.data) == ["expected_end_at"]

    def test_a_change_the_broker_missed_is_told_by_the_sweep(self, centre, area, clock, told):
        _customer("+8613800000001", area["home"])
        _publish(centre.dispatcher, communities=[area["home"]])  # no task ran
        assert not OutboundMessage.objects.exists()
        clock.shift(timedelta(minutes=2))
        assert outage_notify_pending() == 1
        assert outage_notify_pending() == 0

    def test_an_outage_that_is_over_cannot_change(self, centre, area):
        outage = _publish(centre.dispatcher, communities=[area["home"]])
        services.outage_cancel(actor=centre.dispatcher, outage=outage)
        with pytest.raises(ApplicationError) as refused:
            services.outage_restore(actor=centre.dispatcher, outage=outage)
        assert refused.value.code == "conflict"

    def test_key_and_special_accounts_are_listed_for_a_personal_call(self, centre, area):
        hospital = _customer(
            "+8613800000001", area["home"], name="市二医院", customer_type="key_account"
        )
        _customer("+8613800000002", area["home"])
        outage = _publish(centre.dispatcher, communities=[area["home"]])
        assert accounts_to_call(outage) == [hospital]


def _signed(client: Client, path: str, *, sign: str | None = None):
    stamp = str(int(time.time()))
    signature = cti_signature(secret=SECRET, timestamp=stamp, body=(sign or path).encode())
    return client.get(path, HTTP_X_CTI_TIMESTAMP=stamp, HTTP_X_CTI_SIGNATURE=signature)


class TestTheSwitch:
    @pytest.fixture(autouse=True)
    def _secret(self, settings):
        settings.CTI_SHARED_SECRET = SECRET

    def test_it_answers_the_outage_at_the_callers_known_address(self, centre, area, clock):
        _customer("+8613800000001", area["home"])
        outage = _publish(centre.dispatcher, communities=[area["home"]])
        clock.shift(timedelta(days=2))
        path = f"{reverse('api-cti-notices')}?number=13800000001"

        answer = _signed(Client(), path).json()

        assert answer["number"] == "+8613800000001"
        assert answer["outage"]["id"] == outage.pk
        assert answer["outage"]["customer_text"] == outage.customer_text
        unknown = _signed(Client(), f"{reverse('api-cti-notices')}?number=13900000009").json()
        assert unknown["outage"] is None

    def test_between_changes_an_ask_is_one_read_and_a_change_is_seen_at_once(
        self, centre, area, clock, django_assert_num_queries
    ):
        _customer("+8613800000001", area["home"])
        first = _publish(centre.dispatcher, communities=[area["home"]])
        clock.shift(timedelta(days=2))
        assert outage_for_number(phone="+8613800000001", now=timezone.now()) == first
        with django_assert_num_queries(1):  # the caller's addresses and the newest change
            outage_for_number(phone="+8613800000001", now=timezone.now())
        services.outage_restore(actor=centre.dispatcher, outage=first)
        assert outage_for_number(phone="+8613800000001", now=timezone.now()) is None

    def test_a_signature_is_for_its_own_number_only(self, centre):
        base = reverse("api-cti-notices")
        response = _signed(Client(), f"{base}?number=13800000001", sign=f"{base}?number=1390")
        assert response.status_code == 403
        assert Client().get(f"{base}?number=13800000001").status_code == 403

    def test_a_number_that_is_no_number_is_a_400(self, centre):
        response = _signed(Client(), f"{reverse('api-cti-notices')}?number=12")
        assert response.status_code == 400
        assert "number" in response.json()["fields"]


class TestPages:
    def test_a_dispatcher_publishes_from_the_form(self, client, centre, area, clock):
        client.force_login(centre.dispatcher)
        starts = timezone.localtime() + timedelta(days=2)
        response = client.post(
            reverse("outages:new"),
            {
                "supply": "water",
                "title": "人民路主管更换",
                "reason": "DN300 主管更换",
                "starts_at": starts.strftime("%Y-%m-%dT%H:%M"),
                "expected_end_at": (starts + timedelta(hours=6)).strftime("%Y-%m-%dT%H:%M"),
                "building_community": area["elsewhere"].pk,
                "buildings": "3，5",
                "customer_text": "请提前储水。",
            },
        )
        outage = Outage.objects.get()
        assert response.status_code == 302
        assert sorted(outage.buildings.values_list("building", flat=True)) == ["3", "5"]
        page = client.get(reverse("outages:detail", args=[outage.pk]))
        assert "人民路主管更换" in page.content.decode()

    def test_a_form_with_no_area_says_so_and_saves_nothing(self, client, centre, clock):
        client.force_login(centre.dispatcher)
        response = client.post(reverse("outages:new"), {"supply": "water", "title": "x"})
        assert response.status_code == 400
        assert not Outage.objects.exists()

    def test_an_agent_reads_the_notices_but_cannot_publish(self, client, centre):
        client.force_login(centre.agent)
        assert client.get(reverse("outages:list")).status_code == 200
        assert client.get(reverse("outages:new")).status_code == 403

    def test_the_public_page_lists_current_and_coming_notices_without_a_login(
        self, centre, area, clock
    ):
        _publish(
            centre.dispatcher, communities=[area["home"]], buildings=[(area["elsewhere"], "5")]
        )
        page = Client().get(reverse("public-notices"))
        assert page.status_code == 200
        body = page.content.decode()
        assert body.count("人民路主管更换") == 2  # under each of the two districts it touches
        for district in (area["home"].district, area["elsewhere"].district):
            assert f"<h2>{district.name}</h2>" in body
        assert area["home"].name in body
        assert "no-store" in page["Cache-Control"] or "max-age=0" in page["Cache-Control"]

    def test_the_status_page_shows_the_outage_at_the_tickets_address(
        self, centre, area, clock, make_ticket
    ):
        ticket = make_ticket(community=area["home"], building="3")
        outage = _publish(centre.dispatcher, buildings=[(area["home"], "3栋")])
        path = status_url(ticket).split("/status/", 1)[1]
        assert outage.title not in Client().get(f"/status/{path}").content.decode()
        clock.shift(timedelta(days=2))
        page = Client().get(f"/status/{path}").content.decode()
        assert outage.title in page
        assert outage.customer_text in page
