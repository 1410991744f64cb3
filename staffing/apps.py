from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


class StaffingConfig(AppConfig):
    name = "staffing"
    verbose_name = _("Staff and roles")

    def ready(self) -> None:
        from staffing import signals
        from staffing.services import roles_sync_after_migrate

        signals.connect()

        # Permissions are created after migrations, so the role groups are kept in step then.
        post_migrate.connect(roles_sync_after_migrate, dispatch_uid="staffing.roles_sync")
