from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CallcentreConfig(AppConfig):
    name = "callcentre"
    verbose_name = _("Call intake")

    def ready(self) -> None:
        from django.core import checks
        from django.db.backends.signals import connection_created

        from callcentre import signals
        from callcentre.checks import outbound_settings_check
        from callcentre.postgres import use_c_timestamp_loader
        from tickets.reference import reference_register

        signals.connect()
        checks.register(outbound_settings_check)
        # Every Open311 request names its partner by key: kept in the cache like a policy.
        reference_register("callcentre.open311partner", "key_hash")
        connection_created.connect(use_c_timestamp_loader, dispatch_uid="c-timestamp-loader")
