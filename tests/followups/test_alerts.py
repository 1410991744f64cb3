"""The follow-up deadlines in the overdue sweep: callbacks and the replies to complaints."""

from datetime import timedelta

import pytest
from django.utils import timezone

from followups.services import complaint_first_reply
from tickets import selectors
from tickets.services import alerts_sweep

pytestmark = pytest.mark.django_db


def levels(ticket, milestone: str) -> set[str]:
    return set(ticket.alerts.filter(milestone=milestone).values_list("level", flat=True))


def test_a_callback_warns_late_on_its_due_day_then_breaches_then_goes_to_the_supervisor(
    centre, scheduled, clock
):
    callback = scheduled()
    due = callback.due_at
    lead = timedelta(hours=9) * 0.2  # 20 % of the working day it is due in

    clock.move_to(due - lead - timedelta(minutes=1))
    alerts_sweep(now=timezone.now())
    assert levels(callback.ticket, "callback") == set()
    clock.move_to(due - lead)
    alerts_sweep(now=timezone.now())
    assert levels(callback.ticket, "callback") == {"warning"}
    clock.move_to(due + timedelta(minutes=30))  # a general ticket's escalation interval
    alerts_sweep(now=timezone.now())

    assert levels(callback.ticket, "callback") == {"warning", "breach", "escalated"}
    shift_leader = {a.level for a in selectors.alerts_for_user(user=centre.shift_leader)}
    supervisor = {a.level for a in selectors.alerts_for_user(user=centre.supervisor)}
    assert (shift_leader, supervisor) == ({"warning", "breach"}, {"escalated"})
    assert not selectors.alerts_for_user(user=centre.dispatcher).exists()


def test_a_complaint_without_a_first_reply_breaches_within_the_hour_and_a_reply_stops_it(
    centre, make_ticket, complaint_type, clock
):
    late = make_ticket(fault_type=complaint_type)
    answered = make_ticket(fault_type=complaint_type)
    clock.move_to(timezone.now() + timedelta(minutes=50))  # 80 % of the hour is gone
    alerts_sweep(now=timezone.now())
    complaint_first_reply(ticket=answered, actor=centre.shift_leader, text="已联系用户，正在核实")
    clock.move_to(timezone.now() + timedelta(minutes=15))
    alerts_sweep(now=timezone.now())

    assert levels(late, "complaint_first_reply") == {"warning", "breach"}
    assert levels(answered, "complaint_first_reply") == {"warning"}
    standing = {
        (a.ticket_id, a.level): a.is_standing
        for a in selectors.alerts_for_user(user=centre.shift_leader)
    }
    assert standing[(answered.pk, "warning")] is False
    assert standing[(late.pk, "breach")] is True
