"""Report pages: the list of one kind, a report with its review, and its downloads."""

from datetime import date, datetime

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from audit.services import audit_file_downloaded
from audit.signals import client_address
from callcentre.exports import XLSX_TYPE, csv_response, xlsx_response
from callcentre.pdf import pdf_from_html
from reports import forms, services
from reports.exports import SHEETS, report_filename, report_title
from reports.models import Export, Report, Target
from reports.monthly import DayPart
from reports.selectors import (
    crews_on_duty,
    export_get_for_user,
    exports_for_user,
    report_get,
    reports_of_kind,
)
from tickets.choices import Category, ExtensionCause, Grade, Milestone
from tickets.errors import ApplicationError
from tickets.filters import TicketFilter, ticket_filter_query
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
    if report.kind == Report.Kind.DAILY:
        if request.method == "POST":
            raise Http404
        return render(request, "reports/daily.html", _daily_context(report))
    if report.kind == Report.Kind.SHIFT:
        return _shift_detail(request, report)
    return _supervisor_detail(request, report)


def _shift_detail(request: HttpRequest, report: Report) -> HttpResponse:
    form = forms.RemarksForm(request.POST or None, initial={"remarks": report.remarks})
    if request.method == "POST" and form.is_valid():
        services.report_submit(
            actor=request.user, report=report, at=timezone.now(), **form.cleaned_data
        )
        messages.success(request, _("Shift report submitted for review."))
        return redirect("reports:detail", pk=report.pk)
    status = 400 if form.is_bound else 200
    return render(request, "reports/shift.html", {"report": report, "form": form}, status=status)


def _supervisor_detail(request: HttpRequest, report: Report) -> HttpResponse:
    """The weekly and the monthly report: the supervisor writes their part, then approves."""
    monthly = report.kind == Report.Kind.MONTHLY
    form_class = forms.MonthlyReviewForm if monthly else forms.SupervisorRemarksForm
    initial = {"remarks": report.remarks, "measures": report.measures, **report.targets}
    form = form_class(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.report_write(
                actor=request.user,
                report=report,
                remarks=form.cleaned_data["remarks"],
                measures=form.cleaned_data.get("measures", ""),
                targets=form.targets() if monthly else None,
            )
        except ApplicationError as error:
            show_service_errors(form, error)
        else:
            messages.success(request, _("Saved. Approve the report when it is complete."))
            return redirect("reports:detail", pk=report.pk)
    status = 400 if form.is_bound else 200
    context = _monthly_context(report) if monthly else _weekly_context(report)
    return render(request, f"reports/{report.kind}.html", {**context, "form": form}, status=status)


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
        "outages": _outages(report),
    }


def _weekly_context(report: Report) -> dict:
    figures = report.figures
    categories = dict(Category.choices)
    volumes = figures["volumes"]
    return {
        "report": report,
        "transfer_categories": [
            (categories.get(row["category"], row["category"]), row["count"])
            for row in figures["transfers"]["by_category"]
        ],
        "volume_days": [
            (date.fromisoformat(row["day"]), row["repair"], row["consult"])
            for row in volumes["days"]
        ],
        "volume_change": {
            kind: volumes[kind] - volumes["previous"][kind] for kind in ("repair", "consult")
        },
    }


def _outages(report: Report) -> list[dict] | None:
    """The period's outages with their times read back; None in a report made before
    outages were counted."""
    rows = report.figures.get("outages")
    if rows is None:
        return None
    times = ("starts_at", "first_eta", "restored_at")
    return [
        {**row, **{name: row[name] and datetime.fromisoformat(row[name]) for name in times}}
        for row in rows
    ]


def _monthly_context(report: Report) -> dict:
    figures = report.figures
    causes = dict(ExtensionCause.choices)
    targets = figures["targets"]
    return {
        "report": report,
        "outages": _outages(report),
        "frequent": [
            {**row, "day_part_label": DayPart.LABELS[row["day_part"]]}
            for row in figures["frequent"]
        ],
        "day_parts": [
            {**row, "label": DayPart.LABELS[row["day_part"]]} for row in figures["day_parts"]
        ],
        "extensions": [
            {**row, "label": causes.get(row["cause"], row["cause"])}
            for row in figures["extensions"]
        ],
        "compliance_tables": [
            (_("By crew"), figures["compliance"]["crew"]),
            (_("By district"), figures["compliance"]["district"]),
        ],
        "accountability_rows": [
            {**row, "recorded_at": datetime.fromisoformat(row["recorded_at"])}
            for row in figures["accountability"]["rows"]
        ],
        "targets": [
            {
                "label": target.label,
                "target": targets.get(target.value),
                "actual": figures["actual"][target.value],
            }
            for target in Target
        ],
        "next_targets": [
            {"label": target.label, "value": report.targets[target.value]}
            for target in Target
            if target.value in report.targets
        ],
    }


@login_required
@permission_required("reports.approve_report", raise_exception=True)
@require_POST
def report_approve(request: HttpRequest, pk: int) -> HttpResponse:
    report = report_get(pk=pk)
    services.report_approve(actor=request.user, report=report, at=timezone.now())
    messages.success(request, _("Report approved; its figures are now kept as they are."))
    return redirect("reports:detail", pk=pk)


@login_required
@permission_required("reports.approve_report", raise_exception=True)
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
    if extension not in ("csv", "xlsx", "pdf"):
        raise Http404
    report = report_get(pk=pk)
    sheets = SHEETS[Report.Kind(report.kind)](report)
    filename = report_filename(report, extension)
    audit_file_downloaded(
        actor=request.user,
        name=filename,
        full_phones=False,  # a report holds figures and ticket rows, never a phone
        address=client_address(request),
        data={"report": report.pk},
    )
    if extension == "csv":
        return csv_response(filename, sheets)
    if extension == "xlsx":
        return xlsx_response(filename, sheets)
    html = render_to_string(
        "reports/report_pdf.html",
        {"report": report, "title": report_title(report), "sheets": sheets},
        request=request,
    )
    response = HttpResponse(pdf_from_html(html), content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@login_required
@permission_required("reports.export_tickets", raise_exception=True)
def export_list(request: HttpRequest) -> HttpResponse:
    """The user's exports with their progress; a POST asks for a new one."""
    if request.method == "POST":
        form = forms.ExportForm(request.POST)
        if form.is_valid():
            try:
                services.export_request(
                    actor=request.user,
                    now=timezone.now(),
                    address=client_address(request),
                    **form.cleaned_data,
                )
            except ApplicationError as error:
                show_service_errors(form, error)
            else:
                messages.success(
                    request, _("The file is being written; it is ready here when done.")
                )
                return redirect("reports:exports")
        for error in form.errors.values():
            messages.error(request, " ".join(error))
    status = 400 if request.method == "POST" else 200
    page = Paginator(exports_for_user(user=request.user), _PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    template = "reports/_exports.html" if request.htmx else "reports/exports.html"
    for export in page.object_list:
        export.filters_shown = _filters_shown(export.query)
    polling = any(export.is_waiting for export in page.object_list)
    return render(request, template, {"page": page, "polling": polling}, status=status)


def _filters_shown(query: str) -> str:
    """Return an export's filters as a person reads them: "grade: emergency · …"."""
    filters = TicketFilter(ticket_filter_query(QueryDict(query)))
    return " · ".join(f"{shown['label']}: {shown['shown']}" for shown in filters.filters_shown())


@login_required
@permission_required("reports.export_tickets", raise_exception=True)
def export_download(request: HttpRequest, pk: int) -> HttpResponse:
    export = export_get_for_user(user=request.user, pk=pk)
    if export.state != Export.State.DONE or not export.file:
        raise Http404
    content_type = XLSX_TYPE if export.file_format == Export.Format.XLSX else "text/csv"
    audit_file_downloaded(
        actor=request.user,
        name=export.file.name.rsplit("/", 1)[-1],
        full_phones=export.full_phones,
        address=client_address(request),
        data={"export": export.pk},
    )
    return FileResponse(
        export.file.open("rb"),
        as_attachment=True,
        filename=export.file.name.rsplit("/", 1)[-1],
        content_type=content_type,
    )
