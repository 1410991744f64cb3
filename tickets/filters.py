import django_filters
from django.db.models import Q, QuerySet
from django.http import QueryDict
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from phonenumbers import NumberParseException, PhoneNumberFormat, format_number, parse

from tickets.choices import STATE_GROUPS, Category, Channel, Grade, State
from tickets.models import Ticket
from tickets.selectors import any_overdue_filter


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
    channel = django_filters.ChoiceFilter(choices=Channel.choices, label=_("channel"))
    district = django_filters.CharFilter(field_name="district__code", label=_("district"))
    crew = django_filters.CharFilter(field_name="crew__code", label=_("crew"))
    overdue = django_filters.BooleanFilter(method="filter_overdue", label=_("overdue"))
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
