"""The staffing plan of a day on a hand-checked roster: two overlapping shifts, breaks and a
floating agent, against Erlang C figures worked by hand."""

from datetime import date, datetime, time, timedelta
from decimal import Decimal

import pytest

from callcentre.models import Call
from staffing import forecast as fc
from staffing.models import (
    ForecastAccuracy,
    IntervalForecast,
    RosterEntry,
    RosterRole,
    ShiftTemplate,
    StaffingSettings,
)
from staffing.planning import AHT_MIN_CALLS, BreakMove, day_accuracy_record, day_plan
from tests.conftest import SHANGHAI, T0
from tests.staffing.factories import UserFactory

pytestmark = pytest.mark.django_db

TUESDAY = T0.date() + timedelta(days=1)  # still to come at T0
SUNDAY = T0.date() - timedelta(days=1)  # over at T0
# Calls forecast per half-hour: 10 from 08:00, 20 from 10:00, 10 from 12:00 to 14:00.
FORECAST = {**dict.fromkeys(range(16, 20), 10), **dict.fromkeys(range(20, 24), 20)}
FORECAST |= dict.fromkeys(range(24, 28), 10)


def at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=SHANGHAI)


@pytest.fixture
def targets(db):
    """80 % within 20 s, at most 85 % busy, 20 % shrinkage, 180 s planned handle time.

    With 180 s a call, 10 calls in half an hour are 1 erlang: 2 agents answer 70.2 % within
    20 s (C(2, 1) = 1/3; 1 − 1/3·e^(−1·20/180)), 3 agents 92.7 %, so 3, and 4 scheduled
    (3 / 0.8 = 3.75). 20 calls are 2 erlangs: 3 agents answer 60.2 % (C(3, 2) = 4/9), 4
    agents 86.1 % (C(4, 2) = 0.1739), so 4, and 5 scheduled.
    """
    StaffingSettings.objects.filter(pk=1).update(
        target_service_level=Decimal("0.800"),
        target_seconds=20,
        aht_seconds=180,
        max_occupancy=Decimal("0.850"),
        shrinkage=Decimal("0.200"),
        patience_seconds=None,
    )


def store_forecast(day: date, calls: dict[int, int]) -> None:
    IntervalForecast.objects.bulk_create(
        IntervalForecast(starts_at=start, calls=calls.get(i, 0), made_at=at(day, 0))
        for i, start in enumerate(fc.interval_starts(day))
    )


def roster(day: date) -> dict[str, ShiftTemplate]:
    """Early shift 08:00–12:00: four agents, one on break 09:00–09:30, one 10:30–11:00.
    Late shift 10:00–14:00: three agents, one on break 12:15–12:45, and a floating agent."""
    early = ShiftTemplate.objects.create(
        code="early", name="早班", starts_at=time(8), ends_at=time(12), handover=False
    )
    late = ShiftTemplate.objects.create(
        code="late", name="晚班", starts_at=time(10), ends_at=time(14), handover=False
    )
    people = [
        (early, RosterRole.AGENT, time(9), 30),
        (early, RosterRole.AGENT, None, 0),
        (early, RosterRole.AGENT, None, 0),
        (early, RosterRole.AGENT, time(10, 30), 30),
        (late, RosterRole.AGENT, time(12, 15), 30),
        (late, RosterRole.AGENT, None, 0),
        (late, RosterRole.AGENT, None, 0),
        (late, RosterRole.FLOATING_AGENT, None, 0),
        (late, RosterRole.SHIFT_LEADER, None, 0),  # not on a seat: not counted
    ]
    RosterEntry.objects.bulk_create(
        RosterEntry(
            day=day,
            shift=shift,
            person=UserFactory(),
            role=role,
            break_starts_at=break_at,
            break_minutes=minutes,
        )
        for shift, role, break_at, minutes in people
    )
    return {"early": early, "late": late}


def by_time(plan) -> dict[str, object]:
    return {f"{interval.start:%H:%M}": interval for interval in plan.intervals}


def test_the_plan_sizes_each_interval_and_counts_who_is_on_a_seat(targets):
    # Given Tuesday's forecast and roster
    store_forecast(TUESDAY, FORECAST)
    roster(TUESDAY)

    plan = day_plan(day=TUESDAY, now=T0)

    # Then the required agents are the worked Erlang C figures
    rows = by_time(plan)
    assert len(plan.intervals) == 48
    assert (plan.aht_seconds, plan.aht_measured, plan.ended) == (180, False, False)
    assert [(rows[t].agents, rows[t].scheduled_agents) for t in ("08:00", "10:00", "12:00")] == [
        (3, 4),
        (4, 5),
        (3, 4),
    ]
    assert (rows["07:30"].calls, rows["07:30"].agents) == (0, 0)
    # The seat agents on shift, less their breaks; a half-hour break from 12:15 takes half
    # of 12:00 and half of 12:30. The floating agent and the shift leader are not rostered.
    hours = [f"{h:02d}:{m:02d}" for h in range(8, 14) for m in (0, 30)]
    assert [rows[t].rostered for t in hours] == [4, 4, 3, 4, 7, 6, 7, 7, 2.5, 2.5, 3, 3]
    assert [rows[t].floating for t in hours] == [0] * 4 + [1] * 8
    assert [rows[t].gap for t in hours] == [0, 0, 1, 0, -2, -1, -2, -2, 1.5, 1.5, 1, 1]
    assert [t for t in hours if rows[t].short] == ["09:00", "12:00", "12:30", "13:00", "13:30"]
    assert [t for t in hours if rows[t].surplus] == ["10:00", "10:30", "11:00", "11:30"]
    # Σ required 4·4 + 5·4 + 4·4 = 52; Σ|rostered − required| = 1 + 2+1+2+2 + 1.5+1.5+1+1 = 13
    assert plan.schedule_accuracy == pytest.approx(1 - 13 / 52)
    assert plan.forecast_calls == 160
    assert plan.actual_calls is None


def test_short_intervals_get_floating_seats_and_breaks_moved_to_a_surplus(targets):
    store_forecast(TUESDAY, FORECAST)
    shifts = roster(TUESDAY)

    rows = by_time(day_plan(day=TUESDAY, now=T0))

    # 09:00: no floating agent yet; the break moves to the nearest half-hour of the early
    # shift that can spare an agent: 08:30 and 09:30 cannot (4 of 4), 08:00 neither, 10:00 can.
    nine = rows["09:00"].suggestion
    assert nine.floating_seats == 0
    assert nine.break_moves == [
        BreakMove(count=1, shift_code="early", shift_name="早班", to=at(TUESDAY, 10))
    ]
    assert nine.short_after == 0
    # 12:00, short 1.5: the floating seat (1), and the 12:15 break moved to 11:30 (0.5),
    # since 12:30 could not take it
    noon = rows["12:00"].suggestion
    assert (noon.floating_seats, noon.short_after) == (1, 0)
    assert noon.break_moves == [
        BreakMove(
            count=1, shift_code="late", shift_name=shifts["late"].name, to=at(TUESDAY, 11, 30)
        )
    ]
    # 12:30, short 1 once that break has gone: the floating seat covers it; so 13:00, 13:30
    for t in ("12:30", "13:00", "13:30"):
        suggestion = rows[t].suggestion
        assert (suggestion.floating_seats, suggestion.break_moves, suggestion.short_after) == (
            1,
            [],
            0,
        )
    assert rows["10:00"].suggestion is None
    assert rows["08:00"].suggestion is None


def test_nothing_to_move_leaves_the_interval_short(targets):
    # Given one agent all day and 20 calls at 10:00
    shift = ShiftTemplate.objects.create(
        code="solo", name="单人", starts_at=time(8), ends_at=time(12), handover=False
    )
    RosterEntry.objects.create(day=TUESDAY, shift=shift, person=UserFactory(), role="agent")
    store_forecast(TUESDAY, {20: 20})

    suggestion = by_time(day_plan(day=TUESDAY, now=T0))["10:00"].suggestion

    assert (suggestion.floating_seats, suggestion.break_moves, suggestion.short_after) == (
        0,
        [],
        4,
    )


def test_a_day_that_has_ended_is_measured_against_the_calls_that_came(targets):
    # Given Sunday's forecast and roster, and the calls that came: 20 a half-hour from 08:00
    # to 12:00 and 10 from 12:00 to 14:00
    store_forecast(SUNDAY, FORECAST)
    roster(SUNDAY)
    came = {**dict.fromkeys(range(16, 24), 20), **dict.fromkeys(range(24, 28), 10)}
    start = fc.day_start(SUNDAY)
    Call.objects.bulk_create(
        Call(direction=Call.Direction.INBOUND, ringing_at=start + fc.INTERVAL * i)
        for i, calls in came.items()
        for _ in range(calls)
    )

    plan = day_plan(day=SUNDAY, now=T0)

    rows = by_time(plan)
    assert plan.ended
    assert (rows["08:00"].actual_calls, rows["08:00"].actual_agents) == (20, 4)
    assert rows["08:00"].actual_scheduled_agents == 5
    assert rows["07:30"].actual_calls == 0
    assert plan.actual_calls == 200
    # Σ required 5·8 + 4·4 = 56; Σ|rostered − required| = 1+1+2+1 + 2+1+2+2 + 1.5+1.5+1+1 = 17
    assert plan.schedule_accuracy == pytest.approx(1 - 17 / 56)

    # When the nightly job records the day
    record = day_accuracy_record(day=SUNDAY, now=T0)
    day_accuracy_record(day=SUNDAY, now=T0)

    # Then with its forecast accuracy: 08:00–10:00 expected 10 of 20, the rest spot on
    assert ForecastAccuracy.objects.count() == 1
    assert record.mape == pytest.approx(4 * 0.5 / 12)
    assert ForecastAccuracy.objects.get().schedule_accuracy == pytest.approx(1 - 17 / 56)


def test_the_handle_time_is_measured_from_enough_answered_calls(targets):
    # Given answered calls of 240 s in the four weeks before now (Tuesday has not begun)
    def answered(count: int, when: datetime) -> None:
        Call.objects.bulk_create(
            Call(
                direction=Call.Direction.INBOUND,
                ringing_at=when,
                answered_at=when + timedelta(seconds=5),
                ended_at=when + timedelta(seconds=245),
            )
            for _ in range(count)
        )

    answered(AHT_MIN_CALLS - 1, T0 - timedelta(days=3))
    answered(50, T0 - timedelta(days=28, seconds=1))  # too long ago
    assert day_plan(day=TUESDAY, now=T0).aht_seconds == 180

    answered(1, T0 - timedelta(days=27))
    plan = day_plan(day=TUESDAY, now=T0)

    assert (plan.aht_seconds, plan.aht_measured) == (240, True)


def test_the_plan_costs_the_same_queries_however_many_intervals_and_agents(
    targets, django_assert_max_num_queries
):
    # A day that has ended with no stored forecast: the most a plan reads
    # (settings, handle time, roster, stored forecast, holidays, history, calls that came)
    roster(SUNDAY)
    with django_assert_max_num_queries(7):
        small = day_plan(day=SUNDAY, now=T0)

    late = ShiftTemplate.objects.get(code="late")
    RosterEntry.objects.bulk_create(
        RosterEntry(day=SUNDAY, shift=late, person=UserFactory(), role=RosterRole.AGENT)
        for _ in range(30)
    )
    store_forecast(SUNDAY, dict.fromkeys(range(48), 30))
    with django_assert_max_num_queries(7):
        large = day_plan(day=SUNDAY, now=T0)

    assert sum(i.agents for i in large.intervals) > sum(i.agents for i in small.intervals)


class TestPlanningPage:
    def test_a_coming_day_shows_its_gaps_and_suggestions(self, client, centre, targets, clock):
        store_forecast(TUESDAY, FORECAST)
        roster(TUESDAY)
        client.force_login(centre.shift_leader)

        response = client.get(f"/staffing/planning/?day={TUESDAY.isoformat()}")

        assert response.status_code == 200
        assert response.context["plan"].day == TUESDAY
        assert 'class="plan-short"' in response.text
        assert "plan-surplus" in response.text

    def test_a_past_day_shows_the_calls_that_came_and_its_recorded_accuracy(
        self, client, centre, targets, clock
    ):
        ForecastAccuracy.objects.create(
            day=SUNDAY,
            forecast_calls=100,
            actual_calls=80,
            mape=0.125,
            intervals=20,
            schedule_accuracy=0.9,
            recorded_at=T0,
        )
        client.force_login(centre.supervisor)

        response = client.get(f"/staffing/planning/?day={SUNDAY.isoformat()}")

        assert response.status_code == 200
        assert response.context["plan"].ended
        assert "87.5 %" in response.text  # 1 − MAPE
        assert "90.0 %" in response.text

    def test_a_day_that_is_no_date_shows_today(self, client, centre, targets, clock):
        client.force_login(centre.shift_leader)
        response = client.get("/staffing/planning/?day=soon")
        assert response.status_code == 200
        assert response.context["day"] == T0.date()
