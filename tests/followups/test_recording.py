"""Recording a callback: tries and unreachable, the answers, and the remedy for an unsatisfied
customer (reopen or complaint, accountability, the second callback)."""

from datetime import datetime, timedelta
from decimal import Decimal

import pytest
from django.contrib.auth.models import Permission
from django.utils import timezone

from callcentre.models import Caller
from followups.models import Accountability, Callback, Complaint
from followups.services import (
    CallbackReport,
    account_callbacks_schedule,
    callback_record,
)
from staffing.roles import Role
from tests.conftest import SHANGHAI
from tests.followups.helpers import NO_ANSWER, satisfied, unsatisfied
from tests.staffing.factories import user_with_role
from tickets import services as ticket_services
from tickets.choices import Category, Channel, State
from tickets.errors import ApplicationError
from tickets.models import Ticket, TicketEvent

pytestmark = pytest.mark.django_db


def test_a_customer_who_does_not_answer_is_tried_twice_more_then_unreachable(
    scheduled, centre, clock
):
    callback = scheduled()
    first_try = timezone.now()

    callback_record(actor=centre.agent, callback=callback, report=NO_ANSWER)
    callback.refresh_from_db()
    assert (callback.state, callback.attempts) == (Callback.State.PENDING, 1)
    assert callback.callable_at == first_try + timedelta(hours=2)

    clock.shift(timedelta(hours=2))
    callback_record(actor=centre.agent, callback=callback, report=NO_ANSWER)
    callback.refresh_from_db()
    assert callback.callable_at == first_try + timedelta(hours=6)

    clock.shift(timedelta(hours=4))
    callback_record(actor=centre.agent, callback=callback, report=NO_ANSWER)
    callback.refresh_from_db()
    assert (callback.state, callback.attempts) == (Callback.State.UNREACHABLE, 3)
    assert callback.done_at == timezone.now()
    assert [attempt.reached for attempt in callback.attempt_log.all()] == [False] * 3


def test_a_satisfied_customer_closes_the_callback_with_their_answers(scheduled, centre):
    callback = scheduled()

    callback_record(
        actor=centre.agent,
        callback=callback,
        report=satisfied(answers={**satisfied().answers, "unknown": "yes"}, attempt=0),
    )

    callback.refresh_from_db()
    assert callback.state == Callback.State.DONE
    assert callback.satisfaction == Callback.Satisfaction.SATISFIED
    assert callback.answers["no_improper_demands"] == "yes"
    assert "unknown" not in callback.answers
    assert (callback.done_by, callback.done_at) == (centre.agent, timezone.now())
    assert not Accountability.objects.exists()


def test_an_unsatisfied_customer_reopens_the_ticket_and_holds_the_crew_to_account(
    scheduled, centre, clock
):
    callback = scheduled()
    ticket = callback.ticket

    callback_record(actor=centre.agent, callback=callback, report=unsatisfied())

    ticket.refresh_from_db()
    assert ticket.state == State.VERIFIED
    assert ticket.crew is None
    reopened = ticket.events.get(action=TicketEvent.Action.REOPENED)
    assert reopened.actor == centre.agent
    assert reopened.data == {"callback": callback.pk}
    assert "维修后仍然漏水" in reopened.reason
    record = Accountability.objects.get(callback=callback)
    assert (record.crew, record.department, record.deduction_points) == (
        centre.crew,
        None,
        Decimal(1),
    )
    second = Callback.objects.get(follows=callback)
    assert (second.state, second.ticket, second.due_at) == (Callback.State.WAITING, ticket, None)


def test_the_second_callback_is_due_once_the_reopened_ticket_is_closed_again(
    scheduled, centre, clock
):
    callback = scheduled()
    callback_record(actor=centre.agent, callback=callback, report=unsatisfied())
    ticket = Ticket.objects.get(pk=callback.ticket_id)
    clock.move_to(datetime(2026, 11, 20, 16, 0, tzinfo=SHANGHAI))  # a Friday

    ticket_services.ticket_dispatch(actor=centre.dispatcher, ticket=ticket, crew=centre.crew)
    for step in ("accept", "arrive"):
        getattr(ticket_services, f"ticket_{step}")(actor=centre.crew_leader, ticket=ticket)
    ticket_services.ticket_resolve(actor=centre.crew_leader, ticket=ticket, measures="重做", cost=0)
    ticket_services.ticket_close(actor=centre.dispatcher, ticket=ticket)

    second = Callback.objects.get(follows=callback)
    assert second.state == Callback.State.PENDING
    assert second.callable_at == timezone.now()
    assert second.due_at == datetime(2026, 11, 23, 17, 30, tzinfo=SHANGHAI)  # Monday


def test_a_shift_leader_may_open_a_complaint_instead(scheduled, centre, complaint_type):
    callback = scheduled()

    callback_record(
        actor=centre.shift_leader,
        callback=callback,
        report=unsatisfied(unsatisfied_action="complaint", responsible_person="王师傅"),
    )

    callback.refresh_from_db()
    complaint = callback.complaint
    assert callback.unsatisfied_action == "complaint"
    assert (complaint.category, complaint.channel) == (Category.COMPLAINT, Channel.CALLBACK)
    assert complaint.fault_type == complaint_type
    assert complaint.external_ref == callback.ticket.number
    assert complaint.community == callback.ticket.community
    assert Complaint.objects.filter(ticket=complaint).exists()
    assert Ticket.objects.get(pk=callback.ticket_id).state == State.CLOSED
    assert Accountability.objects.get(callback=callback).person == "王师傅"
    assert Callback.objects.get(follows=callback).ticket == complaint


def test_an_agent_may_not_choose_the_remedy(scheduled, centre):
    callback = scheduled()

    with pytest.raises(ApplicationError) as refused:
        callback_record(
            actor=centre.agent,
            callback=callback,
            report=unsatisfied(unsatisfied_action="complaint"),
        )

    assert refused.value.code == "forbidden"
    callback.refresh_from_db()
    assert callback.state == Callback.State.PENDING


def test_a_callback_recorded_twice_is_refused_the_second_time(scheduled, centre):
    callback = scheduled()
    callback_record(actor=centre.agent, callback=callback, report=satisfied())

    with pytest.raises(ApplicationError) as refused:
        callback_record(actor=centre.agent, callback=callback, report=satisfied())

    assert refused.value.code == "conflict"
    assert refused.value.extra == {"state": "done"}
    assert callback.attempt_log.count() == 1


def test_a_page_sent_twice_does_not_count_two_tries(scheduled, centre):
    callback = scheduled()
    stale = CallbackReport(reached=False, attempt=0)
    callback_record(actor=centre.agent, callback=callback, report=stale)

    with pytest.raises(ApplicationError) as refused:
        callback_record(actor=centre.agent, callback=callback, report=stale)

    assert refused.value.code == "conflict"
    callback.refresh_from_db()
    assert callback.attempts == 1


@pytest.mark.parametrize(
    ("report", "fields"),
    [
        (satisfied(satisfaction="delighted"), {"satisfaction"}),
        (satisfied(satisfaction=""), {"satisfaction"}),
        (satisfied(answers={"polite": "maybe"}), None),
        (unsatisfied(comments=""), {"comments"}),
        (satisfied(method="email"), {"method"}),
        (satisfied(comments="很" * 2001), {"comments"}),
    ],
)
def test_answers_outside_the_form_are_refused_with_their_fields(scheduled, centre, report, fields):
    callback = scheduled()

    with pytest.raises(ApplicationError) as refused:
        callback_record(actor=centre.agent, callback=callback, report=report)

    assert refused.value.code == "invalid"
    if fields is None:  # every yes/no question not answered, and the bad one
        assert {"polite", "on_time", "came_on_site"} <= set(refused.value.fields)
    else:
        assert set(refused.value.fields) == fields
    callback.refresh_from_db()
    assert (callback.state, callback.attempts) == (Callback.State.PENDING, 0)
    assert not callback.attempt_log.exists()


def test_a_callback_of_a_ticket_the_user_may_not_see_is_not_found(scheduled, centre):
    callback = scheduled()
    # A crew member given the callback permission still sees only their crew's tickets.
    outsider = user_with_role(Role.CREW_MEMBER, "outsider")
    outsider.user_permissions.add(Permission.objects.get(codename="record_callback"))
    outsider = type(outsider).objects.get(pk=outsider.pk)

    with pytest.raises(ApplicationError) as refused:
        callback_record(actor=outsider, callback=callback, report=satisfied())

    assert refused.value.code == "not_found"


def test_a_crew_member_may_not_record_callbacks(scheduled, centre):
    callback = scheduled()

    with pytest.raises(ApplicationError) as refused:
        callback_record(actor=centre.crew_leader, callback=callback, report=satisfied())

    assert refused.value.code == "forbidden"


def test_an_unsatisfied_account_opens_a_complaint_naming_the_person(
    rules, centre, complaint_type, clock
):
    account = Caller.objects.create(
        phone="+8613700000001", name="某医院", customer_type=Caller.CustomerType.KEY_ACCOUNT
    )
    clock.shift(timedelta(days=200))
    account_callbacks_schedule(now=timezone.now())
    callback = Callback.objects.get(caller=account)
    answers = {"policy_explained": "no", "billing_accurate": "no"}
    answers |= {"water_quality_ok": "yes", "pressure_ok": "na"}
    report = unsatisfied(answers=answers)

    with pytest.raises(ApplicationError) as refused:
        callback_record(actor=centre.agent, callback=callback, report=report)
    assert set(refused.value.fields) == {"responsible_person"}

    callback_record(
        actor=centre.agent,
        callback=callback,
        report=unsatisfied(answers=answers, responsible_person="抄表员李某"),
    )
    callback.refresh_from_db()
    assert callback.complaint.caller_name == "某医院"
    assert callback.complaint.category == Category.COMPLAINT
