"""The console's reads and writes: caller history, addresses, related tickets, outcomes."""

from datetime import timedelta

import pytest

from callcentre import services
from callcentre.models import Call, Caller, CallerAddress, FaqEntry
from callcentre.promises import ticket_promise
from callcentre.selectors import (
    address_history,
    caller_history,
    communities_matching,
    tickets_related,
)
from tests.conftest import T0
from tickets.choices import Category, Channel, State
from tickets.errors import ApplicationError
from tickets.models import Ticket

PHONE = "+8613812345678"


def _fields(centre, **changes):
    fields = {
        "channel": Channel.HOTLINE,
        "category": Category.REPAIR,
        "fault_type": centre.leak,
        "description": "厨房漏水",
        "caller_name": "张先生",
        "caller_phone": PHONE,
        "address": "人民南路 1 号",
        "building": "3",
        "unit": "2",
        "room": "501",
        "community": centre.community,
    }
    fields.update(changes)
    return fields


@pytest.mark.django_db
def test_logging_a_ticket_closes_the_call_and_remembers_caller_and_address(centre, clock):
    faq = FaqEntry.objects.create(question="漏水怎么办", answer="先关总阀")
    ticket = services.intake_ticket_create(agent=centre.agent, faq_entries=[faq], **_fields(centre))
    call = Call.objects.get()
    assert (call.outcome, call.ticket, call.agent) == (
        Call.Outcome.TICKET_CREATED,
        ticket,
        centre.agent,
    )
    assert list(call.faq_entries.all()) == [faq]
    caller = Caller.objects.get()
    assert (caller.phone.as_e164, caller.name) == (PHONE, "张先生")
    address = CallerAddress.objects.get()
    assert (address.community, address.building, address.unit) == (centre.community, "3", "2")


@pytest.mark.django_db
def test_a_caller_calling_again_is_one_caller_with_the_address_once_and_used_last(
    centre, clock, django_assert_max_num_queries
):
    services.intake_ticket_create(agent=centre.agent, **_fields(centre))
    services.intake_ticket_create(agent=centre.agent, **_fields(centre, community=None))
    clock.shift(timedelta(hours=2))
    again = services.intake_ticket_create(agent=centre.agent, **_fields(centre, caller_name=""))
    with django_assert_max_num_queries(2):  # the caller upserted, the address touched
        services.ticket_caller_remember(ticket=again)
    caller = Caller.objects.get()
    assert caller.name == "张先生"  # kept: no name was given this time
    assert CallerAddress.objects.count() == 2  # with the community, and without
    kept = CallerAddress.objects.get(community=centre.community)
    assert kept.last_used_at == T0 + timedelta(hours=2)
    services.intake_answer_on_call(
        agent=centre.agent, phone=PHONE, faq_entries=[], notes="问水价", name="张伟"
    )
    caller.refresh_from_db()
    assert caller.name == "张伟"
    assert Call.objects.filter(caller=caller).count() == 4


@pytest.mark.django_db
def test_the_caller_history_shows_calls_tickets_and_addresses_in_fixed_queries(
    centre, clock, django_assert_max_num_queries
):
    services.intake_ticket_create(agent=centre.agent, **_fields(centre))
    with django_assert_max_num_queries(4) as few:
        history = caller_history(phone="138 1234 5678")
    assert history.caller.name == "张先生"
    assert len(history.calls) == len(history.tickets) == len(history.addresses) == 1
    for _ in range(5):
        services.intake_ticket_create(agent=centre.agent, **_fields(centre))
    with django_assert_max_num_queries(len(few.captured_queries)):
        history = caller_history(phone="13812345678")
    assert len(history.tickets) == 6


@pytest.mark.django_db
def test_an_unknown_or_invalid_number_has_no_history(centre):
    assert caller_history(phone="12345").phone is None
    unknown = caller_history(phone="13900000000")
    assert unknown.caller is None
    assert unknown.tickets == []


@pytest.mark.django_db
def test_three_repairs_in_30_days_make_a_repeat_fault_address(centre, make_ticket, clock):
    for _ in range(2):
        make_ticket(State.CLOSED)
    history = address_history(community=centre.community, building="3", unit="2", now=T0)
    assert not history.repeat_fault
    open_one = make_ticket()
    history = address_history(community=centre.community, building="3", unit="2", now=T0)
    assert history.repeat_fault
    assert history.open_tickets == [open_one]
    later = address_history(
        community=centre.community, building="3", unit="2", now=T0 + timedelta(days=31)
    )
    assert not later.repeat_fault


@pytest.mark.django_db
def test_related_tickets_are_open_same_fault_same_community_and_recent(
    centre, make_ticket, clock, settings
):
    settings.RELATED_TICKET_HOURS = 6
    same = make_ticket(State.DISPATCHED)
    make_ticket(State.CLOSED)
    make_ticket(fault_type=centre.burst)
    clock.shift(timedelta(hours=5))
    assert tickets_related(
        fault_type=centre.leak, community=centre.community, now=T0 + timedelta(hours=5)
    ) == [same]
    assert (
        tickets_related(
            fault_type=centre.leak, community=centre.community, now=T0 + timedelta(hours=7)
        )
        == []
    )


@pytest.mark.django_db
def test_a_call_linked_to_an_open_ticket_makes_no_new_ticket(centre, make_ticket, clock):
    incident = make_ticket(State.DISPATCHED)
    call = services.intake_link_to_ticket(agent=centre.agent, ticket=incident, phone=PHONE)
    assert (call.outcome, call.ticket) == (Call.Outcome.LINKED, incident)
    assert Ticket.objects.count() == 1
    closed = make_ticket(State.CLOSED)
    with pytest.raises(ApplicationError) as refused:
        services.intake_link_to_ticket(agent=centre.agent, ticket=closed, phone=PHONE)
    assert refused.value.code == "conflict"


@pytest.mark.django_db
def test_a_question_answered_on_the_call_needs_what_was_answered(centre, clock):
    with pytest.raises(ApplicationError) as empty:
        services.intake_answer_on_call(agent=centre.agent, phone=PHONE, faq_entries=[])
    assert set(empty.value.fields) == {"notes"}
    faq = FaqEntry.objects.create(question="水费怎么算", answer="阶梯水价")
    call = services.intake_answer_on_call(agent=centre.agent, phone=PHONE, faq_entries=[faq])
    assert (call.outcome, call.category, call.ticket) == (Call.Outcome.ANSWERED, "consult", None)


@pytest.mark.django_db
def test_a_switch_call_is_dealt_with_once(centre, clock):
    call = Call.objects.create(cti_call_id="pbx-1", caller_number=PHONE, agent=centre.agent)
    services.intake_ticket_create(agent=centre.agent, call=call, **_fields(centre))
    with pytest.raises(ApplicationError) as again:
        services.intake_ticket_create(agent=centre.agent, call=call, **_fields(centre))
    assert again.value.code == "conflict"
    assert Ticket.objects.count() == 1  # the second ticket was rolled back with the refusal


@pytest.mark.django_db
def test_an_overridden_grade_keeps_the_suggestion_and_the_reason(centre, clock):
    ticket = services.intake_ticket_create(
        agent=centre.agent, grade="emergency", grade_reason="整栋楼无水", **_fields(centre)
    )
    created = ticket.events.get()
    assert created.reason == "整栋楼无水"
    assert created.data == {"grade_suggested": "general", "grade_reason": "整栋楼无水"}


@pytest.mark.django_db
def test_a_second_complaint_within_30_days_is_special(centre, clock):
    complaint = _fields(centre, category=Category.COMPLAINT, building="", unit="")
    first = services.intake_ticket_create(agent=centre.agent, **complaint)
    clock.shift(timedelta(days=10))
    second = services.intake_ticket_create(agent=centre.agent, **complaint)
    assert (first.is_special, second.is_special) == (False, True)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("grade_fault", "language", "expected"),
    [
        ("leak", "zh-hans", "30 分钟"),
        ("burst", "en", "within 10 minutes"),
        ("billing", "en", "within 1 hour"),
    ],
)
def test_the_promise_read_to_the_caller_follows_the_sla(
    grade_fault, language, expected, centre, clock
):
    fault = getattr(centre, grade_fault)
    ticket = services.intake_ticket_create(
        agent=centre.agent, **_fields(centre, fault_type=fault, category=fault.category)
    )
    promise = ticket_promise(ticket=ticket, language=language)
    assert expected in promise
    assert ticket.number in promise


@pytest.mark.django_db
def test_communities_are_found_by_part_of_their_name(centre):
    name = centre.community.name
    assert communities_matching(query=name[-1]) == [centre.community]
    assert communities_matching(query=" ") == []


@pytest.mark.django_db
def test_a_call_dealt_with_no_longer_pops_up(centre, clock):
    from callcentre.selectors import call_current_for_agent

    services.intake_ticket_create(agent=centre.agent, **_fields(centre))
    assert Call.objects.get().ended_at == T0  # logged by hand: over once logged
    switched = Call.objects.create(
        cti_call_id="pbx-7", caller_number=PHONE, agent=centre.agent, answered_at=T0
    )
    assert call_current_for_agent(agent=centre.agent) == switched
    services.intake_answer_on_call(
        agent=centre.agent, call=switched, phone=PHONE, faq_entries=[], notes="已答复"
    )
    assert call_current_for_agent(agent=centre.agent) is None
    switched.refresh_from_db()
    assert switched.ended_at is None  # the switch reports the end itself


@pytest.mark.django_db
def test_related_tickets_reach_communities_within_the_radius(centre, make_ticket, clock, settings):
    from tests.dispatch.factories import CommunityFactory

    near = CommunityFactory(
        district=centre.community.district, latitude="30.652", longitude="104.060"
    )
    far = CommunityFactory(
        district=centre.community.district, latitude="30.700", longitude="104.060"
    )
    next_door = make_ticket(community=near)
    make_ticket(community=far)
    settings.RELATED_TICKET_RADIUS_KM = 0.5  # next door is 220 m away, far is 5.5 km
    found = tickets_related(fault_type=centre.leak, community=centre.community, now=T0)
    assert found == [next_door]
    settings.RELATED_TICKET_RADIUS_KM = 0
    assert tickets_related(fault_type=centre.leak, community=centre.community, now=T0) == []


@pytest.mark.django_db
def test_a_question_for_a_department_goes_straight_to_it(centre, clock):
    ticket = services.intake_ticket_create(
        agent=centre.agent,
        department=centre.department,
        **_fields(centre, fault_type=centre.billing, category=Category.CONSULT),
    )
    ticket.refresh_from_db()
    assert (ticket.state, ticket.department) == (State.REFERRED, centre.department)
    assert ticket.dispatched_at == T0  # within the consult's one-hour limit
    assert Call.objects.get().outcome == Call.Outcome.REFERRED
    assert [e.action for e in ticket.events.all()] == ["created", "referred"]


@pytest.mark.django_db
def test_a_repair_is_not_referred_from_the_call(centre, clock):
    with pytest.raises(ApplicationError) as refused:
        services.intake_ticket_create(
            agent=centre.agent, department=centre.department, **_fields(centre)
        )
    assert refused.value.code == "conflict"
    assert not Ticket.objects.exists()
    assert not Call.objects.exists()


@pytest.mark.django_db
def test_closing_an_incident_closes_its_linked_calls_and_tells_each_caller(
    centre, make_ticket, clock
):
    from dispatch.models import OutboundMessage
    from tickets import services as ticket_services

    incident = make_ticket(State.ON_SITE)
    for phone in ("+8613900000001", "+8613900000002"):
        services.intake_link_to_ticket(agent=centre.agent, ticket=incident, phone=phone)
    ticket_services.ticket_resolve(
        actor=centre.crew_leader, ticket=incident, measures="换管", cost=0
    )
    ticket_services.ticket_close(actor=centre.dispatcher, ticket=incident)

    told = OutboundMessage.objects.filter(kind="incident_closed")
    assert set(told.values_list("to_phone", flat=True)) == {"+8613900000001", "+8613900000002"}
    assert incident.number in told.first().body
    assert not Call.objects.filter(ticket=incident, closed_at__isnull=True).exists()
    # Closed again after a reopen, the same calls are not told twice.
    ticket_services.ticket_reopen(actor=centre.supervisor, ticket=incident, reason="回访不满意")
    assert told.count() == 2


@pytest.mark.django_db
def test_an_agent_cannot_deal_with_a_call_put_through_to_another(centre, clock):
    from staffing.roles import Role
    from tests.staffing.factories import user_with_role

    other = user_with_role(Role.AGENT, "agent-two")
    call = Call.objects.create(cti_call_id="pbx-2", caller_number=PHONE, agent=other)
    with pytest.raises(ApplicationError) as refused:
        services.intake_ticket_create(agent=centre.agent, call=call, **_fields(centre))
    assert refused.value.code == "forbidden"
    assert not Ticket.objects.exists()
