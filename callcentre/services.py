"""Writes of call intake: callers, and the switch's events about calls."""

from datetime import datetime

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from callcentre.hooks import agent_at_extension, call_event
from callcentre.models import Call, Caller, CallerAddress, CtiEvent, FaqEntry, SpecialEvent
from callcentre.selectors import e164_or_none
from dispatch.services import message_enqueue
from tickets.choices import Category
from tickets.errors import ApplicationError, invalid
from tickets.models import Ticket
from tickets.services import ticket_create, ticket_refer_on_intake


def caller_for_number(*, number: str) -> Caller | None:
    """Return the caller with this phone number, known from now on; None if it is no number."""
    phone = e164_or_none(number)
    if phone is None:
        return None
    caller, _created = Caller.objects.get_or_create(phone=phone)
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
    outage: int | None = None,
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
        agent = agent_at_extension(agent_extension)
        if agent is None:
            raise invalid({"agent_extension": _("No agent is signed in at this extension.")})
    elif event == CtiEvent.Kind.ANSWERED:
        raise invalid({"agent_extension": _("An answered call needs the agent's extension.")})
    if event == CtiEvent.Kind.NOTICE_PLAYED and outage is None:
        raise invalid({"outage": _("Say which outage's notice was played.")})
    payload = {"caller_number": caller_number, "agent_extension": agent_extension}
    if outage is not None:
        payload["outage"] = outage

    call = _call_locked(
        call_id=call_id,
        caller_number=caller_number,
        direction=direction,
        ringing_at=occurred_at if event == CtiEvent.Kind.RINGING else None,
    )
    try:
        with transaction.atomic():
            recorded = CtiEvent.objects.create(
                cti_call_id=call_id,
                event=event,
                occurred_at=occurred_at,
                call=call,
                payload=payload,
            )
    except IntegrityError:
        # The same event, sent twice at once: the other request recorded it.
        return CtiEvent.objects.get(cti_call_id=call_id, event=event), False

    changed = _apply(call=call, event=event, at=occurred_at, agent=agent)
    if changed:
        call.save(update_fields=changed)
    call_event.send(
        sender=Call, call=call, event=event, at=occurred_at, agent=agent, payload=payload
    )
    return recorded, True


def _call_locked(
    *, call_id: str, caller_number: str, direction: str, ringing_at: datetime | None
) -> Call:
    """Return the call with the switch's id, locked; a call first heard of now is created
    (with its ringing time when that is what is heard)."""
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
                ringing_at=ringing_at,
            )
    except IntegrityError:
        return Call.objects.select_for_update().get(cti_call_id=call_id)


def _apply(*, call: Call, event: str, at: datetime, agent) -> list[str]:
    """Set what ``event`` says on ``call``; return the fields that changed."""
    changed = []
    if event == CtiEvent.Kind.RINGING:
        if call.ringing_at is None or at < call.ringing_at:
            call.ringing_at = at
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


def _intake_call(*, agent, call: Call | None, channel: str, phone: str) -> Call:
    """Return the call being handled: the switch's, or one logged by hand now."""
    if call is not None:
        # Locked, so the same call cannot be dealt with twice at once.
        call = Call.objects.select_for_update().get(pk=call.pk)
        if call.agent_id not in (None, agent.pk):
            raise ApplicationError(
                _("This call was put through to another agent."), code="forbidden"
            )
        if call.outcome and call.outcome != Call.Outcome.ABANDONED:
            raise ApplicationError(_("This call has already been dealt with."), code="conflict")
        return call
    # It never rang at the switch: no ringing time, so the queue's figures (the wallboard,
    # the forecast, the handle time the plan uses) count the switch's calls alone.
    return Call.objects.create(
        channel=channel, caller_number=phone, agent=agent, answered_at=timezone.now()
    )


def _caller_remember(*, phone: str, name: str, address: dict) -> int | None:
    """Keep the caller's name and this service address for their next call; return the
    caller's id (None if ``phone`` is no number).

    One upsert for the caller, one statement for a known address and two for a new one: a
    request filed from an app or by a partner costs three round trips here, not eleven.
    """
    phone = e164_or_none(phone)
    if phone is None:
        return None
    (caller,) = Caller.objects.bulk_create(
        [Caller(phone=phone, name=name)],
        update_conflicts=True,
        unique_fields=["phone"],
        # A caller who gives no name keeps the one given before.
        update_fields=["name", "updated_at"] if name else ["phone"],
    )
    if address.get("address"):
        _caller_address_remember(caller_id=caller.pk, address=address)
    return caller.pk


def _caller_address_remember(*, caller_id: int, address: dict) -> None:
    now = timezone.now()
    known = CallerAddress.objects.filter(caller_id=caller_id, **address)
    if not known.update(last_used_at=now):
        # Filed twice at once, the second insert finds the first's row and leaves it.
        CallerAddress.objects.bulk_create(
            [CallerAddress(caller_id=caller_id, **address, last_used_at=now)],
            ignore_conflicts=True,
        )


def ticket_caller_remember(*, ticket: Ticket) -> int | None:
    """Keep the ticket's caller, their name and its address for their next call; return
    the caller's id."""
    address = {
        "community": ticket.community,
        "address": ticket.address,
        "building": ticket.building,
        "unit": ticket.unit,
        "room": ticket.room,
    }
    return _caller_remember(
        phone=ticket.caller_phone.as_e164, name=ticket.caller_name, address=address
    )


def _call_close(
    *,
    call: Call,
    agent,
    caller_id: int | None,
    outcome: str,
    category: str,
    ticket=None,
    faq_entries=(),
    notes: str = "",
) -> Call:
    call.agent = call.agent or agent
    call.caller_id = caller_id or call.caller_id
    call.outcome, call.category, call.ticket = outcome, category, ticket
    call.abandoned = False
    if notes:
        call.notes = notes
    if call.cti_call_id is None:
        # A call logged by hand is over when it is logged; the switch reports its own end.
        call.ended_at = call.ended_at or timezone.now()
    call.save(
        update_fields=[
            "agent",
            "caller",
            "outcome",
            "category",
            "ticket",
            "abandoned",
            "notes",
            "ended_at",
        ]
    )
    if faq_entries:
        call.faq_entries.add(*faq_entries)
    return call


@transaction.atomic
def intake_ticket_create(
    *,
    agent,
    call: Call | None = None,
    faq_entries=(),
    notes: str = "",
    department=None,
    **ticket_fields,
) -> Ticket:
    """Log a ticket for the call being handled, and remember the caller and their address.

    ``ticket_fields`` are those of ``tickets.services.ticket_create``. A question for a
    department (a consult, a complaint) goes to ``department`` at once when one is chosen;
    otherwise the dispatcher refers it within its limit.
    """
    ticket = ticket_create(actor=agent, **ticket_fields)
    if department is not None:
        ticket_refer_on_intake(actor=agent, ticket=ticket, department=department)
    phone = ticket.caller_phone.as_e164
    call = _intake_call(agent=agent, call=call, channel=ticket.channel, phone=phone)
    _call_close(
        call=call,
        agent=agent,
        caller_id=ticket_caller_remember(ticket=ticket),
        outcome=Call.Outcome.REFERRED if department else Call.Outcome.TICKET_CREATED,
        category=ticket.category,
        ticket=ticket,
        faq_entries=faq_entries,
        notes=notes,
    )
    return ticket


@transaction.atomic
def intake_link_to_ticket(
    *,
    agent,
    ticket: Ticket,
    phone: str,
    name: str = "",
    call: Call | None = None,
    channel: str = Call._meta.get_field("channel").default,
    notes: str = "",
) -> Call:
    """Record the call as one more report of ``ticket`` instead of making a new ticket."""
    if not agent.has_perm("tickets.add_ticket"):
        raise ApplicationError(_("Your role may not do this."), code="forbidden")
    if ticket.state in ("closed", "cancelled", "merged"):
        raise ApplicationError(
            _("This ticket is no longer open; log a new one."),
            code="conflict",
            extra={"state": ticket.state},
        )
    call = _intake_call(agent=agent, call=call, channel=channel, phone=phone)
    return _call_close(
        call=call,
        agent=agent,
        caller_id=_caller_remember(phone=phone, name=name, address={}),
        outcome=Call.Outcome.LINKED,
        category=ticket.category,
        ticket=ticket,
        notes=notes,
    )


@transaction.atomic
def intake_answer_on_call(
    *,
    agent,
    phone: str,
    faq_entries: list[FaqEntry],
    notes: str = "",
    name: str = "",
    call: Call | None = None,
    channel: str = Call._meta.get_field("channel").default,
) -> Call:
    """Record a question answered on the call, with the FAQ entries used; no ticket."""
    if not agent.has_perm("tickets.add_ticket"):
        raise ApplicationError(_("Your role may not do this."), code="forbidden")
    if not faq_entries and not notes:
        raise invalid({"notes": _("Say what was answered, or choose the FAQ entries used.")})
    call = _intake_call(agent=agent, call=call, channel=channel, phone=phone)
    return _call_close(
        call=call,
        agent=agent,
        caller_id=_caller_remember(phone=phone, name=name, address={}),
        outcome=Call.Outcome.ANSWERED,
        category=Category.CONSULT,
        faq_entries=faq_entries,
        notes=notes,
    )


@transaction.atomic
def special_event_record(
    *,
    actor,
    kind: str,
    occurred_at: datetime,
    description: str,
    outcome: str,
    caller_phone: str = "",
    ticket: Ticket | None = None,
) -> SpecialEvent:
    """Write a line in the special-event ledger (an angry caller, a repeated report, …)."""
    if not actor.has_perm("callcentre.add_specialevent"):
        raise ApplicationError(_("Your role may not do this."), code="forbidden")
    if occurred_at > timezone.now():
        raise invalid({"occurred_at": _("This time has not come yet.")})
    return SpecialEvent.objects.create(
        kind=kind,
        occurred_at=occurred_at,
        description=description,
        outcome=outcome,
        caller_phone=caller_phone,
        ticket=ticket,
        recorded_by=actor,
    )


def incident_calls_close(*, ticket: Ticket) -> int:
    """Close the calls linked to ``ticket`` with it and tell each caller; return how many.

    Runs inside the closing transaction: the messages go out once it commits.
    """
    calls = list(
        Call.objects.filter(
            ticket=ticket, outcome=Call.Outcome.LINKED, closed_at__isnull=True
        ).select_related("caller")
    )
    for call in calls:
        phone = call.caller.phone.as_e164 if call.caller else e164_or_none(call.caller_number)
        if phone is None:
            continue
        language = call.caller.language if call.caller else settings.LANGUAGE_CODE
        with translation.override(language):
            text = _(
                "The %(fault)s you reported (ticket %(number)s) has been dealt with. "
                "Thank you for calling."
            ) % {"fault": ticket.fault_type, "number": ticket.number}
        message_enqueue(
            to=phone, text=text, kind="incident_closed", dedupe_key=f"incident-closed:{call.pk}"
        )
    Call.objects.filter(pk__in=[call.pk for call in calls]).update(closed_at=timezone.now())
    return len(calls)
