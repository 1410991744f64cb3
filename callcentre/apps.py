from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CallcentreConfig(AppConfig):
    name = "callcentre"
    verbose_name = _("Call intake")

    def ready(self) -> None:
        from django.db.backends.signals import connection_created

        from callcentre import signals
        from callcentre.postgres import use_c_timestamp_loader

        signals.connect()
        connection_created.connect(use_c_timestamp_loader, dispatch_uid="c-timestamp-loader")
