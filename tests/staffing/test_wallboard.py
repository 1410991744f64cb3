"""The wallboard's figures on a hand-checked morning of calls, their colours, and its pages."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import translation

from callcentre.models import Call
from callcentre.services import intake_answer_on_call
from staffing import services
from staffing.models import (
    AgentStatus,
    RosterEntry,
    RosterRole,
    Seat,
    ShiftTemplate,
    WallboardThreshold,
)
from staffing.roles import Role
from staffing.wallboard import KEPT_SECONDS, board
from tests.conftest import T0
from tests.staffing.factories import user_with_role

NOW = T0 + timedelta(minutes=30)  # Monday 16 November, 09:30


def _call(ring: str, *, answer: int | None = None, talk: int | None = None, **extra) -> Call:
    """A call that rang at ``ring`` (HH:MM:SS today), answered after ``answer`` seconds and
    ended ``talk`` seconds after that."""
    hours, minutes, seconds = (int(part) for part in ring.split(":"))
    ringing = T0.replace(hour=hours, minute=minutes, second=seconds)
    call = Call(ringing_at=ringing, **extra)
    if answer is not None:
        call.answered_at = ringing + timedelta(seconds=answer)
        if talk is not None:
            call.ended_at = call.answered_at + timedelta(seconds=talk)
    return call


@pytest.fixture
def morning(centre):
    """The calls of the morning so far, and three agents at their seats.

    Today: 8 rang (one of them the switch never ended, at 06:00), 4 answered after 10, 20,
    5 and 30 s, 1 abandoned; 2 still waiting, for 120 s and 30 s. Answer rate 4 / 5 = 80 %;
    within 15 s 2 / 5 = 40 %, within 20 s 3 / 5 = 60 %; ASA 65 / 4 = 16.25 s; handle time
    (180 + 120 + 300) / 3 = 200 s. Since 09:00: 4 rang, 2 answered after 5 and 30 s: answer
    rate 100 %, within 15 s 50 %, ASA 17.5 s, handle time 300 s.
    """
    Call.objects.bulk_create(
        [
            _call("07:10:00", answer=10, talk=180),
            _call("08:05:00", answer=20, talk=120),
            _call("08:30:00", abandoned=True, outcome=Call.Outcome.ABANDONED),
            _call("09:05:00", answer=5, talk=300),
            _call("09:28:00"),
            _call("09:29:30"),
            _call("06:00:00"),  # a lost end: rang too long ago to be waiting
            # Not today's inbound calls.
            Call(
                ringing_at=T0 - timedelta(hours=9, minutes=10),
                answered_at=T0 - timedelta(hours=9),
            ),
            _call("09:15:00", answer=2, talk=60, direction=Call.Direction.OUTBOUND),
        ]
    )
    on_call = _call("09:10:00", answer=30)
    on_call.save()
    seats = [Seat.objects.create(label=f"A-0{n}", extension=f"800{n}") for n in range(1, 4)]
    agents = [centre.agent, user_with_role(Role.AGENT), user_with_role(Role.AGENT)]
    day = ShiftTemplate.objects.get(code="day")
    for agent in [*agents, user_with_role(Role.AGENT)]:
        RosterEntry.objects.create(day=T0.date(), shift=day, person=agent, role=RosterRole.AGENT)
    for agent, seat in zip(agents, seats, strict=True):
        services.seat_sign_in(agent=agent, seat=seat, at=T0.replace(hour=8))
    services.status_set(agent=agents[1], status=AgentStatus.BREAK, at=T0)
    services.status_follow_call(
        call=on_call, event="answered", at=on_call.answered_at, agent=agents[2]
    )
    return agents


def test_the_figures_of_a_hand_checked_morning(morning, clock):
    clock.move_to(NOW)
    shown = board(now=NOW, within=15)

    assert (shown.waiting, shown.longest_wait_seconds) == (2, 120)
    today, hour = shown.today, shown.hour
    assert (today.offered, today.answered, today.abandoned) == (8, 4, 1)
    assert today.answer_rate == 80
    assert today.service_level == 40
    assert today.asa_seconds == 16.25
    assert today.aht_seconds == 200
    assert (hour.offered, hour.answered, hour.abandoned) == (4, 2, 0)
    assert (hour.answer_rate, hour.service_level) == (100, 50)
    assert (hour.asa_seconds, hour.aht_seconds) == (17.5, 300)
    assert shown.agents == {
        "available": 1,
        "on_call": 1,
        "after_call_work": 0,
        "break": 1,
        "training": 0,
        "offline": 0,
    }
    assert shown.missing == 1  # rostered on the day shift, not at a seat

    assert board(now=NOW, within=20).today.service_level == 60


def test_the_figures_turn_amber_and_red_at_their_thresholds(morning, clock):
    clock.move_to(NOW)
    levels = board(now=NOW, within=15).levels

    assert levels["calls_waiting"] == ""  # 2, amber above 5
    assert levels["longest_wait"] == "red"  # 120 s, red from 60
    assert levels["today_answer_rate"] == "red"  # 80 %, red at 90 or below
    assert levels["hour_answer_rate"] == ""
    assert levels["today_asa"] == "amber"  # 16.25 s, amber above 15
    assert levels["today_aht"] == ""

    # An edit in the administration counts at once.
    for figure, amber, red in (("longest_wait", 100, 150), ("answer_rate", 85, 75)):
        threshold = WallboardThreshold.objects.get(figure=figure)
        threshold.amber, threshold.red = amber, red
        threshold.save()
    levels = board(now=NOW, within=15).levels
    assert (levels["longest_wait"], levels["today_answer_rate"]) == ("amber", "amber")


def test_a_threshold_with_red_on_the_better_side_is_refused(db):
    threshold = WallboardThreshold(figure="answer_rate", amber=Decimal(90), red=Decimal(95))
    with translation.override("en"), pytest.raises(Exception, match="worse side") as error:
        threshold.full_clean(validate_unique=False)
    assert "red" in error.value.message_dict


def test_the_board_costs_the_same_few_queries_however_many_calls(
    morning, clock, django_assert_max_num_queries
):
    clock.move_to(NOW)
    with django_assert_max_num_queries(9):
        board(now=NOW, within=15)
    Call.objects.bulk_create(_call("09:01:00", answer=3, talk=100) for _ in range(200))
    # The thresholds and the calls before the queue horizon are kept a minute.
    with django_assert_max_num_queries(6):
        assert board(now=NOW, within=15).hour.answered == 202


def test_the_calls_before_the_queue_horizon_are_read_again_after_a_minute(morning, clock):
    clock.move_to(NOW)
    assert board(now=NOW, within=15).today.offered == 8
    # A call that rang at 06:30 and reached the centre late, from a switch catching up.
    Call.objects.create(ringing_at=T0.replace(hour=6, minute=30), abandoned=True)

    assert board(now=NOW, within=15).today.offered == 8
    later = NOW + timedelta(seconds=KEPT_SECONDS + 1)
    clock.move_to(later)
    assert board(now=later, within=15).today.offered == 9
    assert board(now=later, within=15).today.abandoned == 2


def test_a_call_logged_by_hand_is_not_a_call_of_the_queue(morning, centre, clock):
    """It never rang at the switch: its wait and handle time are unknown, not nought."""
    clock.move_to(NOW)
    intake_answer_on_call(agent=centre.agent, phone="13812345678", faq_entries=[], notes="已答复")

    shown = board(now=NOW, within=15)
    assert (shown.today.offered, shown.hour.offered) == (8, 4)
    assert shown.hour.aht_seconds == 300


def test_a_roster_change_counts_on_the_board_at_once(morning, clock):
    clock.move_to(NOW)
    assert board(now=NOW, within=15).missing == 1
    day = ShiftTemplate.objects.get(code="day")
    late = services.roster_add(
        day=T0.date(), shift=day, person=user_with_role(Role.AGENT), role=RosterRole.AGENT
    )
    assert board(now=NOW, within=15).missing == 2
    services.roster_remove(entry=late)
    assert board(now=NOW, within=15).missing == 1
    # Copying a roster adds its entries in one statement, without a save of each.
    RosterEntry.objects.filter(day=T0.date()).delete()
    RosterEntry.objects.create(
        day=T0.date() - timedelta(days=7),
        shift=day,
        person=user_with_role(Role.AGENT),
        role=RosterRole.AGENT,
    )
    assert board(now=NOW, within=15).missing == 0
    services.roster_copy(source=T0.date() - timedelta(days=7), target=T0.date())
    assert board(now=NOW, within=15).missing == 1


def test_the_figures_add_up_across_the_horizon_as_the_day_goes_on(morning, clock):
    """At 11:10 the calls before 09:00 are kept and the later ones read again; together they
    give the figures of the hand-checked morning."""
    later = T0.replace(hour=11, minute=10)
    clock.move_to(later)
    today = board(now=later, within=15).today
    assert (today.offered, today.answered, today.abandoned) == (8, 4, 1)
    assert (today.asa_seconds, today.aht_seconds) == (16.25, 200)
    assert board(now=later, within=15).today.answered_within == 2


class TestPages:
    def test_the_shift_leader_watches_the_board_and_its_live_part(self, client, centre, morning):
        client.force_login(centre.shift_leader)
        page = client.get("/staffing/wallboard/")
        live = client.get("/staffing/wallboard/live/?within=20")

        assert page.status_code == live.status_code == 200
        assert 'hx-trigger="every 3s"' in page.text
        assert 'id="seat-A-01"' in live.text
        assert "?within=20" in live.text  # it keeps polling the level chosen

    def test_each_seat_shows_who_sits_there_their_status_and_for_how_long(
        self, client, centre, morning, clock
    ):
        clock.move_to(NOW)
        agent = morning[1]  # on a break since 09:00, at A-02
        agent.first_name, agent.last_name = "<b>小</b>", "王"
        agent.save()
        Seat.objects.create(label="F-<9>", extension="8109", floating=True, switched_on=False)
        client.force_login(centre.shift_leader)
        client.cookies["django_language"] = "en"

        live = client.get("/staffing/wallboard/live/").text

        seat = live.split('id="seat-A-02"', 1)[1].split("</li>", 1)[0]
        assert "王&lt;b&gt;小&lt;/b&gt;" in seat
        assert 'class="agent-status status-break">Break</span>' in seat
        assert ">30:00</span>" in seat
        assert "<b>" not in live
        floating = live.split('id="seat-F-&lt;9&gt;"', 1)[1].split("</li>", 1)[0]
        assert "Switched off" in floating
        assert 'id="switch-F-&lt;9&gt;">Switch F-&lt;9&gt; on</button>' in floating
        switch = Seat.objects.get(label="F-<9>")
        assert f'action="/staffing/seats/{switch.pk}/switch/"' in floating

    def test_the_service_level_choices_are_worded_in_the_readers_language(self, client, centre):
        client.force_login(centre.shift_leader)
        client.cookies["django_language"] = "en"
        assert '<option value="20">20 s</option>' in client.get("/staffing/wallboard/").text
        client.cookies["django_language"] = "zh-hans"
        assert '<option value="20">20 秒</option>' in client.get("/staffing/wallboard/").text

    def test_a_bad_service_level_choice_falls_back_to_the_setting(self, client, centre, morning):
        client.force_login(centre.shift_leader)
        client.cookies["django_language"] = "en"
        response = client.get("/staffing/wallboard/live/?within=99")
        assert response.status_code == 200
        assert "answered within 15 s" in response.text

    def test_the_shift_leader_switches_a_floating_seat_on(self, client, centre, morning):
        floating = Seat.objects.create(
            label="F-01", extension="8101", floating=True, switched_on=False
        )
        client.force_login(centre.shift_leader)

        response = client.post(
            f"/staffing/seats/{floating.pk}/switch/", {"on": "1"}, HTTP_HX_REQUEST="true"
        )

        assert response.status_code == 200
        floating.refresh_from_db()
        assert floating.switched_on
        assert 'id="switch-F-01"' in response.text

    @pytest.mark.parametrize("role", ["agent", "dispatcher", "crew_member"])
    def test_others_may_not_see_the_board_or_switch_seats(self, client, centre, role):
        seat = Seat.objects.create(label="F-09", extension="8109", floating=True)
        client.force_login(centre.by_role()[role])
        assert client.get("/staffing/wallboard/").status_code == 403
        assert client.post(f"/staffing/seats/{seat.pk}/switch/", {"on": "0"}).status_code == 403
