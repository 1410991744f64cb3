"""The audit log: who signed in, exported, changed a role or approved something, and when.

Rows are only ever added. There is no add, change or delete permission (only "view"), the
admin shows them read-only, and a database trigger refuses any UPDATE or DELETE, so not even
a shell or a superuser can rewrite what happened.
"""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class AuditAction(models.TextChoices):
    SIGNED_IN = "signed_in", pgettext_lazy("audit", "Signed in")
    SIGN_IN_FAILED = "sign_in_failed", _("Sign-in failed")
    SIGN_IN_REFUSED = "sign_in_refused", _("Sign-in refused: too many failures")
    SIGNED_OUT = "signed_out", pgettext_lazy("audit", "Signed out")
    USER_CREATED = "user_created", _("User created")
    ACCESS_CHANGED = "access_changed", _("A user's roles or access changed")
    ROLE_PERMISSIONS_CHANGED = "role_permissions_changed", _("A role's permissions changed")
    EXPORT_REQUESTED = "export_requested", _("Ticket export asked for")
    FILE_DOWNLOADED = "file_downloaded", _("File downloaded")
    EXTENSION_DECIDED = "extension_decided", _("Extension decided")
    REPORT_APPROVED = "report_approved", _("Report approved")
    LATE_NOTICE_PUBLISHED = "late_notice_published", _("Outage notice published late")


class AuditEntry(models.Model):
    at = models.DateTimeField(_("at"))
    action = models.CharField(_("action"), max_length=40, choices=AuditAction.choices)
    # Kept without a constraint: a row outlives its user, and deleting a user touches no row.
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("who"),
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        null=True,
        blank=True,
        related_name="+",
    )
    # The username as it was (or, for a failed sign-in, the one tried).
    actor_name = models.CharField(_("username"), max_length=150, blank=True)
    # What the action was about: "ticket 20261203-0001", "user agent3", "export 12".
    subject = models.CharField(_("about"), max_length=200, blank=True)
    data = models.JSONField(_("details"), default=dict, blank=True)
    address = models.GenericIPAddressField(_("IP address"), null=True, blank=True)

    class Meta:
        ordering = ["-at", "-id"]
        default_permissions = ("view",)
        verbose_name = _("audit entry")
        verbose_name_plural = _("audit log")
        indexes = [
            models.Index(fields=["-at"], name="audit_at_idx"),
            models.Index(fields=["action", "-at"], name="audit_action_idx"),
            models.Index(fields=["actor", "-at"], name="audit_actor_idx"),
        ]

    def __str__(self) -> str:
        at = timezone.localtime(self.at)
        return f"{at:%Y-%m-%d %H:%M:%S} {self.actor_name} {self.get_action_display()}"
