"""What a board card and a row of the crew's list show, worked out from plain rows."""

from datetime import timedelta

import pytest
from django.utils import timezone, translation

from dispatch import services
from dispatch.cards import CardLocale, countdown_for, crew_rows, lane_cards
from dispatch.selectors import (
    BoardFilters,
    board_lanes,
    card_names,
    crew_ticket_list,
    on_duty_skill_ids,
)
from tickets import services as ticket_services
from tickets.choices import State
from tickets.selectors import ticket_next_deadline

pytestmark = pytest.mark.django_db


def _cards(centre, *, now=None) -> dict:
    now = now or timezone.now()
    lanes = board_lanes(user=centre.dispatcher, filters=BoardFilters(), now=now)
    shown = lane_cards(
        lanes, names=card_names(lanes=lanes), skills_on_duty=on_duty_skill_ids(), now=now
    )
    return {card.number: card for lane in shown for card in lane.cards}


def test_a_card_shows_what_its_ticket_says(centre, make_ticket, clock):
    ticket = make_ticket(State.DISPATCHED, fault_type=centre.burst)

    with translation.override("en"):
        card, address = _cards(centre)[ticket.number], ticket.address_line()

    assert card.url == f"/tickets/{ticket.number}/"
    assert card.grade_label == "Emergency"
    assert card.fault == centre.burst.name
    assert card.address == address == f"{centre.community.name} 锦华苑 bldg 3 unit 2 room 501"
    assert card.where == centre.crew.name
    assert card.send_url == ""  # already with a crew


def test_a_card_before_dispatch_names_its_district_and_can_be_sent(centre, make_ticket, clock):
    ticket = make_ticket()

    with translation.override("en"):
        card = _cards(centre)[ticket.number]

    assert card.where == ticket.district.name
    assert card.send_url == f"/dispatch/tickets/{ticket.number}/send/"
    assert card.send_label == "Send a crew"


def test_a_consult_is_referred_not_sent(centre, make_ticket, clock):
    ticket = make_ticket(fault_type=centre.billing)

    with translation.override("en"):
        card = _cards(centre)[ticket.number]

    assert card.send_label == "Refer"
    assert card.warnings == []


def test_a_cards_countdown_is_the_tickets_next_deadline_in_local_time(centre, make_ticket, clock):
    ticket = make_ticket()
    _milestone, due = ticket_next_deadline(ticket)

    with translation.override("en"):
        card = _cards(centre)[ticket.number]

    assert card.countdown.due == timezone.localtime(due).isoformat()
    assert card.countdown.due.endswith("+08:00")
    assert card.countdown.start == timezone.localtime(ticket.sla_started_at).isoformat()
    assert card.countdown.due_text == timezone.localtime(due).strftime("%Y-%m-%d %H:%M")
    assert (card.countdown.label, card.countdown.level) == ("Dispatch", "ample")
    assert card.countdown.text == "30 min left"


def test_a_card_past_its_deadline_counts_the_time_overdue(centre, make_ticket, clock):
    ticket = make_ticket()
    clock.shift(timedelta(minutes=95))  # a general ticket is dispatched within 30 min

    with translation.override("en"):
        card = _cards(centre)[ticket.number]

    assert card.countdown.level == "overdue"
    assert card.countdown.text == "1 h 05 min overdue"


def test_a_row_and_its_ticket_have_the_same_countdown(centre, make_ticket, clock):
    ticket = make_ticket(State.ACCEPTED)
    clock.shift(timedelta(minutes=20))
    now, locale = timezone.now(), CardLocale()
    row = next(
        row
        for lane in board_lanes(user=centre.dispatcher, filters=BoardFilters(), now=now)
        for row in lane.cards
    )

    assert countdown_for(row, now=now, locale=locale) == countdown_for(
        ticket, now=now, locale=locale
    )


def test_a_card_changes_its_rev_when_its_ticket_changes(centre, make_ticket, clock):
    ticket = make_ticket()
    before = _cards(centre)[ticket.number].rev
    clock.shift(timedelta(minutes=1))

    services.ticket_send_to_crew(actor=centre.dispatcher, ticket=ticket, crew=centre.crew)

    assert _cards(centre)[ticket.number].rev != before


def test_a_declined_card_says_why_it_came_back(centre, make_ticket, clock):
    ticket = make_ticket(State.DISPATCHED)
    ticket_services.ticket_decline(actor=centre.crew_leader, ticket=ticket, reason="材料不足")

    with translation.override("en"):
        card = _cards(centre)[ticket.number]

    assert card.returned == "Declined by the crew"


def test_a_crew_row_reads_like_the_ticket(centre, make_ticket, clock):
    ticket = make_ticket(State.ON_SITE)

    with translation.override("en"):
        (row,) = crew_rows(crew_ticket_list(crew=centre.crew), now=timezone.now())
        address = ticket.address_line()

    assert row.url == f"/crew/{ticket.number}/"
    assert (row.grade_label, row.state_label) == ("General", "On site")
    assert row.fault == centre.leak.name
    assert row.address == address
    assert row.received == timezone.localtime(ticket.received_at).strftime("%m-%d %H:%M")
