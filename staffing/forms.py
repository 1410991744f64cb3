from django import forms
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from staffing.models import SERVICE_LEVEL_SECONDS, RosterRole, Seat, ShiftTemplate, User
from staffing.services import CONSOLE_STATUSES
from tickets.forms import Form


class SeatSignInForm(Form):
    seat = forms.ModelChoiceField(label=_("Seat"), queryset=Seat.objects.none())

    def __init__(self, *args, seats, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["seat"].queryset = Seat.objects.filter(pk__in=[seat.pk for seat in seats])


class StatusForm(Form):
    status = forms.ChoiceField(
        label=_("Status"), choices=[(status.value, status.label) for status in CONSOLE_STATUSES]
    )


class WallboardForm(Form):
    within = forms.TypedChoiceField(label=_("Service level within"), coerce=int)

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        # Worded when the page is drawn, in the language of whoever reads it.
        self.fields["within"].choices = [
            (seconds, gettext("%(seconds)s s") % {"seconds": seconds})
            for seconds in SERVICE_LEVEL_SECONDS
        ]


class DayForm(Form):
    day = forms.DateField(label=_("Day"), widget=forms.DateInput(attrs={"type": "date"}))

    def day_or_today(self):
        return self.cleaned_data["day"] if self.is_valid() else timezone.localdate()


class RosterEntryForm(Form):
    shift = forms.ModelChoiceField(
        label=_("Shift"), queryset=ShiftTemplate.objects.filter(active=True)
    )
    person = forms.ModelChoiceField(
        label=_("Staff member"),
        queryset=User.objects.filter(is_active=True, groups__isnull=False)
        .distinct()
        .order_by("last_name", "first_name", "username"),
    )
    role = forms.ChoiceField(label=_("Role on the shift"), choices=RosterRole.choices)
    break_starts_at = forms.TimeField(
        label=_("Break starts at"),
        required=False,
        widget=forms.TimeInput(attrs={"type": "time"}),
    )
    break_minutes = forms.IntegerField(
        label=_("Break (minutes)"), min_value=0, max_value=240, required=False
    )

    def clean_break_minutes(self) -> int:
        return self.cleaned_data["break_minutes"] or 0
