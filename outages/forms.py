from django import forms
from django.utils.translation import gettext_lazy as _

from dispatch.models import Community, District
from outages.models import Outage
from tickets.forms import Form

_WHEN = {"type": "datetime-local"}
_WHEN_FORMAT = "%Y-%m-%dT%H:%M"


def _when(label):
    return forms.DateTimeField(
        label=label, widget=forms.DateTimeInput(attrs=_WHEN, format=_WHEN_FORMAT)
    )


class CommunityChoice(forms.ModelMultipleChoiceField):
    def label_from_instance(self, community):
        return f"{community.district} · {community.name}"


class OutagePublishForm(Form):
    """A planned outage: what, when, where, and what the customers are told."""

    supply = forms.ChoiceField(label=_("Supply"), choices=Outage.Supply.choices)
    title = forms.CharField(
        label=_("Title"), max_length=120, help_text=_("e.g. 人民路 DN300 主管更换")
    )
    reason = forms.CharField(label=_("Reason"), max_length=300)
    starts_at = _when(_("Starts at"))
    expected_end_at = _when(_("Expected restoration"))
    districts = forms.ModelMultipleChoiceField(
        label=_("Whole districts"),
        queryset=District.objects.filter(is_active=True),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    communities = CommunityChoice(
        label=_("Whole communities"),
        queryset=Community.objects.select_related("district"),
        required=False,
        widget=forms.SelectMultiple(attrs={"size": 8}),
        help_text=_("Hold Ctrl to choose more than one."),
    )
    building_community = forms.ModelChoiceField(
        label=_("Buildings of the community"),
        queryset=Community.objects.select_related("district"),
        required=False,
    )
    buildings = forms.CharField(
        label=_("Buildings"),
        max_length=300,
        required=False,
        help_text=_("Separated by commas: 3, 5, 7"),
    )
    customer_text = forms.CharField(
        label=_("Text for customers"),
        max_length=400,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Sent by SMS and read to callers: what to do, where water is supplied."),
    )
    late_reason = forms.CharField(
        label=_("Why less than 24 hours' notice"),
        max_length=300,
        required=False,
        help_text=_("Only when it starts within 24 hours; a supervisor publishes it."),
    )

    def clean(self):
        data = super().clean()
        names = [
            name.strip()
            for name in data.get("buildings", "").replace("，", ",").split(",")
            if name.strip()
        ]
        community = data.get("building_community")
        if names and community is None:
            self.add_error("building_community", _("Choose the community of these buildings."))
        if community is not None and not names:
            self.add_error("buildings", _("Name the buildings of this community."))
        data["building_list"] = [(community, name[:20]) for name in names] if community else []
        return data

    def service_fields(self) -> dict:
        data = self.cleaned_data
        return {
            "supply": data["supply"],
            "title": data["title"],
            "reason": data["reason"],
            "customer_text": data["customer_text"],
            "starts_at": data["starts_at"],
            "expected_end_at": data["expected_end_at"],
            "districts": list(data["districts"]),
            "communities": list(data["communities"]),
            "buildings": data["building_list"],
            "late_reason": data["late_reason"],
        }


class OutageChangeForm(Form):
    starts_at = _when(_("Starts at"))
    expected_end_at = _when(_("Expected restoration"))
    customer_text = forms.CharField(
        label=_("Text for customers"), max_length=400, widget=forms.Textarea(attrs={"rows": 3})
    )


class IncidentDeclareForm(Form):
    """A major incident from a ticket: its area (the ticket's community unless chosen), the
    ETA, and what callers are told."""

    supply = forms.ChoiceField(label=_("Supply"), choices=Outage.Supply.choices)
    expected_end_at = _when(_("Expected restoration"))
    districts = OutagePublishForm.base_fields["districts"]
    communities = OutagePublishForm.base_fields["communities"]
    customer_text = forms.CharField(
        label=_("Text for customers"),
        max_length=400,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Read to callers by the agents and the switch, and sent by SMS."),
    )
