"""The outage pages: the list and a notice for the desk, publishing and keeping it current,
and the public page customers read without signing in."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from outages import services
from outages.forms import IncidentDeclareForm, OutageChangeForm, OutagePublishForm
from outages.models import IncidentStep, Outage
from outages.selectors import (
    accounts_to_call,
    linked_calls,
    outage_figures,
    outages_by_district,
    outages_published,
)
from tickets.errors import ApplicationError
from tickets.forms import show_service_errors
from tickets.models import Ticket

_readers = permission_required("outages.view_outage", raise_exception=True)
_publishers = permission_required("outages.add_outage", raise_exception=True)
_keepers = permission_required("outages.change_outage", raise_exception=True)


@login_required
@_readers
@require_GET
def outage_list(request: HttpRequest) -> HttpResponse:
    now = timezone.now()
    published = list(outages_published())
    ended = Outage.objects.exclude(state=Outage.State.PUBLISHED).order_by("-starts_at")[:20]
    return render(
        request,
        "outages/list.html",
        {
            "in_force": [outage for outage in published if outage.starts_at <= now],
            "coming": [outage for outage in published if outage.starts_at > now],
            "ended": ended,
        },
    )


@login_required
@_publishers
def outage_new(request: HttpRequest) -> HttpResponse:
    form = OutagePublishForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            outage = services.outage_publish(actor=request.user, **form.service_fields())
        except ApplicationError as error:
            show_service_errors(form, error)
        else:
            messages.success(request, _("Published; the customers in the area are being told."))
            return redirect("outages:detail", outage.pk)
    status = 400 if form.is_bound else 200
    return render(request, "outages/new.html", {"form": form}, status=status)


@login_required
@_readers
def outage_detail(request: HttpRequest, pk: int) -> HttpResponse:
    outage = get_object_or_404(
        Outage.objects.prefetch_related("districts", "communities__district", "buildings"), pk=pk
    )
    form = OutageChangeForm(
        request.POST or None,
        initial={
            "starts_at": timezone.localtime(outage.starts_at),
            "expected_end_at": timezone.localtime(outage.expected_end_at),
            "customer_text": outage.customer_text,
        },
    )
    if request.method == "POST":
        if not request.user.has_perm("outages.change_outage"):
            raise ApplicationError(_("Your role may not do this."), code="forbidden")
        if form.is_valid():
            try:
                services.outage_change(actor=request.user, outage=outage, **form.cleaned_data)
            except ApplicationError as error:
                show_service_errors(form, error)
            else:
                messages.success(request, _("Changed; the customers are being told."))
                return redirect("outages:detail", outage.pk)
    context = {
        "outage": outage,
        "form": form,
        "changes": outage.changes.select_related("actor"),
        "steps": outage.steps.select_related("done_by"),
        "linked": linked_calls(outage).count() if outage.ticket_id else None,
        "accounts": accounts_to_call(outage),
        "figures": outage_figures(outage),
    }
    return render(request, "outages/detail.html", context, status=400 if form.is_bound else 200)


@login_required
@_publishers
def incident_declare(request: HttpRequest, number: str) -> HttpResponse:
    ticket = get_object_or_404(Ticket.objects.select_related("community"), number=number)
    form = IncidentDeclareForm(
        request.POST or None,
        initial={"communities": [ticket.community] if ticket.community else []},
    )
    if request.method == "POST" and form.is_valid():
        try:
            outage = services.incident_declare(
                actor=request.user, ticket=ticket, **form.cleaned_data
            )
        except ApplicationError as error:
            show_service_errors(form, error)
        else:
            messages.success(request, _("Declared; the customers in the area are being told."))
            return redirect("outages:detail", outage.pk)
    status = 400 if form.is_bound else 200
    return render(request, "outages/declare.html", {"form": form, "ticket": ticket}, status=status)


@login_required
@_keepers
@require_POST
def incident_step_tick(request: HttpRequest, pk: int) -> HttpResponse:
    step = get_object_or_404(IncidentStep, pk=pk)
    services.incident_step_tick(actor=request.user, step=step)
    return redirect("outages:detail", step.outage_id)


@login_required
@_keepers
@require_POST
def outage_restore(request: HttpRequest, pk: int) -> HttpResponse:
    outage = get_object_or_404(Outage, pk=pk)
    services.outage_restore(actor=request.user, outage=outage)
    messages.success(request, _("Supply restored; the customers are being told."))
    return redirect("outages:detail", outage.pk)


@login_required
@_keepers
@require_POST
def outage_cancel(request: HttpRequest, pk: int) -> HttpResponse:
    outage = get_object_or_404(Outage, pk=pk)
    services.outage_cancel(actor=request.user, outage=outage)
    messages.success(request, _("Cancelled; the customers are being told."))
    return redirect("outages:detail", outage.pk)


@never_cache
@require_GET
def public_notices(request: HttpRequest) -> HttpResponse:
    """Current and coming outages by district and community, for anyone."""
    context = {"districts": outages_by_district(outages_published()), "now": timezone.now()}
    return render(request, "outages/public.html", context)
