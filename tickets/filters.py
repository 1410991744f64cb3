import django_filters
from django.db.models import Q, QuerySet
from django.http import QueryDict
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.contrib.django_filters import DjangoFilterExtension
from phonenumbers import NumberParseException, PhoneNumberFormat, format_number, parse

from tickets.choices import STATE_GROUPS, Category, Channel, Grade, Milestone, State
from tickets.models import FaultType, Ticket
from tickets.selectors import any_overdue_filter, deadline_missed_filter


class EmptyFiltersIgnored(DjangoFilterExtension):
    """Tell the schema what django-filter does: a filter sent empty is no filter."""

    priority = 1

    def get_schema_operation_parameters(self, auto_schema, *args, **kwargs):
        parameters = super().get_schema_operation_parameters(auto_schema, *args, **kwargs)
        return [{**parameter, "allowEmptyValue": True} for parameter in parameters]


def phone_search_value(text: str) -> str | None:
    """Return ``text`` as an E.164 number if it reads as a Chinese phone number."""
    try:
        return format_number(parse(text, "CN"), PhoneNumberFormat.E164)
    except NumberParseException:
        return None


class TicketFilter(django_filters.FilterSet):
    state = django_filters.MultipleChoiceFilter(
        choices=[(name, label) for name, (label, _states) in STATE_GROUPS.items()] + State.choices,
        method="filter_state",
        label=_("state"),
    )
    grade = django_filters.ChoiceFilter(choices=Grade.choices, label=_("grade"))
    category = django_filters.ChoiceFilter(choices=Category.choices, label=_("category"))
    fault_type = django_filters.ModelChoiceFilter(
        queryset=FaultType.objects.all(), to_field_name="code", label=_("fault type")
    )
    channel = django_filters.ChoiceFilter(choices=Channel.choices, label=_("channel"))
    district = django_filters.CharFilter(field_name="district__code", label=_("district"))
    crew = django_filters.CharFilter(field_name="crew__code", label=_("crew"))
    overdue = django_filters.BooleanFilter(method="filter_overdue", label=_("overdue"))
    # The tickets that missed a milestone's deadline, met late or not met: the reports' misses.
    missed = django_filters.ChoiceFilter(
        choices=Milestone.choices, method="filter_missed", label=_("missed the deadline of")
    )
    received_after = django_filters.DateFilter(
        field_name="received_at", lookup_expr="date__gte", label=_("received from")
    )
    received_before = django_filters.DateFilter(
        field_name="received_at", lookup_expr="date__lte", label=_("received until")
    )
    q = django_filters.CharFilter(method="filter_search", label=_("number or phone"))

    class Meta:
        model = Ticket
        fields: list[str] = []

    # Set by the links of the reports' dashboard; the list's form has no field for them, so
    # the page names them and sends them on with the rest.
    LINKED_ONLY = ("category", "fault_type", "channel", "district", "crew", "missed")

    @property
    def linked_only(self) -> list[dict]:
        """Return the filters in force that the list's form has no field for."""
        return self.filters_shown(self.LINKED_ONLY)

    def filters_shown(self, names=None) -> list[dict]:
        """Return the filters in force (of ``names``, else all): each with its name, its
        value in the address and its label and value as a person reads them."""
        if not self.is_valid():
            return []
        shown = []
        for name in names or self.form.fields:
            value = self.form.cleaned_data.get(name)
            if value in (None, "", []):
                continue
            field = self.form.fields[name]
            # A model choice is read by its name; its choices would read every fault type.
            choices = {} if hasattr(field, "queryset") else dict(getattr(field, "choices", ()))
            values = value if isinstance(value, list) else [value]
            shown.append(
                {
                    "name": name,
                    "value": self.data.get(name),
                    "label": field.label,
                    "shown": ", ".join(str(choices.get(item, item)) for item in values),
                }
            )
        return shown

    def filter_state(self, queryset: QuerySet[Ticket], name: str, value: list[str]):
        if not value:
            return queryset
        states = set()
        for item in value:
            states.update(STATE_GROUPS[item][1] if item in STATE_GROUPS else [item])
        return queryset.filter(state__in=sorted(states))

    def filter_overdue(self, queryset: QuerySet[Ticket], name: str, value: bool | None):
        if value is None:
            return queryset
        overdue = any_overdue_filter(now=timezone.now())
        return queryset.filter(overdue) if value else queryset.exclude(overdue)

    def filter_missed(self, queryset: QuerySet[Ticket], name: str, value: str):
        if not value:
            return queryset
        return queryset.filter(
            deadline_missed_filter(milestone=Milestone(value), now=timezone.now())
        )

    def filter_search(self, queryset: QuerySet[Ticket], name: str, value: str):
        value = value.strip()
        if not value:
            return queryset
        match = Q(number=value) | Q(external_ref=value)
        phone = phone_search_value(value)
        if phone:
            match |= Q(caller_phone=phone)
        return queryset.filter(match)


def ticket_filter_query(query: QueryDict) -> QueryDict:
    """Return the list's query without the page and the filters left at "any" (an empty
    value means no filter, not an invalid one)."""
    cleaned = QueryDict(mutable=True)
    for name, values in query.lists():
        if name != "page":
            cleaned.setlist(name, [value for value in values if value])
    return cleaned
