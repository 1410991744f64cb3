"""The sweep in real Celery worker processes on Redis: run at once, killed, or without a broker.

The workers run on the real clock against the test database, so the tickets here are made
in the past (their deadlines have passed) and committed for the workers to read.
"""

import uuid
from datetime import timedelta
from pathlib import Path

import pytest
import time_machine
from django.db import connection, transaction
from django.db.models import Count
from django.utils import timezone
from kombu.exceptions import OperationalError

from dispatch.models import OutboundMessage
from dispatch.tasks import messages_retry
from tests.workers import queue_length, wait_for
from tickets.choices import State
from tickets.models import Alert, AlertCursor
from tickets.services import alerts_sweep
from tickets.tasks import alerts_sweep as alerts_sweep_task

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.xdist_group("workers")]

ROOT = Path(__file__).resolve().parents[2]
LEADER_PHONE = "+8613900000001"


@pytest.fixture
def overdue_tickets(centre, make_ticket):
    """Tickets received five hours ago, every deadline of theirs passed; the leader has a
    phone, so breaches of the crew's deadlines go out by text message."""
    centre.crew_leader.phone = LEADER_PHONE
    centre.crew_leader.save(update_fields=["phone"])
    with time_machine.travel(timezone.now() - timedelta(hours=5), tick=False):
        tickets = [make_ticket(State.VERIFIED) for _ in range(4)]
        tickets += [make_ticket(State.DISPATCHED, fault_type=centre.burst) for _ in range(4)]
    return tickets


def _a_sweep_waits_for_a_lock() -> bool:
    with connection.cursor() as cursor:
        # Asked from inside a transaction, which would otherwise keep its first snapshot.
        cursor.execute("SELECT pg_stat_clear_snapshot()")
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity "
            "WHERE datname = current_database() AND wait_event_type = 'Lock'"
        )
        return cursor.fetchone()[0] > 0


def _alert_keys() -> list[tuple]:
    return list(Alert.objects.values_list("ticket_id", "milestone", "level", "due_at"))


def _no_duplicates() -> None:
    doubled = (
        Alert.objects.values("ticket_id", "milestone", "level", "due_at")
        .annotate(n=Count("id"))
        .filter(n__gt=1)
    )
    assert not doubled.exists()
    texts = OutboundMessage.objects.values("to_phone", "body").annotate(n=Count("id"))
    assert not texts.filter(n__gt=1).exists()


def test_two_workers_sweeping_at_once_raise_each_alert_exactly_once(overdue_tickets, start_worker):
    queue = f"alerts-test-{uuid.uuid4().hex}"
    workers = [start_worker(queue, f"sweeper{n}") for n in (1, 2)]
    try:
        for _ in range(8):
            alerts_sweep_task.apply_async(queue=queue)
        wait_for(lambda: queue_length(queue) == 0)
    finally:
        for worker in workers:
            worker.stop()

    raised = _alert_keys()
    assert raised
    _no_duplicates()
    # Nothing was missed: a sweep here and now finds nothing more to raise.
    assert alerts_sweep(now=timezone.now()) == 0
    assert len(_alert_keys()) == len(raised)
    assert OutboundMessage.objects.filter(to_phone=LEADER_PHONE, kind="alert_breach").exists()


def test_a_worker_killed_in_the_middle_of_a_sweep_loses_and_doubles_nothing(
    overdue_tickets, start_worker
):
    queue = f"alerts-test-{uuid.uuid4().hex}"
    worker = start_worker(queue, "killed")
    alerts_sweep(now=timezone.now() - timedelta(days=1))  # the watermarks exist
    before = dict(AlertCursor.objects.values_list("pk", "scanned_through"))
    # Hold the close deadline's watermark: the sweep has locked the ones before it, in its
    # transaction, and waits here, half done.
    with transaction.atomic():
        AlertCursor.objects.select_for_update().get(milestone="close", level="warning")
        alerts_sweep_task.apply_async(queue=queue)
        wait_for(_a_sweep_waits_for_a_lock)
        worker.kill()
    # What it had done went with it: no alert, and every watermark where it was.
    assert _alert_keys() == []
    assert dict(AlertCursor.objects.values_list("pk", "scanned_through")) == before

    restarted = start_worker(queue, "restarted")
    try:
        alerts_sweep_task.apply_async(queue=queue)  # the next minute's sweep
        wait_for(lambda: Alert.objects.filter(milestone="close", level="alarm").count() == 4)
        wait_for(lambda: queue_length(queue) == 0)
    finally:
        restarted.stop()

    assert {milestone for _, milestone, _, _ in _alert_keys()} >= {"dispatch", "accept", "close"}
    _no_duplicates()
    assert alerts_sweep(now=timezone.now()) == 0


def test_with_the_broker_down_the_sweep_still_raises_and_the_texts_go_once_it_is_back(
    overdue_tickets, monkeypatch, settings
):
    settings.SMS_BACKEND = "dispatch.sms.DatabaseSmsBackend"
    calls = []

    def broker_down(*args, **kwargs):
        calls.append(args)
        raise OperationalError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    monkeypatch.setattr("dispatch.tasks.messages_send.delay", broker_down)

    raised = alerts_sweep(now=timezone.now())

    assert raised > 0
    assert calls  # the hand-off to the broker failed, after the alerts were committed
    pending = OutboundMessage.objects.filter(status=OutboundMessage.Status.PENDING)
    assert pending.filter(to_phone=LEADER_PHONE).exists()
    monkeypatch.undo()
    with time_machine.travel(timezone.now() + timedelta(minutes=2)):
        assert messages_retry() > 0
        assert messages_retry() == 0
    assert not pending.exists()
    assert alerts_sweep(now=timezone.now()) == 0
