"""Who may open every page and call every endpoint: one table, checked against the URL
configuration, so that an address nobody wrote a row for fails the test by its name.

Each row of ``MATRIX`` is a URL pattern's name and the status each role gets from it. A row
may be followed by variants of the same pattern on other objects or with another method
("tickets:detail referred", "ledger post"): the name is the first word. ``CALLS`` says how a
row is called when it is not a plain GET: the method, the path's arguments (built from the
objects below) and the query. A POST carries no input (only ``PROBE``), so the roles let
through are only checked to get past the gate: ``OK`` means anything but 401, 403, 404 and
500 (a 400 for the missing input, a 302 back to the page, a 409 for a state the action does
not fit). Nothing anywhere may answer 500, and an anonymous 302 leads to a sign-in page.

A crew sees only its own crew's work; to another crew (``crew_b``) a ticket, its photos and
its actions do not exist. The Django admin keeps its own permissions per model: its index is
a row (staff only) and the pages it makes for each registered model are left out (see
``_admin_generated``); any other page mounted in it needs a row like every other address.
"""

import io
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import timedelta

import pytest
from django.contrib import admin
from django.core.cache import caches
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone
from drf_spectacular.views import SpectacularAPIView
from PIL import Image
from rest_framework.response import Response

from callcentre.cti import cti_signature
from callcentre.models import Open311Service
from callcentre.open311.services import open311_request_create, partner_issue
from followups.models import Callback
from followups.services import callbacks_schedule
from outages import services as outages
from outages.models import IncidentStep, PlanStep
from reports import services as reports
from reports.models import Report
from staffing.models import RosterEntry, RosterRole, Seat, ShiftTemplate
from tests.conftest import T0
from tickets import services
from tickets.choices import Channel, State
from tickets.public import status_token
from tickets.services import alerts_sweep

pytestmark = pytest.mark.django_db

# The columns of the table, in order. The crew leader and member are of crew A, which has
# the tickets below; "crew_b" is the leader of another crew.
ROLES = (
    "anonymous",
    "admin",
    "supervisor",
    "shift_leader",
    "dispatcher",
    "agent",
    "crew_leader",
    "crew_member",
    "crew_b",
    "department",
)

# A field no form has: a POST without any is read as a GET by ``request.POST or None``.
PROBE = {"probe": "1"}

# Where an anonymous 302 goes somewhere other than the sign-in page, by design.
NOT_TO_SIGN_IN = {"set_language"}  # back where the person was

CTI_SECRET = "cti-secret-for-tests"

OK = "ok"  # past the gate: not refused (401, 403), not hidden (404), not broken (500)
REFUSED = {401, 403, 404, 500}

# fmt: off
MATRIX: dict[str, tuple] = {
    #                              anon admin  sup shift disp agent lead memb crewb dept
    # The agent console: whoever logs calls.
    "console":                    (302, 200, 200, 200, 200, 200, 403, 403, 403, 403),
    "console post":               (302,  OK,  OK,  OK,  OK,  OK, 403, 403, 403, 403),
    "console-done":               (302, 200, 200, 200, 200, 200, 403, 403, 403, 403),
    "console-answered":           (302,  OK,  OK,  OK,  OK,  OK, 403, 403, 403, 403),
    "console-link":               (302,  OK,  OK,  OK,  OK,  OK, 403, 403, 403, 403),
    "console-caller":             (302, 200, 200, 200, 200, 200, 403, 403, 403, 403),
    "console-place":              (302, 200, 200, 200, 200, 200, 403, 403, 403, 403),
    "console-communities":        (302, 200, 200, 200, 200, 200, 403, 403, 403, 403),
    "console-faq":                (302, 200, 200, 200, 200, 200, 403, 403, 403, 403),
    "console-pop":                (302, 204, 204, 204, 204, 204, 403, 403, 403, 403),
    "ledger":                     (302, 200, 200, 200, 403, 403, 403, 403, 403, 403),
    "ledger post":                (302,  OK,  OK,  OK, 403, 403, 403, 403, 403, 403),
    # Signing in and out, and the home page of each role (the admin's and a crew's elsewhere).
    "home":                       (302, 302, 200, 200, 200, 200, 302, 302, 302, 200),
    "login":                      (200, 302, 302, 302, 302, 302, 302, 302, 302, 302),
    "logout":                     (302, 302, 302, 302, 302, 302, 302, 302, 302, 302),
    "set_language":               (302, 302, 302, 302, 302, 302, 302, 302, 302, 302),
    # Tickets: everyone signed in has a list (of what they may see); the rest by permission.
    "tickets:list":               (302, 200, 200, 200, 200, 200, 200, 200, 200, 200),
    "tickets:create":             (302, 200, 200, 200, 200, 200, 403, 403, 403, 403),
    "tickets:create post":        (302,  OK,  OK,  OK,  OK,  OK, 403, 403, 403, 403),
    "tickets:review":             (302, 200, 200, 200, 403, 403, 403, 403, 403, 403),
    "tickets:detail":             (302, 200, 200, 200, 200, 200, 200, 200, 404, 404),
    "tickets:detail referred":    (302, 200, 200, 200, 200, 200, 404, 404, 404, 200),
    "tickets:slip":               (302, 200, 200, 200, 200, 200, 200, 200, 404, 404),
    "tickets:slip-pdf":           (302, 200, 200, 200, 200, 200, 200, 200, 404, 404),
    "tickets:photo":              (302, 200, 200, 200, 200, 200, 200, 200, 404, 404),
    "tickets:act":                (302,  OK,  OK,  OK,  OK, 403, 404, 404, 404, 404),
    "tickets:act accept":         (302, 403, 403, 403, 403, 403,  OK,  OK, 404, 404),
    # A role that may not answer is told so (403) before its form is read.
    "tickets:act answer":         (302,  OK,  OK, 403,  OK, 403, 404, 404, 404,  OK),
    # Alerts: each person's own; the cause of a delay is the dispatcher's to record.
    "alerts:list":                (302, 200, 200, 200, 200, 200, 200, 200, 200, 200),
    "alerts:badge":               (302, 200, 200, 200, 200, 200, 200, 200, 200, 200),
    "alerts:acknowledge-all":     (302,  OK,  OK,  OK,  OK,  OK,  OK,  OK,  OK,  OK),
    "alerts:acknowledge":         (302, 404, 404, 404,  OK, 404, 404, 404, 404, 404),
    "alerts:cause":               (302, 403, 403, 403, 200, 403, 403, 403, 403, 403),
    "alerts:cause post":          (302, 403, 403, 403,  OK, 403, 403, 403, 403, 403),
    "alerts:delays":              (302, 200, 200, 403, 403, 403, 403, 403, 403, 403),
    # Reports and exports: the leads read them, the supervisor approves; an export is its
    # requester's (the supervisor's here).
    "reports:list":               (302, 200, 200, 200, 403, 403, 403, 403, 403, 403),
    "reports:dashboard":          (302, 200, 200, 200, 403, 403, 403, 403, 403, 403),
    "reports:detail":             (302, 200, 200, 200, 403, 403, 403, 403, 403, 403),
    "reports:detail post":        (302, 403, 403,  OK, 403, 403, 403, 403, 403, 403),
    "reports:download":           (302, 200, 200, 200, 403, 403, 403, 403, 403, 403),
    "reports:approve":            (302,  OK,  OK, 403, 403, 403, 403, 403, 403, 403),
    "reports:regenerate":         (302,  OK,  OK, 403, 403, 403, 403, 403, 403, 403),
    "reports:exports":            (302, 200, 200, 200, 403, 403, 403, 403, 403, 403),
    "reports:exports post":       (302,  OK,  OK,  OK, 403, 403, 403, 403, 403, 403),
    "reports:export-download":    (302, 404, 200, 404, 403, 403, 403, 403, 403, 403),
    # The floor: a seat's own status, the wallboard, seats, the roster and the plan.
    "staffing:my-status":         (302, 200, 200, 200, 200, 200, 403, 403, 403, 403),
    "staffing:my-status-change":  (302,  OK,  OK,  OK,  OK,  OK, 403, 403, 403, 403),
    "staffing:shift-attendance":  (302,  OK,  OK,  OK,  OK,  OK,  OK,  OK,  OK,  OK),
    "staffing:wallboard":         (302, 200, 200, 200, 403, 403, 403, 403, 403, 403),
    "staffing:wallboard-live":    (302, 200, 200, 200, 403, 403, 403, 403, 403, 403),
    "staffing:seat-switch":       (302,  OK,  OK,  OK, 403, 403, 403, 403, 403, 403),
    "staffing:roster":            (302, 200, 200, 200, 403, 403, 403, 403, 403, 403),
    "staffing:roster post":       (302,  OK,  OK,  OK, 403, 403, 403, 403, 403, 403),
    "staffing:roster-copy":       (302,  OK,  OK,  OK, 403, 403, 403, 403, 403, 403),
    "staffing:roster-remove":     (302,  OK,  OK,  OK, 403, 403, 403, 403, 403, 403),
    "staffing:planning":          (302, 200, 200, 200, 403, 403, 403, 403, 403, 403),
    # Dispatch: the board and the unclosed list are the dispatcher's.
    "dispatch:board":             (302, 200, 200, 403, 200, 403, 403, 403, 403, 403),
    "dispatch:lanes":             (302, 200, 200, 403, 200, 403, 403, 403, 403, 403),
    "dispatch:send":              (302, 200, 200, 403, 200, 403, 403, 403, 403, 403),
    "dispatch:send post":         (302,  OK,  OK, 403,  OK, 403, 403, 403, 403, 403),
    "dispatch:unclosed":          (302, 200, 200, 403, 200, 403, 403, 403, 403, 403),
    "dispatch:unclosed-plan":     (302,  OK,  OK, 403,  OK, 403, 403, 403, 403, 403),
    # The crew's phone: its own crew's tickets only.
    "crew:home":                  (302, 403, 403, 403, 403, 403, 200, 200, 200, 403),
    "crew:duty":                  (302, 403, 403, 403, 403, 403,  OK,  OK,  OK, 403),
    "crew:ticket":                (302, 403, 403, 403, 403, 403, 200, 200, 404, 403),
    "crew:act":                   (302, 403, 403, 403, 403, 403,  OK,  OK, 404, 403),
    # Callbacks: whoever records them; the daily lists are the leads'.
    "followups:queue":            (302, 200, 200, 200, 200, 200, 403, 403, 403, 403),
    "followups:next":             (302, 302, 302, 302, 302, 302, 403, 403, 403, 403),
    "followups:callback":         (302, 200, 200, 200, 200, 200, 403, 403, 403, 403),
    "followups:record":           (302,  OK,  OK,  OK,  OK,  OK, 403, 403, 403, 403),
    "followups:complaints":       (302, 200, 200, 200, 200, 200, 403, 403, 403, 403),
    "followups:complaint-reply":  (302,  OK,  OK,  OK,  OK,  OK, 403, 403, 403, 403),
    "followups:register":         (302, 200, 200, 200, 403, 403, 403, 403, 403, 403),
    "followups:overdue":          (302, 200, 200, 200, 403, 403, 403, 403, 403, 403),
    # The customer's pages: no sign-in, a signed token in the address.
    "status:lookup":              (200, 200, 200, 200, 200, 200, 200, 200, 200, 200),
    "status:lookup post":         ( OK,  OK,  OK,  OK,  OK,  OK,  OK,  OK,  OK,  OK),
    "status:show":                (200, 200, 200, 200, 200, 200, 200, 200, 200, 200),
    "status:slip":                (200, 200, 200, 200, 200, 200, 200, 200, 200, 200),
    "status:slip-pdf":            (200, 200, 200, 200, 200, 200, 200, 200, 200, 200),
    "public-notices":             (200, 200, 200, 200, 200, 200, 200, 200, 200, 200),
    # Outages: the front desk reads them, the dispatcher and supervisor publish and keep
    # them; the supervisor declares a major incident.
    "outages:list":               (302, 200, 200, 200, 200, 200, 403, 403, 403, 403),
    "outages:new":                (302, 200, 200, 403, 200, 403, 403, 403, 403, 403),
    "outages:new post":           (302,  OK,  OK, 403,  OK, 403, 403, 403, 403, 403),
    "outages:detail":             (302, 200, 200, 200, 200, 200, 403, 403, 403, 403),
    "outages:detail post":        (302,  OK,  OK, 403,  OK, 403, 403, 403, 403, 403),
    "outages:restore":            (302,  OK,  OK, 403,  OK, 403, 403, 403, 403, 403),
    "outages:cancel":             (302,  OK,  OK, 403,  OK, 403, 403, 403, 403, 403),
    "outages:declare":            (302, 200, 200, 403, 200, 403, 403, 403, 403, 403),
    "outages:declare post":       (302,  OK,  OK, 403,  OK, 403, 403, 403, 403, 403),
    "outages:tick":               (302,  OK,  OK, 403,  OK, 403, 403, 403, 403, 403),
    # The admin's index: staff only; anyone else is sent to the admin's own sign-in.
    "admin:index":                (302, 200, 200, 302, 302, 302, 302, 302, 302, 302),
    # Of the pages the admin makes, two pinned: the audit log is the administrator's alone,
    # and so are the users (a supervisor is staff, but neither reads nor changes them).
    "admin:audit_auditentry_changelist":
                                  (302, 200, 403, 302, 302, 302, 302, 302, 302, 302),
    "admin:staffing_user_changelist":
                                  (302, 200, 403, 302, 302, 302, 302, 302, 302, 302),
    # Pages added to the admin: each checks the model permissions of the admin's own.
    "admin:followups_workingdayoverride_calendar":
                                  (302, 200, 200, 302, 302, 302, 302, 302, 302, 302),
    "admin:auth_user_password_change":
                                  (302, 200, 403, 302, 302, 302, 302, 302, 302, 302),
    # The API: without credentials 401, with the scheme to use.
    "api-root":                   (401, 200, 200, 200, 200, 200, 200, 200, 200, 200),
    "api-token":                  (400, 400, 400, 400, 400, 400, 400, 400, 400, 400),
    "api-faq":                    (401, 200, 200, 200, 200, 200, 403, 403, 403, 403),
    "api-calendar":               (401, 200, 200, 200, 200, 200, 200, 200, 200, 200),
    "api-callbacks":              (401, 200, 200, 200, 200, 200, 403, 403, 403, 403),
    "api-callback-record":        (401,  OK,  OK,  OK,  OK,  OK, 403, 403, 403, 403),
    "api-alerts":                 (401, 200, 200, 200, 200, 200, 200, 200, 200, 200),
    "api-alert-ack":              (401, 404, 404, 404,  OK, 404, 404, 404, 404, 404),
    "api-alert-cause":            (401, 404, 404, 404,  OK, 404, 404, 404, 404, 404),
    "api-erlang":                 (401, 200, 200, 200, 200, 200, 200, 200, 200, 200),
    "ticket-list":                (401, 200, 200, 200, 200, 200, 200, 200, 200, 200),
    "ticket-detail":              (401, 200, 200, 200, 200, 200, 200, 200, 404, 404),
    "ticket-detail referred":     (401, 200, 200, 200, 200, 200, 404, 404, 404, 200),
    "ticket-photos":              (401, 200, 200, 200, 200, 200, 200, 200, 404, 404),
    "ticket-photo":               (401, 200, 200, 200, 200, 200, 200, 200, 404, 404),
    # A ticket's actions, on crew A's dispatched ticket: hidden from those who cannot see
    # it, then refused to a role without the action's permission.
    "ticket-verify":              (401,  OK,  OK,  OK,  OK, 403, 403, 403, 404, 404),
    "ticket-dispatch-to-crew":    (401,  OK,  OK, 403,  OK, 403, 403, 403, 404, 404),
    "ticket-refer":               (401,  OK,  OK, 403,  OK, 403, 403, 403, 404, 404),
    "ticket-merge":               (401,  OK,  OK,  OK,  OK,  OK, 403, 403, 404, 404),
    "ticket-accept":              (401, 403, 403, 403, 403, 403,  OK,  OK, 404, 404),
    "ticket-decline":             (401, 403, 403, 403, 403, 403,  OK,  OK, 404, 404),
    "ticket-arrive":              (401, 403, 403, 403, 403, 403,  OK,  OK, 404, 404),
    "ticket-mitigate":            (401, 403, 403, 403, 403, 403,  OK,  OK, 404, 404),
    "ticket-resolve":             (401, 403, 403, 403, 403, 403,  OK,  OK, 404, 404),
    "ticket-answer":              (401,  OK,  OK, 403,  OK, 403, 403, 403, 404, 404),
    "ticket-answer referred":     (401,  OK,  OK, 403,  OK, 403, 404, 404, 404,  OK),
    "ticket-close":               (401,  OK,  OK, 403,  OK, 403, 403, 403, 404, 404),
    "ticket-cancel":              (401,  OK,  OK,  OK,  OK, 403, 403, 403, 404, 404),
    "ticket-reopen":              (401,  OK,  OK,  OK,  OK, 403, 403, 403, 404, 404),
    "ticket-reclassify":          (401,  OK,  OK,  OK,  OK, 403, 403, 403, 404, 404),
    "ticket-request-extension":   (401,  OK,  OK, 403,  OK, 403,  OK,  OK, 404, 404),
    "ticket-approve-extension":   (401,  OK,  OK,  OK,  OK, 403,  OK,  OK, 404, 404),
    # The switch signs its calls (HMAC), not a person: a session is no signature.
    "api-cti-events":             (403, 403, 403, 403, 403, 403, 403, 403, 403, 403),
    "api-cti-notices":            (403, 403, 403, 403, 403, 403, 403, 403, 403, 403),
    "api-cti-events signed":      ( OK,  OK,  OK,  OK,  OK,  OK,  OK,  OK,  OK,  OK),
    "api-cti-notices signed":     ( OK,  OK,  OK,  OK,  OK,  OK,  OK,  OK,  OK,  OK),
    # Open311 partners file with their API key and anyone may read (GeoReport v2); a
    # session is not a key. A request of the hotline is not an Open311 request.
    "open311-root":               (200, 200, 200, 200, 200, 200, 200, 200, 200, 200),
    "open311-discovery":          (200, 200, 200, 200, 200, 200, 200, 200, 200, 200),
    "open311-services":           (200, 200, 200, 200, 200, 200, 200, 200, 200, 200),
    "open311-service":            (200, 200, 200, 200, 200, 200, 200, 200, 200, 200),
    "open311-requests":           (200, 200, 200, 200, 200, 200, 200, 200, 200, 200),
    "open311-requests wrong-key": (403, 403, 403, 403, 403, 403, 403, 403, 403, 403),
    "open311-request":            (200, 200, 200, 200, 200, 200, 200, 200, 200, 200),
    "open311-request hotline":    (404, 404, 404, 404, 404, 404, 404, 404, 404, 404),
    "open311-token":              (200, 200, 200, 200, 200, 200, 200, 200, 200, 200),
    # The API's description is public, like the API's own error documents.
    "api-schema":                 (200, 200, 200, 200, 200, 200, 200, 200, 200, 200),
    "api-docs":                   (200, 200, 200, 200, 200, 200, 200, 200, 200, 200),
}
# fmt: on


@dataclass(frozen=True)
class Call:
    method: str = "get"
    args: Callable[["World"], dict] = lambda world: {}
    query: dict = field(default_factory=dict)
    signed: bool = False  # by the telephone switch, with the centre's CTI secret


def _post(args: Callable[["World"], dict] = lambda world: {}) -> Call:
    return Call("post", args)


def _number(ticket: str) -> Callable[["World"], dict]:
    return lambda world: {"number": getattr(world, ticket).number}


def _pk(name: str) -> Callable[["World"], dict]:
    return lambda world: {"pk": getattr(world, name).pk}


def _act(ticket: str, action: str) -> Callable[["World"], dict]:
    return lambda world: {"number": getattr(world, ticket).number, "action": action}


# How each row is called; a row not here is a GET without arguments.
CALLS: dict[str, Call] = {
    "console post": _post(),
    "console-done": Call(args=_number("new")),
    "console-answered": _post(),
    "console-link": _post(_number("new")),
    "console-faq": Call(query={"faq_query": "水压"}),
    "ledger post": _post(),
    "logout": _post(),
    "set_language": _post(),
    "tickets:create post": _post(),
    "tickets:detail": Call(args=_number("working")),
    "tickets:detail referred": Call(args=_number("referred")),
    "tickets:slip": Call(args=_number("closed")),
    "tickets:slip-pdf": Call(args=_number("closed")),
    "tickets:photo": Call(args=lambda w: {"number": w.working.number, "key": w.photo.key}),
    "tickets:act": _post(_act("new", "verify")),
    "tickets:act accept": _post(_act("waiting", "accept")),
    "tickets:act answer": _post(_act("referred", "answer")),
    "alerts:acknowledge-all": _post(),
    "alerts:acknowledge": _post(_pk("alert")),
    "alerts:cause": Call(args=_pk("alert")),
    "alerts:cause post": _post(_pk("alert")),
    "reports:detail": Call(args=_pk("report")),
    "reports:detail post": _post(_pk("report")),
    "reports:download": Call(args=lambda w: {"pk": w.report.pk, "extension": "csv"}),
    "reports:approve": _post(_pk("report")),
    "reports:regenerate": _post(),
    "reports:exports post": _post(),
    "reports:export-download": Call(args=_pk("export")),
    "staffing:my-status-change": _post(),
    "staffing:shift-attendance": _post(),
    "staffing:seat-switch": _post(_pk("seat")),
    "staffing:roster post": _post(),
    "staffing:roster-copy": _post(),
    "staffing:roster-remove": _post(_pk("roster_entry")),
    "dispatch:send": Call(args=_number("new")),
    "dispatch:send post": _post(_number("new")),
    "dispatch:unclosed-plan": _post(_number("waiting")),
    "crew:duty": _post(),
    "crew:ticket": Call(args=_number("waiting")),
    "crew:act": _post(_act("waiting", "accept")),
    "followups:callback": Call(args=_pk("callback")),
    "followups:record": _post(_pk("callback")),
    "followups:complaint-reply": _post(_number("complaint")),
    "status:lookup post": _post(),
    "status:show": Call(args=lambda w: {"token": status_token(w.closed)}),
    "status:slip": Call(args=lambda w: {"token": status_token(w.closed)}),
    "status:slip-pdf": Call(args=lambda w: {"token": status_token(w.closed)}),
    "outages:new post": _post(),
    "outages:detail": Call(args=_pk("outage")),
    "outages:detail post": _post(_pk("outage")),
    "outages:restore": _post(_pk("outage")),
    "outages:cancel": _post(_pk("outage")),
    "outages:declare": Call(args=_number("burst")),
    "outages:declare post": _post(_number("burst")),
    "outages:tick": _post(_pk("step")),
    "admin:auth_user_password_change": Call(args=lambda w: {"id": w.person.pk}),
    "api-token": _post(),
    "api-faq": Call(query={"q": "水压"}),
    "api-calendar": Call(query={"start": "2026-11-16", "end": "2026-11-22"}),
    "api-callback-record": _post(_pk("callback")),
    "api-alert-ack": _post(_pk("alert")),
    "api-alert-cause": _post(_pk("alert")),
    "api-erlang": Call(
        query={
            "calls": 100,
            "interval_minutes": 30,
            "aht_seconds": 180,
            "target_seconds": 20,
            "service_level": 0.8,
        }
    ),
    "ticket-detail": Call(args=_number("working")),
    "ticket-detail referred": Call(args=_number("referred")),
    "ticket-photos": Call(args=_number("working")),
    "ticket-photo": Call(args=lambda w: {"number": w.working.number, "key": str(w.photo.key)}),
    # A ticket's actions in the API, all on crew A's dispatched ticket.
    **{
        f"ticket-{action}": _post(_number("waiting"))
        for action in (
            "verify",
            "dispatch-to-crew",
            "refer",
            "merge",
            "accept",
            "decline",
            "arrive",
            "mitigate",
            "resolve",
            "answer",
            "close",
            "cancel",
            "reopen",
            "reclassify",
            "request-extension",
            "approve-extension",
        )
    },
    "ticket-answer referred": _post(_number("referred")),
    "api-cti-events": _post(),
    "api-cti-notices": _post(),
    "api-cti-events signed": Call("post", signed=True),
    "api-cti-notices signed": Call("post", signed=True),
    "open311-service": Call(args=lambda w: {"code": w.service.code}),
    "open311-requests wrong-key": Call(query={"api_key": "not-a-partners-key"}),
    "open311-request": Call(args=lambda w: {"number": w.filed.ticket.number}),
    "open311-request hotline": Call(args=_number("closed")),
    "open311-token": Call(args=lambda w: {"token": str(w.filed.token)}),
}

# What Django's admin makes for each registered model, and for itself: the admin checks
# the model's own view/add/change/delete permissions (given by staffing.roles).
_ADMIN_MODEL_PAGES = ("changelist", "add", "change", "delete", "history")
_ADMIN_SITE_PAGES = {
    "login",
    "logout",
    "password_change",
    "password_change_done",
    "autocomplete",
    "jsi18n",
    "view_on_site",
    "app_list",
}


def _admin_generated(name: str | None, lookup: str) -> bool:
    """Return whether an admin pattern is one Django makes: a registered model's pages,
    the site's own, the old object address that redirects, and the catch-all."""
    if name is None:
        return lookup.endswith(("RedirectView", "catch_all_view"))
    page = name.removeprefix("admin:")
    if page in _ADMIN_SITE_PAGES:
        return True
    models = {f"{m._meta.app_label}_{m._meta.model_name}" for m in admin.site._registry}
    prefix, _, kind = page.rpartition("_")
    return kind in _ADMIN_MODEL_PAGES and prefix in models


def _patterns(
    resolver: URLResolver, prefix: str = "", namespace: str = ""
) -> Iterator[tuple[str | None, str, str]]:
    """Yield (name, route, view) of every pattern under ``resolver``, names with namespaces."""
    for pattern in resolver.url_patterns:
        route = prefix + str(pattern.pattern)
        if isinstance(pattern, URLResolver):
            inner = pattern.namespace
            yield from _patterns(pattern, route, f"{namespace}{inner}:" if inner else namespace)
        elif isinstance(pattern, URLPattern):
            name = f"{namespace}{pattern.name}" if pattern.name else None
            yield name, route, pattern.lookup_str


def _url_names(*, with_admin_generated: bool = False) -> dict[str, str]:
    """Return each URL name with its route (an unnamed pattern by its route): those the
    table must cover, or with the admin's generated pages too, those a row may name."""
    found = {}
    for name, route, view in _patterns(get_resolver()):
        generated = route.startswith("admin/") and _admin_generated(name, view)
        if generated and not with_admin_generated:
            continue
        found.setdefault(name or route, route)
    return found


def _row_name(row: str) -> str:
    return row.split(" ")[0]


def test_every_address_in_the_url_configuration_has_a_row():
    covered = {_row_name(row) for row in MATRIX}
    missing = sorted(
        f"{name} (/{route})" for name, route in _url_names().items() if name not in covered
    )
    assert not missing, "URL patterns with no row in MATRIX: " + ", ".join(missing)


def test_every_row_names_an_address_that_exists():
    names = _url_names(with_admin_generated=True)
    gone = sorted(row for row in MATRIX if _row_name(row) not in names)
    assert not gone, "rows in MATRIX for URL names that no longer exist: " + ", ".join(gone)
    assert not set(CALLS) - set(MATRIX), "CALLS for rows not in MATRIX"
    assert all(len(statuses) == len(ROLES) for statuses in MATRIX.values())


@dataclass
class World:
    """The objects the rows are called on."""

    new: object  # a new ticket, overdue to verify: the dispatcher's alert is on it
    waiting: object  # crew A's, dispatched and waiting to be accepted
    working: object  # crew A's, on site, with a photo
    photo: object
    referred: object  # referred to the department
    closed: object  # crew A's, closed, with its callback
    callback: object
    complaint: object
    burst: object  # an emergency, for a major incident to be declared on
    alert: object
    report: object
    export: object
    outage: object
    step: object
    seat: object
    roster_entry: object
    service: object
    filed: object  # a request filed through Open311
    person: object  # a seat agent, whose password the admin may set


def _png() -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), (30, 90, 200)).save(buffer, "PNG")
    return SimpleUploadedFile("site.png", buffer.getvalue(), content_type="image/png")


@pytest.fixture
def world(
    centre, make_ticket, complaint_type, rules, clock, settings, tmp_path, monkeypatch
) -> World:
    settings.MEDIA_ROOT = tmp_path
    settings.CTI_SHARED_SECRET = CTI_SECRET
    # Who gets a PDF or the API's schema is the question here, not what is in them: that is
    # tested with the slips, the reports and the API, and drawing one takes a second.
    for module in ("tickets.public", "reports.views"):
        monkeypatch.setattr(f"{module}.pdf_from_html", lambda html: b"%PDF-1.7")
    monkeypatch.setattr(
        SpectacularAPIView, "_get_schema_response", lambda view, request: Response({})
    )
    new = make_ticket(State.NEW)
    working = make_ticket(State.ON_SITE)
    (photo,) = services.repair_photos_add(actor=centre.crew_leader, ticket=working, photos=[_png()])
    for minutes in (25, 31):  # past the warning and the deadline to verify
        clock.move_to(T0 + timedelta(minutes=minutes))
        alerts_sweep(now=timezone.now())
    closed = make_ticket(State.CLOSED)
    clock.shift(60)
    callbacks_schedule(now=timezone.now())
    callback = Callback.objects.get(ticket=closed, follows__isnull=True)
    burst = make_ticket(fault_type=centre.burst)
    declared = make_ticket(fault_type=centre.burst)
    PlanStep.objects.create(fault_type=centre.burst, order=1, text="关闭上游阀门")
    outage = outages.incident_declare(
        actor=centre.supervisor,
        ticket=declared,
        expected_end_at=timezone.now() + timedelta(hours=4),
        customer_text="爆管抢修中，预计 4 小时内恢复供水。",
    )
    service = Open311Service.objects.create(
        code=centre.leak.code, fault_type=centre.leak, name=centre.leak.name, group="Water"
    )
    partner = partner_issue(name="WeChat account", channel=Channel.WECHAT)
    filed = open311_request_create(
        partner=partner.partner,
        service=service,
        data={
            "address_string": "锦华苑",
            "attribute[building]": "5",
            "attribute[unit]": "1",
            "attribute[room]": "302",
            "attribute[water_cut]": "no",
            "attribute[pipe_diameter]": "20",
            "description": "卫生间墙内渗水",
            "phone": "13812345678",
        },
        at=timezone.now(),
    )
    clock.move_to(T0 + timedelta(days=1))
    reports.reports_produce(now=timezone.now())
    export = reports.export_request(
        actor=centre.supervisor, query="", file_format="csv", now=timezone.now()
    )
    reports.export_run(export_id=export.pk, now=timezone.now())
    seat = Seat.objects.create(label="F-01", extension="8101", floating=True)
    return World(
        new=new,
        waiting=make_ticket(State.DISPATCHED),
        working=working,
        photo=photo,
        referred=make_ticket(State.REFERRED, fault_type=centre.billing),
        closed=closed,
        callback=callback,
        complaint=make_ticket(fault_type=complaint_type),
        burst=burst,
        alert=new.alerts.get(level="breach"),
        report=Report.objects.filter(kind=Report.Kind.SHIFT).first(),
        export=export,
        outage=outage,
        step=IncidentStep.objects.filter(outage=outage).first(),
        seat=seat,
        roster_entry=RosterEntry.objects.create(
            day=timezone.localdate(),
            shift=ShiftTemplate.objects.first(),
            person=centre.agent,
            role=RosterRole.AGENT,
        ),
        service=service,
        filed=filed,
        person=centre.agent,
    )


def _users(centre) -> dict:
    return {
        "anonymous": None,
        "admin": centre.admin,
        "crew_b": centre.other_crew_leader,
        **centre.by_role(),
    }


def _request(client: Client, row: str, world: World):
    call = CALLS.get(row, Call())
    url = reverse(_row_name(row), kwargs=call.args(world))
    if call.signed:
        stamp = str(int(time.time()))
        signature = cti_signature(secret=CTI_SECRET, timestamp=stamp, body=b"{}")
        sent = {
            "data": b"{}",
            "content_type": "application/json",
            "headers": {"X-CTI-Timestamp": stamp, "X-CTI-Signature": signature},
        }
    else:
        sent = {"data": PROBE if call.method == "post" else call.query}
    with transaction.atomic():  # what a request changes is undone, for the next
        response = getattr(client, call.method)(url, **sent)
        transaction.set_rollback(True)
    return url, response


def _unexpected(row: str, expected, response, *, anonymous: bool) -> str | None:
    status = response.status_code
    if expected == OK:
        return None if status not in REFUSED else f"got {status}, expected to be let through"
    if status != expected:
        return f"got {status}, expected {expected}"
    signing_in = "/login/" in response["Location"] if status == 302 else True
    if anonymous and not signing_in and row not in NOT_TO_SIGN_IN:
        return f"sent to {response['Location']}, expected the sign-in page"
    return None


def _signed_in(user) -> Client:
    client = Client(raise_request_exception=False)
    if user is not None:
        client.force_login(user)
    return client


def test_given_each_role_then_every_address_answers_it_as_the_table_says(centre, world, settings):
    # One test for every role, on one set of objects: what a request changes is undone.
    wrong = []
    for column, role in enumerate(ROLES):
        for store in caches.all():  # each role's rate limits and remembered permissions
            store.clear()
        user = _users(centre)[role]
        client = _signed_in(user)
        for row, statuses in MATRIX.items():
            url, response = _request(client, row, world)
            problem = _unexpected(row, statuses[column], response, anonymous=user is None)
            if response.status_code == 500:
                problem = f"500 ({response.exc_info and response.exc_info[1]!r})"
            if problem:
                wrong.append(f"{role:>12}  {row} {url}: {problem}")
            if settings.SESSION_COOKIE_NAME in response.cookies:  # signed out, or replaced
                client = _signed_in(user)
    assert not wrong, "answers not as the table says:\n" + "\n".join(wrong)
