"""Deadlines: computed from the receipt time by the policy of the grade."""

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.conftest import T0
from tickets import services
from tickets.choices import ExtensionCause, ExtensionState, Grade, Milestone, State
from tickets.errors import ApplicationError
from tickets.models import SlaPolicy
from tickets.selectors import tickets_with_original_deadlines
from tickets.sla import deadlines_compute

M = timedelta(minutes=1)
EXPECTED = {
    # grade: dispatch, accept, arrive, mitigate, resolve, close (minutes after receipt)
    Grade.EMERGENCY: (10, 25, 55, 120, None, 240),
    Grade.GENERAL: (30, 45, 165, None, 1440, 1440),
    Grade.CONSULT: (60, None, None, None, None, None),
}
DUE_FIELDS = [
    "dispatch_due",
    "accept_due",
    "arrive_due",
    "mitigate_due",
    "resolve_due",
    "close_due",
]


def _due(minutes):
    return None if minutes is None else T0 + minutes * M


@pytest.mark.django_db
@pytest.mark.parametrize("grade", list(Grade))
def test_given_a_grade_when_a_ticket_is_created_then_its_deadlines_follow_the_standard(
    grade, make_ticket, centre, clock
):
    fault = {Grade.EMERGENCY: centre.burst, Grade.GENERAL: centre.leak}.get(grade, centre.billing)
    ticket = make_ticket(fault_type=fault)
    assert ticket.received_at == T0
    assert [getattr(ticket, f) for f in DUE_FIELDS] == [_due(m) for m in EXPECTED[grade]]


@pytest.mark.django_db
def test_given_an_edited_policy_then_new_tickets_use_it_and_old_ones_keep_theirs(
    make_ticket, clock
):
    before = make_ticket()
    policy = SlaPolicy.objects.get(grade=Grade.GENERAL)
    policy.dispatch_minutes = 20
    policy.save()  # as the admin saves it
    after = make_ticket()
    assert before.dispatch_due == T0 + 30 * M
    assert after.dispatch_due == T0 + 20 * M


minutes = st.one_of(st.none(), st.integers(min_value=1, max_value=60 * 24 * 30))


@given(
    # hypothesis takes naive bounds and attaches the time zone it is given.
    start=st.datetimes(
        min_value=datetime(2020, 1, 1),  # noqa: DTZ001
        max_value=datetime(2035, 1, 1),  # noqa: DTZ001
        timezones=st.just(UTC),
    ),
    dispatch=st.integers(min_value=1, max_value=600),
    others=st.tuples(minutes, minutes, minutes, minutes, minutes),
)
def test_every_deadline_is_the_clock_start_plus_the_policy_minutes(start, dispatch, others):
    accept, arrive, mitigate, resolve, close = others
    policy = SlaPolicy(
        grade=Grade.GENERAL,
        dispatch_minutes=dispatch,
        accept_minutes=accept,
        arrive_minutes=arrive,
        mitigate_minutes=mitigate,
        resolve_minutes=resolve,
        close_minutes=close,
    )
    fields = deadlines_compute(policy=policy, start=start).as_fields()
    for field, value in zip(DUE_FIELDS, (dispatch, *others), strict=True):
        expected = None if value is None else start + timedelta(minutes=value)
        assert fields[field] == expected
        assert expected is None or fields[field].tzinfo is not None


@pytest.mark.django_db
def test_given_a_general_ticket_when_raised_to_emergency_later_then_deadlines_run_from_receipt(
    make_ticket, centre, clock
):
    ticket = make_ticket(State.VERIFIED)
    clock.shift(timedelta(minutes=7))
    services.ticket_reclassify(
        actor=centre.shift_leader, ticket=ticket, grade=Grade.EMERGENCY, reason="整栋楼无水"
    )
    ticket.refresh_from_db()
    assert ticket.grade == Grade.EMERGENCY
    assert [getattr(ticket, f) for f in DUE_FIELDS] == [_due(m) for m in EXPECTED[Grade.EMERGENCY]]
    event = ticket.events.get(action="reclassified")
    assert event.reason == "整栋楼无水"
    assert event.data["from_grade"] == "general"
    assert event.data["to_grade"] == "emergency"
    assert event.data["deadlines_before"]["dispatch_due"] == (T0 + 30 * M).isoformat()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("state", "grade", "code"),
    [
        (State.NEW, Grade.GENERAL, "invalid"),  # already general
        (State.RESOLVED, Grade.EMERGENCY, "conflict"),
        (State.CLOSED, Grade.EMERGENCY, "conflict"),
        (State.DISPATCHED, Grade.CONSULT, "conflict"),
    ],
)
def test_given_a_ticket_where_the_grade_cannot_change_then_reclassify_is_refused(
    state, grade, code, make_ticket, centre, clock
):
    ticket = make_ticket(state)
    with pytest.raises(ApplicationError) as refused:
        services.ticket_reclassify(actor=centre.supervisor, ticket=ticket, grade=grade, reason="x")
    assert refused.value.code == code
    ticket.refresh_from_db()
    assert ticket.grade == Grade.GENERAL
    assert not ticket.events.filter(action="reclassified").exists()


@pytest.mark.django_db
def test_reclassify_needs_a_reason(make_ticket, centre, clock):
    ticket = make_ticket()
    with pytest.raises(ApplicationError) as refused:
        services.ticket_reclassify(
            actor=centre.supervisor, ticket=ticket, grade=Grade.EMERGENCY, reason=""
        )
    assert refused.value.fields.keys() == {"reason"}


def _request(
    ticket,
    actor,
    *,
    milestone=Milestone.ARRIVE,
    hours=2,
    cause=ExtensionCause.OBJECTIVE,
    responsible_party="",
):
    due = getattr(ticket, f"{milestone}_due") or T0
    return services.extension_request(
        actor=actor,
        ticket=ticket,
        milestone=milestone,
        requested_due=due + timedelta(hours=hours),
        cause=cause,
        reason="材料短缺",
        responsible_party=responsible_party,
    )


@pytest.mark.django_db
def test_given_an_objective_extension_when_the_crew_leader_approves_then_the_deadline_moves(
    make_ticket, centre, clock
):
    ticket = make_ticket(State.ACCEPTED)
    extension = _request(ticket, centre.crew_member)
    ticket.refresh_from_db()
    assert ticket.arrive_due == T0 + 165 * M  # nothing moves while it waits
    services.extension_decide(actor=centre.crew_leader, extension=extension, approve=True)
    ticket.refresh_from_db()
    assert ticket.arrive_due == T0 + 165 * M + timedelta(hours=2)
    extension.refresh_from_db()
    assert extension.state == ExtensionState.APPROVED
    assert extension.original_due == T0 + 165 * M
    annotated = tickets_with_original_deadlines().get(pk=ticket.pk)
    assert annotated.original_arrive_due == T0 + 165 * M
    assert annotated.original_dispatch_due == ticket.dispatch_due
    assert list(ticket.events.values_list("action", flat=True))[-2:] == [
        "extension_requested",
        "extension_approved",
    ]


@pytest.mark.django_db
def test_given_a_refused_extension_then_the_deadline_stays(make_ticket, centre, clock):
    ticket = make_ticket(State.ACCEPTED)
    extension = _request(ticket, centre.crew_leader)
    with pytest.raises(ApplicationError) as no_note:
        services.extension_decide(actor=centre.dispatcher, extension=extension, approve=False)
    assert no_note.value.fields.keys() == {"note"}
    services.extension_decide(
        actor=centre.dispatcher, extension=extension, approve=False, note="材料已到"
    )
    ticket.refresh_from_db()
    assert ticket.arrive_due == T0 + 165 * M
    extension.refresh_from_db()
    assert extension.state == ExtensionState.REFUSED
    with pytest.raises(ApplicationError) as again:
        services.extension_decide(actor=centre.supervisor, extension=extension, approve=True)
    assert again.value.code == "conflict"


@pytest.mark.django_db
def test_given_a_human_cause_then_only_a_supervisor_approves_and_the_party_is_recorded(
    make_ticket, centre, clock
):
    ticket = make_ticket(State.ACCEPTED)
    with pytest.raises(ApplicationError) as unnamed:
        _request(ticket, centre.dispatcher, cause=ExtensionCause.HUMAN)
    assert unnamed.value.fields.keys() == {"responsible_party"}
    extension = _request(
        ticket, centre.dispatcher, cause=ExtensionCause.HUMAN, responsible_party="调度员陈某"
    )
    for not_allowed in (centre.crew_leader, centre.dispatcher, centre.shift_leader):
        with pytest.raises(ApplicationError) as refused:
            services.extension_decide(actor=not_allowed, extension=extension, approve=True)
        assert refused.value.code == "forbidden"
    services.extension_decide(actor=centre.supervisor, extension=extension, approve=True)
    ticket.refresh_from_db()
    assert ticket.delay_responsible == "调度员陈某"
    assert ticket.arrive_due == T0 + 165 * M + timedelta(hours=2)


@pytest.mark.django_db
def test_only_the_leader_of_the_tickets_crew_signs_an_objective_extension(
    make_ticket, centre, clock
):
    ticket = make_ticket(State.ACCEPTED)
    extension = _request(ticket, centre.crew_member)
    with pytest.raises(ApplicationError) as member:
        services.extension_decide(actor=centre.crew_member, extension=extension, approve=True)
    assert member.value.code == "forbidden"
    with pytest.raises(ApplicationError) as stranger:
        services.extension_decide(actor=centre.other_crew_leader, extension=extension, approve=True)
    assert stranger.value.code == "not_found"


@pytest.mark.django_db
def test_extension_requests_that_make_no_sense_are_refused(make_ticket, centre, clock):
    ticket = make_ticket(State.ACCEPTED)
    with pytest.raises(ApplicationError) as earlier:
        _request(ticket, centre.crew_leader, hours=-1)
    assert earlier.value.fields.keys() == {"requested_due"}
    with pytest.raises(ApplicationError) as passed:
        _request(ticket, centre.crew_leader, milestone=Milestone.DISPATCH)
    assert passed.value.code == "conflict"
    with pytest.raises(ApplicationError) as missing:
        _request(ticket, centre.crew_leader, milestone=Milestone.MITIGATE)
    assert missing.value.fields.keys() == {"milestone"}
    _request(ticket, centre.crew_leader)
    with pytest.raises(ApplicationError) as twice:
        _request(ticket, centre.crew_leader)
    assert twice.value.code == "conflict"
    assert ticket.extensions.count() == 1


@pytest.mark.django_db
def test_given_an_approved_extension_when_the_grade_changes_then_the_extension_still_holds(
    make_ticket, centre, clock
):
    ticket = make_ticket(State.ACCEPTED)
    extension = _request(ticket, centre.crew_leader, hours=5)
    services.extension_decide(actor=centre.crew_leader, extension=extension, approve=True)
    ticket.refresh_from_db()
    services.ticket_reclassify(
        actor=centre.supervisor, ticket=ticket, grade=Grade.EMERGENCY, reason="影响扩大"
    )
    ticket.refresh_from_db()
    assert ticket.arrive_due == T0 + 165 * M + timedelta(hours=5)
    assert ticket.dispatch_due == T0 + 10 * M


@pytest.mark.django_db
def test_given_a_closed_ticket_when_reopened_then_its_clocks_restart(make_ticket, centre, clock):
    ticket = make_ticket(State.CLOSED)
    clock.shift(timedelta(days=2))
    services.ticket_reopen(actor=centre.supervisor, ticket=ticket, reason="回访不满意")
    ticket.refresh_from_db()
    assert ticket.state == State.VERIFIED
    assert ticket.received_at == T0
    assert ticket.dispatch_due == T0 + timedelta(days=2) + 30 * M
    assert ticket.crew is None
    assert ticket.closed_at is None
