from django import forms
from django.utils.translation import gettext_lazy as _
from phonenumber_field.formfields import PhoneNumberField

from callcentre.models import Call, FaqEntry, SpecialEvent
from tickets.forms import Form, TicketCreateForm
from tickets.models import Ticket


class ConsoleForm(TicketCreateForm):
    """The console's call form: a ticket's fields plus what the call itself records."""

    call = forms.ModelChoiceField(
        queryset=Call.objects.all(), required=False, widget=forms.HiddenInput
    )
    community = forms.ModelChoiceField(
        label=_("Community"),
        queryset=Ticket._meta.get_field("community").related_model.objects.select_related(
            "district"
        ),
        required=False,
    )
    grade_reason = forms.CharField(
        label=_("Reason for another grade"), max_length=300, required=False
    )
    department = forms.ModelChoiceField(
        label=_("Refer to department"),
        queryset=Ticket._meta.get_field("department").related_model.objects.filter(is_active=True),
        required=False,
        help_text=_("For a question or complaint its department answers."),
    )
    faq_entries = forms.ModelMultipleChoiceField(
        queryset=FaqEntry.objects.filter(is_published=True), required=False
    )
    notes = forms.CharField(
        label=_("Notes"), max_length=4000, required=False, widget=forms.Textarea(attrs={"rows": 2})
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        # The district follows from the community chosen.
        del self.fields["district"]

    def clean(self):
        data = super().clean()
        fault_type, grade = data.get("fault_type"), data.get("grade")
        overridden = fault_type and grade and grade != fault_type.default_grade
        if overridden and not data.get("grade_reason"):
            self.add_error(
                "grade_reason", _("Say why this call is graded otherwise than the standard says.")
            )
        return data

    def ticket_fields(self) -> dict:
        """Return the cleaned fields ``ticket_create`` takes."""
        data = dict(self.cleaned_data)
        for name in ("call", "faq_entries", "notes", "department"):
            data.pop(name, None)
        return data


class SpecialEventForm(Form):
    kind = forms.ChoiceField(label=_("Kind"), choices=SpecialEvent.Kind.choices)
    occurred_at = forms.DateTimeField(
        label=_("When"),
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )
    caller_phone = forms.CharField(label=_("Caller phone"), max_length=32, required=False)
    ticket = forms.CharField(
        label=_("Ticket number"), max_length=20, required=False, help_text=_("If there is one.")
    )
    description = forms.CharField(
        label=_("What happened"), max_length=4000, widget=forms.Textarea(attrs={"rows": 3})
    )
    outcome = forms.CharField(
        label=_("How it was handled"), max_length=4000, widget=forms.Textarea(attrs={"rows": 3})
    )

    def clean_ticket(self):
        number = self.cleaned_data["ticket"].strip()
        if not number:
            return None
        ticket = Ticket.objects.filter(number=number).first()
        if ticket is None:
            raise forms.ValidationError(_("No ticket with that number."))
        return ticket


class CallOnlyForm(Form):
    """What a call records when it makes no ticket: who called, and what was said."""

    call = forms.ModelChoiceField(
        queryset=Call.objects.all(), required=False, widget=forms.HiddenInput
    )
    caller_phone = PhoneNumberField(label=_("Caller phone"), region="CN")
    caller_name = forms.CharField(label=_("Caller name"), max_length=60, required=False)
    faq_entries = forms.ModelMultipleChoiceField(
        queryset=FaqEntry.objects.filter(is_published=True), required=False
    )
    notes = forms.CharField(label=_("Notes"), max_length=4000, required=False)
