"""The audit log: sign-ins, role and permission changes, exports and approvals are written
down with who and from where, the administrator reads them, and nobody changes them."""

from datetime import timedelta

import pytest
from django.contrib.auth.models import Group, Permission
from django.core.cache import caches
from django.db import DatabaseError, connection, transaction
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from audit.models import AuditAction, AuditEntry
from outages import services as outage_services
from outages.models import Outage
from reports import services as report_services
from reports.models import Report
from reports.periods import week_of
from staffing import signin
from staffing.roles import Role
from tests.conftest import T0
from tests.staffing.factories import user_with_role
from tickets import services as ticket_services
from tickets.choices import ExtensionCause, Milestone, State
from tickets.errors import ApplicationError

pytestmark = pytest.mark.django_db
PASSWORD = "pw-for-tests-1"


@pytest.fixture(autouse=True)
def _counts_cleared():
    caches["shared"].clear()


def _entries(action: str) -> list[AuditEntry]:
    return list(AuditEntry.objects.filter(action=action).order_by("id"))


def _sign_in(client: Client, username: str, password: str):
    return client.post("/accounts/login/", {"username": username, "password": password})


class TestSigningIn:
    def test_a_sign_in_a_failure_and_a_sign_out_are_written_with_the_address(self, centre):
        client = Client(REMOTE_ADDR="10.0.0.31")

        _sign_in(client, centre.agent.username, "typo")
        _sign_in(client, centre.agent.username, PASSWORD)
        client.post("/accounts/logout/")

        [failed] = _entries(AuditAction.SIGN_IN_FAILED)
        [signed_in] = _entries(AuditAction.SIGNED_IN)
        [signed_out] = _entries(AuditAction.SIGNED_OUT)
        assert (failed.actor, failed.actor_name, failed.address) == (
            None,
            centre.agent.username,
            "10.0.0.31",
        )
        assert "typo" not in str(failed.data)  # never the password tried
        assert (signed_in.actor, signed_in.address) == (centre.agent, "10.0.0.31")
        assert signed_out.actor == centre.agent

    def test_a_guesser_past_the_limit_is_written_once_per_window_not_per_guess(self, centre):
        guesser = Client(REMOTE_ADDR="198.51.100.9")
        for _ in range(signin.PER_USERNAME + 5):
            _sign_in(guesser, centre.agent.username, "guess")

        assert len(_entries(AuditAction.SIGN_IN_FAILED)) == signin.PER_USERNAME
        [refused] = _entries(AuditAction.SIGN_IN_REFUSED)
        assert (refused.actor_name, refused.address) == (centre.agent.username, "198.51.100.9")


class TestAccess:
    def test_a_role_change_in_the_admin_is_written_with_before_and_after(self, centre):
        agent = centre.agent
        admin = Client(REMOTE_ADDR="10.0.0.2")
        admin.force_login(centre.admin)
        page = admin.get(f"/admin/staffing/user/{agent.pk}/change/")
        form = page.context["adminform"].form
        data = {
            key: value
            for key, value in form.initial.items()
            if value is not None and key not in ("groups", "user_permissions", "password")
        }
        data.update(
            {
                "groups": [Group.objects.get(name=Role.DISPATCHER).pk],
                "is_active": "",  # switched off as well
                "last_login_0": "",
                "last_login_1": "",
                "date_joined_0": timezone.localtime(agent.date_joined).strftime("%Y-%m-%d"),
                "date_joined_1": timezone.localtime(agent.date_joined).strftime("%H:%M:%S"),
            }
        )

        saved = admin.post(f"/admin/staffing/user/{agent.pk}/change/", data)

        assert saved.status_code == 302, saved.context["adminform"].form.errors
        [entry] = _entries(AuditAction.ACCESS_CHANGED)
        assert (entry.actor, entry.subject, entry.address) == (
            centre.admin,
            f"user {agent.username}",
            "10.0.0.2",
        )
        assert entry.data["changed"] == {
            "roles": [[Role.AGENT], [Role.DISPATCHER]],
            "active": [True, False],
        }

    def test_saving_a_user_unchanged_writes_nothing(self, centre):
        before = {"roles": ["agent"], "active": True}
        from audit.services import audit_access_changed

        assert (
            audit_access_changed(
                actor=centre.admin, user=centre.agent, before=before, after=before, address=""
            )
            is None
        )

    def test_a_roles_permissions_changed_in_the_admin_are_written(self, centre):
        role = Group.objects.get(name=Role.AGENT)
        admin = Client()
        admin.force_login(centre.admin)
        kept = list(role.permissions.values_list("pk", flat=True))
        extra = Permission.objects.get(codename="view_reports")

        saved = admin.post(
            f"/admin/auth/group/{role.pk}/change/",
            {"name": role.name, "permissions": [*kept, extra.pk]},
        )

        assert saved.status_code == 302
        [entry] = _entries(AuditAction.ROLE_PERMISSIONS_CHANGED)
        assert entry.subject == f"role {Role.AGENT}"
        assert entry.data == {"added": ["reports.view_reports"], "removed": []}

    def test_a_user_made_by_the_service_is_written_with_the_role(self, db, sla_policies):
        user = user_with_role(Role.SHIFT_LEADER, "leader-new")

        entry = AuditEntry.objects.get(action=AuditAction.USER_CREATED, subject="user leader-new")
        assert entry.data == {"user": user.pk, "role": Role.SHIFT_LEADER}


class TestApprovals:
    def test_an_extension_decided_is_written(self, centre, make_ticket):
        ticket = make_ticket(State.ACCEPTED)
        extension = ticket_services.extension_request(
            actor=centre.crew_member,
            ticket=ticket,
            milestone=Milestone.ARRIVE,
            requested_due=ticket.arrive_due + timedelta(hours=2),
            cause=ExtensionCause.OBJECTIVE,
            reason="交通管制",
        )

        ticket_services.extension_decide(
            actor=centre.crew_leader, extension=extension, approve=True
        )

        [entry] = _entries(AuditAction.EXTENSION_DECIDED)
        assert (entry.actor, entry.subject) == (centre.crew_leader, f"ticket {ticket.number}")
        assert entry.data["state"] == "approved"

    def test_a_report_approved_is_written(self, centre, clock):
        report = report_services.report_generate(
            kind=Report.Kind.WEEKLY, period=week_of(T0 - timedelta(days=7)), now=timezone.now()
        )

        report_services.report_approve(actor=centre.supervisor, report=report, at=timezone.now())

        [entry] = _entries(AuditAction.REPORT_APPROVED)
        assert (entry.actor, entry.subject) == (centre.supervisor, f"report {report.pk}")

    def test_a_refused_approval_writes_nothing(self, centre, clock):
        report = report_services.report_generate(
            kind=Report.Kind.DAILY, period=week_of(T0 - timedelta(days=7)), now=timezone.now()
        )

        with pytest.raises(ApplicationError) as refused:
            report_services.report_approve(
                actor=centre.supervisor, report=report, at=timezone.now()
            )

        assert refused.value.code == "conflict"
        assert not _entries(AuditAction.REPORT_APPROVED)

    def test_a_late_notice_is_written_an_ordinary_one_is_not(self, centre, clock):
        starts = timezone.now() + timedelta(hours=3)
        fields = {
            "supply": Outage.Supply.WATER,
            "title": "人民路抢修停水",
            "reason": "主管漏水",
            "customer_text": "请提前储水。",
            "communities": [centre.community],
        }
        outage_services.outage_publish(
            actor=centre.supervisor,
            starts_at=starts,
            expected_end_at=starts + timedelta(hours=4),
            late_reason="主管漏水须当天抢修",
            **fields,
        )
        ahead = timezone.now() + timedelta(days=2)
        outage_services.outage_publish(
            actor=centre.supervisor,
            starts_at=ahead,
            expected_end_at=ahead + timedelta(hours=4),
            **fields,
        )

        [entry] = _entries(AuditAction.LATE_NOTICE_PUBLISHED)
        assert entry.actor == centre.supervisor
        assert entry.data["reason"] == "主管漏水须当天抢修"


class TestNobodyChangesIt:
    @pytest.fixture
    def entry(self, centre) -> AuditEntry:
        return AuditEntry.objects.filter(action=AuditAction.USER_CREATED).first()

    def test_the_database_refuses_an_update_or_a_delete(self, entry):
        for statement in (
            "UPDATE audit_auditentry SET actor_name = 'someone else' WHERE id = %s",
            "DELETE FROM audit_auditentry WHERE id = %s",
        ):
            with (
                pytest.raises(DatabaseError, match="never changed"),
                transaction.atomic(),
                connection.cursor() as cursor,
            ):
                cursor.execute(statement, [entry.pk])
        with pytest.raises(DatabaseError), transaction.atomic():
            AuditEntry.objects.filter(pk=entry.pk).delete()
        entry.refresh_from_db()
        assert entry.action == AuditAction.USER_CREATED

    def test_deleting_a_user_keeps_their_entries(self, centre):
        Client().force_login(centre.agent)
        [signed_in] = _entries(AuditAction.SIGNED_IN)

        centre.agent.delete()

        signed_in.refresh_from_db()
        assert signed_in.actor_name == "agent"

    def test_the_administrator_reads_it_and_cannot_add_change_or_delete(self, centre, entry):
        admin = Client()
        admin.force_login(centre.admin)

        listed = admin.get("/admin/audit/auditentry/")
        shown = admin.get(f"/admin/audit/auditentry/{entry.pk}/change/")
        changed = admin.post(f"/admin/audit/auditentry/{entry.pk}/change/", {"actor_name": "x"})
        deleted = admin.post(f"/admin/audit/auditentry/{entry.pk}/delete/", {"post": "yes"})

        assert listed.status_code == 200
        assert shown.status_code == 200
        assert admin.get("/admin/audit/auditentry/add/").status_code == 403
        assert changed.status_code == 403
        assert deleted.status_code == 403
        entry.refresh_from_db()
        assert entry.actor_name != "x"

    def test_only_the_administrator_reads_it(self, centre):
        supervisor = Client()
        supervisor.force_login(centre.supervisor)

        assert supervisor.get("/admin/audit/auditentry/").status_code == 403
        assert not centre.supervisor.has_perm("audit.view_auditentry")
        assert centre.admin.has_perm("audit.view_auditentry")


def test_an_api_token_taken_is_a_sign_in_and_a_wrong_password_a_failure(centre):
    api = APIClient(REMOTE_ADDR="10.0.0.40")
    api.post("/api/v1/auth/token/", {"username": centre.agent.username, "password": "typo"})
    taken = api.post(
        "/api/v1/auth/token/", {"username": centre.agent.username, "password": PASSWORD}
    )

    assert taken.status_code == 200
    [failed] = _entries(AuditAction.SIGN_IN_FAILED)
    [signed_in] = _entries(AuditAction.SIGNED_IN)
    assert (failed.actor_name, failed.address) == (centre.agent.username, "10.0.0.40")
    assert (signed_in.actor, signed_in.data) == (centre.agent, {"by": "api-token"})
