"""Reads of call intake that pages and the API share."""

import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from math import cos, radians
from uuid import uuid4

from django.conf import settings
from django.core.cache import cache
from django.db.models import QuerySet
from phonenumbers import (
    NumberParseException,
    PhoneNumberFormat,
    format_number,
    is_valid_number,
    parse,
)

from callcentre.models import Call, Caller, CallerAddress, FaqEntry, SpecialEvent
from callcentre.search import FAQ_VERSION_KEY, FaqIndex, query_terms
from dispatch.geo import distance_km
from tickets.choices import OPEN_STATES, Category, State
from tickets.models import Ticket
from tickets.reference import REFERENCE_TTL

# This process's index of the FAQ: (the version it was built from, when, the index).
_faq_index: tuple[str, float, FaqIndex] | None = None


def faq_index() -> FaqIndex:
    """Return the FAQ index, rebuilt when an entry has changed since it was built.

    An edit bumps the version in the cache it went through; a process whose cache is its
    own rebuilds at least every ``REFERENCE_TTL`` seconds to see edits made elsewhere.
    """
    global _faq_index
    version = cache.get_or_set(FAQ_VERSION_KEY, lambda: uuid4().hex, timeout=None)
    now = time.monotonic()
    if _faq_index is None or _faq_index[0] != version or now - _faq_index[1] > REFERENCE_TTL:
        rows = FaqEntry.objects.filter(is_published=True).values_list(
            "pk", "question", "keywords", "category", "answer"
        )
        _faq_index = (version, now, FaqIndex(rows.iterator(chunk_size=1000)))
    return _faq_index[2]


def faq_search(*, query: str, limit: int = 10) -> list[FaqEntry]:
    """Return the published FAQ entries that best match ``query``, best first, each with
    its ``score``: those holding a word or character pair of the query, ranked by where."""
    words, characters = query_terms(query)
    if not words:
        return []
    ranked = faq_index().rank(words=words, characters=characters, limit=limit)
    entries = FaqEntry.objects.in_bulk([pk for pk, _score in ranked])
    found = []
    for pk, entry_score in ranked:
        if pk in entries:  # an entry deleted since the index was built is left out
            entries[pk].score = entry_score
            found.append(entries[pk])
    return found


def call_current_for_agent(*, agent) -> Call | None:
    """Return the call put through to the agent and not yet dealt with (the screen pop)."""
    return (
        Call.objects.filter(
            agent=agent, answered_at__isnull=False, ended_at__isnull=True, outcome=""
        )
        .select_related("caller")
        .order_by("-answered_at")
        .first()
    )


def calls_for_caller(*, caller, limit: int = 10) -> QuerySet[Call]:
    return Call.objects.filter(caller=caller).select_related("agent", "ticket")[:limit]


# An address with this many repair tickets in the window is a repeat-fault address.
REPEAT_FAULT_COUNT = 3
REPEAT_FAULT_WINDOW = timedelta(days=30)
_TICKET_RELATED = ("fault_type", "community", "crew", "department")


@dataclass
class CallerHistory:
    """What the console shows as soon as it has a phone number."""

    phone: str | None
    caller: Caller | None
    calls: list[Call]
    tickets: list[Ticket]
    addresses: list[CallerAddress]


def caller_history(*, phone: str, limit: int = 10) -> CallerHistory:
    """Return the caller with this number and their recent calls, tickets and addresses.

    A fixed number of queries whatever the length of their history.
    """
    number = e164_or_none(phone)
    if number is None:
        return CallerHistory(phone=None, caller=None, calls=[], tickets=[], addresses=[])
    caller = Caller.objects.filter(phone=number).first()
    tickets = list(
        Ticket.objects.filter(caller_phone=number)
        .select_related(*_TICKET_RELATED)
        .order_by("-received_at")[:limit]
    )
    if caller is None:
        return CallerHistory(phone=number, caller=None, calls=[], tickets=tickets, addresses=[])
    return CallerHistory(
        phone=number,
        caller=caller,
        calls=list(calls_for_caller(caller=caller, limit=limit)),
        tickets=tickets,
        addresses=list(caller.addresses.select_related("community__district")[:5]),
    )


def caller_language(*, phone) -> str:
    """Return the language the caller is spoken to in (the centre's, if not known)."""
    language = Caller.objects.filter(phone=phone).values_list("language", flat=True).first()
    return language or settings.LANGUAGE_CODE


@dataclass
class AddressHistory:
    open_tickets: list[Ticket]
    recent_repairs: int

    @property
    def repeat_fault(self) -> bool:
        return self.recent_repairs >= REPEAT_FAULT_COUNT


def address_history(*, community, building: str, unit: str, now: datetime) -> AddressHistory:
    """Return the open tickets at an address and how many repairs it had in 30 days."""
    at_address = Ticket.objects.filter(community=community, building=building, unit=unit)
    open_tickets = list(
        at_address.filter(state__in=OPEN_STATES)
        .select_related(*_TICKET_RELATED)
        .order_by("-received_at")[:10]
    )
    recent = at_address.filter(
        category=Category.REPAIR, received_at__gte=now - REPEAT_FAULT_WINDOW
    ).count()
    return AddressHistory(open_tickets=open_tickets, recent_repairs=recent)


def tickets_related(*, fault_type, community, now: datetime, exclude=None) -> list[Ticket]:
    """Return open tickets of the same fault in the same community in the last hours.

    The call may be about one of them (a burst main brings many calls): the console shows
    them before a new ticket is saved, so the call can be linked instead.
    """
    since = now - timedelta(hours=settings.RELATED_TICKET_HOURS)
    related = Ticket.objects.filter(
        fault_type=fault_type,
        community__in=communities_near(
            community=community, radius_km=settings.RELATED_TICKET_RADIUS_KM
        ),
        received_at__gte=since,
        state__in=[state for state in OPEN_STATES if state != State.MERGED],
    ).exclude(parent__isnull=False)
    if exclude is not None:
        related = related.exclude(pk=exclude.pk)
    return list(related.select_related(*_TICKET_RELATED).order_by("-received_at")[:10])


def communities_near(*, community, radius_km: float) -> list:
    """Return ``community`` and the communities whose centre is within ``radius_km`` of it."""
    if not radius_km or community.latitude is None or community.longitude is None:
        return [community]
    lat, lng = float(community.latitude), float(community.longitude)
    # A box around the point narrows the search in SQL; the true distance decides.
    dlat = radius_km / 111.0
    dlng = radius_km / (111.0 * max(cos(radians(lat)), 0.01))
    model = type(community)
    box = model.objects.filter(
        latitude__range=(lat - dlat, lat + dlat), longitude__range=(lng - dlng, lng + dlng)
    )
    near = [c for c in box if distance_km(lat, lng, c.latitude, c.longitude) <= radius_km]
    return near if community in near else [community, *near]


def communities_matching(*, query: str = "", pk: int | None = None, limit: int = 10) -> list:
    """Return the communities whose name holds ``query`` (or the one with ``pk``)."""
    community = Ticket._meta.get_field("community").related_model
    found = community.objects.filter(district__is_active=True).select_related("district")
    if pk is not None:
        return list(found.filter(pk=pk))
    query = query.strip()
    if not query:
        return []
    return list(found.filter(name__contains=query).order_by("name")[:limit])


def e164_or_none(text: str) -> str | None:
    """Return ``text`` as an E.164 number if it is a valid Chinese phone number."""
    try:
        parsed = parse(text, "CN")
    except NumberParseException:
        return None
    return format_number(parsed, PhoneNumberFormat.E164) if is_valid_number(parsed) else None


def special_events_recent(*, limit: int = 100) -> list:
    return list(
        SpecialEvent.objects.select_related("ticket", "recorded_by").order_by(
            "-occurred_at", "-id"
        )[:limit]
    )
