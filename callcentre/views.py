"""The agent console: one screen to take a call and log it, and the sign-in page."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.contrib.auth.views import LoginView
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import HttpResponseClientRedirect
from drf_spectacular.views import SpectacularSwaggerSplitView

from audit.services import audit_sign_in_refused
from audit.signals import client_address
from callcentre import services
from callcentre.forms import CallOnlyForm, ConsoleForm, SpecialEventForm
from callcentre.middleware import CSP_HEADER, csp_header_value
from callcentre.promises import ticket_promise
from callcentre.selectors import (
    address_history,
    call_current_for_agent,
    caller_history,
    caller_language,
    communities_matching,
    faq_search,
    special_events_recent,
    tickets_related,
)
from staffing.signin import signin_failed, signin_refused_first, signin_succeeded, signin_wait
from tickets.errors import ApplicationError
from tickets.forms import show_service_errors
from tickets.selectors import ticket_get_for_user

_agent_only = permission_required("tickets.add_ticket", raise_exception=True)


class SignInView(LoginView):
    """The sign-in page; on a demo system it lists the demo users of every role."""

    template_name = "callcentre/login.html"
    redirect_authenticated_user = True

    def post(self, request, *args, **kwargs):
        self.address = client_address(request)
        self.username = request.POST.get("username", "")
        self.wait = signin_wait(address=self.address, username=self.username)
        if self.wait:
            if signin_refused_first(address=self.address):
                audit_sign_in_refused(username=self.username, address=self.address)
            # Not even checked: a guess past the limit learns nothing.
            form = self.get_form_class()(request, initial={"username": self.username})
            return self.render_to_response(self.get_context_data(form=form), status=429)
        return super().post(request, *args, **kwargs)

    def form_valid(self, form):
        signin_succeeded(address=self.address, username=self.username)
        return super().form_valid(form)  # Django's login() gives the session a new key

    def form_invalid(self, form):
        signin_failed(address=self.address, username=self.username)
        return super().form_invalid(form)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        wait = getattr(self, "wait", 0)
        context["wait_minutes"] = -(-wait // 60) if wait else 0
        if settings.DEMO_MODE:
            from callcentre.demo import DEMO_PASSWORD, demo_logins

            context.update(demo_password=DEMO_PASSWORD, demo_logins=demo_logins())
        return context


def _console(request: HttpRequest, form: ConsoleForm, *, status: int = 200) -> HttpResponse:
    phone = form["caller_phone"].value() or ""
    community = getattr(form, "cleaned_data", {}).get("community")
    return render(
        request,
        "callcentre/console.html",
        {
            "form": form,
            "history": caller_history(phone=str(phone)) if phone else None,
            "chosen_community": community,
            "chosen_communities": [community] if community else [],
        },
        status=status,
    )


@login_required
@_agent_only
def console(request: HttpRequest) -> HttpResponse:
    """Take a call: GET shows the form (filled from the switch's call), POST logs the ticket."""
    if request.method != "POST":
        initial = {}
        call = call_current_for_agent(agent=request.user)
        if call is not None and str(call.pk) == request.GET.get("call"):
            initial = {"call": call, "caller_phone": call.caller_number, "channel": call.channel}
            if call.caller is not None:
                initial["caller_name"] = call.caller.name
        elif request.GET.get("phone"):
            initial = {"caller_phone": request.GET["phone"]}
        return _console(request, ConsoleForm(initial=initial))
    form = ConsoleForm(request.POST)
    if form.is_valid():
        try:
            ticket = services.intake_ticket_create(
                agent=request.user,
                call=form.cleaned_data["call"],
                faq_entries=form.cleaned_data["faq_entries"],
                notes=form.cleaned_data["notes"],
                department=form.cleaned_data["department"],
                **form.ticket_fields(),
            )
        except ApplicationError as error:
            show_service_errors(form, error)
        else:
            return redirect("console-done", number=ticket.number)
    return _console(request, form, status=400)


@login_required
@_agent_only
def console_done(request: HttpRequest, number: str) -> HttpResponse:
    """Show the new ticket's number and the promise to read to the caller."""
    ticket = ticket_get_for_user(user=request.user, number=number)
    language = caller_language(phone=ticket.caller_phone)
    return render(
        request,
        "callcentre/console_done.html",
        {"ticket": ticket, "promise": ticket_promise(ticket=ticket, language=language)},
    )


def _call_only(request: HttpRequest, record) -> HttpResponse:
    """Record a call that makes no ticket; if refused, show the console again as typed."""
    form = CallOnlyForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            record(
                agent=request.user,
                call=data["call"],
                phone=data["caller_phone"].as_e164,
                name=data["caller_name"],
                notes=data["notes"],
                faq_entries=list(data["faq_entries"]),
            )
        except ApplicationError as error:
            show_service_errors(form, error)
        else:
            return redirect("console")
    problems = [str(problem) for errors in form.errors.values() for problem in errors]
    messages.error(request, " ".join(problems))
    return _console(request, ConsoleForm(initial=request.POST.dict()), status=400)


@login_required
@_agent_only
@require_POST
def console_answered(request: HttpRequest) -> HttpResponse:
    """Record a question answered on the call, from the FAQ; no ticket."""

    def record(*, faq_entries, **kwargs):
        services.intake_answer_on_call(faq_entries=faq_entries, **kwargs)
        messages.success(request, _("Recorded as answered on the call."))

    return _call_only(request, record)


@login_required
@_agent_only
@require_POST
def console_link(request: HttpRequest, number: str) -> HttpResponse:
    """Record the call as another report of an open ticket, instead of a new one."""
    ticket = ticket_get_for_user(user=request.user, number=number)

    def record(*, faq_entries, **kwargs):
        services.intake_link_to_ticket(ticket=ticket, **kwargs)
        messages.success(
            request, _("The call is linked to ticket %(number)s.") % {"number": ticket.number}
        )

    return _call_only(request, record)


@login_required
@_agent_only
@require_GET
def console_caller(request: HttpRequest) -> HttpResponse:
    """The caller panel for the number typed so far."""
    history = caller_history(phone=request.GET.get("caller_phone", ""))
    return render(request, "callcentre/_caller.html", {"history": history})


@login_required
@_agent_only
@require_GET
def console_place(request: HttpRequest) -> HttpResponse:
    """Open tickets at the address, the repeat-fault flag, and possibly the same incident."""
    form = ConsoleForm(request.GET)
    form.is_valid()  # only the fields that are right are used
    data = form.cleaned_data
    community, fault_type = data.get("community"), data.get("fault_type")
    now = timezone.now()
    context = {"community": community, "fault_type": fault_type, "building": data.get("building")}
    if community and data.get("building") and data.get("unit"):
        context["address"] = address_history(
            community=community, building=data["building"], unit=data["unit"], now=now
        )
    if community and fault_type:
        context["related"] = tickets_related(fault_type=fault_type, community=community, now=now)
    if fault_type:
        context["suggested_grade"] = fault_type.get_default_grade_display()
    return render(request, "callcentre/_place.html", context)


@login_required
@_agent_only
@require_GET
def console_communities(request: HttpRequest) -> HttpResponse:
    """Communities whose name holds what was typed, to choose one by keyboard; or the one
    a caller's earlier address names."""
    chosen = request.GET.get("community", "")
    if chosen.isdigit():
        found = communities_matching(pk=int(chosen))
    else:
        found = communities_matching(query=request.GET.get("community_query", ""))
    return render(request, "callcentre/_communities.html", {"communities": found})


@login_required
@_agent_only
@require_GET
def console_faq(request: HttpRequest) -> HttpResponse:
    query = request.GET.get("faq_query", "")[:200]
    entries = faq_search(query=query) if query.strip() else []
    return render(request, "callcentre/_faq.html", {"entries": entries, "query": query})


@login_required
@permission_required("callcentre.view_specialevent", raise_exception=True)
def ledger(request: HttpRequest) -> HttpResponse:
    """The special-event ledger (《特殊事件处理台账》): read it, and write a line."""
    form = SpecialEventForm(request.POST or None, initial={"occurred_at": timezone.now()})
    if request.method == "POST" and form.is_valid():
        try:
            services.special_event_record(actor=request.user, **form.cleaned_data)
        except ApplicationError as error:
            show_service_errors(form, error)
        else:
            messages.success(request, _("Written in the ledger."))
            return redirect("ledger")
    events = special_events_recent()
    status = 400 if form.is_bound else 200
    return render(
        request, "callcentre/ledger.html", {"form": form, "events": events}, status=status
    )


@login_required
@_agent_only
@require_GET
def console_pop(request: HttpRequest) -> HttpResponse:
    """Answer the console's poll: a call the switch just put through to this agent.

    An empty console opens the call at once (the screen pop); one already in use shows a
    banner instead, so nothing typed is lost.
    """
    call = call_current_for_agent(agent=request.user)
    if call is None or str(call.pk) == request.GET.get("call", ""):
        return HttpResponse(status=204)
    if not request.GET.get("caller_phone"):
        return HttpResponseClientRedirect(f"{reverse('console')}?call={call.pk}")
    return render(request, "callcentre/_pop.html", {"call": call})


class ApiDocsView(SpectacularSwaggerSplitView):
    """The API's documentation (Swagger UI), its script served from its own address.

    drf-spectacular's split view answers ``?script`` with the page's init script, so the
    page has no inline script; its template leaves out the inline style. Swagger UI draws
    its icons as ``data:`` images, which this page alone may show.
    """

    url_name = "api-schema"
    template_name = "callcentre/api_docs.html"

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        response[CSP_HEADER] = csp_header_value(img_src=["data:"])
        return response
