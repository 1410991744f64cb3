"""Writes of call intake: callers, and the switch's events about calls."""

from datetime import datetime

from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _
from phonenumbers import NumberParseException, is_valid_number, parse

from callcentre.models import Call, Caller, CtiEvent
from tickets.errors import invalid


def caller_for_number(*, number: str) -> Caller | None:
    """Return the caller with this phone number, known from now on; None if it is no number."""
    try:
        parsed = parse(number, "CN")
    except NumberParseException:
        return None
    if not is_valid_number(parsed):
        return None
    caller, _created = Caller.objects.get_or_create(phone=parsed)
    return caller


@transaction.atomic
def cti_event_record(
    *,
    call_id: str,
    event: str,
    occurred_at: datetime,
    caller_number: str = "",
    agent_extension: str = "",
    direction: str = Call.Direction.INBOUND,
) -> tuple[CtiEvent, bool]:
    """Record one event from the switch on its call; return it and whether it was new.

    The same (call id, event) arriving again changes nothing. Events may arrive in any
    order: each sets only its own moment, so the call ends up the same whatever the order.
    """
    earlier = CtiEvent.objects.filter(cti_call_id=call_id, event=event).first()
    if earlier is not None:
        return earlier, False
    agent = None
    if agent_extension:
        agent = get_user_model().objects.filter(extension=agent_extension, is_active=True).first()
        if agent is None:
            raise invalid({"agent_extension": _("No agent is signed in at this extension.")})
    elif event == CtiEvent.Kind.ANSWERED:
        raise invalid({"agent_extension": _("An answered call needs the agent's extension.")})

    call = _call_locked(call_id=call_id, caller_number=caller_number, direction=direction)
    try:
        with transaction.atomic():
            recorded = CtiEvent.objects.create(
                cti_call_id=call_id,
                event=event,
                occurred_at=occurred_at,
                call=call,
                payload={"caller_number": caller_number, "agent_extension": agent_extension},
            )
    except IntegrityError:
        # The same event, sent twice at once: the other request recorded it.
        return CtiEvent.objects.get(cti_call_id=call_id, event=event), False

    changed = _apply(call=call, event=event, at=occurred_at, agent=agent)
    if changed:
        call.save(update_fields=changed)
    return recorded, True


def _call_locked(*, call_id: str, caller_number: str, direction: str) -> Call:
    call = Call.objects.select_for_update().filter(cti_call_id=call_id).first()
    if call is not None:
        return call
    try:
        with transaction.atomic():
            return Call.objects.create(
                cti_call_id=call_id,
                caller_number=caller_number,
                caller=caller_for_number(number=caller_number) if caller_number else None,
                direction=direction,
            )
    except IntegrityError:
        return Call.objects.select_for_update().get(cti_call_id=call_id)


def _apply(*, call: Call, event: str, at: datetime, agent) -> list[str]:
    """Set what ``event`` says on ``call``; return the fields that changed."""
    changed = []
    if event == CtiEvent.Kind.RINGING:
        call.ringing_at = min(filter(None, [call.ringing_at, at]))
        changed.append("ringing_at")
    elif event == CtiEvent.Kind.ANSWERED:
        call.answered_at, call.agent = at, agent
        changed += ["answered_at", "agent"]
        if call.abandoned:  # an answer reported late: the caller did not give up after all
            call.abandoned = False
            if call.outcome == Call.Outcome.ABANDONED:
                call.outcome = ""
            changed += ["abandoned", "outcome"]
    elif event == CtiEvent.Kind.ENDED:
        call.ended_at = at
        changed.append("ended_at")
    elif event == CtiEvent.Kind.ABANDONED and call.answered_at is None:
        call.abandoned = True
        call.ended_at = call.ended_at or at
        call.outcome = call.outcome or Call.Outcome.ABANDONED
        changed += ["abandoned", "ended_at", "outcome"]
    if agent is not None and call.agent_id is None:
        call.agent = agent
        changed.append("agent")
    return list(dict.fromkeys(changed))
