from datetime import date, datetime, time, timedelta
from typing import Any

from django.contrib.auth.models import Group, Permission
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from audit.services import audit_user_created
from callcentre.models import CtiEvent
from staffing.models import (
    AgentStatus,
    RosterEntry,
    Seat,
    SeatSession,
    ShiftTemplate,
    StatusSpell,
    User,
)
from staffing.roles import ROLE_PERMISSIONS, STAFF_ROLES, Role
from staffing.shifts import break_window, entry_window
from staffing.wallboard import rostered_forget
from tickets.errors import ApplicationError, invalid


@transaction.atomic
def roles_sync() -> None:
    """Create the role groups and give each exactly the permissions of ROLE_PERMISSIONS."""
    wanted = {perm for perms in ROLE_PERMISSIONS.values() for perm in perms}
    by_name = {
        f"{perm.content_type.app_label}.{perm.codename}": perm
        for perm in Permission.objects.select_related("content_type")
    }
    missing = wanted - by_name.keys()
    if missing:
        # Not every app has migrated yet (a partial migrate); the last post_migrate completes it.
        return
    for role, perms in ROLE_PERMISSIONS.items():
        group, _ = Group.objects.get_or_create(name=role.value)
        group.permissions.set([by_name[perm] for perm in perms])


def roles_sync_after_migrate(**kwargs: Any) -> None:
    roles_sync()


@transaction.atomic
def user_create(
    *,
    username: str,
    password: str | None,
    role: Role,
    first_name: str = "",
    last_name: str = "",
    phone: str = "",
    actor=None,
) -> User:
    """Create a user in one role; supervisors and administrators may open the admin.

    ``actor`` is who did it (None for the demo and the command line)."""
    user = User(
        username=username,
        first_name=first_name,
        last_name=last_name,
        phone=phone,
        is_staff=role in STAFF_ROLES,
    )
    if password is None:
        user.set_unusable_password()
    else:
        user.set_password(password)
    user.full_clean(exclude=["password"])
    user.save()
    user.groups.add(Group.objects.get(name=role.value))
    audit_user_created(actor=actor, user=user, role=role.value)
    return user


# Seats and status ----------------------------------------------------------------------

# The statuses an agent picks at the console; "on a call" comes from the switch, and
# "offline" is signing out of the seat.
CONSOLE_STATUSES = (
    AgentStatus.AVAILABLE,
    AgentStatus.AFTER_CALL_WORK,
    AgentStatus.BREAK,
    AgentStatus.TRAINING,
)


def _agent_locked(agent_id: int) -> StatusSpell | None:
    """Lock the agent (so their status changes one at a time) and return the open spell."""
    User.objects.select_for_update().filter(pk=agent_id).values_list("pk").first()
    return StatusSpell.objects.filter(agent_id=agent_id, ended_at__isnull=True).first()


def _spell_open(
    *,
    agent_id: int,
    current: StatusSpell | None,
    status: str,
    at: datetime,
    source: str,
    seat: Seat | None = None,
    call=None,
    resume_status: str = "",
) -> StatusSpell:
    """End the open spell and start one in ``status``; a moment reported out of order is
    taken as the end of the spell before, so the history never runs backwards."""
    seat_id = seat.pk if seat is not None else None
    if current is not None:
        at = max(at, current.started_at)
        current.ended_at = at
        current.save(update_fields=["ended_at"])
        seat_id = seat_id or current.seat_id
    return StatusSpell.objects.create(
        agent_id=agent_id,
        status=status,
        started_at=at,
        source=source,
        seat_id=seat_id,
        call=call,
        resume_status=resume_status,
    )


@transaction.atomic
def seat_sign_in(*, agent: User, seat: Seat, at: datetime) -> SeatSession:
    """Sign ``agent`` into ``seat``, available; an agent at another seat moves over."""
    seat = Seat.objects.select_for_update().get(pk=seat.pk)
    if not seat.switched_on:
        raise ApplicationError(
            _("Seat %(seat)s is switched off; ask the shift leader to switch it on.")
            % {"seat": seat.label},
            code="conflict",
        )
    current = _agent_locked(agent.pk)
    taken = SeatSession.objects.filter(seat=seat, signed_out_at__isnull=True).first()
    if taken is not None and taken.agent_id != agent.pk:
        raise ApplicationError(
            _("%(agent)s is signed in at seat %(seat)s.")
            % {"agent": taken.agent, "seat": seat.label},
            code="conflict",
        )
    if taken is not None:
        return taken
    if current is not None and current.status == AgentStatus.ON_CALL:
        raise ApplicationError(_("Finish the call before changing seats."), code="conflict")
    SeatSession.objects.filter(agent=agent, signed_out_at__isnull=True).update(signed_out_at=at)
    session = SeatSession.objects.create(seat=seat, agent=agent, signed_in_at=at)
    _spell_open(
        agent_id=agent.pk,
        current=current,
        status=AgentStatus.AVAILABLE,
        at=at,
        source=StatusSpell.Source.SEAT,
        seat=seat,
    )
    attendance_sign_in(person=agent, at=at)
    return session


@transaction.atomic
def seat_sign_out(*, agent: User, at: datetime) -> None:
    """Sign ``agent`` out of their seat: offline, and their shift's attendance signed out."""
    current = _agent_locked(agent.pk)
    session = SeatSession.objects.filter(agent=agent, signed_out_at__isnull=True).first()
    if session is None:
        raise ApplicationError(_("You are not signed in at a seat."), code="conflict")
    if current is not None and current.status == AgentStatus.ON_CALL:
        raise ApplicationError(_("Finish the call before signing out."), code="conflict")
    session.signed_out_at = at
    session.save(update_fields=["signed_out_at"])
    _spell_open(
        agent_id=agent.pk,
        current=current,
        status=AgentStatus.OFFLINE,
        at=at,
        source=StatusSpell.Source.SEAT,
    )
    attendance_sign_out(person=agent, at=at)


@transaction.atomic
def status_set(*, agent: User, status: str, at: datetime) -> StatusSpell:
    """Change the agent's status from the console.

    During a call the choice is kept for when it ends: the agent who picks a break while
    talking goes on break when the caller hangs up.
    """
    if status not in CONSOLE_STATUSES:
        raise invalid({"status": _("Choose available, after-call work, break or training.")})
    current = _agent_locked(agent.pk)
    if not SeatSession.objects.filter(agent=agent, signed_out_at__isnull=True).exists():
        raise ApplicationError(_("Sign in at a seat first."), code="conflict")
    if current is not None and current.status == AgentStatus.ON_CALL:
        current.resume_status = status
        current.save(update_fields=["resume_status"])
        return current
    if current is not None and current.status == status:
        return current
    return _spell_open(
        agent_id=agent.pk, current=current, status=status, at=at, source=StatusSpell.Source.CONSOLE
    )


def status_follow_call(*, call, event: str, at: datetime, agent: User | None) -> None:
    """Move the agent to "on a call" when the switch puts a call through, and back to what
    they were doing when it ends. Runs in the transaction recording the switch's event."""
    if event == CtiEvent.Kind.ANSWERED:
        if agent is None or call.ended_at is not None:
            return  # the end arrived first: the call is over already
        current = _agent_locked(agent.pk)
        if current is not None and current.status == AgentStatus.ON_CALL:
            if current.call_id == call.pk:
                return
            resume = current.resume_status
        else:
            resume = current.status if current is not None else AgentStatus.OFFLINE
        _spell_open(
            agent_id=agent.pk,
            current=current,
            status=AgentStatus.ON_CALL,
            at=at,
            source=StatusSpell.Source.CTI,
            call=call,
            resume_status=resume,
        )
    elif event in (CtiEvent.Kind.ENDED, CtiEvent.Kind.ABANDONED) and call.agent_id is not None:
        current = _agent_locked(call.agent_id)
        if current is None or current.status != AgentStatus.ON_CALL or current.call_id != call.pk:
            return
        _spell_open(
            agent_id=call.agent_id,
            current=current,
            status=current.resume_status or AgentStatus.AVAILABLE,
            at=at,
            source=StatusSpell.Source.CTI,
        )


@transaction.atomic
def seat_switch(*, seat: Seat, on: bool) -> Seat:
    """Switch a floating seat on (for a peak) or off (nobody signed in at it)."""
    seat = Seat.objects.select_for_update().get(pk=seat.pk)
    if not seat.floating:
        raise ApplicationError(_("Only floating seats are switched on and off."), code="invalid")
    if not on:
        taken = SeatSession.objects.filter(seat=seat, signed_out_at__isnull=True).first()
        if taken is not None:
            raise ApplicationError(
                _("%(agent)s is signed in at seat %(seat)s; they sign out first.")
                % {"agent": taken.agent, "seat": seat.label},
                code="conflict",
            )
    if seat.switched_on != on:
        seat.switched_on = on
        seat.save(update_fields=["switched_on"])
    return seat


# Rosters and attendance ----------------------------------------------------------------

# The longest break a roster entry may hold (the table's check says the same).
MAX_BREAK_MINUTES = 240
# One may sign in for a shift this long before it starts.
EARLY_SIGN_IN = timedelta(hours=2)


def _entry_for(person: User, at: datetime) -> RosterEntry | None:
    """Return the person's roster entry that ``at`` falls in, or that starts soonest after."""
    day = timezone.localtime(at).date()
    entries = RosterEntry.objects.filter(
        person=person, day__range=(day - timedelta(days=1), day)
    ).select_related("shift")
    best = None
    for entry in entries:
        window = entry_window(entry)
        if window.start - EARLY_SIGN_IN <= at < window.end and (
            best is None or window.start > entry_window(best).start
        ):
            best = entry
    return best


def attendance_sign_in(*, person: User, at: datetime) -> RosterEntry | None:
    """Record that ``person`` came in for the shift they are rostered on at ``at``; the
    first sign-in counts, and signing in again after signing out takes them back."""
    entry = _entry_for(person, at)
    if entry is None:
        return None
    fields = []
    if entry.signed_in_at is None:
        entry.signed_in_at = at
        fields.append("signed_in_at")
    if entry.signed_out_at is not None:
        entry.signed_out_at = None
        fields.append("signed_out_at")
    if fields:
        entry.save(update_fields=fields)
    return entry


def attendance_sign_out(*, person: User, at: datetime) -> RosterEntry | None:
    """Record that ``person`` left the shift they had signed in for."""
    entry = (
        RosterEntry.objects.filter(
            person=person, signed_in_at__isnull=False, signed_out_at__isnull=True
        )
        .order_by("-signed_in_at")
        .first()
    )
    if entry is None:
        return None
    entry.signed_out_at = at
    entry.save(update_fields=["signed_out_at"])
    return entry


@transaction.atomic
def roster_add(
    *,
    day: date,
    shift: ShiftTemplate,
    person: User,
    role: str,
    break_starts_at: time | None = None,
    break_minutes: int = 0,
) -> RosterEntry:
    """Put ``person`` on ``shift`` of ``day`` in ``role``; once per shift and day."""
    entry = RosterEntry(
        day=day,
        shift=shift,
        person=person,
        role=role,
        break_starts_at=break_starts_at,
        break_minutes=break_minutes,
    )
    errors = {}
    if not person.is_active:
        errors["person"] = _("This person's account is closed.")
    if break_minutes > MAX_BREAK_MINUTES:
        errors["break_minutes"] = _("A break is at most %(minutes)d minutes.") % {
            "minutes": MAX_BREAK_MINUTES
        }
    elif break_starts_at is not None and break_minutes:
        window, pause = entry_window(entry), break_window(entry)
        if pause.start < window.start or pause.end > window.end:
            errors["break_starts_at"] = _("The break must fall within the shift.")
    elif break_starts_at is not None or break_minutes:
        errors["break_minutes"] = _("Give both the break's start and its length, or neither.")
    if errors:
        raise invalid(errors)
    try:
        entry.full_clean(validate_unique=False, validate_constraints=False)
    except ValidationError as error:
        fields = {name: messages[0] for name, messages in error.message_dict.items()}
        raise invalid(fields) from None
    if RosterEntry.objects.filter(day=day, shift=shift, person=person).exists():
        raise ApplicationError(
            _("%(person)s is already on this shift.") % {"person": person}, code="conflict"
        )
    entry.save()
    return entry


@transaction.atomic
def roster_remove(*, entry: RosterEntry) -> None:
    """Take an entry off the roster; one who has signed in for it stays, as a record."""
    if entry.signed_in_at is not None:
        raise ApplicationError(
            _("%(person)s has signed in for this shift; the entry stays as a record.")
            % {"person": entry.person},
            code="conflict",
        )
    entry.delete()


@transaction.atomic
def roster_copy(*, source: date, target: date) -> int:
    """Copy the roster of ``source`` to ``target``, leaving entries already there; return
    how many were added."""
    existing = set(RosterEntry.objects.filter(day=target).values_list("shift_id", "person_id"))
    added = [
        RosterEntry(
            day=target,
            shift_id=entry.shift_id,
            person_id=entry.person_id,
            role=entry.role,
            break_starts_at=entry.break_starts_at,
            break_minutes=entry.break_minutes,
        )
        for entry in RosterEntry.objects.filter(day=source, person__is_active=True)
        if (entry.shift_id, entry.person_id) not in existing
    ]
    RosterEntry.objects.bulk_create(added)
    rostered_forget(day=target, shift_ids={entry.shift_id for entry in added})
    return len(added)
