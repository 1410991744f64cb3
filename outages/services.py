"""Writes of outages: publishing, changing and restoring, each told to the customers in the
area once, by a task, so the page that published it does not wait for 20,000 messages."""

from collections.abc import Iterator
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone, translation
from django.utils.text import capfirst
from django.utils.translation import gettext as _

from audit.services import audit_late_notice_published
from callcentre.models import Call
from callcentre.selectors import e164_or_none
from dispatch.models import OutboundMessage
from dispatch.services import messages_enqueue
from dispatch.services.notifications import when
from outages.models import IncidentStep, Outage, OutageBuilding, OutageChange, PlanStep
from outages.selectors import customers_in_area, linked_calls
from tickets.choices import FINAL_STATES, Grade
from tickets.errors import ApplicationError, invalid
from tickets.models import Ticket

# Water rules ask for this much notice of a planned stoppage.
NOTICE_AHEAD = timedelta(hours=24)
# Messages queued per statement by the fan-out.
FAN_OUT_CHUNK = 2000


def _require(actor, perm: str) -> None:
    if not actor.has_perm(perm):
        raise ApplicationError(_("Your role may not do this."), code="forbidden")


def _check_area(*, districts, communities, buildings, errors: dict) -> None:
    if not (districts or communities or buildings):
        errors["districts"] = _("Choose the area: districts, communities or buildings.")


def _check_times(*, starts_at: datetime, expected_end_at: datetime, errors: dict) -> None:
    if expected_end_at <= starts_at:
        errors["expected_end_at"] = _("Supply comes back after the outage starts.")


@transaction.atomic
def outage_publish(
    *,
    actor,
    supply: str,
    title: str,
    reason: str,
    customer_text: str,
    starts_at: datetime,
    expected_end_at: datetime,
    districts=(),
    communities=(),
    buildings: list[tuple] = (),
    late_reason: str = "",
) -> Outage:
    """Publish a planned outage for an area and tell the customers there.

    Published less than 24 hours before it starts, it is late: only a supervisor may, and
    only with the reason, which stays on the notice.
    """
    _require(actor, "outages.add_outage")
    now = timezone.now()
    errors: dict[str, str] = {}
    for name, value in (("title", title), ("reason", reason), ("customer_text", customer_text)):
        if not value.strip():
            errors[name] = _("This field is required.")
    _check_times(starts_at=starts_at, expected_end_at=expected_end_at, errors=errors)
    _check_area(districts=districts, communities=communities, buildings=buildings, errors=errors)
    is_late = starts_at - now < NOTICE_AHEAD
    if is_late and "expected_end_at" not in errors and expected_end_at <= now:
        errors["expected_end_at"] = _("This outage is already over.")
    if errors:
        raise invalid(errors)
    if is_late:
        if not actor.has_perm("outages.publish_late_outage"):
            raise invalid(
                {
                    "starts_at": _(
                        "A planned outage needs 24 hours' notice; with less, a supervisor "
                        "publishes it with the reason."
                    )
                }
            )
        if not late_reason.strip():
            raise invalid({"late_reason": _("Say why the customers get less than 24 hours.")})
    outage = Outage.objects.create(
        kind=Outage.Kind.PLANNED,
        supply=supply,
        title=title.strip(),
        reason=reason.strip(),
        customer_text=customer_text.strip(),
        starts_at=starts_at,
        expected_end_at=expected_end_at,
        published_at=now,
        published_by=actor,
        is_late=is_late,
        late_reason=late_reason.strip() if is_late else "",
    )
    _area_set(outage, districts=districts, communities=communities, buildings=buildings)
    _changed(outage=outage, action=OutageChange.Action.PUBLISHED, actor=actor, at=now)
    if is_late:
        audit_late_notice_published(actor=actor, outage=outage)
    return outage


def incident_may_declare(*, actor, ticket: Ticket) -> bool:
    """A supervisor may declare an incident from any ticket; a dispatcher from an emergency."""
    return actor.has_perm("outages.declare_incident") or (
        actor.has_perm("outages.add_outage") and ticket.grade == Grade.EMERGENCY
    )


@transaction.atomic
def incident_declare(
    *,
    actor,
    ticket: Ticket,
    expected_end_at: datetime,
    customer_text: str,
    districts=(),
    communities=(),
    buildings: list[tuple] = (),
    supply: str = Outage.Supply.WATER,
) -> Outage:
    """Declare a major incident from ``ticket``: its area and ETA, the emergency plan of its
    fault type to follow, and the customers there told at once.

    A supervisor may from any ticket; a dispatcher from an emergency one.
    """
    ticket = Ticket.objects.select_for_update().select_related("fault_type").get(pk=ticket.pk)
    if not incident_may_declare(actor=actor, ticket=ticket):
        raise ApplicationError(
            _("A supervisor declares an incident; a dispatcher only from an emergency ticket."),
            code="forbidden",
        )
    if ticket.state in FINAL_STATES:
        raise ApplicationError(
            _("This ticket is no longer open."), code="conflict", extra={"state": ticket.state}
        )
    if ticket.outages.filter(state=Outage.State.PUBLISHED).exists():
        raise ApplicationError(_("This ticket's incident is already declared."), code="conflict")
    now = timezone.now()
    errors: dict[str, str] = {}
    if not customer_text.strip():
        errors["customer_text"] = _("This field is required.")
    _check_times(starts_at=now, expected_end_at=expected_end_at, errors=errors)
    if not (districts or communities or buildings):
        if ticket.community_id is None:
            errors["districts"] = _("Choose the area: districts, communities or buildings.")
        else:
            communities = [ticket.community]  # the ticket's community, unless told otherwise
    if errors:
        raise invalid(errors)
    outage = Outage.objects.create(
        kind=Outage.Kind.INCIDENT,
        supply=supply,
        title=f"{ticket.fault_type} · {ticket.address_line()}"[:120],
        reason=ticket.description[:300],
        customer_text=customer_text.strip(),
        starts_at=now,
        expected_end_at=expected_end_at,
        ticket=ticket,
        published_at=now,
        published_by=actor,
    )
    _area_set(outage, districts=districts, communities=communities, buildings=buildings)
    steps = PlanStep.objects.filter(
        Q(fault_type=ticket.fault_type) | Q(fault_type__isnull=True), is_active=True
    ).order_by("order", "id")
    IncidentStep.objects.bulk_create(
        [
            IncidentStep(outage=outage, order=number, text=step.text)
            for number, step in enumerate(steps, start=1)
        ]
    )
    _changed(outage=outage, action=OutageChange.Action.PUBLISHED, actor=actor, at=now)
    return outage


@transaction.atomic
def incident_step_tick(*, actor, step: IncidentStep) -> IncidentStep:
    """Tick a step of an incident's plan as done, with who and when."""
    _require(actor, "outages.change_outage")
    step = IncidentStep.objects.select_for_update().select_related("outage").get(pk=step.pk)
    if step.done_at is not None:
        raise ApplicationError(
            _("%(name)s ticked this step already.") % {"name": step.done_by},
            code="conflict",
        )
    step.done_at, step.done_by = timezone.now(), actor
    step.save(update_fields=["done_at", "done_by"])
    return step


@transaction.atomic
def outage_change(
    *,
    actor,
    outage: Outage,
    starts_at: datetime,
    expected_end_at: datetime,
    customer_text: str,
) -> Outage:
    """Move an outage's times or its text, logged, and tell the customers again."""
    _require(actor, "outages.change_outage")
    outage = Outage.objects.select_for_update().get(pk=outage.pk)
    _require_published(outage)
    errors: dict[str, str] = {}
    if not customer_text.strip():
        errors["customer_text"] = _("This field is required.")
    _check_times(starts_at=starts_at, expected_end_at=expected_end_at, errors=errors)
    if errors:
        raise invalid(errors)
    new = {
        "starts_at": starts_at,
        "expected_end_at": expected_end_at,
        "customer_text": customer_text.strip(),
    }
    data = {
        name: [_plain(getattr(outage, name)), _plain(value)]
        for name, value in new.items()
        if getattr(outage, name) != value
    }
    if not data:
        raise invalid({"expected_end_at": _("Nothing has changed.")})
    for name, value in new.items():
        setattr(outage, name, value)
    outage.revision += 1
    outage.save(update_fields=[*new, "revision"])
    _changed(
        outage=outage, action=OutageChange.Action.CHANGED, actor=actor, at=timezone.now(), data=data
    )
    return outage


@transaction.atomic
def outage_restore(*, actor, outage: Outage) -> Outage:
    """Supply is back: the outage ends and every customer in the area is told, once."""
    return _end(actor=actor, outage=outage, state=Outage.State.RESTORED)


@transaction.atomic
def outage_cancel(*, actor, outage: Outage) -> Outage:
    """A planned outage that will not happen: the customers are told so."""
    if outage.kind == Outage.Kind.INCIDENT:
        raise ApplicationError(
            _("An incident ends when supply is back, not by cancelling."), code="conflict"
        )
    return _end(actor=actor, outage=outage, state=Outage.State.CANCELLED)


def _end(*, actor, outage: Outage, state: str) -> Outage:
    _require(actor, "outages.change_outage")
    outage = Outage.objects.select_for_update().get(pk=outage.pk)
    _require_published(outage)
    now = timezone.now()
    outage.state = state
    outage.revision += 1
    fields = ["state", "revision"]
    if state == Outage.State.RESTORED:
        outage.restored_at, outage.restored_by = now, actor
        fields += ["restored_at", "restored_by"]
    outage.save(update_fields=fields)
    if outage.ticket_id is not None:
        # The calls linked to the incident end with it; their callers are told below, once.
        linked_calls(outage).filter(closed_at__isnull=True).update(closed_at=now)
    action = (
        OutageChange.Action.RESTORED
        if state == Outage.State.RESTORED
        else OutageChange.Action.CANCELLED
    )
    _changed(outage=outage, action=action, actor=actor, at=now)
    return outage


def _area_set(outage: Outage, *, districts, communities, buildings) -> None:
    outage.districts.set(districts)
    outage.communities.set(communities)
    OutageBuilding.objects.bulk_create(
        [
            OutageBuilding(outage=outage, community=community, building=building.strip())
            for community, building in dict.fromkeys(buildings)
        ]
    )


def _require_published(outage: Outage) -> None:
    if outage.state != Outage.State.PUBLISHED:
        raise ApplicationError(
            _("This outage is over; publish a new one."),
            code="conflict",
            extra={"state": outage.state},
        )


def _plain(value) -> str:
    return value.isoformat() if isinstance(value, datetime) else str(value)


def _changed(*, outage: Outage, action: str, actor, at: datetime, data=None) -> OutageChange:
    from outages.tasks import outage_notify

    change = OutageChange.objects.create(
        outage=outage, action=action, revision=outage.revision, at=at, actor=actor, data=data or {}
    )
    # Robust: with the broker down the change stands; `outage_notify_pending` sends it later.
    transaction.on_commit(lambda: outage_notify.delay(change.pk), robust=True)
    return change


def outage_notify(*, change: OutageChange) -> int:
    """Queue the message of ``change`` for every customer in the area and every caller who
    heard the switch's message or was linked to the incident; return how many were new.
    Each phone gets it once; run again (a retried task, a second worker), it queues nothing
    twice."""
    texts: dict[str, str] = {}
    queued = 0
    batch: list[OutboundMessage] = []
    for phone, language in _recipients(change.outage):
        if language not in texts:
            texts[language] = outage_message(change=change, language=language)
        batch.append(
            OutboundMessage(
                to_phone=phone,
                body=texts[language],
                kind=f"outage_{change.action}",
                dedupe_key=f"{_key_of(change)}{phone}",
            )
        )
        if len(batch) == FAN_OUT_CHUNK:
            queued += _queue(batch)
            batch = []
    queued += _queue(batch)
    OutageChange.objects.filter(pk=change.pk).update(
        notified=_notified(change), notified_at=timezone.now()
    )
    return queued


def _recipients(outage: Outage) -> Iterator[tuple[str, str]]:
    """(phone, language) of whom to tell, each phone once: the customers of the area, the
    callers who heard the switch's message, and those linked to the incident."""
    seen: set[str] = set()
    customers = customers_in_area(outage).order_by("pk").values_list("phone", "language")
    for phone, language in customers.iterator(chunk_size=FAN_OUT_CHUNK):
        if phone.as_e164 not in seen:
            seen.add(phone.as_e164)
            yield phone.as_e164, language
    calls = Call.objects.filter(pk__in=outage.plays.values("call_id"))
    if outage.ticket_id is not None:
        calls |= linked_calls(outage)
    for call in calls.select_related("caller"):
        phone = call.caller.phone.as_e164 if call.caller else e164_or_none(call.caller_number)
        if phone and phone not in seen:
            seen.add(phone)
            yield phone, call.caller.language if call.caller else settings.LANGUAGE_CODE


def _key_of(change: OutageChange) -> str:
    """The start of the outbox keys of a change's messages; the phone ends each."""
    return f"outage:{change.outage_id}:change:{change.pk}:"


def _queue(batch: list[OutboundMessage]) -> int:
    with transaction.atomic():
        return messages_enqueue(batch)


def _notified(change: OutageChange) -> int:
    return OutboundMessage.objects.filter(dedupe_key__startswith=_key_of(change)).count()


def outage_message(*, change: OutageChange, language: str) -> str:
    """The text message of one change of an outage, in ``language``."""
    outage = change.outage
    with translation.override(language or settings.LANGUAGE_CODE):
        values = {
            "supply": outage.get_supply_display().lower(),
            "title": outage.title,
            "starts": when(outage.starts_at),
            "ends": when(outage.expected_end_at),
            "text": outage.customer_text,
        }
        if outage.kind == Outage.Kind.INCIDENT:
            if change.action == OutageChange.Action.PUBLISHED:
                return capfirst(
                    _("%(supply)s is off in your area: %(title)s. Back by %(ends)s. %(text)s")
                    % values
                )
            if change.action == OutageChange.Action.CHANGED:
                return _("New time for the %(supply)s to be back: %(ends)s (%(title)s).") % values
        if change.action == OutageChange.Action.PUBLISHED:
            return (
                _("Planned %(supply)s outage: %(title)s, %(starts)s to %(ends)s. %(text)s") % values
            )
        if change.action == OutageChange.Action.CHANGED:
            return (
                _("Update on the %(supply)s outage %(title)s: %(starts)s to %(ends)s now. %(text)s")
                % values
            )
        if change.action == OutageChange.Action.RESTORED:
            return capfirst(
                _("%(supply)s supply is back: %(title)s. Thank you for your patience.") % values
            )
        return _("The planned %(supply)s outage %(title)s will not take place.") % values
