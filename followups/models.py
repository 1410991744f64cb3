from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class WorkingDayOverride(models.Model):
    """A day the centre sets itself: next year's official notice before the calendar package
    has it, or a local holiday. It wins over the package."""

    day = models.DateField(_("day"), unique=True)
    is_working_day = models.BooleanField(_("working day"))
    reason = models.CharField(_("reason"), max_length=100)
    entered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("entered by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    entered_at = models.DateTimeField(_("entered at"), auto_now_add=True)

    class Meta:
        ordering = ["day"]
        verbose_name = _("working-day override")
        verbose_name_plural = _("working-day overrides")

    def __str__(self) -> str:
        return f"{self.day:%Y-%m-%d} {self.reason}"
