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
from reports.selectors import report_get, reports_of_kind
from tickets.errors import ApplicationError
from tickets.forms import show_service_errors

_PAGE_SIZE = 30


@login_required
@permission_required("reports.view_reports", raise_exception=True)
def report_list(request: HttpRequest) -> HttpResponse:
    kind = Report.Kind.SHIFT
    page = Paginator(reports_of_kind(kind=kind), _PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "reports/list.html",
        {"page": page, "kind": kind, "regenerate_form": forms.RegenerateForm()},
    )


@login_required
@permission_required("reports.view_reports", raise_exception=True)
def report_detail(request: HttpRequest, pk: int) -> HttpResponse:
    report = report_get(pk=pk)
    form = forms.RemarksForm(request.POST or None, initial={"remarks": report.remarks})
    if request.method == "POST" and form.is_valid():
        services.report_submit(
            actor=request.user, report=report, at=timezone.now(), **form.cleaned_data
        )
        messages.success(request, _("Shift report submitted for review."))
        return redirect("reports:detail", pk=pk)
    status = 400 if form.is_bound else 200
    return render(request, "reports/shift.html", {"report": report, "form": form}, status=status)


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
    page = Paginator(reports_of_kind(kind=Report.Kind.SHIFT), _PAGE_SIZE).get_page(1)
    return render(
        request,
        "reports/list.html",
        {"page": page, "kind": Report.Kind.SHIFT, "regenerate_form": form},
        status=400,
    )


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
