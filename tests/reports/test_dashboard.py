"""The supervisor's dashboard: its figures on a hand-checked Monday, the ticket lists its
links open, who may read it, and what it costs."""

import re
from datetime import timedelta

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from callcentre.models import Call
from followups.models import Callback
from reports.dashboard import MONTH, TODAY, dashboard_figures, span_of
from staffing.forecast import interval_starts
from staffing.models import IntervalForecast
from tests.conftest import T0
from tests.dispatch.factories import CommunityFactory
from tickets.choices import Grade, Milestone, State

pytestmark = pytest.mark.django_db

NOW = T0.replace(hour=13, minute=30)
ENGLISH = {"HTTP_ACCEPT_LANGUAGE": "en"}


def call_at(when, *, direction=Call.Direction.INBOUND, answered=True, abandoned=False) -> Call:
    call = Call.objects.create(
        direction=direction,
        ringing_at=when,  # the forecast counts the calls that rang
        answered_at=when if answered else None,
        abandoned=abandoned,
    )
    Call.objects.filter(pk=call.pk).update(created_at=when)  # created_at is set on insert
    return call


def callback_on(ticket, rules, *, done_at, satisfaction="", state=Callback.State.DONE):
    return Callback.objects.create(
        rule=rules["hotline-repair"],
        ticket=ticket,
        phone="+8613812345678",
        state=state,
        satisfaction=satisfaction,
        callable_at=done_at,
        due_at=done_at + timedelta(hours=8),
        done_at=done_at if state == Callback.State.DONE else None,
        created_at=done_at,
    )


@pytest.fixture
def monday(centre, make_ticket, rules, clock):
    """Monday 16 November, seen at 13:30.

    Received at 09:00 in the centre's district: a general leak closed at once, a general
    leak never dispatched, an emergency dispatched and never accepted, one cancelled; in a
    second district a general leak never dispatched; with no district, a billing question
    never referred. Received on Sunday, a leak never dispatched. Three callbacks done today
    (satisfied, basically, not satisfied), one done on Sunday and one still to make.

    Inbound calls today at 07:10, 08:05, 08:40 (abandoned) and 09:10, one outbound at 08:00;
    on Monday the 9th four (07:30, three at 08:15), on Monday the 2nd one (08:20), none on
    the two Mondays before, five on Tuesday the 10th.
    """
    clock.move_to(T0 - timedelta(days=1))
    sunday = make_ticket(State.VERIFIED, caller_phone="+8613700000007")
    clock.move_to(T0)
    other = CommunityFactory()
    tickets = {
        "closed": make_ticket(State.CLOSED),
        "waiting": make_ticket(State.VERIFIED),
        "emergency": make_ticket(State.DISPATCHED, fault_type=centre.burst),
        "cancelled": make_ticket(State.CANCELLED),
        "elsewhere": make_ticket(community=other, address="东湖花园"),
        "question": make_ticket(fault_type=centre.billing, community=None, address="电话咨询"),
        "sunday": sunday,
    }
    done = T0 + timedelta(hours=3)
    callback_on(tickets["closed"], rules, done_at=done, satisfaction="satisfied")
    callback_on(tickets["emergency"], rules, done_at=done, satisfaction="basically")
    callback_on(tickets["waiting"], rules, done_at=done, satisfaction="unsatisfied")
    callback_on(sunday, rules, done_at=T0 - timedelta(hours=20), satisfaction="unsatisfied")
    callback_on(tickets["elsewhere"], rules, done_at=done, state=Callback.State.PENDING)

    today = T0.replace(hour=0)
    for hour, minute in ((7, 10), (8, 5), (9, 10)):
        call_at(today.replace(hour=hour, minute=minute))
    call_at(today.replace(hour=8, minute=40), answered=False, abandoned=True)
    call_at(today.replace(hour=8), direction=Call.Direction.OUTBOUND)
    week_ago, two_weeks_ago = today - timedelta(days=7), today - timedelta(days=14)
    call_at(week_ago.replace(hour=7, minute=30))
    for _ in range(3):
        call_at(week_ago.replace(hour=8, minute=15))
    call_at(two_weeks_ago.replace(hour=8, minute=20))
    for _ in range(5):
        call_at(week_ago.replace(hour=8) + timedelta(days=1))

    clock.move_to(NOW)
    return {"tickets": tickets, "elsewhere": other.district}


def _today():
    return dashboard_figures(span=span_of(TODAY, now=timezone.now()))


def test_today_counts_the_calls_per_hour_against_the_same_mondays(monday):
    calls = _today().calls

    assert (calls.received, calls.answered, calls.abandoned) == (4, 3, 1)
    by_hour = {timezone.localtime(slot.start).hour: slot for slot in calls.slots}
    assert len(by_hour) == 24
    assert [by_hour[hour].calls for hour in range(6, 15)] == [0, 1, 2, 1, 0, 0, 0, 0, None]
    # The staffing forecast: the Mondays since the first call (the 2nd) average 2.5 calls
    # a day, with no trend over two weeks. Their profile is 1 of 5 calls at 07:30 and 4 at
    # 08:00; each half-hour passes 1/8 of its share to each neighbour, so 07:00 0.025,
    # 07:30 0.25, 08:00 0.625, 08:30 0.1. Hour 7: 2.5 × 0.275 = 0.6875; hour 8:
    # 2.5 × 0.725 = 1.8125.
    assert (by_hour[7].forecast, by_hour[8].forecast, by_hour[3].forecast) == (0.7, 1.8, 0.0)
    assert by_hour[6].forecast == 0.0
    assert calls.forecast_so_far == 2.5


def test_this_month_counts_the_calls_per_day_with_the_forecast_of_each_weekday(monday):
    calls = dashboard_figures(span=span_of(MONTH, now=timezone.now())).calls

    by_day = {timezone.localtime(slot.start).day: slot for slot in calls.slots}
    assert len(by_day) == 30
    assert calls.received == 1 + 4 + 5 + 4
    assert (by_day[2].calls, by_day[9].calls, by_day[10].calls, by_day[16].calls) == (1, 4, 5, 4)
    assert by_day[17].calls is None
    assert by_day[16].forecast == 2.5  # the 9th and the 2nd
    # Tuesday the 10th, and the 3rd with none: records began on the 2nd, so a real nought.
    assert by_day[17].forecast == 2.5
    assert by_day[23].forecast == 2.5  # today is not over, so it does not count yet
    # A past day is forecast from the days before it: the 9th from the 2nd, the 10th from
    # the 3rd; the 2nd and the 3rd had no day of theirs since records began.
    assert (by_day[9].forecast, by_day[10].forecast) == (1.0, 0.0)
    assert by_day[3].forecast is None
    assert by_day[2].forecast is None


def test_the_forecast_is_the_one_stored_before_the_day_began(monday):
    # Given forecasts stored for today (3.5 calls from 06:00 to 07:00, 1 at 23:30) and for
    # Monday the 9th (2 calls a half-hour), made the evening before each
    def store(day, calls):
        IntervalForecast.objects.bulk_create(
            IntervalForecast(starts_at=start, calls=calls.get(i, 0.0), made_at=start)
            for i, start in enumerate(interval_starts(day))
        )

    today = timezone.localdate(NOW)
    store(today, {12: 1.5, 13: 2.0, 47: 1.0})
    store(today - timedelta(days=7), dict.fromkeys(range(48), 2.0))

    calls = _today().calls
    by_hour = {timezone.localtime(slot.start).hour: slot for slot in calls.slots}
    month = dashboard_figures(span=span_of(MONTH, now=timezone.now())).calls
    by_day = {timezone.localtime(slot.start).day: slot for slot in month.slots}

    # Then the hours sum their half-hours, and the days their 48
    assert (by_hour[6].forecast, by_hour[7].forecast, by_hour[23].forecast) == (3.5, 0.0, 1.0)
    assert calls.forecast_so_far == 3.5
    assert (by_day[16].forecast, by_day[9].forecast) == (4.5, 96.0)
    assert by_day[17].forecast == 2.5  # nothing stored: computed, as before


def test_today_has_the_hand_checked_ticket_figures(centre, monday):
    dashboard = _today()
    district, elsewhere = centre.community.district, monday["elsewhere"]

    assert dashboard.valid.count == 5
    faults = {row.code: {g: f.count for g, f in row.by_grade.items()} for row in dashboard.faults}
    assert faults == {
        "household-leak": {"general": 3},
        "burst-main": {"emergency": 1},
        "billing-question": {"consult": 1},
    }
    assert dashboard.faults[0].code == "household-leak"  # the busiest first
    heat = dashboard.heat
    assert heat.columns == [("burst-main", "爆管"), ("household-leak", "单户漏水")]
    cells = {
        row.code: [(cell.figure.count, cell.level) if cell else None for cell in row.cells]
        for row in heat.rows
    }
    assert cells == {district.code: [(1, 3), (2, 5)], elsewhere.code: [None, (1, 3)]}
    compliance = {
        row.milestone: (row.met, row.counted, row.missed.count) for row in dashboard.compliance
    }
    assert compliance == {
        Milestone.DISPATCH: (2, 5, 3),
        Milestone.ACCEPT: (1, 4, 3),
        Milestone.ARRIVE: (1, 4, 3),
        Milestone.MITIGATE: (0, 1, 1),
        Milestone.RESOLVE: (1, 1, 0),  # the leaks still open are due tomorrow
        Milestone.CLOSE: (1, 2, 1),
    }
    assert dashboard.compliance_total == {"counted": 17, "met": 6, "share": 35.3}
    satisfaction = dashboard.satisfaction
    assert (satisfaction["done"], satisfaction["unsatisfied"], satisfaction["share"]) == (
        3,
        1,
        66.7,
    )
    # Overdue now, whenever received: the three never dispatched, Sunday's, the emergency.
    assert dashboard.overdue.count == 5
    assert [(grade, f.count) for grade, f in dashboard.overdue_by_grade] == [
        (Grade.EMERGENCY, 1),
        (Grade.GENERAL, 3),
        (Grade.CONSULT, 1),
    ]


def test_this_month_counts_sundays_ticket_too(monday):
    dashboard = dashboard_figures(span=span_of(MONTH, now=timezone.now()))

    assert dashboard.valid.count == 6
    assert dashboard.satisfaction["done"] == 4
    assert dashboard.span.received_between() == {
        "received_after": "2026-11-01",
        "received_before": "2026-11-16",
    }


def _listed(client, url: str) -> set[str]:
    response = client.get(url)
    assert response.status_code == 200, url
    assert not response.context["filter"].errors, url
    return {ticket.number for ticket in response.context["page"].object_list}


@pytest.mark.parametrize("key", [TODAY, MONTH])
def test_every_link_lists_exactly_the_tickets_its_figure_counts(client, centre, monday, key):
    client.force_login(centre.supervisor)
    dashboard = dashboard_figures(span=span_of(key, now=timezone.now()))
    page = client.get(f"/reports/dashboard/?period={key}").content.decode()
    figures = [
        dashboard.valid,
        dashboard.overdue,
        *(figure for _label, figure in dashboard.overdue_by_grade),
        *(row.missed for row in dashboard.compliance),
        *(row.total for row in dashboard.faults),
        *(figure for row in dashboard.faults for figure in row.by_grade.values()),
        *(row.total for row in dashboard.heat.rows),
        *(cell.figure for row in dashboard.heat.rows for cell in row.cells if cell),
    ]

    for figure in figures:
        assert len(_listed(client, figure.url)) == figure.count, figure.url
        if figure.count:  # a miss of none is a plain 0
            assert figure.url.replace("&", "&amp;") in page, figure.url


def test_the_links_name_the_very_tickets(client, centre, monday):
    client.force_login(centre.supervisor)
    dashboard = _today()
    tickets = {name: ticket.number for name, ticket in monday["tickets"].items()}
    leak = next(row for row in dashboard.faults if row.code == "household-leak")
    dispatch = next(row for row in dashboard.compliance if row.milestone == Milestone.DISPATCH)

    assert _listed(client, leak.by_grade["general"].url) == {
        tickets["closed"],
        tickets["waiting"],
        tickets["elsewhere"],
    }
    assert _listed(client, dispatch.missed.url) == {
        tickets["waiting"],
        tickets["elsewhere"],
        tickets["question"],
    }
    assert _listed(client, dashboard.overdue.url) == {
        tickets[name] for name in ("waiting", "emergency", "elsewhere", "question", "sunday")
    }


def test_the_page_shows_the_figures_and_the_charts_in_english(client, centre, monday):
    client.force_login(centre.supervisor)

    page = client.get("/reports/dashboard/", **ENGLISH).content.decode()

    assert page.count("<svg") == 4
    assert 'role="img" aria-label="Inbound calls per hour today, against the forecast"' in page
    assert "Forecast: the staffing plan's" in page
    assert "35.3%" in page
    assert "66.7%" in page
    assert 'id="heat-table"' in page
    assert 'class="heat-5"' in page
    assert "/callbacks/register/?day=2026-11-16" in page


def test_nothing_on_the_page_comes_from_another_site(client, centre, monday):
    client.force_login(centre.supervisor)

    for key in (TODAY, MONTH):
        page = client.get(f"/reports/dashboard/?period={key}").content.decode()
        assert "http://" not in page
        assert "https://" not in page
        assert "<script" not in page.split("</head>", 1)[1]  # pygal's scripts are left out
        for address in re.findall(r'(?:href|src|xlink:href)="([^"]*)"', page):
            assert address.startswith(("/", "?", "#")), address
            assert not address.startswith("//"), address
        assert "@import" not in page
        assert not re.search(r"url\((?!#)", page)


def test_an_empty_day_says_so(client, centre, clock):
    client.force_login(centre.supervisor)

    page = client.get("/reports/dashboard/", **ENGLISH).content.decode()

    assert page.count("<svg") == 0
    for empty in (
        "No call has come in yet today.",
        "No forecast yet: the forecast learns from whole days of calls of the same kind"
        " (the same weekday, or holidays) before this one.",
        "No ticket has come in yet today.",
        "No deadline has fallen due yet.",
        "No callback has been done yet today.",
        "No ticket in a district has come in yet today.",
        "No open ticket is past a deadline.",
    ):
        assert empty in page, empty


def test_the_figures_cost_eight_queries_however_many_tickets(
    centre, make_ticket, monday, django_assert_num_queries
):
    # Six, two more of them the forecast's (the holidays and the calls' history) while a day
    # of the span has no stored forecast.
    span = span_of(TODAY, now=timezone.now())
    with django_assert_num_queries(8):
        dashboard_figures(span=span)
    with django_assert_num_queries(8):
        dashboard_figures(span=span_of(MONTH, now=timezone.now()))


def test_the_page_costs_the_same_queries_with_more_tickets(client, centre, make_ticket, monday):
    client.force_login(centre.supervisor)
    client.get("/reports/dashboard/")

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get("/reports/dashboard/?period=month").status_code == 200
        return len(captured)

    before = queries()
    with time_machine.travel(T0 + timedelta(hours=1), tick=False):
        for community in (CommunityFactory(), CommunityFactory()):
            make_ticket(community=community, address="新地址")
            make_ticket(State.CLOSED, fault_type=centre.burst, community=community)
    call_at(T0 + timedelta(hours=2))

    assert queries() == before


def test_shift_leaders_and_supervisors_read_it_and_others_may_not(client, centre):
    assert client.get("/reports/dashboard/").status_code == 302
    assert client.get("/reports/dashboard/")["Location"].startswith("/accounts/login/")
    for user in (centre.agent, centre.dispatcher, centre.crew_leader):
        client.force_login(user)
        assert client.get("/reports/dashboard/").status_code == 403
        assert "/reports/dashboard/" not in client.get("/tickets/").content.decode()
    for user in (centre.shift_leader, centre.supervisor):
        client.force_login(user)
        response = client.get("/reports/dashboard/")
        assert response.status_code == 200
        assert re.search(
            r'href="/reports/dashboard/"\s+aria-current="page"', response.content.decode()
        )


def test_htmx_asks_for_the_figures_alone(client, centre, monday):
    client.force_login(centre.supervisor)

    response = client.get("/reports/dashboard/?period=month", HTTP_HX_REQUEST="true")

    body = response.content.decode()
    assert body.lstrip().startswith('<div id="dashboard"')
    assert "<html" not in body
    assert 'hx-get="/reports/dashboard/?period=month"' in body
