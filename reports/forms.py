from django import forms
from django.utils.translation import gettext_lazy as _

from reports.models import Export, Target
from tickets.forms import Form


class RemarksForm(Form):
    remarks = forms.CharField(
        label=_("Remarks of the shift leader"),
        max_length=4000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("What happened in the shift, and what the next one should know."),
    )


class RegenerateForm(Form):
    at = forms.DateTimeField(
        label=_("A time within the period"),
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )


class SupervisorRemarksForm(Form):
    """The supervisor's part of a weekly report."""

    remarks = forms.CharField(
        label=_("Remarks of the supervisor"),
        max_length=4000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
    )


def _target(label):
    return forms.DecimalField(
        label=label,
        required=False,
        min_value=0,
        max_value=100,
        decimal_places=1,
        widget=forms.NumberInput(attrs={"step": "0.1", "inputmode": "decimal"}),
        help_text=_("In %, for next month; empty for none."),
    )


class MonthlyReviewForm(SupervisorRemarksForm):
    """The supervisor's part of the monthly report: what they found, what is to be done,
    and next month's targets."""

    measures = forms.CharField(
        label=_("Measures"),
        max_length=8000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text=_("What will be done about the problems this report shows, and by whom."),
    )
    completion = _target(Target.COMPLETION.label)
    sla = _target(Target.SLA.label)
    satisfaction = _target(Target.SATISFACTION.label)

    def targets(self) -> dict:
        return {key: self.cleaned_data[key] for key in Target.values}


class ExportForm(Form):
    query = forms.CharField(required=False, max_length=1000, widget=forms.HiddenInput)
    file_format = forms.ChoiceField(
        label=_("Format"), choices=Export.Format.choices, initial=Export.Format.XLSX
    )
    full_phones = forms.BooleanField(label=_("Full phone numbers"), required=False)
