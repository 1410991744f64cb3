"""Reads of dispatch: which crew to send, what to check first, and the day's unclosed tickets."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.utils import timezone
from django.utils.translation import override

from dispatch import services
from dispatch.selectors import (
    LANES,
    BoardFilters,
    board_lanes,
    card_names,
    crew_recommend_for_ticket,
    on_duty_skill_ids,
    ticket_dispatch_warnings,
    unclosed_tickets,
)
from tests.dispatch.factories import DistrictFactory, OnDutyCrewFactory
from tests.tickets.factories import SkillFactory
from tickets import services as ticket_services
from tickets.choices import State
from tickets.models import Ticket

# The centre's community is at (30.65, 104.06); a hundredth of a degree north is 1.1 km.
NEAR = {"last_latitude": Decimal("30.660000"), "last_longitude": Decimal("104.060000")}
FAR = {"last_latitude": Decimal("30.700000"), "last_longitude": Decimal("104.060000")}
# The crews, both prefetches and the crews' loads, whatever the number of crews or tickets.
RECOMMEND_QUERIES = 4

pytestmark = pytest.mark.django_db


def _as_read(ticket: Ticket) -> Ticket:
    # As the send dialog reads it: the community and the fault type come with the ticket.
    return Ticket.objects.select_related("community", "fault_type").get(pk=ticket.pk)


def _ranked(ticket: Ticket) -> list:
    return [r.crew for r in crew_recommend_for_ticket(ticket=ticket)]


def _skilled_crew(centre, *, same_district: bool = True, **fields):
    districts = [centre.community.district] if same_district else [DistrictFactory()]
    return OnDutyCrewFactory(skills=[centre.leak.skill], districts=districts, **fields)


def _give_open_tickets(crew, count: int, make_ticket, centre) -> None:
    for _ in range(count):
        ticket_services.ticket_dispatch(
            actor=centre.dispatcher, ticket=make_ticket(State.VERIFIED), crew=crew
        )


# Recommendations.


def test_given_crews_off_duty_or_out_of_service_when_recommending_then_only_active_on_duty_crews_are_offered(  # noqa: E501
    centre, make_ticket
):
    on_duty = _skilled_crew(centre)
    _skilled_crew(centre, is_on_duty=False)
    _skilled_crew(centre, is_active=False)

    assert _ranked(make_ticket(State.VERIFIED)) == [on_duty]


def test_given_an_unskilled_crew_better_in_every_other_way_then_the_skilled_crew_ranks_first(
    centre, make_ticket
):
    unskilled = OnDutyCrewFactory(
        districts=[centre.community.district], max_pipe_diameter=400, **NEAR
    )
    skilled = _skilled_crew(centre, same_district=False, max_pipe_diameter=200, **FAR)
    _give_open_tickets(skilled, 2, make_ticket, centre)

    # Even a crew whose largest pipe is too small, if it has the skill.
    assert _ranked(make_ticket(State.VERIFIED, pipe_diameter=300)) == [skilled, unskilled]


def test_given_a_crew_whose_largest_pipe_is_too_small_then_a_crew_that_fits_ranks_first(
    centre, make_ticket
):
    too_small = _skilled_crew(centre, max_pipe_diameter=200, **NEAR)
    unknown_size = _skilled_crew(centre, max_pipe_diameter=None, **NEAR)
    fits = _skilled_crew(centre, same_district=False, max_pipe_diameter=400, **FAR)
    ticket = make_ticket(State.VERIFIED, pipe_diameter=300)

    with override("en"):
        ranked = crew_recommend_for_ticket(ticket=ticket)

    assert ranked[0].crew == fits
    assert {r.crew for r in ranked[1:]} == {too_small, unknown_size}
    assert all("pipe too large for this crew" in r.reasons for r in ranked[1:])
    assert "pipe too large for this crew" not in ranked[0].reasons


def test_given_a_ticket_without_a_pipe_size_then_every_crew_fits(centre, make_ticket):
    small = _skilled_crew(centre, max_pipe_diameter=50, **NEAR)
    large = _skilled_crew(centre, max_pipe_diameter=800, **FAR)

    assert _ranked(make_ticket(State.VERIFIED)) == [small, large]


def test_given_equal_crews_then_the_one_covering_the_tickets_district_ranks_first(
    centre, make_ticket
):
    other_district = _skilled_crew(centre, same_district=False, **NEAR)
    same_district = _skilled_crew(centre, **FAR)
    _give_open_tickets(same_district, 1, make_ticket, centre)

    assert _ranked(make_ticket(State.VERIFIED)) == [same_district, other_district]


def test_given_equal_crews_then_the_one_with_fewer_open_tickets_ranks_first(centre, make_ticket):
    busy = _skilled_crew(centre, **NEAR)
    free = _skilled_crew(centre, **FAR)
    _give_open_tickets(busy, 2, make_ticket, centre)
    _give_open_tickets(free, 1, make_ticket, centre)

    assert _ranked(make_ticket(State.VERIFIED)) == [free, busy]


def test_open_tickets_are_those_dispatched_accepted_on_site_or_mitigated(centre, make_ticket):
    # The centre's crew works every ticket that walk_to dispatches.
    centre.crew.skills.add(centre.leak.skill)
    centre.crew.is_on_duty = True
    centre.crew.save(update_fields=["is_on_duty"])
    make_ticket(State.DISPATCHED)
    make_ticket(State.ACCEPTED)
    make_ticket(State.ON_SITE)
    make_ticket(State.MITIGATED, fault_type=centre.burst)
    make_ticket(State.RESOLVED)
    make_ticket(State.CLOSED)

    with override("en"):
        [recommendation] = crew_recommend_for_ticket(ticket=make_ticket(State.VERIFIED))

    assert recommendation.open_count == 4
    assert "4 open" in recommendation.reasons


def test_given_equal_crews_then_the_nearer_ranks_first_and_an_unknown_position_last(
    centre, make_ticket
):
    unknown = _skilled_crew(centre)
    far = _skilled_crew(centre, **FAR)
    near = _skilled_crew(centre, **NEAR)

    assert _ranked(make_ticket(State.VERIFIED)) == [near, far, unknown]


def test_each_recommendation_says_why_in_the_dispatchers_words(centre, make_ticket):
    best = _skilled_crew(centre, **NEAR)
    _give_open_tickets(best, 1, make_ticket, centre)
    unskilled = OnDutyCrewFactory(districts=[DistrictFactory()])
    ticket = make_ticket(State.VERIFIED)

    with override("en"):
        reasons = {r.crew: r.reasons for r in crew_recommend_for_ticket(ticket=ticket)}

    assert reasons[best] == ["same district", "1 open", "1.1 km"]
    assert reasons[unskilled] == ["other district", "lacks the skill", "0 open", "position unknown"]


def test_given_more_crews_and_tickets_when_recommending_then_the_number_of_queries_stays_the_same(
    centre, make_ticket, django_assert_num_queries
):
    ticket = make_ticket(State.VERIFIED)
    _give_open_tickets(_skilled_crew(centre, **NEAR), 1, make_ticket, centre)
    read = _as_read(ticket)
    with django_assert_num_queries(RECOMMEND_QUERIES):
        assert len(crew_recommend_for_ticket(ticket=read)) == 1

    for _ in range(4):
        _give_open_tickets(_skilled_crew(centre, **FAR), 2, make_ticket, centre)
    read = _as_read(ticket)
    with django_assert_num_queries(RECOMMEND_QUERIES):
        assert len(crew_recommend_for_ticket(ticket=read)) == 5


# What the dispatcher checks before sending.


def _warnings(ticket: Ticket) -> list[str]:
    with override("en"):
        return [
            str(w)
            for w in ticket_dispatch_warnings(ticket=ticket, skills_on_duty=on_duty_skill_ids())
        ]


def test_given_an_address_outside_every_district_then_the_dispatcher_is_warned(centre, make_ticket):
    _skilled_crew(centre)

    assert _warnings(make_ticket(community=None)) == ["Address outside every district"]


def test_given_no_crew_on_duty_with_the_skill_then_the_dispatcher_is_warned(centre, make_ticket):
    centre.crew.skills.add(centre.leak.skill)  # skilled, but off duty
    OnDutyCrewFactory(skills=[SkillFactory(code="meter")], districts=[centre.community.district])

    assert _warnings(make_ticket()) == ["No crew on duty has the skill for this fault"]


def test_given_a_consult_then_there_is_nothing_to_warn_about(centre, make_ticket):
    assert _warnings(make_ticket(fault_type=centre.billing, community=None)) == []


def test_given_the_skill_missing_when_a_skilled_crew_goes_on_duty_then_the_warning_is_gone(
    centre, make_ticket
):
    centre.crew.skills.add(centre.leak.skill)
    ticket = make_ticket()
    assert _warnings(ticket) != []

    services.crew_duty_set(actor=centre.dispatcher, crew=centre.crew, on_duty=True)

    assert _warnings(ticket) == []


# The day's unclosed tickets.


def test_open_tickets_of_the_day_are_listed_oldest_first_with_why_they_are_open(
    centre, make_ticket, clock
):
    clock.shift(timedelta(hours=2))
    newer = make_ticket(State.NEW)
    clock.shift(timedelta(hours=-1))
    older = make_ticket(State.DISPATCHED)

    with override("en"):
        listed = unclosed_tickets(user=centre.dispatcher, day=timezone.localdate())

    assert [(t, t.open_reason) for t in listed] == [
        (older, "Waiting for the crew to accept"),
        (newer, "Not yet checked by a dispatcher"),
    ]
    assert [t.plan for t in listed] == [None, None]


def test_a_ticket_closed_after_the_end_of_a_past_day_is_still_listed_for_that_day(
    centre, make_ticket, clock
):
    monday = timezone.localdate()
    make_ticket(State.CLOSED)  # closed on Monday: not open at the end of it
    closed_on_tuesday = make_ticket(State.RESOLVED)
    clock.shift(timedelta(days=1))
    ticket_services.ticket_close(actor=centre.dispatcher, ticket=closed_on_tuesday)

    assert unclosed_tickets(user=centre.dispatcher, day=monday) == [closed_on_tuesday]
    assert unclosed_tickets(user=centre.dispatcher, day=timezone.localdate()) == []


def test_the_unclosed_list_reads_the_same_number_of_queries_for_more_tickets(
    centre, make_ticket, clock, django_assert_num_queries
):
    today = timezone.localdate()
    unclosed_tickets(user=centre.dispatcher, day=today)  # the dispatcher's permissions, once
    for _ in range(2):
        ticket = make_ticket(State.VERIFIED)
        services.unclosed_plan_write(
            actor=centre.dispatcher, ticket=ticket, day=today, reason="待派", plan="今日派单"
        )
    # The tickets with their related rows, and the plans of the day.
    with django_assert_num_queries(2):
        listed = unclosed_tickets(user=centre.dispatcher, day=today)
        assert [t.plan.plan for t in listed] == ["今日派单", "今日派单"]
        assert [t.fault_type.name for t in listed] == ["单户漏水", "单户漏水"]

    for _ in range(4):
        make_ticket(State.DISPATCHED)
    with django_assert_num_queries(2):
        listed = unclosed_tickets(user=centre.dispatcher, day=today)
        assert len(listed) == 6
        assert [t.crew for t in listed[2:]] == [centre.crew] * 4


# The board's lanes.


def _numbers(lane) -> list[str]:
    return [row.number for row in lane.cards]


def _lane(lanes, state):
    return next(lane for lane in lanes if lane.state == state)


def test_given_tickets_received_apart_then_each_lane_lists_them_by_its_deadline(
    centre, make_ticket, clock
):
    general = make_ticket()  # dispatched within 30 min
    clock.shift(timedelta(minutes=5))
    emergency = make_ticket(fault_type=centre.burst)  # within 10 min: before the first
    clock.shift(timedelta(minutes=5))
    later = make_ticket()

    lanes = board_lanes(user=centre.dispatcher, filters=BoardFilters(), now=timezone.now())

    assert [lane.state for lane in lanes] == LANES
    assert _numbers(_lane(lanes, State.NEW)) == [emergency.number, general.number, later.number]
    assert _lane(lanes, State.NEW).count == 3


def test_given_a_full_lane_then_it_is_counted_beyond_its_cards(centre, make_ticket, clock):
    for _index in range(3):
        make_ticket()
    make_ticket(State.DISPATCHED)

    lanes = board_lanes(user=centre.dispatcher, filters=BoardFilters(), now=timezone.now(), size=2)

    new = _lane(lanes, State.NEW)
    assert (len(new.cards), new.count, new.more) == (2, 3, True)
    dispatched = _lane(lanes, State.DISPATCHED)
    assert (len(dispatched.cards), dispatched.count, dispatched.more) == (1, 1, False)


def test_given_more_tickets_than_the_cap_then_the_lane_says_so_without_counting_on(
    centre, make_ticket, clock, monkeypatch
):
    monkeypatch.setattr("dispatch.selectors.LANE_COUNT_CAP", 3)
    for _index in range(5):
        make_ticket()

    lanes = board_lanes(user=centre.dispatcher, filters=BoardFilters(), now=timezone.now(), size=2)

    assert _lane(lanes, State.NEW).count == 3
    assert _lane(lanes, State.NEW).count_label == "2+"


def test_given_a_database_that_cannot_combine_sliced_queries_then_the_lanes_are_the_same(
    centre, make_ticket, clock, monkeypatch
):
    for state in [State.NEW, State.NEW, State.NEW, State.VERIFIED, State.DISPATCHED]:
        make_ticket(state)
        clock.shift(timedelta(minutes=3))
    now = timezone.now()
    combined = board_lanes(user=centre.dispatcher, filters=BoardFilters(), now=now, size=2)
    monkeypatch.setattr(connection.features, "supports_slicing_ordering_in_compound", False)

    lane_by_lane = board_lanes(user=centre.dispatcher, filters=BoardFilters(), now=now, size=2)

    assert [(lane.state, _numbers(lane), lane.count) for lane in lane_by_lane] == [
        (lane.state, _numbers(lane), lane.count) for lane in combined
    ]
    assert card_names(lanes=lane_by_lane) == card_names(lanes=combined)


def test_a_crew_member_sees_only_their_crews_tickets_on_the_lanes(centre, make_ticket, clock):
    ours = make_ticket(State.DISPATCHED)
    theirs = make_ticket(State.VERIFIED)
    services.ticket_send_to_crew(actor=centre.dispatcher, ticket=theirs, crew=centre.other_crew)
    make_ticket()

    lanes = board_lanes(user=centre.crew_member, filters=BoardFilters(), now=timezone.now())

    assert [number for lane in lanes for number in _numbers(lane)] == [ours.number]


def test_the_cards_names_are_read_by_id_for_the_whole_board(centre, make_ticket, clock):
    skill = SkillFactory()
    centre.burst.skill = skill
    centre.burst.save(update_fields=["skill"])
    on_the_way = make_ticket(State.DISPATCHED, fault_type=centre.burst)
    lanes = board_lanes(user=centre.dispatcher, filters=BoardFilters(), now=timezone.now())

    names = card_names(lanes=lanes)

    assert names.fault_types == {centre.burst.pk: centre.burst.name}
    assert names.fault_skills == {centre.burst.pk: skill.pk}
    assert names.communities == {centre.community.pk: centre.community.name}
    assert names.crews == {centre.crew.pk: centre.crew.name}
    assert names.districts == {on_the_way.district_id: on_the_way.district.name}
