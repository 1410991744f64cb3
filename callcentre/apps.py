from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CallcentreConfig(AppConfig):
    name = "callcentre"
    verbose_name = _("Call intake")

    def ready(self) -> None:
        from callcentre import signals

        signals.connect()
