"""The agent's callback workbench, complaint replies and the daily lists, through their pages."""

import csv
import io
import re
from datetime import timedelta

import pytest
from django.utils import timezone

from audit.models import AuditAction, AuditEntry
from callcentre.models import Caller
from followups.models import Callback
from followups.services import account_callbacks_schedule, callback_record, callbacks_schedule
from tests.followups.helpers import REPAIR_ANSWERS, unsatisfied
from tickets.choices import State
from tickets.models import Ticket
from tickets.status import phone_masked

pytestmark = pytest.mark.django_db

EN = {"HTTP_ACCEPT_LANGUAGE": "en"}


def _form(callback: Callback, **changes) -> dict:
    data = {
        "reached": "yes",
        "method": "phone",
        "attempt": str(callback.attempts),
        "process": "按时上门",
        "result": "已修好",
        "satisfaction": "satisfied",
        **REPAIR_ANSWERS,
    }
    data.update(changes)
    return data


def test_the_queue_lists_overdue_callbacks_first_and_counts_the_rest(
    client, scheduled, centre, clock
):
    on_time = scheduled()
    overdue = scheduled(caller_phone="+8613900000002", caller_name="李女士")
    later = scheduled(caller_phone="+8613900000003")
    Callback.objects.filter(pk=overdue.pk).update(due_at=timezone.now() - timedelta(hours=1))
    Callback.objects.filter(pk=later.pk).update(callable_at=timezone.now() + timedelta(hours=1))
    client.force_login(centre.agent)

    page = client.get("/callbacks/", **EN).content.decode()

    assert page.index(f"/callbacks/{overdue.pk}/") < page.index(f"/callbacks/{on_time.pk}/")
    assert f"/callbacks/{later.pk}/" not in page
    assert "Overdue" in page
    assert 'href="/callbacks/"' in page  # in the main navigation


def test_an_empty_queue_says_so(client, rules, centre, clock):
    client.force_login(centre.agent)

    page = client.get("/callbacks/", **EN).content.decode()

    assert "No callback is due now." in page


def test_the_queue_is_not_for_crews_nor_strangers(client, centre):
    client.force_login(centre.crew_leader)
    assert client.get("/callbacks/").status_code == 403
    client.logout()
    assert client.get("/callbacks/").status_code == 302


def test_the_callback_page_shows_the_script_the_ticket_and_a_labelled_form(
    client, scheduled, centre
):
    callback = scheduled()
    client.force_login(centre.agent)

    page = client.get(f"/callbacks/{callback.pk}/", **EN).content.decode()

    assert "calling back about what you reported" in page
    assert callback.ticket.number in page
    assert "Verified" in page  # the ticket's history
    for code in ("polite", "no_improper_demands", "satisfaction"):
        assert f'id="id_{code}"' in page
        assert "<legend>" in page
    assert 'name="unsatisfied_action"' not in page  # the agent does not choose the remedy


def test_saving_a_callback_opens_the_next_one(client, scheduled, centre):
    first = scheduled()
    second = scheduled(caller_phone="+8613900000002")
    client.force_login(centre.agent)

    response = client.post(f"/callbacks/{first.pk}/record/", _form(first))

    assert response.status_code == 302
    assert client.get(response.url).url == f"/callbacks/{second.pk}/"
    first.refresh_from_db()
    assert first.state == Callback.State.DONE


def test_an_unsatisfied_callback_from_the_page_reopens_the_ticket(client, scheduled, centre):
    callback = scheduled()
    client.force_login(centre.agent)

    client.post(
        f"/callbacks/{callback.pk}/record/",
        _form(callback, satisfaction="unsatisfied", comments="还在漏水"),
    )

    assert Ticket.objects.get(pk=callback.ticket_id).state == State.VERIFIED


def test_a_satisfaction_outside_the_scale_is_shown_on_the_form(client, scheduled, centre):
    callback = scheduled()
    client.force_login(centre.agent)

    response = client.post(
        f"/callbacks/{callback.pk}/record/", _form(callback, satisfaction="delighted"), **EN
    )

    assert response.status_code == 400
    assert "Select a valid choice" in response.content.decode()
    callback.refresh_from_db()
    assert callback.state == Callback.State.PENDING


def test_a_question_left_unanswered_is_marked(client, scheduled, centre):
    callback = scheduled()
    client.force_login(centre.agent)

    response = client.post(f"/callbacks/{callback.pk}/record/", _form(callback, polite=""), **EN)

    assert response.status_code == 400
    assert "Choose one of the answers." in response.content.decode()


def test_a_callback_saved_twice_from_the_page_says_what_happened(client, scheduled, centre):
    callback = scheduled()
    client.force_login(centre.agent)
    client.post(f"/callbacks/{callback.pk}/record/", _form(callback))

    response = client.post(
        f"/callbacks/{callback.pk}/record/",
        _form(callback),
        HTTP_REFERER=f"http://testserver/callbacks/{callback.pk}/",
        follow=True,
        **EN,
    )

    assert "This callback is already Done" in response.content.decode()
    assert callback.attempt_log.count() == 1


def test_the_complaint_page_records_a_first_reply(client, make_ticket, complaint_type, centre):
    ticket = make_ticket("new", fault_type=complaint_type, building="", unit="")
    client.force_login(centre.agent)

    page = client.get("/callbacks/complaints/", **EN).content.decode()
    assert ticket.number in page
    assert f'for="reply-{ticket.number}"' in page

    client.post(f"/callbacks/complaints/{ticket.number}/reply/", {"text": "已致歉并说明流程"})

    assert ticket.complaint.first_reply == "已致歉并说明流程"


def test_the_callback_register_lists_the_day_and_exports_it(client, scheduled, centre, clock):
    callback = scheduled()
    callback_record(
        actor=centre.agent,
        callback=callback,
        report=unsatisfied(comments='=HYPERLINK("http://x")'),
    )
    client.force_login(centre.shift_leader)
    day = timezone.localdate().isoformat()

    page = client.get("/callbacks/register/", {"day": day}, **EN).content.decode()
    assert callback.ticket.number in page
    assert "Not satisfied" in page

    export = client.get("/callbacks/register/", {"day": day, "format": "csv"}, **EN)
    assert export["Content-Type"].startswith("text/csv")
    text = export.content.decode("utf-8")
    assert text.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(text[1:])))
    assert rows[0][:3] == ["Done at", "Ticket", "Rule"]
    assert rows[1][1] == callback.ticket.number
    assert rows[1][9] == '\'=HYPERLINK("http://x")'  # read as text, not as a formula
    assert rows[1][12] == str(centre.crew)
    assert rows[1][4] == phone_masked(callback.phone)  # the shift leader calls nobody
    assert str(callback.phone) not in text


def test_the_supervisor_exports_the_register_with_full_phones_and_it_is_logged(
    client, scheduled, centre, clock
):
    callback = scheduled()
    callback_record(actor=centre.agent, callback=callback, report=unsatisfied())
    day = timezone.localdate().isoformat()
    client.force_login(centre.shift_leader)
    refused = client.get("/callbacks/register/", {"day": day, "format": "csv", "phones": "full"})
    client.force_login(centre.supervisor)
    page = client.get("/callbacks/register/", {"day": day}, **EN).content.decode()

    export = client.get("/callbacks/register/", {"day": day, "format": "csv", "phones": "full"})

    assert refused.status_code == 403
    assert "phones=full" in page
    assert str(callback.phone) not in page  # masked on the page all the same
    rows = list(csv.reader(io.StringIO(export.content.decode("utf-8")[1:])))
    assert rows[1][4] == str(callback.phone)
    [entry] = AuditEntry.objects.filter(action=AuditAction.FILE_DOWNLOADED)
    assert (entry.actor, entry.data) == (centre.supervisor, {"full_phones": True})
    assert entry.subject == f"callback-register-{day}.csv"


def test_the_register_of_a_day_without_callbacks_says_so(client, rules, centre, clock):
    client.force_login(centre.supervisor)

    page = client.get("/callbacks/register/", {"day": "2026-11-01"}, **EN).content.decode()

    assert "No callback was finished on this day." in page


def test_the_overdue_complaints_list_and_its_export(
    client, make_ticket, complaint_type, centre, clock
):
    ticket = make_ticket("new", fault_type=complaint_type, building="", unit="")
    clock.shift(timedelta(hours=2))
    client.force_login(centre.supervisor)

    page = client.get("/callbacks/overdue/", **EN).content.decode()
    export = client.get("/callbacks/overdue/", {"format": "csv"}, **EN).content.decode()

    assert ticket.number in page
    assert ticket.number in export.splitlines()[1]
    assert str(ticket.caller_phone) not in page + export
    assert phone_masked(ticket.caller_phone) in export


def test_the_daily_lists_are_not_for_agents(client, centre):
    client.force_login(centre.agent)

    assert client.get("/callbacks/register/").status_code == 403
    assert client.get("/callbacks/overdue/").status_code == 403


def test_a_bad_day_shows_today(client, rules, centre, clock):
    client.force_login(centre.supervisor)

    response = client.get("/callbacks/register/", {"day": "2026-02-30"})

    assert response.status_code == 200
    assert "2026-11-16" in response.content.decode()


def test_the_batch_task_schedules_callbacks(rules, make_ticket, clock):
    from followups import tasks

    make_ticket("dispatched")
    clock.shift(60)

    assert tasks.callbacks_schedule() == 1
    assert callbacks_schedule(now=timezone.now()) == 0


def test_the_home_page_counts_callbacks_due_and_complaint_replies_late(
    client, scheduled, make_ticket, complaint_type, centre, clock
):
    callback = scheduled()
    Callback.objects.filter(pk=callback.pk).update(due_at=timezone.now() - timedelta(minutes=1))
    make_ticket("new", fault_type=complaint_type, building="", unit="")
    clock.shift(timedelta(hours=2))
    client.force_login(centre.agent)

    page = client.get("/", **EN).content.decode()

    glance = page[
        page.index("followups-glance") : page.index("</ul>", page.index("followups-glance"))
    ]
    assert [int(value) for value in re.findall(r'stat-value">(\d+)<', glance)] == [1, 1, 1]
    client.force_login(centre.crew_leader)
    assert "followups-glance" not in client.get("/crew/").content.decode()


def test_an_account_callback_asks_the_account_questions(client, rules, centre, clock):
    account = Caller.objects.create(
        phone="+8613700000001", name="某医院", customer_type=Caller.CustomerType.KEY_ACCOUNT
    )
    clock.shift(timedelta(days=200))
    account_callbacks_schedule(now=timezone.now())
    callback = Callback.objects.get(caller=account)
    client.force_login(centre.agent)

    queue = client.get("/callbacks/", **EN).content.decode()
    page = client.get(f"/callbacks/{callback.pk}/", **EN).content.decode()

    assert "account" in queue
    assert "137 0000 0001" in queue
    assert "regular half-yearly follow-up" in page
    assert 'id="id_needs"' in page
    assert 'id="id_billing_accurate"' in page
    assert 'id="id_polite"' not in page
