from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.contrib.auth.models import Group
from django.db import models
from django.db.models import Count, Exists, OuterRef, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from staffing.models import (
    RosterEntry,
    RosterRole,
    Seat,
    SeatSession,
    ShiftTemplate,
    StaffingSettings,
    StatusSpell,
    User,
)
from staffing.shifts import Window, entry_window, shift_window
from tickets.choices import OPEN_STATES, WITH_CREW_STATES, State
from tickets.models import Ticket
from tickets.selectors import any_overdue_filter, ticket_list_for_user


def home_summary_for_user(*, user) -> dict[str, int]:
    """Return the ticket counts a person's home page shows, in one query.

    Only open tickets and today's are read, through their indexes, so the cost does not grow
    with the years of closed tickets behind them.
    """
    now = timezone.now()
    today = timezone.make_aware(datetime.combine(timezone.localdate(now), time.min))
    open_ = Q(state__in=OPEN_STATES)
    received_today = Q(received_at__gte=today)
    closed_today = Q(state=State.CLOSED, closed_at__gte=today)
    return (
        ticket_list_for_user(user=user)
        .filter(open_ | received_today | closed_today)
        .aggregate(
            open=Count("pk", filter=open_),
            new=Count("pk", filter=Q(state=State.NEW)),
            to_dispatch=Count("pk", filter=Q(state=State.VERIFIED)),
            in_the_field=Count("pk", filter=Q(state__in=WITH_CREW_STATES)),
            overdue=Count("pk", filter=any_overdue_filter(now=now)),
            received_today=Count("pk", filter=received_today),
            closed_today=Count("pk", filter=closed_today),
        )
    )


def home_tickets_for_user(*, user, limit: int = 10) -> list[Ticket]:
    """Return the open tickets that have waited longest, for a person's home page.

    A crew sees only the work still in its hands: a resolved ticket waits for the
    dispatcher, not for them.
    """
    states = OPEN_STATES
    if not user.has_perm("tickets.view_all_tickets"):
        states = [*WITH_CREW_STATES, State.REFERRED]
    return list(
        ticket_list_for_user(user=user)
        .filter(state__in=states)
        .order_by("received_at", "id")[:limit]
    )


def user_access(*, user_id: int) -> dict[str, object]:
    """Return what a user may do, as stored: roles, switched on, admin access and the
    permissions given to them alone (what the audit log compares before and after)."""
    user = User.objects.filter(pk=user_id).values("is_active", "is_staff", "is_superuser").first()
    if user is None:
        return {}
    roles = User.groups.through.objects.filter(user_id=user_id).values_list(
        "group__name", flat=True
    )
    own = User.user_permissions.through.objects.filter(user_id=user_id).values_list(
        "permission__content_type__app_label", "permission__codename"
    )
    return {
        "roles": sorted(roles),
        "active": user["is_active"],
        "staff": user["is_staff"],
        "superuser": user["is_superuser"],
        "permissions": sorted(f"{app}.{codename}" for app, codename in own),
    }


def role_permissions(*, group_id: int) -> list[str]:
    """Return a role's permissions as ``app_label.codename``, sorted."""
    perms = Group.permissions.through.objects.filter(group_id=group_id).values_list(
        "permission__content_type__app_label", "permission__codename"
    )
    return sorted(f"{app}.{codename}" for app, codename in perms)


def seat_agent(extension: str) -> User | None:
    """Return the active agent signed into the seat with ``extension``, if any."""
    session = (
        SeatSession.objects.filter(
            seat__extension=extension, signed_out_at__isnull=True, agent__is_active=True
        )
        .select_related("agent")
        .first()
    )
    return None if session is None else session.agent


def staffing_settings() -> StaffingSettings:
    """Return the centre's staffing settings (the one row the migrations seed)."""
    return StaffingSettings.objects.get_or_create(pk=1)[0]


def my_status(*, agent: User) -> tuple[SeatSession | None, StatusSpell | None]:
    """Return the agent's seat session and status spell now."""
    session = (
        SeatSession.objects.filter(agent=agent, signed_out_at__isnull=True)
        .select_related("seat")
        .first()
    )
    spell = StatusSpell.objects.filter(agent=agent, ended_at__isnull=True).first()
    return session, spell


def seats_free() -> list[Seat]:
    """Return the switched-on seats nobody is signed in at."""
    taken = SeatSession.objects.filter(seat=OuterRef("pk"), signed_out_at__isnull=True)
    return list(Seat.objects.filter(switched_on=True).exclude(Exists(taken)))


class Attendance(models.TextChoices):
    DUE = "due", _("Not yet due")
    ON_TIME = "on_time", _("On time")
    LATE = "late", _("Late")
    ABSENT = "absent", _("Absent")
    LEFT_EARLY = "left_early", _("Left early")


def attendance_of(entry: RosterEntry, *, now: datetime, rules: StaffingSettings) -> list[str]:
    """Return the attendance flags of a roster entry at ``now``.

    Late: signed in more than ``late_after_minutes`` after the shift began (or not yet, by
    then); absent: not signed in ``absent_after_minutes`` after it began; left early:
    signed out more than ``late_after_minutes`` before it ended.
    """
    window = entry_window(entry)
    grace = timedelta(minutes=rules.late_after_minutes)
    if entry.signed_in_at is None:
        if now >= window.start + timedelta(minutes=rules.absent_after_minutes):
            return [Attendance.ABSENT]
        return [Attendance.LATE] if now > window.start + grace else [Attendance.DUE]
    flags = [Attendance.LATE if entry.signed_in_at > window.start + grace else Attendance.ON_TIME]
    if entry.signed_out_at is not None and entry.signed_out_at < window.end - grace:
        flags.append(Attendance.LEFT_EARLY)
    return flags


@dataclass(frozen=True)
class RosterRow:
    entry: RosterEntry
    flags: list[str]


@dataclass(frozen=True)
class RosterShift:
    shift: ShiftTemplate
    window: Window
    rows: list[RosterRow]


def roster_of(*, day: date, now: datetime) -> list[RosterShift]:
    """Return the day's roster shift by shift, each entry with its attendance flags."""
    rules = staffing_settings()
    entries = list(
        RosterEntry.objects.filter(day=day)
        .select_related("shift", "person")
        .order_by("shift__starts_at", "role", "person__last_name", "person__first_name", "pk")
    )
    by_shift: dict[int, list[RosterRow]] = {}
    for entry in entries:
        by_shift.setdefault(entry.shift_id, []).append(
            RosterRow(entry, attendance_of(entry, now=now, rules=rules))
        )
    shifts = ShiftTemplate.objects.filter(Q(active=True) | Q(pk__in=by_shift))
    return [
        RosterShift(shift, shift_window(shift, day), by_shift.get(shift.pk, [])) for shift in shifts
    ]


@dataclass(frozen=True)
class Ratio:
    """A staffing ratio of DOMAIN.md: one ``role`` per ``low``–``high`` agents."""

    role: str
    low: int
    high: int
    agents: int
    staff: int

    @property
    def per_person(self) -> float | None:
        return self.agents / self.staff if self.staff else None

    @property
    def label(self) -> str:
        return RosterRole(self.role).label

    @property
    def needed_from(self) -> int:
        """The fewest of ``role`` for the agents: one per ``high``."""
        return -(-self.agents // self.high)

    @property
    def needed_to(self) -> int:
        """The most of ``role`` the agents justify: one per ``low``, and one for a centre
        smaller than that."""
        return max(1, self.agents // self.low) if self.agents else 0

    @property
    def too_few(self) -> bool:
        return self.staff < self.needed_from

    @property
    def too_many(self) -> bool:
        return self.staff > self.needed_to

    @property
    def within(self) -> bool:
        return not (self.too_few or self.too_many)


# One quality monitor per 20–30 agents, one trainer per 30–40 (岗位设置与人员配置).
RATIOS = ((RosterRole.QUALITY_MONITOR, 20, 30), (RosterRole.TRAINER, 30, 40))


def ratios_of(*, day: date) -> list[Ratio]:
    """Return the day's staffing ratios: the agents on its roster (each person once) against
    its quality monitors and trainers."""
    people = dict.fromkeys(RosterRole.values, 0)
    rows = (
        RosterEntry.objects.filter(day=day)
        .values("role")
        .annotate(people=Count("person", distinct=True))
        .order_by()
    )
    people.update({row["role"]: row["people"] for row in rows})
    agents = people[RosterRole.AGENT] + people[RosterRole.FLOATING_AGENT]
    return [Ratio(role, low, high, agents, people[role]) for role, low, high in RATIOS]


def my_roster_entry(*, person: User, now: datetime) -> RosterEntry | None:
    """Return the person's roster entry for the shift they are in or come to next today."""
    day = timezone.localdate(now)
    entries = RosterEntry.objects.filter(
        person=person, day__range=(day - timedelta(days=1), day)
    ).select_related("shift")
    current = [entry for entry in entries if entry_window(entry).end > now]
    return min(current, key=lambda entry: entry_window(entry).start, default=None)
