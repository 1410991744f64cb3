from functools import cache, partial

from django import forms
from django.forms.utils import flatatt
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _

from dispatch.models import Crew, Department, District
from dispatch.selectors import BoardFilters
from tickets.choices import Grade
from tickets.forms import ExtensionDecisionForm, ExtensionRequestForm, Form
from tickets.services import CostLine, PartLine


def _text(label, *, required=True, rows=2, max_length=1000) -> forms.CharField:
    return forms.CharField(
        label=label,
        max_length=max_length,
        required=required,
        widget=forms.Textarea(attrs={"rows": rows}),
    )


class QuickSelect(forms.Select):
    """A select written out in Python: the board's filters list every crew and district, and
    the template engine would draw each option through a template of its own on every load."""

    def render(self, name, value, attrs=None, renderer=None):
        widget = self.get_context(name, value, attrs)["widget"]
        options = format_html_join(
            "",
            '<option value="{}"{}>{}</option>',
            (
                (option["value"], flatatt(option["attrs"]), option["label"])
                for _group, group_options, _index in widget["optgroups"]
                for option in group_options
            ),
        )
        attributes = flatatt(widget["attrs"])
        return format_html('<select name="{}"{}>{}</select>', name, attributes, options)


def _active_choices(model, anything) -> list[tuple]:
    return [("", anything), *model.objects.filter(is_active=True).values_list("pk", "name")]


class BoardFilterForm(Form):
    grade = forms.ChoiceField(
        label=_("Grade"),
        choices=[("", _("Any grade")), *Grade.choices],
        required=False,
        widget=QuickSelect,
    )
    # Ids and names only, read once for the form: a model choice field would build every
    # crew and read them through a server-side cursor, for each select, on every load.
    district = forms.TypedChoiceField(
        label=_("District"), coerce=int, empty_value=None, required=False, widget=QuickSelect
    )
    crew = forms.TypedChoiceField(
        label=_("Crew"), coerce=int, empty_value=None, required=False, widget=QuickSelect
    )
    overdue = forms.BooleanField(label=_("Overdue only"), required=False)
    q = forms.CharField(
        label=_("Number or phone"),
        max_length=30,
        required=False,
        widget=forms.TextInput(attrs={"type": "search", "data-search": "", "autocomplete": "off"}),
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        for name, model, anything in [
            ("district", District, _("Any district")),
            ("crew", Crew, _("Any crew")),
        ]:
            # Read when the form is checked or drawn (the poll does neither), then kept.
            self.fields[name].choices = cache(partial(_active_choices, model, anything))

    def filters(self) -> BoardFilters:
        """Return the filters; an invalid value is dropped rather than failing the board."""
        data = self.cleaned_data if self.is_valid() else {}
        return BoardFilters(
            grade=data.get("grade") or "",
            district=data.get("district"),
            crew=data.get("crew"),
            overdue=bool(data.get("overdue")),
            query=data.get("q") or "",
        )


class SendToCrewForm(Form):
    crew = forms.ModelChoiceField(
        label=_("Crew"),
        queryset=Crew.objects.filter(is_active=True),
        widget=forms.RadioSelect,
        error_messages={"required": _("Choose the crew to send.")},
    )
    note = forms.CharField(label=_("Note for the crew"), max_length=1000, required=False)


class SendToDepartmentForm(Form):
    department = forms.ModelChoiceField(
        label=_("Department"),
        queryset=Department.objects.filter(is_active=True),
        widget=forms.RadioSelect,
        error_messages={"required": _("Choose the department.")},
    )
    note = forms.CharField(label=_("Note for the department"), max_length=1000, required=False)


class UnclosedPlanForm(Form):
    reason = _text(_("Why it is still open"))
    plan = _text(_("Follow-up plan"))


# The crew's phone.


class CrewActionForm(Form):
    """A crew action: its receipt key makes a retried submission act once."""

    receipt = forms.UUIDField(widget=forms.HiddenInput, required=False)
    # Filled by the phone when it may share its position: kept for recommendations.
    latitude = forms.DecimalField(
        widget=forms.HiddenInput, required=False, min_value=-90, max_value=90
    )
    longitude = forms.DecimalField(
        widget=forms.HiddenInput, required=False, min_value=-180, max_value=180
    )

    # Fields that belong to the receipt and the position, not to the service.
    PLUMBING = ("receipt", "latitude", "longitude")

    def service_arguments(self) -> dict:
        return {k: v for k, v in self.cleaned_data.items() if k not in self.PLUMBING}


class CrewDeclineForm(CrewActionForm):
    reason = _text(_("Why the crew cannot take it"))


class CrewMitigateForm(CrewActionForm):
    note = forms.CharField(label=_("Note"), max_length=1000, required=False)


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class PhotosField(forms.FileField):
    widget = MultipleFileInput

    def clean(self, data, initial=None):
        files = data if isinstance(data, list | tuple) else [data] if data else []
        return [super(PhotosField, self).clean(item, initial) for item in files]


def _photos_field() -> PhotosField:
    return PhotosField(
        label=_("Photos"),
        required=False,
        widget=MultipleFileInput(attrs={"accept": "image/jpeg,image/png,image/webp"}),
        help_text=_("JPEG, PNG or WebP photos."),
    )


class CrewCompleteForm(CrewActionForm):
    measures = _text(_("Measures taken"), rows=3, max_length=4000)
    parts = forms.CharField(label=_("Other parts or notes"), max_length=1000, required=False)
    photos = _photos_field()

    def service_arguments(self) -> dict:
        arguments = super().service_arguments()
        arguments["photos"] = arguments.pop("photos") or []
        return arguments


class PartLineForm(Form):
    name = forms.CharField(label=_("Part"), max_length=100, required=False)
    quantity = forms.DecimalField(
        label=_("Quantity"), max_digits=8, decimal_places=2, min_value=0.01, required=False
    )
    unit = forms.CharField(label=_("Unit"), max_length=10, required=False)

    def clean(self):
        data = super().clean()
        if data.get("name") and data.get("quantity") is None:
            self.add_error("quantity", _("Give the quantity of this part."))
        if data.get("quantity") is not None and not data.get("name"):
            self.add_error("name", _("Name the part."))
        return data

    def line(self) -> PartLine | None:
        data = self.cleaned_data
        if not data.get("name"):
            return None
        return PartLine(name=data["name"], quantity=data["quantity"], unit=data.get("unit", ""))


class CostLineForm(Form):
    item = forms.CharField(label=_("Cost item"), max_length=100, required=False)
    amount = forms.DecimalField(
        label=_("Amount (yuan)"), max_digits=10, decimal_places=2, min_value=0, required=False
    )

    def clean(self):
        data = super().clean()
        if data.get("item") and data.get("amount") is None:
            self.add_error("amount", _("Give the amount of this cost."))
        if data.get("amount") is not None and not data.get("item"):
            self.add_error("item", _("Say what this cost is for."))
        return data

    def line(self) -> CostLine | None:
        data = self.cleaned_data
        if not data.get("item"):
            return None
        return CostLine(item=data["item"], amount=data["amount"])


PartLineFormSet = forms.formset_factory(PartLineForm, extra=3, max_num=20, validate_max=True)
CostLineFormSet = forms.formset_factory(CostLineForm, extra=3, max_num=20, validate_max=True)


class CrewPhotosForm(CrewActionForm):
    photos = _photos_field()

    def service_arguments(self) -> dict:
        return {"photos": self.cleaned_data.get("photos") or []}


class CrewExtensionRequestForm(CrewActionForm, ExtensionRequestForm):
    pass


class CrewExtensionDecisionForm(CrewActionForm, ExtensionDecisionForm):
    pass


class DutyForm(Form):
    on_duty = forms.TypedChoiceField(
        choices=[("1", _("On duty")), ("0", _("Off duty"))], coerce=lambda value: value == "1"
    )
