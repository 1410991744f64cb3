"""The overdue sweep: each level at its moment, exactly once, for the people it concerns."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from dispatch.models import OutboundMessage
from tests.conftest import T0
from tickets import selectors, services
from tickets.choices import ExtensionCause, State
from tickets.errors import ApplicationError
from tickets.hooks import alerts_raised
from tickets.models import Alert, AlertCursor, AlertSmsRule

pytestmark = pytest.mark.django_db

LEADER_PHONE = "+8613900000001"
SHIFT_LEADER_PHONE = "+8613900000002"
SUPERVISOR_PHONE = "+8613900000003"


def sweep(clock, minutes: float | None = None, **kwargs) -> int:
    """Move the clock on to ``minutes`` after T0 (if given) and run the sweep there."""
    if minutes is not None:
        clock.move_to(T0 + timedelta(minutes=minutes))
    return services.alerts_sweep(now=timezone.now(), **kwargs)


def raised(ticket, milestone: str | None = None) -> set[tuple[str, str]]:
    alerts = ticket.alerts.all()
    if milestone:
        alerts = alerts.filter(milestone=milestone)
    return set(alerts.values_list("milestone", "level"))


@pytest.fixture
def phones(centre):
    for user, phone in (
        (centre.crew_leader, LEADER_PHONE),
        (centre.shift_leader, SHIFT_LEADER_PHONE),
        (centre.supervisor, SUPERVISOR_PHONE),
    ):
        user.phone = phone
        user.save(update_fields=["phone"])


# Each level at its moment.


def test_given_a_general_ticket_then_dispatch_warns_at_80_percent_then_breaches_then_escalates(
    centre, make_ticket, clock
):
    ticket = make_ticket(State.VERIFIED)  # received at T0: dispatch within 30 minutes

    assert sweep(clock, 23) == 0
    assert sweep(clock, 24) == 1  # 80 % of 30 minutes
    assert raised(ticket) == {("dispatch", "warning")}
    assert sweep(clock, 30) == 1
    assert raised(ticket) == {("dispatch", "warning"), ("dispatch", "breach")}
    sweep(clock, 59)
    assert ("dispatch", "escalated") not in raised(ticket)
    sweep(clock, 60)  # a general ticket goes up 30 minutes after the deadline
    assert ("dispatch", "escalated") in raised(ticket)
    breach = ticket.alerts.get(milestone="dispatch", level="breach")
    assert breach.due_at == ticket.dispatch_due
    assert breach.raised_at == ticket.dispatch_due


def test_given_a_milestone_met_in_time_then_it_neither_breaches_nor_escalates(
    centre, make_ticket, clock
):
    ticket = make_ticket(State.VERIFIED)
    sweep(clock, 25)
    services.ticket_dispatch(ticket=ticket, actor=centre.dispatcher, crew=centre.crew)

    sweep(clock, 90)

    assert ("dispatch", "breach") not in raised(ticket)
    assert ("dispatch", "escalated") not in raised(ticket)


def test_given_an_emergency_open_for_4_hours_then_the_overdue_alarm_is_raised_once(
    centre, make_ticket, clock
):
    ticket = make_ticket(State.ON_SITE, fault_type=centre.burst)
    sweep(clock, 239)
    assert ("close", "alarm") not in raised(ticket)

    sweep(clock, 240)
    sweep(clock, 241)

    assert ticket.alerts.filter(milestone="close", level="alarm").count() == 1


def test_given_the_sweep_has_run_then_running_it_again_raises_nothing_new(
    centre, make_ticket, clock
):
    make_ticket(State.VERIFIED)
    make_ticket(State.DISPATCHED)
    first = sweep(clock, 50)

    assert first > 0
    assert sweep(clock) == 0
    assert sweep(clock, 50.5) == 0
    assert Alert.objects.count() == first


def test_given_more_due_than_a_batch_then_every_one_is_raised_in_batches(
    centre, make_ticket, clock
):
    tickets = [make_ticket(State.VERIFIED) for _ in range(5)]

    assert sweep(clock, 25, batch=2) == 5
    assert sweep(clock, 30, batch=2) == 5

    for ticket in tickets:
        assert raised(ticket) == {("dispatch", "warning"), ("dispatch", "breach")}


def test_given_a_sweep_that_fails_after_a_batch_then_the_batch_stays_and_the_next_raises_the_rest(
    centre, make_ticket, clock
):
    tickets = [make_ticket(State.VERIFIED) for _ in range(5)]
    sent = []

    def fail_on_the_second_batch(alert_ids, **kwargs):
        sent.append(alert_ids)
        if len(sent) == 2:
            raise RuntimeError("the worker dies")

    alerts_raised.connect(fail_on_the_second_batch, dispatch_uid="test-fail-second")
    try:
        with pytest.raises(RuntimeError):
            sweep(clock, 25, batch=2)  # five dispatch warnings due, two a batch
    finally:
        alerts_raised.disconnect(dispatch_uid="test-fail-second")

    # The first batch is committed; the second went; the watermark of the warnings waits.
    assert Alert.objects.count() == 2
    warnings = AlertCursor.objects.get(milestone="dispatch", level="warning")
    assert warnings.scanned_through < timezone.now()
    assert sweep(clock, batch=2) == 3
    for ticket in tickets:
        assert raised(ticket) == {("dispatch", "warning")}


def test_given_a_deadline_moved_behind_the_watermark_then_it_still_breaches(
    centre, make_ticket, clock
):
    ticket = make_ticket(State.VERIFIED)  # general: dispatch within 30 minutes
    sweep(clock, 11)
    clock.move_to(T0 + timedelta(minutes=12))
    # Found to be a burst main: an emergency is dispatched within 10 minutes of receipt.
    services.ticket_reclassify(
        ticket=ticket, actor=centre.dispatcher, grade="emergency", reason="实为爆管"
    )

    sweep(clock, 13)

    assert raised(ticket, "dispatch") == {("dispatch", "breach")}  # too late to warn


def test_given_an_approved_extension_then_the_new_deadline_is_watched_afresh(
    centre, make_ticket, clock
):
    ticket = make_ticket(State.ON_SITE)  # general: repaired within 24 hours
    sweep(clock, 24 * 60)
    assert ticket.alerts.filter(milestone="resolve", level="breach").count() == 1
    extension = services.extension_request(
        ticket=ticket,
        actor=centre.crew_leader,
        milestone="resolve",
        requested_due=timezone.now() + timedelta(hours=4),
        cause=ExtensionCause.OBJECTIVE,
        reason="管材缺货",
    )
    services.extension_decide(extension=extension, actor=centre.crew_leader, approve=True)

    sweep(clock, 28 * 60 + 1)

    assert ticket.alerts.filter(milestone="resolve", level="breach").count() == 2


def test_given_a_first_sweep_then_it_looks_back_a_day_and_no_further(centre, make_ticket, clock):
    old = make_ticket(State.VERIFIED)
    clock.move_to(timezone.now() + timedelta(days=3))
    recent = make_ticket(State.VERIFIED)
    clock.move_to(timezone.now() + timedelta(minutes=31))

    sweep(clock)

    assert ("dispatch", "breach") in raised(recent)
    assert raised(old) == set()
    assert AlertCursor.objects.filter(scanned_through=timezone.now()).exists()


# Who hears of what.


def test_alerts_reach_the_people_of_each_level_and_only_of_tickets_they_may_open(
    centre, make_ticket, clock
):
    ours = make_ticket(State.DISPATCHED)
    theirs = make_ticket(State.VERIFIED)
    services.ticket_dispatch(ticket=theirs, actor=centre.dispatcher, crew=centre.other_crew)
    sweep(clock, 40)  # warnings of the accept deadline (45 minutes)
    sweep(clock, 24 * 60)  # every deadline of both has passed, the alarm too

    def seen(user) -> set[tuple[str, str, str]]:
        return {
            (alert.ticket.number, alert.milestone, alert.level)
            for alert in selectors.alerts_for_user(user=user)
        }

    dispatcher = seen(centre.dispatcher)
    assert (ours.number, "accept", "breach") in dispatcher
    assert {level for _, _, level in dispatcher} == {"warning", "breach"}
    leader = seen(centre.crew_leader)
    assert (ours.number, "accept", "breach") in leader
    assert {number for number, _, _ in leader} == {ours.number}
    assert seen(centre.crew_member) == set()  # a crew member who is not its leader
    assert seen(centre.other_crew_leader) <= {(theirs.number, m, lv) for _, m, lv in dispatcher}
    assert {level for _, _, level in seen(centre.shift_leader)} == {"escalated"}
    assert {level for _, _, level in seen(centre.supervisor)} == {"alarm"}
    assert seen(centre.agent) == set()
    assert seen(centre.department_user) == set()


def test_given_a_referral_past_its_limit_then_the_department_hears_of_it(
    centre, make_ticket, clock
):
    ticket = make_ticket(State.VERIFIED, fault_type=centre.billing)
    services.ticket_refer(ticket=ticket, actor=centre.dispatcher, department=centre.department)
    ticket.refresh_from_db()
    limit = (ticket.resolve_due - ticket.received_at).total_seconds() / 60
    sweep(clock, limit - 1)
    sweep(clock, limit + 1)

    seen = {(a.milestone, a.level) for a in selectors.alerts_for_user(user=centre.department_user)}

    assert seen == {("resolve", "warning"), ("resolve", "breach")}


def test_an_acknowledged_alert_stays_acknowledged_and_leaves_the_count(centre, make_ticket, clock):
    make_ticket(State.VERIFIED)
    sweep(clock, 25)
    sweep(clock, 30)
    assert selectors.alerts_waiting_count(user=centre.dispatcher) == 2
    warning = Alert.objects.get(level="warning")

    services.alert_acknowledge(alert=warning, actor=centre.dispatcher, at=timezone.now())
    clock.move_to(timezone.now() + timedelta(minutes=5))
    services.alert_acknowledge(alert=warning, actor=centre.supervisor, at=timezone.now())
    sweep(clock)

    warning.refresh_from_db()
    assert warning.acknowledged_by == centre.dispatcher
    assert selectors.alerts_waiting_count(user=centre.dispatcher) == 1


def test_an_alert_whose_deadline_is_met_no_longer_waits(centre, make_ticket, clock):
    ticket = make_ticket(State.VERIFIED)
    sweep(clock, 25)
    sweep(clock, 31)
    assert selectors.alerts_waiting_count(user=centre.dispatcher) == 2

    services.ticket_dispatch(ticket=ticket, actor=centre.dispatcher, crew=centre.crew)

    assert selectors.alerts_waiting_count(user=centre.dispatcher) == 0
    assert not any(a.is_standing for a in selectors.alerts_for_user(user=centre.dispatcher))


# By text message, as the rules say.


def test_by_the_seeded_rules_a_crew_breach_texts_the_leader_once_and_a_dispatch_breach_nobody(
    centre, make_ticket, clock, phones
):
    late = make_ticket(State.DISPATCHED)
    unassigned = make_ticket(State.VERIFIED)
    sweep(clock, 46)  # a general ticket is accepted within 45 minutes
    sweep(clock, 47)

    texts = list(OutboundMessage.objects.filter(kind="alert_breach"))

    assert [(m.to_phone, late.number in m.body) for m in texts] == [(LEADER_PHONE, True)]
    assert not any(unassigned.number in m.body for m in OutboundMessage.objects.all())
    assert not OutboundMessage.objects.filter(kind="alert_warning").exists()


def test_an_emergency_escalation_texts_the_shift_leader_and_the_alarm_the_supervisor(
    centre, make_ticket, clock, phones
):
    make_ticket(State.VERIFIED, fault_type=centre.burst)
    sweep(clock, 20)  # the dispatch deadline (10 minutes) plus 10 minutes
    assert set(
        OutboundMessage.objects.filter(kind="alert_escalated").values_list("to_phone", flat=True)
    ) == {SHIFT_LEADER_PHONE}

    sweep(clock, 240)

    assert list(
        OutboundMessage.objects.filter(kind="alert_alarm").values_list("to_phone", flat=True)
    ) == [SUPERVISOR_PHONE]


def test_given_no_rule_for_a_level_then_nothing_is_texted(centre, make_ticket, clock, phones):
    AlertSmsRule.objects.update(is_active=False)
    make_ticket(State.DISPATCHED)

    sweep(clock, 24 * 60)

    assert Alert.objects.exists()
    assert not OutboundMessage.objects.filter(kind__startswith="alert_").exists()


def test_a_general_escalation_is_not_texted_by_the_seeded_rules(centre, make_ticket, clock, phones):
    make_ticket(State.VERIFIED)
    sweep(clock, 60)

    assert Alert.objects.filter(level="escalated").exists()
    assert not OutboundMessage.objects.filter(kind="alert_escalated").exists()


# Why a deadline was missed.


def test_a_human_cause_names_who_is_responsible_and_the_supervisor_reads_it(
    centre, make_ticket, clock
):
    ticket = make_ticket(State.VERIFIED)
    sweep(clock, 31)
    breach = Alert.objects.get(level="breach")

    with pytest.raises(ApplicationError) as refused:
        services.alert_delay_record(
            alert=breach, actor=centre.dispatcher, at=timezone.now(), cause=ExtensionCause.HUMAN
        )
    assert refused.value.fields.keys() == {"responsible"}
    services.alert_delay_record(
        alert=breach,
        actor=centre.dispatcher,
        at=timezone.now(),
        cause=ExtensionCause.HUMAN,
        responsible="  调度员陈某 ",
        note="交班时漏看",
    )

    ticket.refresh_from_db()
    assert ticket.delay_responsible == "调度员陈某"
    [delay] = selectors.delays_with_human_cause()
    assert (delay.ticket, delay.delay_recorded_by) == (ticket, centre.dispatcher)


def test_a_cause_is_recorded_only_on_a_breach_and_only_by_those_allowed(centre, make_ticket, clock):
    make_ticket(State.VERIFIED)
    sweep(clock, 25)
    sweep(clock, 31)
    warning = Alert.objects.get(level="warning")
    breach = Alert.objects.get(level="breach")

    with pytest.raises(ApplicationError) as on_warning:
        services.alert_delay_record(
            alert=warning, actor=centre.dispatcher, at=timezone.now(), cause="objective"
        )
    with pytest.raises(ApplicationError) as by_agent:
        services.alert_delay_record(
            alert=breach, actor=centre.agent, at=timezone.now(), cause="objective"
        )
    with pytest.raises(ApplicationError) as unknown:
        services.alert_delay_record(
            alert=breach, actor=centre.dispatcher, at=timezone.now(), cause="weather"
        )

    assert (on_warning.value.code, by_agent.value.code, unknown.value.code) == (
        "conflict",
        "forbidden",
        "invalid",
    )
    assert not Alert.objects.exclude(delay_cause="").exists()


def test_the_sweep_takes_as_many_queries_for_thirty_tickets_as_for_three(
    centre, make_ticket, clock, phones
):
    sweep(clock)  # the first sweep makes the watermarks; the ones measured find them

    def queries_to_raise_every_level(count: int) -> int:
        for _ in range(count):
            make_ticket(State.DISPATCHED, fault_type=centre.burst)
        clock.move_to(timezone.now() + timedelta(hours=5))  # past every deadline
        with CaptureQueriesContext(connection) as queries:
            sweep(clock)
        return len(queries.captured_queries)

    assert queries_to_raise_every_level(3) == queries_to_raise_every_level(30)
    assert Alert.objects.filter(level="alarm").count() == 33


def _statements(queries: CaptureQueriesContext) -> list[str]:
    """The SQL a sweep ran, without the savepoints of the test's own transaction."""
    return [
        query["sql"]
        for query in queries.captured_queries
        if not query["sql"].startswith(("SAVEPOINT", "RELEASE SAVEPOINT", "ROLLBACK TO"))
    ]


def test_a_sweep_with_nothing_new_takes_five_queries_whatever_the_number_of_deadlines(
    centre, make_ticket, clock
):
    # Given tickets whose alerts are raised already, and the watermarks made.
    for _ in range(3):
        make_ticket(State.DISPATCHED)
    sweep(clock, 40)

    # When the next sweep finds nothing new.
    with CaptureQueriesContext(connection) as queries:
        assert sweep(clock, 40.5) == 0

    # Then it read the policies and the departments, locked the watermarks, ran one
    # INSERT … SELECT for every (milestone, level) and moved the watermarks on: five queries.
    statements = _statements(queries)
    assert len(statements) == 5
    assert sum(sql.startswith('INSERT INTO "tickets_alert"') for sql in statements) == 1
    assert AlertCursor.objects.exclude(scanned_through=timezone.now()).count() == 0


def test_a_first_sweep_makes_the_watermarks_and_locks_them_with_two_queries_more(centre, clock):
    with CaptureQueriesContext(connection) as first:
        sweep(clock, 1)
    with CaptureQueriesContext(connection) as second:
        sweep(clock, 2)

    # The first looked for the watermarks, made them and locked them.
    assert len(_statements(first)) == len(_statements(second)) + 2 == 7
    assert not AlertCursor.objects.exclude(scanned_through=timezone.now()).exists()
