"""One function per kind of audit entry; every sensitive action calls its own.

An entry is written in the caller's transaction, so an action that rolls back leaves no
entry claiming it happened.
"""

from typing import Any

from django.utils import timezone

from audit.models import AuditAction, AuditEntry


def _record(
    *,
    action: AuditAction,
    actor=None,
    actor_name: str = "",
    subject: str = "",
    data: dict[str, Any] | None = None,
    address: str | None = None,
) -> AuditEntry:
    known = actor is not None and actor.pk is not None
    return AuditEntry.objects.create(
        at=timezone.now(),
        action=action,
        actor=actor if known else None,
        actor_name=(actor.get_username() if known else actor_name)[:150],
        subject=subject[:200],
        data=data or {},
        address=address or None,
    )


def audit_signed_in(*, user, address: str, how: str = "page") -> AuditEntry:
    """A sign-in, on a page (``how="page"``) or for an API token (``"api-token"``)."""
    return _record(action=AuditAction.SIGNED_IN, actor=user, address=address, data={"by": how})


def audit_sign_in_failed(*, username: str, address: str) -> AuditEntry:
    """A wrong password or an unknown name: the name tried is kept, never the password."""
    return _record(action=AuditAction.SIGN_IN_FAILED, actor_name=username, address=address)


def audit_sign_in_refused(*, username: str, address: str) -> AuditEntry:
    """An address past the sign-in limit (written once per window, not per attempt)."""
    return _record(action=AuditAction.SIGN_IN_REFUSED, actor_name=username, address=address)


def audit_signed_out(*, user, address: str) -> AuditEntry:
    return _record(action=AuditAction.SIGNED_OUT, actor=user, address=address)


def audit_user_created(*, actor, user, role: str) -> AuditEntry:
    return _record(
        action=AuditAction.USER_CREATED,
        actor=actor,
        subject=f"user {user.get_username()}",
        data={"user": user.pk, "role": role},
    )


def audit_access_changed(
    *, actor, user, before: dict[str, Any], after: dict[str, Any], address: str
) -> AuditEntry | None:
    """A user's roles, switched-on state, admin access or own permissions changed; None if
    nothing did. ``before`` and ``after`` are ``staffing.selectors.user_access``."""
    changed = {
        key: [before.get(key), value] for key, value in after.items() if before.get(key) != value
    }
    if not changed:
        return None
    return _record(
        action=AuditAction.ACCESS_CHANGED,
        actor=actor,
        subject=f"user {user.get_username()}",
        data={"user": user.pk, "changed": changed},
        address=address,
    )


def audit_role_permissions_changed(
    *, actor, role: str, before: list[str], after: list[str], address: str
) -> AuditEntry | None:
    """A role's (group's) permissions changed in the admin; None if they did not."""
    added, removed = sorted(set(after) - set(before)), sorted(set(before) - set(after))
    if not added and not removed:
        return None
    return _record(
        action=AuditAction.ROLE_PERMISSIONS_CHANGED,
        actor=actor,
        subject=f"role {role}",
        data={"added": added, "removed": removed},
        address=address,
    )


def audit_export_requested(*, actor, export, address: str | None = None) -> AuditEntry:
    return _record(
        action=AuditAction.EXPORT_REQUESTED,
        actor=actor,
        subject=f"export {export.pk}",
        data={
            "query": export.query,
            "format": export.file_format,
            "full_phones": export.full_phones,
        },
        address=address,
    )


def audit_file_downloaded(
    *, actor, name: str, full_phones: bool, address: str, data: dict[str, Any] | None = None
) -> AuditEntry:
    """A file of the centre's data left it: a ticket export, a report, a callback list."""
    return _record(
        action=AuditAction.FILE_DOWNLOADED,
        actor=actor,
        subject=name,
        data={"full_phones": full_phones, **(data or {})},
        address=address,
    )


def audit_extension_decided(*, actor, extension) -> AuditEntry:
    return _record(
        action=AuditAction.EXTENSION_DECIDED,
        actor=actor,
        subject=f"ticket {extension.ticket.number}",
        data={
            "extension": extension.pk,
            "milestone": extension.milestone,
            "cause": extension.cause,
            "state": extension.state,
            "requested_due": extension.requested_due.isoformat(),
        },
    )


def audit_report_approved(*, actor, report) -> AuditEntry:
    return _record(
        action=AuditAction.REPORT_APPROVED,
        actor=actor,
        subject=f"report {report.pk}",
        data={"kind": report.kind, "period_start": report.period_start.isoformat()},
    )


def audit_late_notice_published(*, actor, outage) -> AuditEntry:
    """A notice published less than a day ahead, on the supervisor's permission."""
    return _record(
        action=AuditAction.LATE_NOTICE_PUBLISHED,
        actor=actor,
        subject=f"outage {outage.pk}",
        data={"starts_at": outage.starts_at.isoformat(), "reason": outage.late_reason},
    )
