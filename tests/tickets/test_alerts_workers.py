"""The sweep in real Celery worker processes on Redis: run at once, killed, or without a broker.

The workers run on the real clock against the test database, so the tickets here are made
in the past (their deadlines have passed) and committed for the workers to read.
"""

import os
import signal
import subprocess
import sys
import time
import uuid
from datetime import timedelta
from pathlib import Path

import pytest
import time_machine
from django.db import connection, transaction
from django.db.models import Count
from django.utils import timezone
from kombu.exceptions import OperationalError

from callcentre.celery import app
from dispatch.models import OutboundMessage
from dispatch.tasks import messages_retry
from tickets.choices import State
from tickets.models import Alert, AlertCursor
from tickets.services import alerts_sweep
from tickets.tasks import alerts_sweep as alerts_sweep_task

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.xdist_group("workers")]

ROOT = Path(__file__).resolve().parents[2]
LEADER_PHONE = "+8613900000001"


class Worker:
    """A Celery worker process (solo pool) on its own queue, against the test database."""

    def __init__(self, queue: str, name: str, log: Path) -> None:
        database = connection.settings_dict
        env = {
            **os.environ,
            "DATABASE_URL": (
                f"postgres://{database['USER']}@{database['HOST']}:{database['PORT']}/"
                f"{database['NAME']}"
            ),
        }
        # The worker's output is kept with the test's files, for a failure's post-mortem.
        self.log = log.open("w")
        self.process = subprocess.Popen(  # noqa: S603 - our own interpreter and arguments
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "callcentre",
                "worker",
                "--pool",
                "solo",
                "--queues",
                queue,
                "--hostname",
                f"{name}@%h",
                "--without-gossip",
                "--without-mingle",
                "--loglevel",
                "WARNING",
            ],
            cwd=ROOT,
            env=env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )

    def kill(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=30)
        self.log.close()

    def stop(self) -> None:
        """Stop once the task in hand is done (a warm shutdown)."""
        self.process.send_signal(signal.SIGTERM)
        self.process.wait(timeout=120)
        self.log.close()


@pytest.fixture
def start_worker(tmp_path):
    """Start workers with ``start_worker(queue, name)``; any still running is killed at the
    end, so a failed test leaves no process holding the test database."""
    started = []

    def start(queue: str, name: str) -> Worker:
        worker = Worker(queue, f"{name}-{uuid.uuid4().hex[:6]}", tmp_path / f"{name}.log")
        started.append(worker)
        return worker

    yield start
    for worker in started:
        if worker.process.poll() is None:
            worker.kill()


def _queue_length(queue: str) -> int:
    with app.connection_for_write() as broker:
        return broker.default_channel.client.llen(queue)


def _wait_for(condition, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("timed out")
        time.sleep(0.2)


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
        _wait_for(lambda: _queue_length(queue) == 0)
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
    # Hold the close deadline's cursor: the sweep raises the earlier milestones' alerts,
    # committing each batch, and then waits here, half done.
    alerts_sweep(now=timezone.now() - timedelta(days=1))  # the cursors exist
    with transaction.atomic():
        AlertCursor.objects.select_for_update().get(milestone="close", level="warning")
        alerts_sweep_task.apply_async(queue=queue)
        _wait_for(_a_sweep_waits_for_a_lock)
        worker.kill()
    half = set(_alert_keys())
    assert half
    assert not any(milestone == "close" for _, milestone, _, _ in half)

    restarted = start_worker(queue, "restarted")
    try:
        alerts_sweep_task.apply_async(queue=queue)  # the next minute's sweep
        _wait_for(lambda: Alert.objects.filter(milestone="close", level="alarm").count() == 4)
        _wait_for(lambda: _queue_length(queue) == 0)
    finally:
        restarted.stop()

    assert half <= set(_alert_keys())
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
