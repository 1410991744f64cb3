"""Fixtures shared by every test: a small centre with a user of every role."""

import importlib
import uuid
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.apps import apps
from django.apps import apps as django_apps
from django.core.cache import cache
from rest_framework.test import APIClient

from dispatch.models import Crew, CrewMembership, Department
from followups.models import CallbackRule
from staffing.models import User
from staffing.roles import Role
from staffing.services import roles_sync
from tests.dispatch.factories import CommunityFactory, CrewFactory, DepartmentFactory
from tests.staffing.factories import user_with_role
from tests.tickets.factories import FaultTypeFactory
from tests.workers import Worker
from tickets import services
from tickets.choices import Category, Channel, Grade, State
from tickets.models import AlertSmsRule, FaultType, SlaPolicy, Ticket

SHANGHAI = ZoneInfo("Asia/Shanghai")
# A Monday morning in the centre's time zone; every test that reads a clock starts here.
T0 = datetime(2026, 11, 16, 9, 0, tzinfo=SHANGHAI)


@pytest.fixture(autouse=True)
def _test_settings(settings, tmp_path):
    cache.clear()  # remembered permissions and policies belong to one test's database
    # The cache every process of a site shares (the board's version and the lanes kept for
    # it) belongs to one test's database too: test processes run side by side, each on its
    # own database, and would otherwise read each other's boards.
    settings.CACHES = {
        **settings.CACHES,
        "shared": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": tmp_path / "shared-cache",
        },
    }
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    # Static files are found in the apps, not in a collected manifest.
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


@pytest.fixture
def clock():
    """Freeze time at T0; ``clock.shift(minutes=…)`` moves it on."""
    with time_machine.travel(T0, tick=False) as traveller:
        yield traveller


@pytest.fixture
def sla_policies(db):
    """Make sure the seeded policies are there (transactional tests flush the table)."""
    seed = importlib.import_module("tickets.migrations.0002_seed_sla_policies")
    alerts = importlib.import_module("tickets.migrations.0007_alerts")
    for grade, minutes in seed.STANDARD_POLICIES.items():
        escalation = {"escalate_after_minutes": alerts.ESCALATE_AFTER_MINUTES[grade]}
        SlaPolicy.objects.get_or_create(grade=grade, defaults={**minutes, **escalation})
    for rule in alerts.SMS_RULES:
        AlertSmsRule.objects.get_or_create(**rule)
    # The shift templates, staffing settings and wallboard thresholds.
    importlib.import_module("staffing.migrations.0004_seed_shifts_settings_thresholds").seed(
        django_apps, None
    )
    roles_sync()


@dataclass
class Centre:
    agent: User
    shift_leader: User
    dispatcher: User
    supervisor: User
    crew_leader: User
    crew_member: User
    other_crew_leader: User
    department_user: User
    admin: User
    crew: Crew
    other_crew: Crew
    department: Department
    leak: FaultType
    burst: FaultType
    billing: FaultType
    community: object

    def by_role(self) -> dict[str, User]:
        return {
            "agent": self.agent,
            "shift_leader": self.shift_leader,
            "dispatcher": self.dispatcher,
            "supervisor": self.supervisor,
            "crew_member": self.crew_member,
            "crew_leader": self.crew_leader,
            "department": self.department_user,
        }


@pytest.fixture
def centre(sla_policies) -> Centre:
    community = CommunityFactory()
    crew = CrewFactory()
    crew.districts.add(community.district)
    other_crew = CrewFactory()
    crew_leader = user_with_role(Role.CREW_MEMBER, "crew-leader")
    crew_member = user_with_role(Role.CREW_MEMBER, "crew-member")
    other_crew_leader = user_with_role(Role.CREW_MEMBER, "other-leader")
    CrewMembership.objects.create(crew=crew, user=crew_leader, is_leader=True)
    CrewMembership.objects.create(crew=crew, user=crew_member)
    CrewMembership.objects.create(crew=other_crew, user=other_crew_leader, is_leader=True)
    department = DepartmentFactory()
    department_user = user_with_role(Role.DEPARTMENT, "dept-user")
    department.members.add(department_user)
    admin = user_with_role(Role.ADMIN, "admin-user")
    return Centre(
        agent=user_with_role(Role.AGENT, "agent"),
        shift_leader=user_with_role(Role.SHIFT_LEADER, "shift-leader"),
        dispatcher=user_with_role(Role.DISPATCHER, "dispatcher"),
        supervisor=user_with_role(Role.SUPERVISOR, "supervisor"),
        crew_leader=crew_leader,
        crew_member=crew_member,
        other_crew_leader=other_crew_leader,
        department_user=department_user,
        admin=admin,
        crew=crew,
        other_crew=other_crew,
        department=department,
        leak=FaultTypeFactory(code="household-leak", name="单户漏水"),
        burst=FaultTypeFactory(code="burst-main", name="爆管", default_grade=Grade.EMERGENCY),
        billing=FaultTypeFactory(
            code="billing-question",
            name="水费咨询",
            category=Category.CONSULT,
            default_grade=Grade.CONSULT,
            skill=None,
        ),
        community=community,
    )


@pytest.fixture
def rules(db) -> dict[str, CallbackRule]:
    """The seeded callback rules, by code (transactional tests flush the table)."""
    importlib.import_module("followups.migrations.0003_seed_callback_rules").seed(apps, None)
    return {rule.code: rule for rule in CallbackRule.objects.all()}


@pytest.fixture
def complaint_type(db) -> FaultType:
    return FaultTypeFactory(
        code="service-complaint", name="服务态度投诉", category=Category.COMPLAINT, skill=None
    )


@pytest.fixture
def make_ticket(centre):
    """Create a ticket through the service and walk it to ``state`` through the services."""

    def make(state: str = State.NEW, *, fault_type: FaultType | None = None, **overrides):
        fault_type = fault_type or centre.leak
        fields = {
            "channel": Channel.HOTLINE,
            "category": fault_type.category,
            "fault_type": fault_type,
            "description": "厨房水管接头漏水",
            "caller_name": "张先生",
            "caller_phone": "+8613812345678",
            "address": "锦华苑",
            "building": "3",
            "unit": "2",
            "room": "501",
            "community": centre.community,
        }
        fields.update(overrides)
        ticket = services.ticket_create(actor=centre.agent, **fields)
        walk_to(ticket, state, centre)
        return Ticket.objects.get(pk=ticket.pk)

    return make


def walk_to(ticket: Ticket, state: str, centre: Centre) -> None:
    """Move ``ticket`` to ``state`` along the shortest legal path."""
    dispatcher, leader = centre.dispatcher, centre.crew_leader
    consult = ticket.grade == Grade.CONSULT
    path = {
        State.NEW: [],
        State.VERIFIED: ["verify"],
        State.DISPATCHED: ["verify", "dispatch"],
        State.ACCEPTED: ["verify", "dispatch", "accept"],
        State.ON_SITE: ["verify", "dispatch", "accept", "arrive"],
        State.MITIGATED: ["verify", "dispatch", "accept", "arrive", "mitigate"],
        State.REFERRED: ["verify", "refer"],
        State.RESOLVED: ["verify", "refer", "answer"]
        if consult
        else ["verify", "dispatch", "accept", "arrive", "resolve"],
        State.CLOSED: ["verify", "refer", "answer", "close"]
        if consult
        else ["verify", "dispatch", "accept", "arrive", "resolve", "close"],
        State.CANCELLED: ["cancel"],
        State.MERGED: ["merge"],
    }[state]
    steps = {
        "verify": lambda t: services.ticket_verify(actor=dispatcher, ticket=t),
        "dispatch": lambda t: services.ticket_dispatch(
            actor=dispatcher, ticket=t, crew=centre.crew
        ),
        "refer": lambda t: services.ticket_refer(
            actor=dispatcher, ticket=t, department=centre.department
        ),
        "accept": lambda t: services.ticket_accept(actor=leader, ticket=t),
        "arrive": lambda t: services.ticket_arrive(actor=leader, ticket=t),
        "mitigate": lambda t: services.ticket_mitigate(actor=leader, ticket=t),
        "resolve": lambda t: services.ticket_resolve(
            actor=leader, ticket=t, measures="更换接头", cost=0
        ),
        "answer": lambda t: services.ticket_answer(
            actor=centre.department_user, ticket=t, answer="已答复"
        ),
        "close": lambda t: services.ticket_close(actor=dispatcher, ticket=t),
        "cancel": lambda t: services.ticket_cancel(actor=dispatcher, ticket=t, reason="重复"),
        "merge": lambda t: services.ticket_merge(
            actor=dispatcher,
            ticket=t,
            parent=services.ticket_create(
                actor=centre.agent,
                channel=Channel.HOTLINE,
                category=Category.REPAIR,
                fault_type=centre.burst,
                description="爆管",
                caller_name="李女士",
                caller_phone="+8613912345678",
                address="主干道",
            ),
        ),
    }
    for step in path:
        steps[step](ticket)


@pytest.fixture
def api():
    """Return an API client signed in as ``user``: ``api(user).post(...)``."""

    def client(user: User | None = None) -> APIClient:
        api_client = APIClient()
        if user is not None:
            api_client.force_authenticate(user)
        return api_client

    return client


@pytest.fixture
def start_worker(tmp_path):
    """Start workers with ``start_worker(queue, name)``; any still running is killed at the
    end, so a failed test leaves no process holding the test database."""
    started = []

    def start(queue: str, name: str) -> Worker:
        worker = Worker(queue, f"{name}-{uuid.uuid4().hex[:6]}", tmp_path / f"{name}.log")
        started.append(worker)
        return worker

    yield start
    for worker in started:
        if worker.process.poll() is None:
            worker.kill()


def pytest_collection_modifyitems(items):
    """Give each operation's fuzz test its own node ID. schemathesis names the tests it
    makes after their operations (``…[GET /api/v1/faq/]``) but leaves them one node ID, and
    xdist, which shares tests out by node ID, would run one of them."""
    for item in items:
        label = getattr(item, "operation_label", None)
        if label and item._id.params is None:
            item._id = item._id.with_params(label)
