"""Every report costs the same few queries however many tickets its period had."""

from datetime import timedelta

import pytest

from reports.monthly import monthly_figures
from reports.periods import day_of, shift_of, week_of
from reports.selectors import daily_figures, shift_figures
from reports.weekly import weekly_figures
from tests.conftest import T0
from tests.reports.conftest import NOVEMBER
from tickets.choices import Channel, State

pytestmark = pytest.mark.django_db

# The month by crew and district, its first extensions, by fault, district and part of the
# day, the satisfaction trend, the extensions, the complaints, the repeat addresses, the
# accountability records and their total, last month's targets.
# One of them reads the period's outages (none here; each outage adds its own figures).
MONTHLY_QUERIES = 11


def _more_tickets(make_ticket, clock, centre) -> None:
    """Tickets of every kind on the Monday: closed, open, a transfer, an emergency."""
    clock.move_to(T0 + timedelta(hours=2))
    make_ticket(State.CLOSED)
    make_ticket(State.DISPATCHED, fault_type=centre.burst)
    make_ticket(State.VERIFIED, channel=Channel.GOV_12345)
    make_ticket(State.ACCEPTED)


def test_the_monthly_figures_make_as_many_queries_in_a_fuller_month(
    month, make_ticket, clock, centre, django_assert_num_queries
):
    with django_assert_num_queries(MONTHLY_QUERIES):
        monthly_figures(period=NOVEMBER)

    _more_tickets(make_ticket, clock, centre)

    with django_assert_num_queries(MONTHLY_QUERIES):
        monthly_figures(period=NOVEMBER)


def test_the_weekly_figures_make_as_many_queries_in_a_fuller_week(
    week, make_ticket, clock, centre, django_assert_num_queries
):
    with django_assert_num_queries(7):
        weekly_figures(period=week_of(T0))

    _more_tickets(make_ticket, clock, centre)

    with django_assert_num_queries(7):
        weekly_figures(period=week_of(T0))


def test_the_daily_and_shift_figures_make_as_many_queries_on_a_fuller_day(
    make_ticket, clock, centre, django_assert_num_queries
):
    # Given an empty Monday, when its figures are computed, then a fixed count; the same
    # once it has tickets of every kind. (The shift's times are read from its templates once.)
    shift = shift_of(T0)
    with django_assert_num_queries(8):  # one of them the day's outages, none here
        daily_figures(period=day_of(T0))
    with django_assert_num_queries(5):
        shift_figures(period=shift)

    _more_tickets(make_ticket, clock, centre)

    with django_assert_num_queries(8):
        daily_figures(period=day_of(T0))
    with django_assert_num_queries(5):
        shift_figures(period=shift)
