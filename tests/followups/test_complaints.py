"""A complaint's two replies: the first within the hour inside the shift, the final within a
working day of the department's answer; and the list of those past their limit."""

from datetime import datetime, timedelta

import pytest
from django.utils import timezone

from followups.models import Complaint
from followups.selectors import complaints_overdue
from followups.services import complaint_first_reply
from tests.conftest import SHANGHAI
from tickets import services as ticket_services
from tickets.errors import ApplicationError

pytestmark = pytest.mark.django_db


def _local(*args) -> datetime:
    return datetime(*args, tzinfo=SHANGHAI)


@pytest.fixture
def make_complaint(make_ticket, complaint_type):
    def make(state: str = "new"):
        return make_ticket(state, fault_type=complaint_type, building="", unit="")

    return make


def test_a_complaint_is_owed_its_first_reply_within_the_hour(make_complaint, clock):
    ticket = make_complaint()  # Monday 09:00

    complaint = Complaint.objects.get(ticket=ticket)

    assert complaint.first_reply_due == _local(2026, 11, 16, 10, 0)
    assert complaint.final_reply_due is None


def test_a_complaint_late_in_a_shift_is_answered_before_the_handover(make_complaint, clock):
    clock.move_to(_local(2026, 11, 16, 19, 30))

    ticket = make_complaint()

    assert Complaint.objects.get(ticket=ticket).first_reply_due == _local(2026, 11, 16, 20, 0)


def test_the_final_reply_is_due_a_working_day_after_the_department_answers(
    make_complaint, centre, clock
):
    ticket = make_complaint("referred")
    clock.move_to(_local(2026, 11, 20, 15, 0))  # a Friday

    ticket_services.ticket_answer(actor=centre.department_user, ticket=ticket, answer="已核实处理")

    assert Complaint.objects.get(ticket=ticket).final_reply_due == _local(2026, 11, 23, 17, 30)


def test_closing_the_complaint_gives_its_final_reply(make_complaint, centre, clock):
    ticket = make_complaint("resolved")
    clock.shift(timedelta(hours=3))

    ticket_services.ticket_close(actor=centre.dispatcher, ticket=ticket)

    complaint = Complaint.objects.get(ticket=ticket)
    assert complaint.final_replied_at == timezone.now()
    # Answered in full, the customer is owed no first reply any more.
    assert complaint.first_replied_at == timezone.now()


def test_reopening_the_complaint_owes_a_new_final_reply(make_complaint, centre, clock):
    ticket = make_complaint("closed")

    ticket_services.ticket_reopen(actor=centre.supervisor, ticket=ticket, reason="再次投诉")

    complaint = Complaint.objects.get(ticket=ticket)
    assert (complaint.final_reply_due, complaint.final_replied_at) == (None, None)


def test_the_first_reply_is_recorded_once(make_complaint, centre, clock):
    ticket = make_complaint()
    clock.shift(timedelta(minutes=20))

    complaint_first_reply(actor=centre.agent, ticket=ticket, text="已向用户致歉并说明处理流程")

    complaint = Complaint.objects.get(ticket=ticket)
    assert (complaint.first_replied_at, complaint.first_replied_by) == (
        timezone.now(),
        centre.agent,
    )
    with pytest.raises(ApplicationError) as refused:
        complaint_first_reply(actor=centre.agent, ticket=ticket, text="再次答复")
    assert refused.value.code == "conflict"
    complaint.refresh_from_db()
    assert complaint.first_reply == "已向用户致歉并说明处理流程"


@pytest.mark.parametrize(("text", "code"), [("  ", "invalid"), ("很" * 2001, "invalid")])
def test_a_first_reply_needs_its_words(make_complaint, centre, text, code):
    ticket = make_complaint()

    with pytest.raises(ApplicationError) as refused:
        complaint_first_reply(actor=centre.agent, ticket=ticket, text=text)

    assert (refused.value.code, set(refused.value.fields)) == (code, {"text"})


def test_only_a_complaint_takes_a_first_reply(make_ticket, centre):
    ticket = make_ticket()

    with pytest.raises(ApplicationError) as refused:
        complaint_first_reply(actor=centre.agent, ticket=ticket, text="答复")

    assert refused.value.code == "not_found"


def test_the_overdue_list_holds_complaints_past_a_limit_still_unanswered(
    make_complaint, centre, clock
):
    late = make_complaint()
    answered = make_complaint()
    complaint_first_reply(actor=centre.agent, ticket=answered, text="已答复")
    clock.shift(timedelta(minutes=90))
    recent = make_complaint()

    overdue = list(complaints_overdue(as_of=timezone.now()))

    assert [complaint.ticket for complaint in overdue] == [late]
    assert recent  # received 90 minutes later, still within its hour


def test_the_overdue_list_of_a_past_day_is_read_as_of_its_end(make_complaint, centre, clock):
    ticket = make_complaint("referred")
    clock.move_to(_local(2026, 11, 17, 9, 0))
    complaint_first_reply(actor=centre.agent, ticket=ticket, text="已答复")
    ticket_services.ticket_answer(actor=centre.department_user, ticket=ticket, answer="已处理")
    clock.move_to(_local(2026, 11, 20, 9, 0))

    def overdue_at_the_end_of(day: int) -> list:
        as_of = _local(2026, 11, day + 1, 0, 0)
        return [complaint.ticket for complaint in complaints_overdue(as_of=as_of)]

    # Monday: the first reply was late (it came only on Tuesday).
    assert overdue_at_the_end_of(16) == [ticket]
    # Tuesday's answer asked for the final reply by Wednesday 17:30.
    assert overdue_at_the_end_of(17) == []
    assert overdue_at_the_end_of(18) == [ticket]
