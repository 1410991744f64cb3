from django import forms
from django.utils.translation import gettext_lazy as _
from phonenumber_field.formfields import PhoneNumberField

from tickets.choices import INTAKE_CHANNELS, Category, ExtensionCause, Grade, Milestone
from tickets.errors import ApplicationError
from tickets.models import Ticket
from tickets.selectors import fault_types_active


def _related(field: str):
    return Ticket._meta.get_field(field).related_model


class Form(forms.Form):
    """A form whose labels sit above their inputs, so they need no colon after them."""

    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)


def show_service_errors(form: forms.Form, error: ApplicationError) -> None:
    """Put a service's input errors on the form; any other refusal goes up to the middleware."""
    if error.code != "invalid":
        raise error
    for field, problems in error.fields.items():
        for problem in problems:
            form.add_error(field if field in form.fields else None, problem)


class TicketCreateForm(Form):
    # Four to a row: the caller, what is wrong, where it is; then the description.
    caller_phone = PhoneNumberField(label=_("Caller phone"), region="CN")
    caller_name = forms.CharField(label=_("Caller name"), max_length=60)
    channel = forms.ChoiceField(label=_("Channel"), choices=INTAKE_CHANNELS)
    external_ref = forms.CharField(
        label=_("External reference"),
        max_length=60,
        required=False,
        help_text=_("For example the 12345 hotline's transfer number."),
    )
    category = forms.ChoiceField(label=_("Category"), choices=Category.choices)
    fault_type = forms.ModelChoiceField(label=_("Fault type"), queryset=fault_types_active())
    grade = forms.ChoiceField(
        label=_("Grade"),
        choices=[("", _("As the fault type")), *Grade.choices],
        required=False,
        help_text=_("Leave it to follow the fault grading standard."),
    )
    district = forms.ModelChoiceField(
        label=_("District"),
        queryset=_related("district").objects.filter(is_active=True),
        required=False,
    )
    address = forms.CharField(label=_("Address"), max_length=200)
    building = forms.CharField(label=_("Building"), max_length=20, required=False)
    unit = forms.CharField(label=_("Unit"), max_length=20, required=False)
    room = forms.CharField(label=_("Room"), max_length=20, required=False)
    pipe_diameter = forms.IntegerField(
        label=_("Pipe size (DN)"),
        min_value=10,
        max_value=4000,
        required=False,
        help_text=_("Where the caller knows it: crews repair pipes up to a size."),
    )
    description = forms.CharField(
        label=_("Description"), max_length=4000, widget=forms.Textarea(attrs={"rows": 4})
    )


def _reason(label=None, required=True) -> forms.CharField:
    return forms.CharField(
        label=label or _("Reason"),
        max_length=1000,
        required=required,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class EmptyForm(Form):
    pass


class ReasonForm(Form):
    reason = _reason()


class NoteForm(Form):
    note = _reason(_("Note"), required=False)


class DispatchForm(Form):
    crew = forms.ModelChoiceField(
        label=_("Crew"), queryset=_related("crew").objects.filter(is_active=True)
    )
    note = _reason(_("Note"), required=False)


class ReferForm(Form):
    department = forms.ModelChoiceField(
        label=_("Department"), queryset=_related("department").objects.filter(is_active=True)
    )
    note = _reason(_("Note"), required=False)


class ResolveForm(Form):
    measures = _reason(_("Measures taken"))
    parts = forms.CharField(label=_("Parts replaced"), max_length=1000, required=False)
    cost = forms.DecimalField(
        label=_("Cost (yuan)"), max_digits=10, decimal_places=2, min_value=0, required=False
    )


class AnswerForm(Form):
    answer = _reason(_("Answer to the caller"))


class CloseForm(Form):
    measures = _reason(_("Measures taken"), required=False)
    parts = forms.CharField(label=_("Parts replaced"), max_length=1000, required=False)
    cost = forms.DecimalField(
        label=_("Cost (yuan)"), max_digits=10, decimal_places=2, min_value=0, required=False
    )
    result = _reason(_("Answer or result"), required=False)

    def clean(self):
        data = super().clean()
        # Blank means "keep what the crew reported", not "erase it".
        return {key: value for key, value in data.items() if value not in ("", None)}


class CorrectForm(Form):
    fault_type = forms.ModelChoiceField(label=_("Fault type"), queryset=fault_types_active())
    community = forms.ModelChoiceField(
        label=_("Community"),
        queryset=_related("community").objects.select_related("district"),
        required=False,
    )
    address = forms.CharField(label=_("Address"), max_length=200)
    building = forms.CharField(label=_("Building"), max_length=20, required=False)
    unit = forms.CharField(label=_("Unit"), max_length=20, required=False)
    room = forms.CharField(label=_("Room"), max_length=20, required=False)
    reason = _reason()

    @staticmethod
    def initial_for(ticket) -> dict:
        return {
            name: getattr(ticket, name)
            for name in ("fault_type", "community", "address", "building", "unit", "room")
        }


class ReclassifyForm(Form):
    grade = forms.ChoiceField(label=_("New grade"), choices=Grade.choices)
    reason = _reason()


class ExtensionRequestForm(Form):
    milestone = forms.ChoiceField(label=_("Milestone to extend"), choices=Milestone.choices)
    requested_due = forms.DateTimeField(
        label=_("New deadline"),
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )
    cause = forms.ChoiceField(label=_("Cause"), choices=ExtensionCause.choices)
    reason = _reason()
    responsible_party = forms.CharField(
        label=_("Responsible party"),
        max_length=100,
        required=False,
        help_text=_("Required for a human cause."),
    )


class ExtensionDecisionForm(Form):
    extension = forms.IntegerField(widget=forms.HiddenInput)
    approve = forms.TypedChoiceField(
        label=_("Decision"),
        choices=[("1", _("Approve")), ("0", _("Refuse"))],
        coerce=lambda value: value == "1",
    )
    note = _reason(_("Note"), required=False)


class DelayCauseForm(Form):
    cause = forms.ChoiceField(
        label=_("Cause of the delay"), choices=ExtensionCause.choices, widget=forms.RadioSelect
    )
    responsible = forms.CharField(
        label=_("Responsible party"),
        max_length=100,
        required=False,
        help_text=_("Required for a human cause: the person, crew or department."),
    )
    note = forms.CharField(
        label=_("What happened"),
        max_length=2000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class AlertFilterForm(Form):
    SHOW = [("waiting", _("Waiting")), ("all", _("All"))]

    show = forms.ChoiceField(label=_("Show"), choices=SHOW, required=False)
