"""Report pages: the list of one kind, a report with its review, and its downloads."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from callcentre.exports import csv_response, xlsx_response
from reports import forms, services
from reports.exports import SHEETS, report_filename
from reports.models import Report
from reports.selectors import crews_on_duty, report_get, reports_of_kind
from tickets.choices import Grade, Milestone
from tickets.errors import ApplicationError
from tickets.forms import show_service_errors

_PAGE_SIZE = 30
# The grades whose deadlines the compliance table shows (a consult has its dispatch only).
GRADES = Grade.choices


@login_required
@permission_required("reports.view_reports", raise_exception=True)
def report_list(request: HttpRequest) -> HttpResponse:
    kind = request.GET.get("kind")
    kind = kind if kind in Report.Kind.values else Report.Kind.SHIFT
    return _list(request, kind, forms.RegenerateForm())


def _list(request: HttpRequest, kind: str, regenerate_form, status: int = 200) -> HttpResponse:
    page = Paginator(reports_of_kind(kind=kind), _PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "reports/list.html",
        {
            "page": page,
            "kind": kind,
            "kinds": Report.Kind.choices,
            "regenerate_form": regenerate_form,
        },
        status=status,
    )


@login_required
@permission_required("reports.view_reports", raise_exception=True)
def report_detail(request: HttpRequest, pk: int) -> HttpResponse:
    report = report_get(pk=pk)
    if report.kind != Report.Kind.SHIFT:
        if request.method == "POST":
            raise Http404
        return render(request, "reports/daily.html", _daily_context(report))
    form = forms.RemarksForm(request.POST or None, initial={"remarks": report.remarks})
    if request.method == "POST" and form.is_valid():
        services.report_submit(
            actor=request.user, report=report, at=timezone.now(), **form.cleaned_data
        )
        messages.success(request, _("Shift report submitted for review."))
        return redirect("reports:detail", pk=pk)
    status = 400 if form.is_bound else 200
    return render(request, "reports/shift.html", {"report": report, "form": form}, status=status)


def _daily_context(report: Report) -> dict:
    """The morning meeting's page: yesterday's report, and who is on duty today."""
    compliance = {}
    for row in report.figures["compliance"]:
        compliance.setdefault(row["milestone"], {})[row["grade"]] = row
    return {
        "report": report,
        "compliance": [
            (milestone.label, [compliance[milestone.value].get(grade) for grade, _label in GRADES])
            for milestone in Milestone
            if milestone.value in compliance
        ],
        "grades": GRADES,
        "crews_on_duty": crews_on_duty(),
    }


@login_required
@require_POST
def report_approve(request: HttpRequest, pk: int) -> HttpResponse:
    report = report_get(pk=pk)
    services.report_approve(actor=request.user, report=report, at=timezone.now())
    messages.success(request, _("Report approved; its figures are now kept as they are."))
    return redirect("reports:detail", pk=pk)


@login_required
@require_POST
def report_regenerate(request: HttpRequest) -> HttpResponse:
    form = forms.RegenerateForm(request.POST)
    if form.is_valid():
        try:
            report = services.report_regenerate(
                actor=request.user,
                kind=request.POST.get("kind", Report.Kind.SHIFT),
                at=form.cleaned_data["at"],
                now=timezone.now(),
            )
        except ApplicationError as error:
            show_service_errors(form, error)  # an input error; any other goes up
        else:
            messages.success(request, _("Report computed again."))
            return redirect("reports:detail", pk=report.pk)
    kind = request.POST.get("kind")
    return _list(request, kind if kind in Report.Kind.values else Report.Kind.SHIFT, form, 400)


@login_required
@permission_required("reports.view_reports", raise_exception=True)
def report_download(request: HttpRequest, pk: int, extension: str) -> HttpResponse:
    report = report_get(pk=pk)
    sheets = SHEETS[Report.Kind(report.kind)](report)
    filename = report_filename(report, extension)
    if extension == "csv":
        return csv_response(filename, sheets)
    if extension == "xlsx":
        return xlsx_response(filename, sheets)
    raise Http404
