from django import forms
from django.utils.translation import gettext_lazy as _

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
