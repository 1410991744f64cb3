"""Writes of dispatch: sending work, the crews' answers, the messages they cause, the crews."""

from datetime import datetime, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone
from kombu.exceptions import OperationalError

from dispatch import services
from dispatch.models import Assignment, OutboundMessage, SmsRecord, UnclosedPlan
from dispatch.tasks import messages_retry
from followups.workdays import CalendarUnknown
from tests.conftest import SHANGHAI
from tickets import services as ticket_services
from tickets.choices import ExtensionCause, ExtensionState, Milestone, Returned, State
from tickets.errors import ApplicationError
from tickets.models import Ticket, TicketEvent
from tickets.public import slip_url, status_url

Action = TicketEvent.Action
Outcome = Assignment.Outcome
LEADER_PHONE = "+8613900000001"
CUSTOMER_PHONE = "+8613812345678"  # the caller make_ticket records

pytestmark = pytest.mark.django_db


@pytest.fixture
def leader_phone(centre):
    centre.crew_leader.phone = LEADER_PHONE
    centre.crew_leader.save(update_fields=["phone"])
    return LEADER_PHONE


def _actions(ticket: Ticket) -> list[str]:
    return list(ticket.events.order_by("at", "id").values_list("action", flat=True))


def _statuses() -> list[str]:
    return list(OutboundMessage.objects.values_list("status", flat=True))


def _messages(kind: str) -> list[OutboundMessage]:
    return list(OutboundMessage.objects.filter(kind=kind))


# Sending work out.


def test_given_a_new_ticket_when_sent_to_a_crew_then_it_is_verified_and_dispatched_in_one_action(
    centre, make_ticket, clock
):
    ticket = make_ticket(State.NEW)

    services.ticket_send_to_crew(actor=centre.dispatcher, ticket=ticket, crew=centre.crew)

    ticket.refresh_from_db()
    assert (ticket.state, ticket.crew) == (State.DISPATCHED, centre.crew)
    assert _actions(ticket) == [Action.CREATED, Action.VERIFIED, Action.DISPATCHED]
    [assignment] = ticket.assignments.all()
    assert assignment.crew == centre.crew
    assert assignment.dispatched_by == centre.dispatcher
    assert assignment.outcome == Outcome.WAITING
    assert assignment.dispatched_at == ticket.dispatched_at == timezone.now()
    assert assignment.respond_by == ticket.dispatched_at + timedelta(minutes=15)
    assert assignment.is_redispatch is False


def test_given_a_consult_when_sent_to_a_crew_then_it_is_refused_and_nothing_changes(
    centre, make_ticket
):
    ticket = make_ticket(State.NEW, fault_type=centre.billing)

    with pytest.raises(ApplicationError) as refused:
        services.ticket_send_to_crew(actor=centre.dispatcher, ticket=ticket, crew=centre.crew)

    assert refused.value.code == "conflict"
    assert Ticket.objects.get(pk=ticket.pk).state == State.NEW
    assert not Assignment.objects.exists()


def test_given_a_new_consult_when_sent_to_a_department_then_it_answers_within_its_time_limit(
    centre, make_ticket, clock
):
    centre.department.time_limit_hours = 8
    centre.department.save(update_fields=["time_limit_hours"])
    ticket = make_ticket(State.NEW, fault_type=centre.billing)

    services.ticket_send_to_department(
        actor=centre.dispatcher, ticket=ticket, department=centre.department
    )

    ticket.refresh_from_db()
    assert (ticket.state, ticket.department) == (State.REFERRED, centre.department)
    assert _actions(ticket) == [Action.CREATED, Action.VERIFIED, Action.REFERRED]
    assert ticket.resolve_due == ticket.dispatched_at + timedelta(hours=8)


def _in_working_days(department, days: int = 1) -> None:
    department.time_limit_working_days = days
    department.save(update_fields=["time_limit_working_days"])


@pytest.mark.parametrize(
    ("referred", "due"),
    [
        # A Monday morning: the end of Tuesday.
        (
            datetime(2026, 11, 16, 9, 0, tzinfo=SHANGHAI),
            datetime(2026, 11, 17, 17, 30, tzinfo=SHANGHAI),
        ),
        # The eve of National Day: the holiday (10-01 to 10-07) is not counted.
        (
            datetime(2026, 9, 30, 15, 0, tzinfo=SHANGHAI),
            datetime(2026, 10, 8, 17, 30, tzinfo=SHANGHAI),
        ),
    ],
)
def test_given_a_limit_in_working_days_then_the_answer_is_due_at_the_end_of_that_day(
    centre, make_ticket, clock, referred, due
):
    _in_working_days(centre.department)
    clock.move_to(referred)
    ticket = make_ticket(State.NEW, fault_type=centre.billing)

    services.ticket_send_to_department(
        actor=centre.dispatcher, ticket=ticket, department=centre.department
    )

    ticket.refresh_from_db()
    assert ticket.resolve_due == due


def test_given_a_year_the_calendar_does_not_know_then_the_referral_is_refused_unchanged(
    centre, make_ticket, clock
):
    _in_working_days(centre.department)
    clock.move_to(datetime(2026, 12, 31, 10, 0, tzinfo=SHANGHAI))
    ticket = make_ticket(State.NEW, fault_type=centre.billing)

    with pytest.raises(CalendarUnknown) as refused:
        services.ticket_send_to_department(
            actor=centre.dispatcher, ticket=ticket, department=centre.department
        )

    assert refused.value.code == "conflict"
    ticket.refresh_from_db()
    assert (ticket.state, ticket.department) == (State.NEW, None)


# The crew declines; the dispatcher sends again.


def test_given_a_decline_without_a_reason_then_it_is_refused_and_the_crew_keeps_the_ticket(
    centre, make_ticket
):
    ticket = make_ticket(State.DISPATCHED)

    with pytest.raises(ApplicationError) as refused:
        ticket_services.ticket_decline(actor=centre.crew_leader, ticket=ticket, reason="")

    assert refused.value.code == "invalid"
    assert set(refused.value.fields) == {"reason"}
    assert Ticket.objects.get(pk=ticket.pk).state == State.DISPATCHED
    assert ticket.assignments.get().outcome == Outcome.WAITING


def test_given_a_declined_ticket_when_sent_again_then_the_history_lists_both_crews_in_order(
    centre, make_ticket, clock
):
    ticket = make_ticket(State.DISPATCHED)
    clock.shift(timedelta(minutes=3))

    ticket_services.ticket_decline(actor=centre.crew_leader, ticket=ticket, reason="不在本队片区")

    ticket.refresh_from_db()
    assert (ticket.state, ticket.returned, ticket.crew) == (State.VERIFIED, Returned.DECLINED, None)
    declined = ticket.assignments.get()
    assert declined.outcome == Outcome.DECLINED
    assert declined.reason == "不在本队片区"
    assert declined.answered_by == centre.crew_leader
    assert declined.answered_at == timezone.now()

    clock.shift(timedelta(minutes=2))
    services.ticket_send_to_crew(actor=centre.dispatcher, ticket=ticket, crew=centre.other_crew)

    ticket.refresh_from_db()
    assert (ticket.state, ticket.returned) == (State.DISPATCHED, "")
    history = list(ticket.assignments.all())
    assert [(a.crew, a.outcome, a.is_redispatch) for a in history] == [
        (centre.crew, Outcome.DECLINED, False),
        (centre.other_crew, Outcome.WAITING, True),
    ]


# A crew that does not answer in time.


def test_given_a_crew_silent_for_15_minutes_when_the_sweep_runs_then_the_ticket_goes_back(
    centre, make_ticket, clock
):
    ticket = make_ticket(State.DISPATCHED)
    clock.shift(timedelta(minutes=14))
    assert services.assignments_expire(now=timezone.now()) == 0
    assert Ticket.objects.get(pk=ticket.pk).state == State.DISPATCHED

    clock.shift(timedelta(minutes=2))
    assert services.assignments_expire(now=timezone.now()) == 1

    ticket.refresh_from_db()
    assert (ticket.state, ticket.returned, ticket.crew) == (
        State.VERIFIED,
        Returned.NOT_ACCEPTED,
        None,
    )
    returned = ticket.events.get(action=Action.NOT_ACCEPTED)
    assert returned.actor is None
    assert ticket.assignments.get().outcome == Outcome.NOT_ACCEPTED


def test_given_the_sweep_has_run_when_it_runs_again_then_it_does_nothing_more(
    centre, make_ticket, clock
):
    ticket = make_ticket(State.DISPATCHED)
    clock.shift(timedelta(minutes=16))
    services.assignments_expire(now=timezone.now())

    assert services.assignments_expire(now=timezone.now()) == 0
    assert ticket.events.filter(action=Action.NOT_ACCEPTED).count() == 1
    assert Ticket.objects.get(pk=ticket.pk).state == State.VERIFIED


def test_given_a_ticket_accepted_at_minute_14_then_the_sweep_at_minute_16_leaves_it(
    centre, make_ticket, clock
):
    ticket = make_ticket(State.DISPATCHED)
    clock.shift(timedelta(minutes=14))
    ticket_services.ticket_accept(actor=centre.crew_leader, ticket=ticket)
    clock.shift(timedelta(minutes=2))

    assert services.assignments_expire(now=timezone.now()) == 0

    ticket.refresh_from_db()
    assert (ticket.state, ticket.crew) == (State.ACCEPTED, centre.crew)
    assert ticket.assignments.get().outcome == Outcome.ACCEPTED


# Extensions the crew leader signs.


def _extension_asked(centre, ticket):
    return ticket_services.extension_request(
        actor=centre.crew_member,
        ticket=ticket,
        milestone=Milestone.ARRIVE,
        requested_due=ticket.arrive_due + timedelta(hours=2),
        cause=ExtensionCause.OBJECTIVE,
        reason="交通管制",
    )


def test_given_an_objective_delay_when_the_crew_leader_approves_then_the_deadline_moves_and_the_customer_is_told_once(  # noqa: E501
    centre, make_ticket, clock
):
    ticket = make_ticket(State.ACCEPTED)
    extension = _extension_asked(centre, ticket)

    ticket_services.extension_decide(actor=centre.crew_leader, extension=extension, approve=True)

    ticket.refresh_from_db()
    assert ticket.arrive_due == extension.requested_due
    [told] = _messages("customer_extension")
    assert told.to_phone == CUSTOMER_PHONE
    assert ticket.number in told.body
    approved = ticket.events.get(action=Action.EXTENSION_APPROVED)
    services.ticket_event_notify(ticket=ticket, event=approved)  # the hook again: no second
    assert len(_messages("customer_extension")) == 1


def test_given_a_crew_member_who_is_not_the_leader_then_they_may_not_sign_an_extension(
    centre, make_ticket
):
    extension = _extension_asked(centre, make_ticket(State.ACCEPTED))

    with pytest.raises(ApplicationError) as refused:
        ticket_services.extension_decide(
            actor=centre.crew_member, extension=extension, approve=True
        )

    assert refused.value.code == "forbidden"
    extension.refresh_from_db()
    assert extension.state == ExtensionState.PENDING
    assert _messages("customer_extension") == []


def test_given_another_crews_leader_then_the_extension_is_not_even_found(centre, make_ticket):
    extension = _extension_asked(centre, make_ticket(State.ACCEPTED))

    with pytest.raises(ApplicationError) as refused:
        ticket_services.extension_decide(
            actor=centre.other_crew_leader, extension=extension, approve=True
        )

    assert refused.value.code == "not_found"
    extension.refresh_from_db()
    assert extension.state == ExtensionState.PENDING


# Text messages through the outbox.


def test_when_a_ticket_is_dispatched_then_the_crew_leader_and_the_customer_are_each_told_once(
    centre, make_ticket, leader_phone
):
    ticket = make_ticket(State.VERIFIED)

    services.ticket_send_to_crew(actor=centre.dispatcher, ticket=ticket, crew=centre.crew)

    [to_crew] = _messages("crew_dispatched")
    [to_customer] = _messages("customer_dispatched")
    assert to_crew.to_phone == leader_phone
    assert ticket.number in to_crew.body
    assert to_customer.to_phone == CUSTOMER_PHONE
    assert status_url(ticket) in to_customer.body
    dispatched = ticket.events.get(action=Action.DISPATCHED)
    services.ticket_event_notify(ticket=ticket, event=dispatched)
    assert OutboundMessage.objects.count() == 2


def test_given_a_crew_leader_without_a_phone_then_only_the_customer_is_told(centre, make_ticket):
    make_ticket(State.DISPATCHED)

    assert _messages("crew_dispatched") == []
    assert len(_messages("customer_dispatched")) == 1


def test_when_a_ticket_is_closed_then_the_customer_gets_the_link_to_the_slip_once(
    centre, make_ticket
):
    ticket = make_ticket(State.RESOLVED)

    ticket_services.ticket_close(actor=centre.dispatcher, ticket=ticket)

    [closed] = _messages("customer_closed")
    assert closed.to_phone == CUSTOMER_PHONE
    assert slip_url(ticket) in closed.body
    services.ticket_event_notify(ticket=ticket, event=ticket.events.get(action=Action.CLOSED))
    assert len(_messages("customer_closed")) == 1


def test_given_the_broker_down_when_dispatching_then_the_dispatch_holds_and_the_retry_sends_each_message_once(  # noqa: E501
    centre,
    make_ticket,
    leader_phone,
    settings,
    monkeypatch,
    clock,
    django_capture_on_commit_callbacks,
):
    settings.SMS_BACKEND = "dispatch.sms.DatabaseSmsBackend"

    def broker_down(*args, **kwargs):
        raise OperationalError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    monkeypatch.setattr("dispatch.tasks.message_send.delay", broker_down)
    ticket = make_ticket(State.VERIFIED)

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        services.ticket_send_to_crew(actor=centre.dispatcher, ticket=ticket, crew=centre.crew)

    assert len(callbacks) >= 2  # one send per message, run after the commit
    assert Ticket.objects.get(pk=ticket.pk).state == State.DISPATCHED
    assert _statuses() == [OutboundMessage.Status.PENDING] * 2
    assert not SmsRecord.objects.exists()

    clock.shift(timedelta(minutes=2))
    assert messages_retry() == 2
    assert messages_retry() == 0

    assert sorted(SmsRecord.objects.values_list("to_phone", flat=True)) == sorted(
        [leader_phone, CUSTOMER_PHONE]
    )
    assert _statuses() == [OutboundMessage.Status.SENT] * 2


# The crew's duty and position.


def test_the_crew_leader_starts_the_shift_and_a_dispatcher_ends_it(centre, clock):
    services.crew_duty_set(actor=centre.crew_leader, crew=centre.crew, on_duty=True)
    centre.crew.refresh_from_db()
    assert (centre.crew.is_on_duty, centre.crew.duty_changed_at) == (True, timezone.now())

    clock.shift(timedelta(hours=8))
    services.crew_duty_set(actor=centre.dispatcher, crew=centre.crew, on_duty=False)
    centre.crew.refresh_from_db()
    assert (centre.crew.is_on_duty, centre.crew.duty_changed_at) == (False, timezone.now())


def test_given_a_member_of_another_crew_then_they_may_not_set_this_crews_duty(centre):
    with pytest.raises(ApplicationError) as refused:
        services.crew_duty_set(actor=centre.other_crew_leader, crew=centre.crew, on_duty=True)

    assert refused.value.code == "forbidden"
    centre.crew.refresh_from_db()
    assert centre.crew.is_on_duty is False


def test_a_reported_position_is_kept_to_six_decimals_with_its_time(centre, clock):
    services.crew_position_report(
        actor=centre.crew_member,
        crew=centre.crew,
        latitude=Decimal("30.66123456"),
        longitude=Decimal("104.06543219"),
    )

    centre.crew.refresh_from_db()
    assert centre.crew.last_latitude == Decimal("30.661235")
    assert centre.crew.last_longitude == Decimal("104.065432")
    assert centre.crew.last_position_at == timezone.now()


def test_given_a_latitude_out_of_range_then_the_position_is_refused_by_field(centre):
    with pytest.raises(ApplicationError) as refused:
        services.crew_position_report(
            actor=centre.crew_member,
            crew=centre.crew,
            latitude=Decimal("91"),
            longitude=Decimal("104.06"),
        )

    assert refused.value.code == "invalid"
    assert set(refused.value.fields) == {"latitude"}
    centre.crew.refresh_from_db()
    assert centre.crew.last_latitude is None


# The plan for a ticket still open at the end of the day.


def test_writing_the_days_plan_twice_updates_the_same_note(centre, make_ticket, clock):
    ticket = make_ticket(State.VERIFIED)
    today = timezone.localdate()

    services.unclosed_plan_write(
        actor=centre.dispatcher, ticket=ticket, day=today, reason="缺材料", plan="明早派单"
    )
    clock.shift(timedelta(minutes=30))
    services.unclosed_plan_write(
        actor=centre.dispatcher, ticket=ticket, day=today, reason="缺材料", plan="今晚派夜班"
    )

    [note] = UnclosedPlan.objects.all()
    assert (note.ticket, note.day, note.plan) == (ticket, today, "今晚派夜班")
    assert note.written_at == timezone.now()


def test_given_an_empty_plan_then_it_is_refused(centre, make_ticket):
    with pytest.raises(ApplicationError) as refused:
        services.unclosed_plan_write(
            actor=centre.dispatcher,
            ticket=make_ticket(State.VERIFIED),
            day=timezone.localdate(),
            reason="缺材料",
            plan="",
        )

    assert refused.value.code == "invalid"
    assert set(refused.value.fields) == {"plan"}
    assert not UnclosedPlan.objects.exists()


def test_given_an_agent_then_they_may_not_write_the_plan(centre, make_ticket):
    with pytest.raises(ApplicationError) as refused:
        services.unclosed_plan_write(
            actor=centre.agent,
            ticket=make_ticket(State.VERIFIED),
            day=timezone.localdate(),
            reason="缺材料",
            plan="明早派单",
        )

    assert refused.value.code == "forbidden"
    assert not UnclosedPlan.objects.exists()
