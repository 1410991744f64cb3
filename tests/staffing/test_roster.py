"""Shift templates, the roster, attendance flags and the staffing ratios."""

from datetime import time, timedelta

import pytest

from staffing import services
from staffing.models import RosterEntry, RosterRole, Seat, ShiftTemplate
from staffing.roles import Role
from staffing.selectors import Attendance, attendance_of, ratios_of, staffing_settings
from staffing.shifts import break_window, entry_window, handovers_forget, shift_now
from tests.conftest import T0
from tests.staffing.factories import user_with_role
from tickets.errors import ApplicationError
from tickets.shifts import shift_end

DAY = T0.date()  # Monday 16 November; T0 is 09:00


@pytest.fixture
def shifts(sla_policies):
    return {shift.code: shift for shift in ShiftTemplate.objects.all()}


def _entry(shifts, person, *, shift="day", role=RosterRole.AGENT, **extra) -> RosterEntry:
    return RosterEntry.objects.create(
        day=DAY, shift=shifts[shift], person=person, role=role, **extra
    )


class TestShifts:
    def test_a_night_shift_ends_the_next_morning_and_its_break_after_midnight(self, shifts, centre):
        entry = _entry(
            shifts, centre.agent, shift="night", break_starts_at=time(2), break_minutes=45
        )
        window, pause = entry_window(entry), break_window(entry)

        assert (window.start, window.end) == (
            T0.replace(hour=20),
            T0.replace(day=17, hour=8),
        )
        assert (pause.start, pause.end) == (
            T0.replace(day=17, hour=2),
            T0.replace(day=17, hour=2, minute=45),
        )

    def test_the_shift_working_now_is_found_across_midnight(self, shifts):
        assert shift_now(T0) == (shifts["day"], DAY)
        assert shift_now(T0.replace(hour=3)) == (shifts["night"], DAY - timedelta(days=1))

    def test_the_templates_set_when_a_complaint_shift_ends(self, shifts):
        assert shift_end(T0) == T0.replace(hour=20)
        ShiftTemplate.objects.create(code="late", name="中班", starts_at=time(14), ends_at=time(22))
        assert shift_end(T0) == T0.replace(hour=14)  # saving a template counts at once

        ShiftTemplate.objects.filter(code="late").update(handover=False)
        handovers_forget()
        assert shift_end(T0) == T0.replace(hour=20)  # a peak shift hands nothing over


class TestRoster:
    def test_an_entry_with_its_break_is_added_once(self, shifts, centre):
        entry = services.roster_add(
            day=DAY,
            shift=shifts["day"],
            person=centre.agent,
            role=RosterRole.AGENT,
            break_starts_at=time(12),
            break_minutes=60,
        )
        assert entry.pk
        with pytest.raises(ApplicationError) as twice:
            services.roster_add(
                day=DAY, shift=shifts["day"], person=centre.agent, role=RosterRole.FLOATING_AGENT
            )
        assert twice.value.code == "conflict"
        assert RosterEntry.objects.count() == 1

    @pytest.mark.parametrize(
        ("extra", "field"),
        [
            ({"break_starts_at": time(19, 30), "break_minutes": 60}, "break_starts_at"),
            ({"break_starts_at": time(12)}, "break_minutes"),
            ({"break_minutes": 30}, "break_minutes"),
            ({"role": "chef"}, "role"),
            ({"break_starts_at": time(12), "break_minutes": 300}, "break_minutes"),
        ],
    )
    def test_bad_entries_are_refused_naming_the_field(self, shifts, centre, extra, field):
        arguments = {"role": RosterRole.AGENT, **extra}
        with pytest.raises(ApplicationError) as error:
            services.roster_add(day=DAY, shift=shifts["day"], person=centre.agent, **arguments)
        assert field in error.value.fields
        assert not RosterEntry.objects.exists()

    def test_a_closed_account_cannot_be_rostered(self, shifts, centre):
        centre.agent.is_active = False
        centre.agent.save()
        with pytest.raises(ApplicationError) as error:
            services.roster_add(
                day=DAY, shift=shifts["day"], person=centre.agent, role=RosterRole.AGENT
            )
        assert "person" in error.value.fields

    def test_last_weeks_roster_is_copied_without_doubling(self, shifts, centre):
        week_ago = DAY - timedelta(weeks=1)
        for person in (centre.agent, centre.shift_leader):
            RosterEntry.objects.create(
                day=week_ago, shift=shifts["day"], person=person, role=RosterRole.AGENT
            )
        _entry(shifts, centre.agent)

        assert services.roster_copy(source=week_ago, target=DAY) == 1
        assert services.roster_copy(source=week_ago, target=DAY) == 0
        assert RosterEntry.objects.filter(day=DAY).count() == 2

    def test_an_entry_signed_in_for_stays_as_a_record(self, shifts, centre):
        entry = _entry(shifts, centre.agent, signed_in_at=T0)
        with pytest.raises(ApplicationError) as error:
            services.roster_remove(entry=entry)
        assert error.value.code == "conflict"
        assert RosterEntry.objects.filter(pk=entry.pk).exists()


class TestAttendance:
    @pytest.mark.parametrize(
        ("signed_in", "signed_out", "at", "flags"),
        [
            (None, None, "07:50", [Attendance.DUE]),
            (None, None, "08:04", [Attendance.DUE]),
            (None, None, "08:10", [Attendance.LATE]),
            (None, None, "08:30", [Attendance.ABSENT]),
            ("07:55", None, "09:00", [Attendance.ON_TIME]),
            ("08:05", None, "09:00", [Attendance.ON_TIME]),  # within the 5 minutes
            ("08:12", None, "09:00", [Attendance.LATE]),
            ("07:55", "19:58", "21:00", [Attendance.ON_TIME]),
            ("08:20", "18:00", "21:00", [Attendance.LATE, Attendance.LEFT_EARLY]),
        ],
    )
    def test_flags_against_the_roster(self, shifts, centre, signed_in, signed_out, at, flags):
        def moment(text):
            return None if text is None else T0.replace(hour=int(text[:2]), minute=int(text[3:]))

        entry = _entry(
            shifts, centre.agent, signed_in_at=moment(signed_in), signed_out_at=moment(signed_out)
        )
        assert attendance_of(entry, now=moment(at), rules=staffing_settings()) == flags

    def test_signing_in_at_a_seat_signs_in_for_the_shift_and_out_of_it(self, shifts, centre):
        entry = _entry(shifts, centre.agent)
        seat = Seat.objects.create(label="A-01", extension="8001")

        services.seat_sign_in(agent=centre.agent, seat=seat, at=T0.replace(hour=7, minute=50))
        services.seat_sign_out(agent=centre.agent, at=T0.replace(hour=12))
        services.seat_sign_in(agent=centre.agent, seat=seat, at=T0.replace(hour=13))

        entry.refresh_from_db()
        assert entry.signed_in_at == T0.replace(hour=7, minute=50)  # the first sign-in counts
        assert entry.signed_out_at is None  # back after lunch

    def test_a_dispatcher_signs_in_for_the_shift_from_the_home_page(
        self, client, shifts, centre, clock
    ):
        entry = _entry(shifts, centre.dispatcher, role=RosterRole.DISPATCHER)
        client.force_login(centre.dispatcher)

        assert "Sign in for my shift" in client.get("/", HTTP_ACCEPT_LANGUAGE="en").text
        client.post("/staffing/me/shift/", {"action": "sign_in"})
        entry.refresh_from_db()
        assert entry.signed_in_at == T0

        clock.shift(timedelta(hours=11, minutes=1))
        client.post("/staffing/me/shift/", {"action": "sign_out"})
        entry.refresh_from_db()
        assert entry.signed_out_at == T0 + timedelta(hours=11, minutes=1)

    def test_signing_in_off_the_roster_says_whom_to_ask(self, client, centre, shifts, clock):
        client.force_login(centre.dispatcher)
        client.cookies["django_language"] = "en"
        response = client.post("/staffing/me/shift/", {"action": "sign_in"}, follow=True)
        assert "You are not on the roster now" in response.text


class TestRatios:
    def _roster(self, shifts, agents: int, monitors: int, trainers: int) -> None:
        for role, count in (
            (RosterRole.AGENT, agents),
            (RosterRole.QUALITY_MONITOR, monitors),
            (RosterRole.TRAINER, trainers),
        ):
            for _ in range(count):
                _entry(shifts, user_with_role(Role.AGENT), role=role)

    @pytest.mark.parametrize(
        ("agents", "monitors", "trainers", "monitors_within", "trainers_within"),
        [
            (50, 2, 1, True, False),  # 1:25 quality monitors; one trainer for 50 is too few
            (60, 2, 2, True, True),  # 1:30 and 1:30
            (61, 2, 2, False, True),  # more than 30 per monitor; 30.5 per trainer is fine
            (40, 3, 1, False, True),  # 1:13 is more monitors than needed
            (8, 1, 1, True, True),  # a small centre needs one of each
            (8, 0, 1, False, True),
        ],
    )
    def test_ratios_are_checked_against_one_per_20_to_30_and_30_to_40(
        self, shifts, agents, monitors, trainers, monitors_within, trainers_within
    ):
        self._roster(shifts, agents, monitors, trainers)
        monitor, trainer = ratios_of(day=DAY)

        assert (monitor.role, trainer.role) == (RosterRole.QUALITY_MONITOR, RosterRole.TRAINER)
        assert (monitor.agents, monitor.staff) == (agents, monitors)
        assert (monitor.within, trainer.within) == (monitors_within, trainers_within)

    def test_the_roster_page_warns_and_shows_the_flags(self, client, shifts, centre, clock):
        self._roster(shifts, 45, 1, 0)
        _entry(shifts, centre.dispatcher, role=RosterRole.DISPATCHER)
        client.force_login(centre.shift_leader)
        client.cookies["django_language"] = "en"

        page = client.get(f"/staffing/roster/?day={DAY.isoformat()}")

        assert page.status_code == 200
        assert "Quality monitor: 1 for 45 agents, fewer than one per 30; roster at least 2." in (
            page.text
        )
        assert "Trainer: 0 for 45 agents, fewer than one per 40; roster at least 2." in page.text
        assert "attendance-absent" in page.text  # 09:00, nobody has signed in

    def test_a_bad_entry_on_the_page_is_a_400_with_the_field_marked(self, client, shifts, centre):
        client.force_login(centre.shift_leader)
        client.cookies["django_language"] = "en"
        response = client.post(
            f"/staffing/roster/?day={DAY.isoformat()}",
            {
                "shift": shifts["day"].pk,
                "person": centre.agent.pk,
                "role": RosterRole.AGENT,
                "break_starts_at": "21:00",
                "break_minutes": "30",
            },
        )
        assert response.status_code == 400
        assert "The break must fall within the shift." in response.text
        assert not RosterEntry.objects.exists()

    def test_only_floor_leads_plan_the_roster(self, client, centre):
        client.force_login(centre.agent)
        assert client.get("/staffing/roster/").status_code == 403
        assert client.get("/staffing/planning/").status_code == 403
