from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class FollowupsConfig(AppConfig):
    name = "followups"
    verbose_name = _("Follow-up callbacks")

    def ready(self) -> None:
        from followups import signals, watches

        signals.connect()
        watches.register()
