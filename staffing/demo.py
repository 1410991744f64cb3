"""Demo staffing: seats, shifts' rosters with attendance, weeks of switch calls for the
forecast, and the floor as it stands now (agents at seats, one on a call)."""

import math
import random
from datetime import date, datetime, time, timedelta

from django.db import transaction
from django.utils import timezone

from callcentre.models import Call
from staffing.forecast import day_start, forecast, forecast_store
from staffing.models import (
    IntervalForecast,
    RosterEntry,
    RosterRole,
    Seat,
    ShiftTemplate,
    User,
)
from staffing.planning import accuracy_catch_up
from staffing.services import seat_sign_in, status_set
from staffing.shifts import entry_window, shift_now

SEATS = [
    *[(f"A-{n:02d}", f"800{n}", False) for n in range(1, 9)],
    *[(f"F-{n:02d}", f"810{n}", True) for n in range(1, 5)],
]
# shift code: (username, role, break start, break minutes)
ROSTER = {
    "day": [
        *[
            (f"agent{n}", RosterRole.AGENT, time(11 + n // 3, 30 * (n % 2)), 60)
            for n in range(1, 5)
        ],
        ("agent5", RosterRole.FLOATING_AGENT, time(14), 30),
        ("leader_day", RosterRole.SHIFT_LEADER, None, 0),
        ("dispatcher", RosterRole.DISPATCHER, None, 0),
        ("supervisor", RosterRole.SUPERVISOR, None, 0),
    ],
    "night": [
        *[(f"agent{n}", RosterRole.AGENT, time(1 + n % 2), 60) for n in range(6, 9)],
        ("leader_night", RosterRole.SHIFT_LEADER, None, 0),
        ("dispatcher2", RosterRole.DISPATCHER, None, 0),
    ],
}
HISTORY_DAYS = 35
ROSTER_DAYS_AHEAD = 7
# Calls an hour through the day (00:00 to 23:00) on a weekday; weekends four fifths.
HOURLY = [4, 3, 2, 2, 2, 3, 6, 12, 22, 26, 25, 22, 18, 17, 19, 20, 19, 18, 20, 22, 19, 14, 9, 6]


@transaction.atomic
def staffing_demo(*, now: datetime, rng: random.Random) -> None:
    """Build the demo's staffing once; a second run changes nothing."""
    if Seat.objects.exists():
        return
    Seat.objects.bulk_create(
        Seat(label=label, extension=extension, floating=floating, switched_on=not floating)
        for label, extension, floating in SEATS
    )
    today = timezone.localdate(now)
    users = {user.username: user for user in User.objects.all()}
    _roster(users, first=today - timedelta(days=HISTORY_DAYS), last=today + timedelta(days=7))
    _attendance(now=now, rng=rng)
    _switch_calls(users, now=now, rng=rng)
    _forecasts(now=now, today=today)
    accuracy_catch_up(now=now, days=14)
    _floor(now=now)


def _roster(users: dict[str, User], *, first: date, last: date) -> None:
    shifts = {shift.code: shift for shift in ShiftTemplate.objects.all()}
    entries = []
    for offset in range((last - first).days + 1):
        day = first + timedelta(days=offset)
        for code, rows in ROSTER.items():
            for username, role, break_starts_at, break_minutes in rows:
                entries.append(
                    RosterEntry(
                        day=day,
                        shift=shifts[code],
                        person=users[username],
                        role=role,
                        break_starts_at=break_starts_at,
                        break_minutes=break_minutes,
                    )
                )
    RosterEntry.objects.bulk_create(entries)


def _attendance(*, now: datetime, rng: random.Random) -> None:
    """Sign-ins and sign-outs of the shifts begun: most on time, one late now and then, one
    absent; the shift working now is signed in and not yet out."""
    begun = RosterEntry.objects.select_related("shift").filter(day__lte=timezone.localdate(now))
    changed = []
    for entry in begun:
        window = entry_window(entry)
        if window.start > now or rng.random() < 0.03:
            continue  # not begun yet, or absent
        late = rng.random() < 0.1
        entry.signed_in_at = window.start + timedelta(
            minutes=rng.uniform(6, 25) if late else -rng.uniform(1, 15)
        )
        if window.end <= now:
            entry.signed_out_at = window.end + timedelta(minutes=rng.uniform(0, 10))
        changed.append(entry)
    RosterEntry.objects.bulk_update(changed, ["signed_in_at", "signed_out_at"])


def _switch_calls(users: dict[str, User], *, now: datetime, rng: random.Random) -> None:
    """Weeks of calls as the switch reported them: most answered within seconds, a few
    given up; the level grows a little week by week."""
    agents = [users[f"agent{n}"] for n in range(1, 9)]
    today = timezone.localdate(now)
    calls = []
    for back in range(HISTORY_DAYS, -1, -1):
        day = today - timedelta(days=back)
        level = (0.8 if day.weekday() >= 5 else 1.0) * (1 + 0.004 * (HISTORY_DAYS - back))
        for hour, rate in enumerate(HOURLY):
            for _ in range(_poisson(rng, rate * level)):
                ringing = day_start(day) + timedelta(hours=hour, seconds=rng.uniform(0, 3600))
                if ringing >= now - timedelta(minutes=5):
                    continue
                wait = rng.expovariate(1 / 9)
                call = Call(
                    cti_call_id=f"demo-{len(calls)}",
                    caller_number="1" + "".join(rng.choice("0123456789") for _ in range(10)),
                    ringing_at=ringing,
                )
                if wait > rng.expovariate(1 / 60):  # the caller gave up first
                    call.abandoned, call.outcome = True, Call.Outcome.ABANDONED
                    call.ended_at = ringing + timedelta(seconds=wait)
                else:
                    call.agent = rng.choice(agents)
                    call.answered_at = ringing + timedelta(seconds=wait)
                    call.ended_at = call.answered_at + timedelta(seconds=rng.uniform(60, 300))
                    call.outcome = Call.Outcome.ANSWERED
                calls.append(call)
    Call.objects.bulk_create(calls, batch_size=2000)


def _poisson(rng: random.Random, mean: float) -> int:
    limit, count, product = math.exp(-mean), 0, rng.random()
    while product > limit:
        count += 1
        product *= rng.random()
    return count


def _forecasts(*, now: datetime, today: date) -> None:
    """The forecasts the nightly job would have stored before each of the last two weeks'
    days began, and the coming fortnight's."""
    days = [today - timedelta(days=back) for back in range(14, -1, -1)]
    IntervalForecast.objects.bulk_create(
        IntervalForecast(starts_at=start, calls=calls, made_at=day_start(timezone.localdate(start)))
        for start, calls in forecast(days, now=now).items()
    )
    forecast_store(now=now)


def _floor(*, now: datetime) -> None:
    """Sign the agents of the shift working now in at the fixed seats, in various states."""
    working = shift_now(now)
    if working is None:
        return
    shift, day = working
    entries = RosterEntry.objects.filter(
        day=day, shift=shift, role=RosterRole.AGENT, signed_in_at__isnull=False
    ).select_related("person")
    seats = iter(Seat.objects.filter(floating=False))
    statuses = ["available", "after_call_work", "break", "available", "training"]
    for entry, status in zip(entries, statuses, strict=False):
        seat_sign_in(
            agent=entry.person,
            seat=next(seats),
            at=max(entry.signed_in_at, now - timedelta(hours=1)),
        )
        if status != "available":
            status_set(agent=entry.person, status=status, at=now - timedelta(minutes=4))
