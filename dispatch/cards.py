"""What a card on the board (or a row of the crew's list) shows, worked out once in Python.

The board is two hundred cards polled by every dispatcher: each card is built here from its
row's columns into ready strings, and the lanes' template (a Jinja2 one, ``jinja2/``) only
puts them in place.
"""

from dataclasses import dataclass
from datetime import datetime
from functools import cache

from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from dispatch.selectors import CardNames, Lane, dispatch_warnings
from tickets.choices import Grade, Milestone, Returned, State
from tickets.models import address_line
from tickets.selectors import deadline_level, ticket_next_deadline
from tickets.templatetags.ticket_tags import duration_text

_SENDABLE = {State.NEW, State.VERIFIED}


class CardLocale:
    """The reader's words and time zone, looked up once per page rather than once per card."""

    def __init__(self) -> None:
        self.time_zone = timezone.get_current_timezone()
        # Within one page the language stays; each phrase is looked up once.
        self.translate = cache(_)
        self.grades = {grade.value: str(grade.label) for grade in Grade}
        self.states = {state.value: str(state.label) for state in State}
        self.milestones = {milestone: str(milestone.label) for milestone in Milestone}
        self.returned = {returned.value: str(returned.label) for returned in Returned}
        self.left = _("%(left)s left")
        self.overdue = _("%(left)s overdue")
        self.refer = _("Refer")
        self.send = _("Send a crew")


@dataclass(slots=True)
class Countdown:
    label: str
    level: str  # ample (over half the time left), short, overdue
    text: str
    # ISO 8601 in local time, for the script that keeps the countdown running.
    start: str
    due: str
    due_text: str  # the deadline as people read it: 2026-09-03 08:57


def countdown_for(ticket, *, now: datetime, locale: CardLocale) -> Countdown | None:
    """Return the countdown to the next deadline of ``ticket`` (a Ticket or a board row),
    coloured by the share of its time left."""
    upcoming = ticket_next_deadline(ticket)
    if upcoming is None:
        return None
    milestone, due = upcoming
    level = deadline_level(start=ticket.sla_started_at, due=due, now=now)
    minutes = int(abs((due - now).total_seconds()) // 60)
    left = {"left": duration_text(minutes, translate=locale.translate)}
    text = (locale.overdue if level == "overdue" else locale.left) % left
    local_due = due.astimezone(locale.time_zone)
    return Countdown(
        label=locale.milestones[milestone],
        level=level,
        text=text,
        start=ticket.sla_started_at.astimezone(locale.time_zone).isoformat(),
        due=local_due.isoformat(),
        due_text=local_due.strftime("%Y-%m-%d %H:%M"),
    )


@dataclass(slots=True)
class Card:
    number: str
    url: str
    rev: str  # changes with the ticket: the board's script redraws only cards whose rev moved
    grade: str
    grade_label: str
    fault: str
    address: str
    where: str  # the crew, or the district before one is sent
    countdown: Countdown | None
    returned: str
    warnings: list[str]
    send_url: str  # empty when the card cannot be sent from the board
    send_label: str


@dataclass(slots=True)
class LaneCards:
    state: str
    label: str
    count_label: str
    cards: list[Card]
    more: str  # what the lane leaves out, when it does


class _Urls:
    """The cards' links, reversed once for the page rather than for each card."""

    _MARK = "0-ticket-number-0"

    def __init__(self) -> None:
        self.detail = reverse("tickets:detail", args=[self._MARK])
        self.send = reverse("dispatch:send", args=[self._MARK])
        self.crew_ticket = reverse("crew:ticket", args=[self._MARK])

    def of(self, pattern: str, number: str) -> str:
        return pattern.replace(self._MARK, number)


def card_for(
    row,
    *,
    names: CardNames,
    skills_on_duty: set[int],
    now: datetime,
    locale: CardLocale,
    urls: _Urls,
) -> Card:
    """Return the card of a board row (``dispatch.selectors.CARD_FIELDS``)."""
    sendable = row.state in _SENDABLE
    consult = row.grade == Grade.CONSULT
    crew_or_district = (
        names.crews.get(row.crew_id) if row.crew_id else names.districts.get(row.district_id)
    )
    return Card(
        number=row.number,
        url=urls.of(urls.detail, row.number),
        rev=f"{row.updated_at.timestamp():.6f}",
        grade=row.grade,
        grade_label=locale.grades[row.grade],
        fault=names.fault_types.get(row.fault_type_id, ""),
        address=_address(row, names.communities.get(row.community_id, ""), locale),
        where=crew_or_district or "",
        countdown=countdown_for(row, now=now, locale=locale),
        returned=locale.returned[row.returned] if row.returned else "",
        warnings=dispatch_warnings(
            grade=row.grade,
            district_id=row.district_id,
            skill_id=names.fault_skills.get(row.fault_type_id),
            skills_on_duty=skills_on_duty,
        )
        if sendable
        else [],
        send_url=urls.of(urls.send, row.number) if sendable else "",
        send_label=(locale.refer if consult else locale.send) if sendable else "",
    )


def _address(row, community: str, locale: CardLocale) -> str:
    return address_line(
        community=community,
        address=row.address,
        building=row.building,
        unit=row.unit,
        room=row.room,
        translate=locale.translate,
    )


def lane_cards(
    lanes: list[Lane], *, names: CardNames, skills_on_duty: set[int], now: datetime
) -> list[LaneCards]:
    """Return the lanes as the board shows them: label, count, cards, what is left out."""
    urls, locale = _Urls(), CardLocale()
    shown = []
    for lane in lanes:
        more = ""
        if lane.more:
            more = _("The %(shown)s most pressing of %(count)s; filter to see others.") % {
                "shown": len(lane.cards),
                "count": lane.count_label,
            }
        shown.append(
            LaneCards(
                state=lane.state.value,
                label=str(lane.state.label),
                count_label=lane.count_label,
                cards=[
                    card_for(
                        row,
                        names=names,
                        skills_on_duty=skills_on_duty,
                        now=now,
                        locale=locale,
                        urls=urls,
                    )
                    for row in lane.cards
                ],
                more=more,
            )
        )
    return shown


@dataclass(slots=True)
class CrewRow:
    number: str
    url: str
    grade: str
    grade_label: str
    state_label: str
    countdown: Countdown | None
    fault: str
    address: str
    received: str  # 09-03 08:47


def crew_rows(rows: list, *, now: datetime) -> list[CrewRow]:
    """Return the crew's list as its phone shows it, from ``crew_ticket_list``'s rows."""
    urls, locale = _Urls(), CardLocale()
    return [
        CrewRow(
            number=row.number,
            url=urls.of(urls.crew_ticket, row.number),
            grade=row.grade,
            grade_label=locale.grades[row.grade],
            state_label=locale.states[row.state],
            countdown=countdown_for(row, now=now, locale=locale),
            fault=row.fault_type__name,
            address=_address(row, row.community__name or "", locale),
            received=row.received_at.astimezone(locale.time_zone).strftime("%m-%d %H:%M"),
        )
        for row in rows
    ]
