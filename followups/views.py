"""Follow-up pages: the agent's callback workbench, complaints' first replies, the daily lists."""

import csv
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from audit.services import audit_file_downloaded
from audit.signals import client_address
from callcentre.exports import safe_cell
from callcentre.templating import render_partial
from followups import selectors, services
from followups.forms import CallbackForm, DayForm, FirstReplyForm
from followups.models import Callback
from followups.questions import SCRIPTS, SECOND_SCRIPT
from tickets.choices import State
from tickets.errors import ApplicationError
from tickets.forms import show_service_errors
from tickets.selectors import ticket_get_for_user
from tickets.status import phone_masked

_RECORD = "followups.record_callback"
_LISTS = "followups.view_callback_lists"


@never_cache
@login_required
@permission_required(_RECORD, raise_exception=True)
def queue(request: HttpRequest) -> HttpResponse:
    """The callbacks to make now, the earliest deadline first."""
    now = timezone.now()
    found = selectors.callback_queue(user=request.user, now=now)
    rows = render_partial(
        "followups/_queue_rows.html",
        {"lines": _queue_lines(found.rows, now=now), "words": _queue_words()},
    )
    return render(
        request,
        "followups/queue.html",
        {"queue": found, "rows": rows, "cap": selectors.COUNT_CAP},
    )


@dataclass(frozen=True)
class QueueLine:
    """A row of the queue as the page shows it."""

    url: str
    due: str
    overdue: bool
    rule: str
    is_second: bool
    customer: str
    ticket: str
    state: str
    state_label: str
    fault: str
    attempts: int


def _queue_lines(rows: list[selectors.QueueRow], *, now: datetime) -> list[QueueLine]:
    # Worked out once per page: the words, the time zone, the link's start.
    state_labels = {value: str(label) for value, label in State.choices}
    prefix = reverse("followups:queue")
    zone = timezone.get_current_timezone()
    return [
        QueueLine(
            url=f"{prefix}{row.id}/",
            due=row.due_at.astimezone(zone).strftime("%m-%d %H:%M"),
            overdue=row.due_at < now,
            rule=row.rule_name,
            is_second=row.is_second,
            customer=f"{row.name or '—'} · {national_phone(row.phone)}",
            ticket=row.ticket_number or "",
            state=row.ticket_state or "",
            state_label=state_labels.get(row.ticket_state, ""),
            fault=row.fault or "—",
            attempts=row.attempts,
        )
        for row in rows
    ]


def _queue_words() -> dict[str, str]:
    return {
        "overdue": _("Overdue"),
        "second": _("second callback"),
        "account": _("account"),
        "call": _("Call"),
    }


def national_phone(e164: str) -> str:
    """Return a stored Chinese number as staff write it (mobile 138 1234 5678, fixed lines
    with their 0), without parsing it again; other countries' numbers as stored."""
    if not e164.startswith("+86"):
        return e164
    digits = e164[3:]
    if len(digits) == 11 and digits.startswith("1"):
        return f"{digits[:3]} {digits[3:7]} {digits[7:]}"
    return f"0{digits}"


@never_cache
@login_required
@permission_required(_RECORD, raise_exception=True)
def queue_next(request: HttpRequest) -> HttpResponse:
    """Open the first callback of the queue, or the queue if it is empty."""
    found = selectors.callback_queue(user=request.user, now=timezone.now(), limit=1)
    if found.rows:
        return redirect("followups:callback", pk=found.rows[0].id)
    messages.info(request, _("No callback is due now."))
    return redirect("followups:queue")


def _callback_page(request: HttpRequest, pk: int, form: CallbackForm | None = None) -> dict:
    page = selectors.callback_for_user(user=request.user, pk=pk)
    callback = page.callback
    form = form or CallbackForm(
        callback=callback, may_decide=request.user.has_perm("followups.decide_unsatisfied")
    )
    return {"page": page, "callback": callback, "form": form, "script": _script(page)}


def _script(page: selectors.CallbackPage) -> str:
    callback, ticket = page.callback, page.ticket
    values = {
        "name": callback.name or _("customer"),
        "number": ticket.number if ticket else "",
        "fault": ticket.fault_type.name if ticket else "",
        "date": date_format(timezone.localtime(ticket.received_at), "SHORT_DATE_FORMAT")
        if ticket
        else "",
    }
    template = SECOND_SCRIPT if callback.is_second else SCRIPTS[callback.rule.questionnaire]
    return template % values


@never_cache
@login_required
@permission_required(_RECORD, raise_exception=True)
def callback_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return render(request, "followups/callback.html", _callback_page(request, pk))


@login_required
@require_POST
@permission_required(_RECORD, raise_exception=True)
def callback_record(request: HttpRequest, pk: int) -> HttpResponse:
    page = selectors.callback_for_user(user=request.user, pk=pk)
    form = CallbackForm(
        request.POST,
        callback=page.callback,
        may_decide=request.user.has_perm("followups.decide_unsatisfied"),
    )
    if form.is_valid():
        try:
            callback = services.callback_record(
                actor=request.user, callback=page.callback, report=form.report()
            )
        except ApplicationError as error:
            show_service_errors(form, error)
        else:
            messages.success(request, _recorded_message(callback))
            return redirect("followups:next")
    context = _callback_page(request, pk, form=form)
    return render(request, "followups/callback.html", context, status=400)


def _recorded_message(callback: Callback) -> str:
    if callback.state == Callback.State.UNREACHABLE:
        return _("No answer three times: the customer is marked unreachable.")
    if callback.state == Callback.State.PENDING:
        return _("No answer: tried again from %(time)s.") % {
            "time": timezone.localtime(callback.callable_at).strftime("%H:%M")
        }
    if callback.complaint is not None:
        return _("Recorded. Complaint ticket %(number)s opened; a second callback will follow.") % {
            "number": callback.complaint.number
        }
    if callback.unsatisfied_action:
        return _("Recorded. The ticket goes back to the dispatcher; a second callback will follow.")
    return _("Callback recorded.")


@never_cache
@login_required
@permission_required(_RECORD, raise_exception=True)
def complaints(request: HttpRequest) -> HttpResponse:
    """Complaints still owed a reply, the nearest deadline first, each with its reply form."""
    awaiting = selectors.complaints_awaiting_reply(user=request.user)[:100]
    return render(
        request,
        "followups/complaints.html",
        {"complaints": awaiting, "now": timezone.now(), "form": FirstReplyForm()},
    )


@login_required
@require_POST
@permission_required(_RECORD, raise_exception=True)
def complaint_reply(request: HttpRequest, number: str) -> HttpResponse:
    ticket = ticket_get_for_user(user=request.user, number=number)
    form = FirstReplyForm(request.POST)
    if form.is_valid():
        services.complaint_first_reply(actor=request.user, ticket=ticket, **form.cleaned_data)
        messages.success(request, _("First reply to %(number)s recorded.") % {"number": number})
    else:
        messages.error(request, _("Write what the customer was told."))
    return redirect("followups:complaints")


def _day(request: HttpRequest) -> tuple[DayForm, datetime]:
    today = timezone.localdate()
    form = DayForm(request.GET or {"day": today})
    day = form.cleaned_data["day"] if form.is_valid() else today
    return form, day


@never_cache
@login_required
@permission_required(_LISTS, raise_exception=True)
def register(request: HttpRequest) -> HttpResponse:
    """The callback register (回访登记表) of a day, on the page or as a spreadsheet."""
    form, day = _day(request)
    callbacks = selectors.callback_register(day=day)
    if request.GET.get("format") == "csv":
        return _csv(request, f"callback-register-{day:%Y-%m-%d}.csv", _REGISTER_COLUMNS, callbacks)
    return render(
        request, "followups/register.html", {"form": form, "day": day, "callbacks": callbacks}
    )


@never_cache
@login_required
@permission_required(_LISTS, raise_exception=True)
def overdue(request: HttpRequest) -> HttpResponse:
    """Complaints past a reply limit (逾期未处理明细): as of now today, or a past day's end."""
    form, day = _day(request)
    as_of = min(timezone.now(), selectors.day_bounds(day)[1])
    complaints = selectors.complaints_overdue(as_of=as_of)
    if request.GET.get("format") == "csv":
        return _csv(request, f"overdue-complaints-{day:%Y-%m-%d}.csv", _OVERDUE_COLUMNS, complaints)
    return render(
        request,
        "followups/overdue.html",
        {"form": form, "day": day, "as_of": as_of, "complaints": complaints},
    )


def _when(value: datetime | None) -> str:
    return timezone.localtime(value).strftime("%Y-%m-%d %H:%M") if value else ""


def _register_row(callback: Callback, phone_shown: Callable) -> list[str]:
    ticket = callback.ticket
    accountability = getattr(callback, "accountability", None)
    return [
        _when(callback.done_at),
        ticket.number if ticket else "",
        callback.rule.name,
        callback.name,
        phone_shown(callback.phone),
        callback.get_state_display(),
        callback.get_method_display(),
        callback.get_satisfaction_display(),
        callback.result,
        callback.comments,
        callback.get_unsatisfied_action_display(),
        callback.complaint.number if callback.complaint else "",
        str(accountability.crew or accountability.department or accountability.person)
        if accountability
        else "",
        str(accountability.deduction_points) if accountability else "",
        str(callback.attempts),
        callback.done_by.get_full_name() if callback.done_by else "",
    ]


_REGISTER_COLUMNS = (
    lambda: [
        _("Done at"),
        _("Ticket"),
        _("Rule"),
        _("Name"),
        _("Phone"),
        _("State"),
        _("How"),
        _("Satisfaction"),
        _("Result"),
        _("Comments"),
        _("Done about it"),
        _("Complaint ticket"),
        _("Held responsible"),
        _("Deduction (points)"),
        _("Attempts"),
        _("Agent"),
    ],
    _register_row,
)


def _overdue_row(complaint, phone_shown: Callable) -> list[str]:
    ticket = complaint.ticket
    return [
        ticket.number,
        str(ticket.fault_type),
        ticket.caller_name,
        phone_shown(ticket.caller_phone),
        _when(ticket.received_at),
        _when(complaint.first_reply_due),
        _when(complaint.first_replied_at),
        _when(complaint.final_reply_due),
        _when(complaint.final_replied_at),
        ticket.get_state_display(),
        str(ticket.department or ticket.crew or ""),
    ]


_OVERDUE_COLUMNS = (
    lambda: [
        _("Ticket"),
        _("Fault"),
        _("Name"),
        _("Phone"),
        _("Received"),
        _("First reply due"),
        _("First replied"),
        _("Final reply due"),
        _("Final replied"),
        _("State"),
        _("Crew or department"),
    ],
    _overdue_row,
)


def _csv(
    request: HttpRequest,
    filename: str,
    columns: tuple[Callable[[], list[str]], Callable],
    rows: Iterable,
) -> HttpResponse:
    """The list as CSV; phones masked unless ``phones=full`` from whoever may have them.
    Either way the download is written to the audit log."""
    full_phones = request.GET.get("phones") == "full"
    if full_phones and not request.user.has_perm("reports.export_full_phones"):
        raise PermissionDenied
    audit_file_downloaded(
        actor=request.user,
        name=filename,
        full_phones=full_phones,
        address=client_address(request),
    )
    headings, row_of = columns
    phone_shown = str if full_phones else phone_masked
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.write("\ufeff")  # so that spreadsheet programs read the Chinese as UTF-8
    writer = csv.writer(response)
    writer.writerow(headings())
    for row in rows:
        writer.writerow([safe_cell(value) for value in row_of(row, phone_shown)])
    return response
