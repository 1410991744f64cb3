"""Reads: the overdue queries use their partial indexes, and milestone standings."""

from datetime import timedelta

import pytest
from django.db import connection

from tests.conftest import T0
from tickets.choices import Milestone, State
from tickets.selectors import (
    ticket_detail_for_user,
    ticket_milestone_rows,
    ticket_next_deadline,
    tickets_overdue,
)


@pytest.mark.django_db
@pytest.mark.parametrize("milestone", list(Milestone))
def test_open_tickets_past_a_deadline_are_found_by_an_index_range_scan(milestone, make_ticket):
    make_ticket()
    with connection.cursor() as cursor:
        # On a handful of rows a sequential scan is cheaper; forbid it to see what the
        # planner can do (the benchmark shows it choosing the index on a million rows).
        cursor.execute("SET LOCAL enable_seqscan = off")
        plan = tickets_overdue(milestone=milestone, now=T0).explain()
    assert f"ticket_{milestone.value}_overdue_idx" in plan
    assert "Seq Scan" not in plan


@pytest.mark.django_db
def test_the_overdue_sweep_finds_exactly_the_tickets_past_each_deadline(make_ticket, clock):
    waiting = make_ticket()
    dispatched = make_ticket(State.DISPATCHED)
    closed = make_ticket(State.CLOSED)
    clock.shift(timedelta(minutes=31))
    assert set(tickets_overdue(milestone=Milestone.DISPATCH, now=T0 + timedelta(minutes=31))) == {
        waiting
    }
    clock.shift(timedelta(minutes=15))
    now = T0 + timedelta(minutes=46)
    assert set(tickets_overdue(milestone=Milestone.ACCEPT, now=now)) == {waiting, dispatched}
    assert closed not in set(
        tickets_overdue(milestone=Milestone.CLOSE, now=now + timedelta(days=9))
    )


@pytest.mark.django_db
def test_milestone_rows_tell_met_late_overdue_and_pending(make_ticket, centre, clock):
    ticket = make_ticket(State.DISPATCHED)  # verified and dispatched at T0
    clock.shift(timedelta(minutes=50))  # accept was due at 45 min
    ticket = ticket_detail_for_user(user=centre.dispatcher, number=ticket.number)
    rows = {
        row["milestone"]: row["standing"]
        for row in ticket_milestone_rows(ticket=ticket, now=T0 + timedelta(minutes=50))
    }
    assert rows == {
        Milestone.DISPATCH: "met",
        Milestone.ACCEPT: "overdue",
        Milestone.ARRIVE: "pending",
        Milestone.RESOLVE: "pending",
        Milestone.CLOSE: "pending",
    }
    assert ticket_next_deadline(ticket) == (Milestone.ACCEPT, T0 + timedelta(minutes=45))


@pytest.mark.django_db
def test_when_two_deadlines_fall_together_the_earlier_milestone_is_next(make_ticket, clock):
    ticket = make_ticket(State.ON_SITE)  # general: repaired and closed both due at 24 h
    assert ticket.resolve_due == ticket.close_due
    assert ticket_next_deadline(ticket)[0] == Milestone.RESOLVE
