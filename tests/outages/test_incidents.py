"""Major incidents: declared from a ticket with its plan, shown in the console with the key
that links a call, every new ETA told to the linked callers, and restoration ending it all."""

import json
import time
from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from callcentre import services as intake
from callcentre.cti import cti_signature
from callcentre.models import Call, Caller, CallerAddress
from dispatch.models import OutboundMessage
from dispatch.services.notifications import when
from outages import services
from outages.models import Outage, OutageChange, PlanStep
from outages.selectors import outage_figures
from tests.conftest import T0, walk_to
from tests.dispatch.factories import CommunityFactory
from tickets.choices import State
from tickets.errors import ApplicationError

pytestmark = pytest.mark.django_db


@pytest.fixture
def burst(centre, make_ticket):
    """A burst main in the centre's community: an emergency."""
    PlanStep.objects.create(fault_type=centre.burst, order=1, text="关闭上游阀门")
    PlanStep.objects.create(fault_type=centre.burst, order=2, text="通知交警设置围挡")
    PlanStep.objects.create(fault_type=None, order=9, text="向分管领导报告")
    PlanStep.objects.create(fault_type=centre.leak, order=1, text="不属于爆管的步骤")
    return make_ticket(fault_type=centre.burst, community=centre.community)


def _declare(actor, ticket, **fields):
    return services.incident_declare(
        actor=actor,
        ticket=ticket,
        expected_end_at=timezone.now() + timedelta(hours=4),
        customer_text="爆管抢修中，预计 4 小时内恢复供水。",
        **fields,
    )


def _link(centre, ticket, phone: str) -> Call:
    return intake.intake_link_to_ticket(agent=centre.agent, ticket=ticket, phone=phone)


class TestDeclaring:
    def test_a_dispatcher_declares_from_an_emergency_with_its_plan_and_area(
        self, centre, burst, clock
    ):
        incident = _declare(centre.dispatcher, burst)
        assert (incident.kind, incident.ticket, incident.starts_at) == (
            Outage.Kind.INCIDENT,
            burst,
            T0,
        )
        assert list(incident.communities.all()) == [centre.community]  # the ticket's own
        assert list(incident.steps.values_list("text", flat=True)) == [
            "关闭上游阀门",
            "通知交警设置围挡",
            "向分管领导报告",  # a step of every plan, in its place
        ]

    def test_only_a_supervisor_declares_from_a_ticket_that_is_no_emergency(
        self, centre, make_ticket
    ):
        leak = make_ticket(community=centre.community)
        with pytest.raises(ApplicationError) as refused:
            _declare(centre.dispatcher, leak)
        assert refused.value.code == "forbidden"
        assert _declare(centre.supervisor, leak).ticket == leak

    def test_a_closed_ticket_or_a_second_declaration_is_a_conflict(self, centre, burst):
        _declare(centre.dispatcher, burst)
        with pytest.raises(ApplicationError) as refused:
            _declare(centre.dispatcher, burst)
        assert refused.value.code == "conflict"
        assert Outage.objects.count() == 1

    def test_a_step_is_ticked_with_who_and_when_and_only_once(self, centre, burst, clock):
        step = _declare(centre.dispatcher, burst).steps.first()
        clock.shift(timedelta(minutes=7))
        services.incident_step_tick(actor=centre.dispatcher, step=step)
        step.refresh_from_db()
        assert (step.done_by, step.done_at) == (centre.dispatcher, T0 + timedelta(minutes=7))
        with pytest.raises(ApplicationError) as refused:
            services.incident_step_tick(actor=centre.supervisor, step=step)
        assert refused.value.code == "conflict"

    def test_an_incident_is_not_cancelled_but_restored(self, centre, burst):
        incident = _declare(centre.dispatcher, burst)
        with pytest.raises(ApplicationError) as refused:
            services.outage_cancel(actor=centre.dispatcher, outage=incident)
        assert refused.value.code == "conflict"


class TestCallers:
    def test_a_new_eta_goes_to_the_linked_callers_and_the_area_once_each(
        self, centre, burst, clock, told, django_capture_on_commit_callbacks
    ):
        neighbour = Caller.objects.create(phone="+8613800000001")
        CallerAddress.objects.create(
            caller=neighbour, community=centre.community, address="x", last_used_at=T0
        )
        with django_capture_on_commit_callbacks(execute=True):
            incident = _declare(centre.dispatcher, burst)
        _link(centre, burst, "13800000001")  # in the area too: one message, not two
        _link(centre, burst, "13900000002")  # a passer-by, no known address
        with django_capture_on_commit_callbacks(execute=True):
            services.outage_change(
                actor=centre.dispatcher,
                outage=incident,
                starts_at=incident.starts_at,
                expected_end_at=incident.expected_end_at + timedelta(hours=2),
                customer_text=incident.customer_text,
            )
        changed = OutboundMessage.objects.filter(kind="outage_changed")
        assert sorted(changed.values_list("to_phone", flat=True)) == [
            "+8613800000001",
            "+8613900000002",
        ]
        assert when(incident.expected_end_at + timedelta(hours=2)) in changed.first().body
        logged = incident.changes.get(action=OutageChange.Action.CHANGED)
        assert list(logged.data) == ["expected_end_at"]

    def test_restoring_ends_the_linked_calls_and_tells_each_caller_once(
        self, centre, burst, clock, told, django_capture_on_commit_callbacks
    ):
        incident = _declare(centre.dispatcher, burst)
        calls = [_link(centre, burst, "13900000002"), _link(centre, burst, "13900000002")]
        clock.shift(timedelta(hours=3))
        with django_capture_on_commit_callbacks(execute=True):
            services.outage_restore(actor=centre.dispatcher, outage=incident)
        assert OutboundMessage.objects.filter(to_phone="+8613900000002").count() == 1
        for call in calls:
            call.refresh_from_db()
            assert call.closed_at == T0 + timedelta(hours=3)
        # Closing the repair ticket later tells them nothing again.
        with django_capture_on_commit_callbacks(execute=True):
            walk_to(burst, State.CLOSED, centre)
        assert OutboundMessage.objects.filter(to_phone="+8613900000002").count() == 1


class TestConsole:
    def test_the_banner_shows_the_script_and_the_key_that_links_the_call(
        self, client, centre, burst
    ):
        incident = _declare(centre.dispatcher, burst)
        client.force_login(centre.agent)
        panel = client.get(
            reverse("console-place"), {"community": centre.community.pk, "building": "3"}
        ).content.decode()
        assert incident.customer_text in panel
        assert 'aria-keyshortcuts="Alt+I"' in panel
        assert reverse("console-link", args=[burst.number]) in panel

    def test_no_banner_outside_the_area(self, client, centre, burst):
        _declare(centre.dispatcher, burst)
        client.force_login(centre.agent)
        panel = client.get(reverse("console-place"), {"community": CommunityFactory().pk})
        assert "outage-banner" not in panel.content.decode()

    def test_the_ticket_page_offers_the_declaration_then_shows_the_incident(
        self, client, centre, burst
    ):
        client.force_login(centre.dispatcher)
        page = client.get(reverse("tickets:detail", args=[burst.number])).content.decode()
        assert reverse("outages:declare", args=[burst.number]) in page
        response = client.post(
            reverse("outages:declare", args=[burst.number]),
            {
                "supply": "water",
                "expected_end_at": (timezone.localtime() + timedelta(hours=4)).strftime(
                    "%Y-%m-%dT%H:%M"
                ),
                "customer_text": "爆管抢修中。",
            },
        )
        incident = Outage.objects.get()
        assert response.status_code == 302
        page = client.get(reverse("tickets:detail", args=[burst.number])).content.decode()
        assert reverse("outages:detail", args=[incident.pk]) in page
        detail = client.get(reverse("outages:detail", args=[incident.pk])).content.decode()
        assert "关闭上游阀门" in detail

    def test_a_declaration_without_its_text_says_so_and_saves_nothing(self, client, centre, burst):
        client.force_login(centre.dispatcher)
        response = client.post(reverse("outages:declare", args=[burst.number]), {"supply": "water"})
        assert response.status_code == 400
        assert not Outage.objects.exists()


class TestTheSwitchPlaysIt:
    """The switch reports `notice_played`; the call's next events say how it went."""

    @pytest.fixture(autouse=True)
    def _secret(self, settings):
        settings.CTI_SHARED_SECRET = "switch-secret"

    def _send(self, **body):
        raw = json.dumps({"occurred_at": timezone.now().isoformat(), **body}).encode()
        stamp = str(int(time.time()))
        return Client().post(
            reverse("api-cti-events"),
            raw,
            content_type="application/json",
            HTTP_X_CTI_TIMESTAMP=stamp,
            HTTP_X_CTI_SIGNATURE=cti_signature(secret="switch-secret", timestamp=stamp, body=raw),
        )

    def test_hung_up_after_the_message_or_waited_and_the_figures_say_so(
        self, centre, burst, clock, told, django_capture_on_commit_callbacks
    ):
        centre.agent.extension = "8001"
        centre.agent.save()
        with django_capture_on_commit_callbacks(execute=True):
            incident = _declare(centre.dispatcher, burst)
        for call_id in ("pbx-1", "pbx-2"):
            self._send(call_id=call_id, event="ringing", caller_number="13900000001")
            played = self._send(
                call_id=call_id,
                event="notice_played",
                caller_number="13900000001",
                outage=incident.pk,
            )
            assert played.status_code == 201, played.content
        self._send(call_id="pbx-1", event="abandoned")
        self._send(call_id="pbx-2", event="answered", agent_extension="8001")
        _link(centre, burst, "13900000003")
        clock.shift(timedelta(hours=5))
        with django_capture_on_commit_callbacks(execute=True):
            incident = services.outage_restore(actor=centre.dispatcher, outage=incident)

        figures = outage_figures(incident)
        assert (figures.calls, figures.linked, figures.played) == (3, 1, 2)
        assert (figures.hung_up_after_message, figures.waited_for_agent) == (1, 1)
        assert figures.late_minutes == 60  # restored 5 h after declaring, the ETA was 4 h
        # The restoration told the caller who heard the message (twice) and the linked one.
        assert (figures.messages, figures.messages_sent) == (2, 0)

    def test_a_notice_played_names_an_outage_that_exists(self, centre):
        missing = self._send(call_id="pbx-9", event="notice_played", caller_number="139")
        assert missing.status_code == 400
        assert "outage" in missing.json()["fields"]
        unknown = self._send(call_id="pbx-9", event="notice_played", outage=999)
        assert unknown.status_code == 400
        assert not Call.objects.filter(cti_call_id="pbx-9").exists()
