"""Reads of the follow-ups that pages and exports share; each applies who may see what."""

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.db import connection
from django.db.models import CharField, Q, QuerySet
from django.db.models.functions import Cast
from django.utils import timezone
from django.utils.translation import gettext as _

from followups.models import Callback, Complaint
from tickets.errors import ApplicationError
from tickets.models import Ticket
from tickets.selectors import ticket_visibility_filter, ticket_with_history

QUEUE_SIZE = 50
HISTORY_SIZE = 10


def callbacks_for_user(*, user) -> QuerySet[Callback]:
    """Return the callbacks ``user`` may see: those of the tickets they may see."""
    visible = ticket_visibility_filter(user=user)
    if visible is None:
        return Callback.objects.all()
    # An account's callback is about no ticket; only who sees every ticket makes it.
    return Callback.objects.filter(ticket__in=Ticket.objects.filter(visible).values("pk"))


# Counts stop here: the queue says "999+" rather than count a backlog on every request.
COUNT_CAP = 999


@dataclass(frozen=True)
class QueueRow:
    """One callback in the queue, with only what the queue shows."""

    id: int
    rule_code: str
    rule_name: str
    ticket_number: str | None
    ticket_state: str | None
    fault: str | None
    name: str
    phone: str  # as stored: E.164
    callable_at: datetime
    due_at: datetime
    attempts: int
    is_second: bool


@dataclass(frozen=True)
class Queue:
    rows: list[QueueRow]
    # Each count stops at COUNT_CAP.
    ready: int  # may be called now
    overdue: int  # of those, past their deadline
    later: int  # to try again later, or tomorrow's


_QUEUE_FIELDS = {
    "id": "id",
    "rule_code": "rule__code",
    "rule_name": "rule__name",
    "ticket_number": "ticket__number",
    "ticket_state": "ticket__state",
    "fault": "ticket__fault_type__name",
    "name": "name",
    "phone": "phone_text",
    "callable_at": "callable_at",
    "due_at": "due_at",
    "attempts": "attempts",
}


def callback_queue(*, user, now: datetime, limit: int = QUEUE_SIZE) -> Queue:
    """Return the callbacks to make now, the earliest deadline first (so the overdue ones
    lead), with how many are ready, overdue and waiting for a later time.

    Two queries whatever the backlog: the counts (each capped) and the first rows, as
    plain values of the columns the queue shows.
    """
    pending = callbacks_for_user(user=user).filter(state=Callback.State.PENDING)
    ready = pending.filter(callable_at__lte=now)
    by_due = ("due_at", "id")  # the order of the queue's index
    counts = capped_counts(
        {
            "ready": ready.order_by(*by_due),
            "overdue": ready.filter(due_at__lt=now).order_by(*by_due),
            "later": pending.filter(callable_at__gt=now).order_by("callable_at"),
        }
    )
    values = (
        ready.annotate(phone_text=Cast("phone", CharField()))
        .order_by("due_at", "id")
        .values_list(*_QUEUE_FIELDS.values(), "follows_id")[:limit]
    )
    rows = [
        QueueRow(**dict(zip(_QUEUE_FIELDS, row[:-1], strict=True)), is_second=row[-1] is not None)
        for row in values
    ]
    return Queue(rows=rows, **counts)


def capped_counts(parts: dict[str, QuerySet]) -> dict[str, int]:
    """Count the rows of each queryset up to ``COUNT_CAP``, all in one query.

    Each part keeps its order: ordered along an index, the count reads that index only as
    far as the cap, where the planner might otherwise walk the table for the first rows.
    """
    selects, params = [], []
    for part in parts.values():
        sql, part_params = part.values("pk")[:COUNT_CAP].query.sql_with_params()
        selects.append(f"(SELECT COUNT(*) FROM ({sql}) AS capped)")  # noqa: S608
        params.extend(part_params)
    with connection.cursor() as cursor:
        # Django compiled each inner query and keeps its values apart, in ``params``.
        cursor.execute(f"SELECT {', '.join(selects)}", params)
        return dict(zip(parts, cursor.fetchone(), strict=True))


@dataclass(frozen=True)
class CallbackPage:
    callback: Callback
    ticket: Ticket | None  # with its timeline
    earlier_tickets: list[Ticket]  # the customer's other tickets, newest first
    earlier_callbacks: list[Callback]


def callback_for_user(*, user, pk: int) -> CallbackPage:
    """Return a callback with what the agent reads beside it, if ``user`` may see it."""
    callback = (
        callbacks_for_user(user=user)
        .select_related("rule", "ticket__fault_type", "caller", "follows", "complaint")
        .filter(pk=pk)
        .first()
    )
    if callback is None:
        raise ApplicationError(_("No such callback."), code="not_found")
    ticket = ticket_with_history(callback.ticket) if callback.ticket else None
    earlier = (
        Ticket.objects.filter(caller_phone=callback.phone)
        .exclude(pk=callback.ticket_id)
        .select_related("fault_type")
        .order_by("-received_at")[:HISTORY_SIZE]
    )
    earlier_callbacks = (
        Callback.objects.filter(phone=callback.phone, done_at__isnull=False)
        .exclude(pk=callback.pk)
        .select_related("rule")
        .order_by("-created_at")[:HISTORY_SIZE]
    )
    attempts = list(callback.attempt_log.select_related("by"))
    callback.attempt_list = attempts
    return CallbackPage(
        callback=callback,
        ticket=ticket,
        earlier_tickets=list(earlier),
        earlier_callbacks=list(earlier_callbacks),
    )


def day_bounds(day: date) -> tuple[datetime, datetime]:
    """Return the start of ``day`` and of the next, in the centre's time zone."""
    start = timezone.make_aware(datetime.combine(day, datetime.min.time()))
    return start, timezone.make_aware(
        datetime.combine(day + timedelta(days=1), datetime.min.time())
    )


def callback_register(*, day: date) -> QuerySet[Callback]:
    """Return the callback register (回访登记表) of ``day``: every callback finished that
    day, reached or not, with its result and who answers for an unsatisfied customer."""
    start, end = day_bounds(day)
    return (
        Callback.objects.filter(done_at__gte=start, done_at__lt=end)
        .select_related(
            "rule",
            "ticket__fault_type",
            "done_by",
            "complaint",
            "accountability__crew",
            "accountability__department",
        )
        .order_by("done_at", "id")
    )


def complaints_overdue(*, as_of: datetime) -> QuerySet[Complaint]:
    """Return the complaints past a reply limit and still unanswered at ``as_of`` (逾期未处理
    明细): the first reply, or the final one after the department answered."""
    first_late = Q(first_reply_due__lt=as_of) & (
        Q(first_replied_at__isnull=True) | Q(first_replied_at__gt=as_of)
    )
    final_late = Q(final_reply_due__lt=as_of) & (
        Q(final_replied_at__isnull=True) | Q(final_replied_at__gt=as_of)
    )
    return (
        Complaint.objects.filter(first_late | final_late, ticket__received_at__lt=as_of)
        .select_related("ticket__fault_type", "ticket__department", "ticket__crew")
        .order_by("first_reply_due")
    )


def complaints_awaiting_reply(*, user) -> QuerySet[Complaint]:
    """Return the complaints still owed a first or a final reply, the nearest deadline first."""
    complaints = Complaint.objects.filter(
        Q(first_replied_at__isnull=True)
        | Q(final_reply_due__isnull=False, final_replied_at__isnull=True)
    )
    visible = ticket_visibility_filter(user=user)
    if visible is not None:
        complaints = complaints.filter(ticket__in=Ticket.objects.filter(visible).values("pk"))
    return complaints.select_related("ticket__fault_type").order_by("first_reply_due")


@dataclass(frozen=True)
class Glance:
    callbacks_ready: int
    callbacks_overdue: int
    replies_overdue: int  # complaints past their first or final reply deadline


def followups_at_a_glance(*, user, now: datetime) -> Glance:
    """Return what the follow-ups owe right now, for a home page, in one query of capped
    counts on the partial indexes of what is still to do."""
    ready = callbacks_for_user(user=user).filter(state=Callback.State.PENDING, callable_at__lte=now)
    late = Q(first_replied_at__isnull=True, first_reply_due__lt=now) | Q(
        final_replied_at__isnull=True, final_reply_due__lt=now
    )
    by_due = ("due_at", "id")
    counts = capped_counts(
        {
            "callbacks_ready": ready.order_by(*by_due),
            "callbacks_overdue": ready.filter(due_at__lt=now).order_by(*by_due),
            "replies_overdue": complaints_awaiting_reply(user=user).filter(late),
        }
    )
    return Glance(**counts)
