"""Every write of the follow-ups: scheduling callbacks, recording them, and complaints' replies.

Callbacks are scheduled by a batch job from the rules table, not by a hook on each ticket:
the job reads the tickets whose trigger time (dispatch, receipt, closing) has passed since it
last looked, in pages along an index, and writes each page's callbacks in one insert.
"""

import calendar as month_calendar
import logging
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.db import connection, transaction
from django.db.models import CharField, Exists, OuterRef, Q, Subquery
from django.db.models.functions import Cast
from django.utils import timezone
from django.utils.translation import gettext as _

from callcentre.models import Caller, CallerAddress
from followups.models import (
    Accountability,
    Callback,
    CallbackAttempt,
    CallbackRule,
    Complaint,
)
from followups.questions import answers_check
from followups.workdays import (
    CalendarUnknown,
    WorkingCalendar,
    end_of_working_day,
    start_of_working_day,
    working_day_deadline,
)
from tickets import services as ticket_services
from tickets.choices import Category, Channel, State
from tickets.errors import ApplicationError, invalid
from tickets.models import FaultType, Ticket, TicketEvent
from tickets.selectors import ticket_is_visible_to
from tickets.shifts import shift_end

logger = logging.getLogger(__name__)

Trigger = CallbackRule.Trigger
Unsatisfied = CallbackRule.Unsatisfied

SCHEDULE_BATCH = 1000
# Each run starts a little before where the last one stopped: a ticket whose transaction
# committed after the time it records is still seen. The unique key keeps it once.
SCHEDULE_OVERLAP = timedelta(minutes=10)
# A rule that has never run looks this far back.
FIRST_LOOKBACK = timedelta(days=2)
_TRIGGER_FIELD = {
    Trigger.DISPATCHED: "dispatched_at",
    Trigger.RECEIVED: "received_at",
    Trigger.CLOSED: "closed_at",
}
_NOT_CALLED_BACK = [State.CANCELLED, State.MERGED]

MAX_ATTEMPTS = 3
# A customer who did not answer is tried again this much later: the second and third tries.
RETRY_AFTER = (timedelta(hours=2), timedelta(hours=4))
# A second callback tells the customer what was done within this many working days.
SECOND_CALLBACK_WORKING_DAYS = 1

FIRST_REPLY_WITHIN = timedelta(hours=1)
FINAL_REPLY_WORKING_DAYS = 1


# Scheduling


def callbacks_schedule(
    *, now: datetime, batch: int = SCHEDULE_BATCH, since: datetime | None = None
) -> int:
    """Create the callbacks every ticket rule asks for since it last ran; return how many.

    Each page of ``batch`` tickets costs two queries: the page and its insert. A rule whose
    deadlines fall in a year the calendar does not know is left for the next run (the
    supervisor's home page warns of the missing year).
    """
    created = 0
    calendar = WorkingCalendar()
    rules = CallbackRule.objects.filter(is_active=True).exclude(trigger=Trigger.PERIODIC)
    for rule in rules.prefetch_related("samplings"):
        start = since
        if start is None and rule.scanned_through is not None:
            start = rule.scanned_through - SCHEDULE_OVERLAP
        start = start or now - FIRST_LOOKBACK
        try:
            created += _rule_schedule(rule=rule, start=start, now=now, batch=batch, cal=calendar)
        except CalendarUnknown as error:
            logger.warning("callback rule %s waits for the calendar: %s", rule.code, error.message)
            continue
        CallbackRule.objects.filter(pk=rule.pk).update(scanned_through=now)
    return created


def _rule_schedule(
    *, rule: CallbackRule, start: datetime, now: datetime, batch: int, cal: WorkingCalendar
) -> int:
    field = _TRIGGER_FIELD[Trigger(rule.trigger)]
    tickets = Ticket.objects.filter(**{f"{field}__gte": start, f"{field}__lt": now}).exclude(
        state__in=_NOT_CALLED_BACK
    )
    # A complaint opened from a callback is reported on by that callback's second one.
    tickets = tickets.exclude(channel=Channel.CALLBACK)
    if rule.channel:
        tickets = tickets.filter(channel=rule.channel)
    if rule.category:
        tickets = tickets.filter(category=rule.category)
    # One first callback per ticket: a 12345 complaint is not called back twice.
    called = Callback.objects.filter(ticket=OuterRef("pk"), follows__isnull=True)
    rows = (
        tickets.filter(~Exists(called))
        # The phone as the stored text: parsing a number per row would be most of the run.
        .annotate(phone_text=Cast("caller_phone", CharField()))
        .order_by(field, "pk")
        .values_list("pk", field, "grade", "district_id", "caller_name", "phone_text")
    )
    windows = _Windows(rule=rule, cal=cal)
    created, after = 0, None
    while True:
        page = rows
        if after is not None:
            # The first condition only narrows the index scan; the second picks the rows.
            page = page.filter(**{f"{field}__gte": after[0]}).filter(
                Q(**{f"{field}__gt": after[0]}) | Q(**{field: after[0]}, pk__gt=after[1])
            )
        page = list(page[:batch])
        callbacks = [
            (ticket_id, name, phone, *windows.of(at))
            for ticket_id, at, grade, district_id, name, phone in page
            if _sampled(ticket_id, _share(rule, grade=grade, district_id=district_id))
        ]
        _callbacks_insert(rule=rule, callbacks=callbacks, now=now)
        created += len(callbacks)
        if len(page) < batch:
            return created
        after = (page[-1][1], page[-1][0])


class _Windows:
    """Each callback's window, from what happened when: the deadline is worked out once per
    local day, not once per ticket."""

    def __init__(self, *, rule: CallbackRule, cal: WorkingCalendar) -> None:
        self.rule, self.cal = rule, cal
        self.zone = timezone.get_current_timezone()
        self._by_day: dict[date, tuple[datetime, datetime]] = {}

    def of(self, at: datetime) -> tuple[datetime, datetime]:
        day = at.astimezone(self.zone).date()
        if day not in self._by_day:
            self._by_day[day] = callback_window(rule=self.rule, at=at, cal=self.cal)
        callable_at, due_at = self._by_day[day]
        if self.rule.day_kind == CallbackRule.DayKind.WORKING:
            callable_at = at  # in working days the call may be made at once
        return callable_at, due_at


_INSERT_SQL = """
    INSERT INTO followups_callback (
        rule_id, ticket_id, name, phone, callable_at, due_at, state, attempts, method,
        answers, process, result, satisfaction, comments, unsatisfied_action, created_at
    )
    SELECT %(rule)s, page.ticket_id, page.name, page.phone, page.callable_at, page.due_at,
           'pending', 0, '', '{}'::jsonb, '', '', '', '', '', %(now)s
    FROM unnest(%(tickets)s::bigint[], %(names)s::text[], %(phones)s::text[],
                %(callable)s::timestamptz[], %(due)s::timestamptz[])
         AS page (ticket_id, name, phone, callable_at, due_at)
    ON CONFLICT DO NOTHING
"""


def _callbacks_insert(*, rule: CallbackRule, callbacks: list[tuple], now: datetime) -> None:
    """Write a page's callbacks (ticket, name, phone, callable, due) in one statement; one
    already there (a run at the same time) is left as it is."""
    if not callbacks:
        return
    if connection.vendor != "postgresql":  # the embedded SQLite has no arrays
        Callback.objects.bulk_create(
            [
                Callback(
                    rule=rule,
                    ticket_id=ticket_id,
                    name=name,
                    phone=phone,
                    callable_at=callable_at,
                    due_at=due_at,
                    created_at=now,
                )
                for ticket_id, name, phone, callable_at, due_at in callbacks
            ],
            ignore_conflicts=True,
        )
        return
    tickets, names, phones, callable_, due = (
        list(column) for column in zip(*callbacks, strict=True)
    )
    with connection.cursor() as cursor:
        cursor.execute(
            _INSERT_SQL,
            {
                "rule": rule.pk,
                "now": now,
                "tickets": tickets,
                "names": names,
                "phones": phones,
                "callable": callable_,
                "due": due,
            },
        )


def callback_window(
    *, rule: CallbackRule, at: datetime, cal: WorkingCalendar | None = None
) -> tuple[datetime, datetime]:
    """Return when a callback for what happened at ``at`` may be made and when it is due.

    In calendar days the call is made on the day itself ("the day after dispatch": during
    the next day's working hours); in working days it may be made at once, and is due by
    the end of the last working day.
    """
    if rule.day_kind == CallbackRule.DayKind.CALENDAR:
        day = timezone.localdate(at) + timedelta(days=rule.due_days)
        return start_of_working_day(day), end_of_working_day(day)
    return at, (cal or WorkingCalendar()).deadline(at, rule.due_days)


def _share(rule: CallbackRule, *, grade: str, district_id: int | None) -> int:
    """Return the share of tickets the rule calls back: the most specific sampling rate."""
    share, rank = rule.sampling_percent, 0
    for sampling in rule.samplings.all():  # prefetched with the rule
        if sampling.grade and sampling.grade != grade:
            continue
        if sampling.district_id and sampling.district_id != district_id:
            continue
        found = bool(sampling.grade) + 2 * bool(sampling.district_id)
        if found > rank:
            share, rank = sampling.percent, found
    return share


def _sampled(ticket_id: int, percent: int) -> bool:
    # A multiplicative hash spreads consecutive ids evenly, and the same ticket is always in
    # or out, however often the job runs.
    return percent >= 100 or (ticket_id * 2654435761 % 2**32) % 100 < percent


def account_callbacks_schedule(*, now: datetime, batch: int = SCHEDULE_BATCH) -> int:
    """Schedule each key and special account's periodic callback once it is near; return
    how many. An account is due a period after its last callback (or since it is known)."""
    created = 0
    for rule in CallbackRule.objects.filter(is_active=True, trigger=Trigger.PERIODIC):
        open_ = Callback.objects.filter(
            caller=OuterRef("pk"),
            rule=rule,
            state__in=[Callback.State.WAITING, Callback.State.PENDING],
        )
        last_done = (
            Callback.objects.filter(caller=OuterRef("pk"), rule=rule, done_at__isnull=False)
            .order_by("-done_at")
            .values("done_at")[:1]
        )
        accounts = (
            Caller.objects.filter(
                customer_type__in=[Caller.CustomerType.KEY_ACCOUNT, Caller.CustomerType.SPECIAL]
            )
            .filter(~Exists(open_))
            .annotate(last_done=Subquery(last_done))
            .values_list("pk", "name", "phone", "created_at", "last_done", named=True)
            .order_by("pk")
        )
        callbacks = []
        for account in accounts.iterator(chunk_size=batch):
            due_at = end_of_working_day(
                add_months(
                    timezone.localdate(account.last_done or account.created_at), rule.period_months
                )
            )
            callable_at = start_of_working_day(
                timezone.localdate(due_at) - timedelta(days=rule.due_days)
            )
            if callable_at <= now:
                callbacks.append(
                    Callback(
                        rule=rule,
                        caller_id=account.pk,
                        name=account.name,
                        phone=account.phone,
                        callable_at=callable_at,
                        due_at=due_at,
                        created_at=now,
                    )
                )
            if len(callbacks) >= batch:
                Callback.objects.bulk_create(callbacks, ignore_conflicts=True)
                created, callbacks = created + len(callbacks), []
        Callback.objects.bulk_create(callbacks, ignore_conflicts=True)
        created += len(callbacks)
    return created


def add_months(day: date, months: int) -> date:
    """Return the same day ``months`` later, or the month's last day if it is shorter."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return date(year, month, min(day.day, month_calendar.monthrange(year, month)[1]))


# Recording


@dataclass(frozen=True)
class CallbackReport:
    """What the agent recorded on one try."""

    reached: bool
    method: str = Callback.Method.PHONE
    answers: dict | None = None
    process: str = ""
    result: str = ""
    satisfaction: str = ""
    comments: str = ""
    # Only for who may decide it; otherwise the rule's default applies.
    unsatisfied_action: str = ""
    responsible_person: str = ""
    note: str = ""
    # The tries the agent's page was drawn with; another count means it was sent twice.
    attempt: int | None = None


@transaction.atomic
def callback_record(*, actor, callback: Callback, report: CallbackReport) -> Callback:
    """Record one try at a callback: no answer reschedules it (three tries, then the
    customer is unreachable); an answer records what they said and, if they are not
    satisfied, sets the rule's remedy going."""
    if not actor.has_perm("followups.record_callback"):
        raise ApplicationError(_("Your role may not do this."), code="forbidden")
    if callback.ticket_id is not None and not ticket_is_visible_to(
        ticket=callback.ticket, user=actor
    ):
        raise ApplicationError(_("No such callback."), code="not_found")
    if report.unsatisfied_action and not actor.has_perm("followups.decide_unsatisfied"):
        raise ApplicationError(
            _("Only a shift leader or the supervisor chooses what is done about it."),
            code="forbidden",
        )
    callback = (
        Callback.objects.select_for_update(of=("self",))
        .select_related("rule", "ticket")
        .get(pk=callback.pk)
    )
    if callback.state != Callback.State.PENDING:
        raise ApplicationError(
            _("This callback is already %(state)s; reload the queue.")
            % {"state": callback.get_state_display()},
            code="conflict",
            extra={"state": callback.state},
        )
    if report.attempt is not None and report.attempt != callback.attempts:
        raise ApplicationError(
            _("This callback was recorded meanwhile; reload it to see what was saved."),
            code="conflict",
            extra={"state": callback.state},
        )
    now = timezone.now()
    if not report.reached:
        return _no_answer(actor=actor, callback=callback, note=report.note, now=now)
    _report_check(callback=callback, report=report)
    answers = answers_check(callback.rule.questionnaire, report.answers or {})[0]
    CallbackAttempt.objects.create(
        callback=callback, at=now, by=actor, reached=True, note=report.note[:200]
    )
    callback.attempts += 1
    callback.state = Callback.State.DONE
    callback.method = report.method
    callback.answers = answers
    callback.process = report.process
    callback.result = report.result
    callback.satisfaction = report.satisfaction
    callback.comments = report.comments
    callback.done_at = now
    callback.done_by = actor
    callback.save()
    if report.satisfaction == Callback.Satisfaction.UNSATISFIED:
        _remedy(actor=actor, callback=callback, report=report, now=now)
        callback.save(update_fields=["unsatisfied_action", "complaint"])
    return callback


def _report_check(*, callback: Callback, report: CallbackReport) -> None:
    errors = {}
    if report.method not in Callback.Method.values:
        errors["method"] = _("Choose phone or visit.")
    if report.satisfaction not in Callback.Satisfaction.values:
        errors["satisfaction"] = _("Choose satisfied, basically satisfied or not satisfied.")
    if report.unsatisfied_action and report.unsatisfied_action not in Unsatisfied.values:
        errors["unsatisfied_action"] = _("Choose reopen or complaint.")
    for name, value, limit in (
        ("process", report.process, 2000),
        ("result", report.result, 2000),
        ("comments", report.comments, 2000),
        ("responsible_person", report.responsible_person, 60),
    ):
        if len(value) > limit:
            errors[name] = _("Write at most %(limit)s characters.") % {"limit": limit}
    _kept, answer_errors = answers_check(callback.rule.questionnaire, report.answers or {})
    errors.update(answer_errors)
    if report.satisfaction == Callback.Satisfaction.UNSATISFIED and not report.comments.strip():
        errors["comments"] = _("Write down what the customer is not satisfied with.")
    if errors:
        raise invalid(errors)


def _no_answer(*, actor, callback: Callback, note: str, now: datetime) -> Callback:
    CallbackAttempt.objects.create(
        callback=callback, at=now, by=actor, reached=False, note=note[:200]
    )
    callback.attempts += 1
    if callback.attempts >= MAX_ATTEMPTS:
        callback.state = Callback.State.UNREACHABLE
        callback.done_at = now
        callback.done_by = actor
    else:
        callback.callable_at = now + RETRY_AFTER[callback.attempts - 1]
    callback.save(update_fields=["attempts", "state", "done_at", "done_by", "callable_at"])
    return callback


def _remedy(*, actor, callback: Callback, report: CallbackReport, now: datetime) -> None:
    """The customer is not satisfied: hold someone to account, reopen the ticket or open a
    complaint, and schedule the second callback that tells them what was done."""
    ticket = callback.ticket
    crew_id = ticket.crew_id if ticket else None
    department_id = ticket.department_id if ticket else None
    person = report.responsible_person.strip()
    if crew_id is None and department_id is None and not person:
        raise invalid(
            {"responsible_person": _("Name who is responsible: no crew or department did it.")}
        )
    action = report.unsatisfied_action or callback.rule.on_unsatisfied
    reason = _("Not satisfied at the callback: %(comments)s") % {"comments": report.comments}
    work = ticket
    if action == Unsatisfied.COMPLAINT or ticket is None:
        action = Unsatisfied.COMPLAINT
        work = callback.complaint = _complaint_open(actor=actor, callback=callback, reason=reason)
    elif ticket.state == State.CLOSED:
        ticket_services.ticket_reopen(
            actor=actor, ticket=ticket, reason=reason, by_rule=True, data={"callback": callback.pk}
        )
    callback.unsatisfied_action = action
    Accountability.objects.create(
        callback=callback,
        ticket=ticket,
        crew_id=crew_id,
        department_id=department_id,
        person=person,
        deduction_points=callback.rule.deduction_points,
        reason=report.comments,
        recorded_by=actor,
        recorded_at=now,
    )
    second = Callback(
        rule=callback.rule,
        ticket=work,
        caller=callback.caller,
        follows=callback,
        name=callback.name,
        phone=callback.phone,
        state=Callback.State.WAITING,
        created_at=now,
    )
    if work.state in (State.CLOSED, State.CANCELLED):  # nothing left to wait for
        _release(second, now=now)
    second.save()


def _complaint_open(*, actor, callback: Callback, reason: str) -> Ticket:
    fault_type = callback.rule.complaint_fault_type or (
        FaultType.objects.filter(category=Category.COMPLAINT, is_active=True)
        .order_by("sort_order", "code")
        .first()
    )
    if fault_type is None:
        raise ApplicationError(
            _("No fault type for complaints is in use; ask the administrator to add one."),
            code="conflict",
        )
    source = callback.ticket
    if source is not None:
        place = {
            "address": source.address,
            "building": source.building,
            "unit": source.unit,
            "room": source.room,
            "district": source.district,
            "community": source.community,
        }
    else:
        known = (
            CallerAddress.objects.filter(caller=callback.caller)
            .select_related("community__district")
            .first()
        )
        place = {"address": known.address_line() if known else callback.name or str(callback.phone)}
        if known is not None and known.community is not None:
            place["community"] = known.community
    return ticket_services.ticket_create(
        actor=actor,
        channel=Channel.CALLBACK,
        category=Category.COMPLAINT,
        fault_type=fault_type,
        description=reason,
        caller_name=callback.name or str(callback.phone),
        caller_phone=callback.phone,
        external_ref=source.number if source else "",
        **place,
    )


def _release(callback: Callback, *, now: datetime) -> None:
    callback.state = Callback.State.PENDING
    callback.callable_at = now
    callback.due_at = working_day_deadline(now, SECOND_CALLBACK_WORKING_DAYS)


def second_callbacks_release(*, ticket: Ticket) -> int:
    """The work a second callback waited for is done: it may be made now."""
    now = timezone.now()
    waiting = list(Callback.objects.filter(ticket=ticket, state=Callback.State.WAITING))
    for callback in waiting:
        _release(callback, now=now)
        callback.save(update_fields=["state", "callable_at", "due_at"])
    return len(waiting)


# Complaints


def first_reply_due(received_at: datetime) -> datetime:
    """Return when a complaint's first reply is due: within the hour, by the shift that
    took it (the shift change comes first if it is sooner)."""
    return min(received_at + FIRST_REPLY_WITHIN, shift_end(received_at))


def complaint_follow(*, ticket: Ticket, event: TicketEvent) -> None:
    """Keep a complaint ticket's reply deadlines in step with what happens to it."""
    Action = TicketEvent.Action
    if ticket.category != Category.COMPLAINT:
        return  # every other ticket's events cost no query here
    if event.action == Action.CREATED:
        Complaint.objects.create(ticket=ticket, first_reply_due=first_reply_due(ticket.received_at))
        return
    complaint = Complaint.objects.filter(ticket=ticket).first()
    if complaint is None:
        return
    if event.action in (Action.RESOLVED, Action.ANSWERED):
        complaint.final_reply_due = working_day_deadline(event.at, FINAL_REPLY_WORKING_DAYS)
    elif event.action == Action.CLOSED:
        complaint.final_replied_at = event.at
        # The final reply answers the customer; a first one not recorded is no longer owed.
        complaint.first_replied_at = complaint.first_replied_at or event.at
    elif event.action == Action.REOPENED:
        complaint.final_reply_due = complaint.final_replied_at = None
    else:
        return
    complaint.save()


@transaction.atomic
def complaint_first_reply(*, actor, ticket: Ticket, text: str) -> Complaint:
    """Record the first reply to a complaint: what the customer was told, and when."""
    if not actor.has_perm("followups.record_callback"):
        raise ApplicationError(_("Your role may not do this."), code="forbidden")
    if not ticket_is_visible_to(ticket=ticket, user=actor):
        raise ApplicationError(_("No ticket with that number."), code="not_found")
    text = text.strip()
    if not text:
        raise invalid({"text": _("Write what the customer was told.")})
    if len(text) > 2000:
        raise invalid({"text": _("Write at most %(limit)s characters.") % {"limit": 2000}})
    complaint = Complaint.objects.select_for_update().filter(ticket=ticket).first()
    if complaint is None:
        raise ApplicationError(_("This ticket is not a complaint."), code="not_found")
    if complaint.first_replied_at is not None:
        raise ApplicationError(
            _("The first reply was already recorded at %(time)s.")
            % {"time": timezone.localtime(complaint.first_replied_at).strftime("%Y-%m-%d %H:%M")},
            code="conflict",
        )
    complaint.first_replied_at = timezone.now()
    complaint.first_replied_by = actor
    complaint.first_reply = text
    complaint.save(update_fields=["first_replied_at", "first_replied_by", "first_reply"])
    return complaint
