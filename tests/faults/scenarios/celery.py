"""Celery's faults: a worker killed mid-task or mid-export, beat running twice."""

import csv
import io
import re
import time
from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django_celery_beat.models import IntervalSchedule, PeriodicTask, PeriodicTasks

from callcentre.celery import app as celery_app
from reports import services as reports_services
from reports.models import Export, Report
from reports.tasks import exports_resume, reports_produce
from staffing.roles import Role
from tests.faults import ledger
from tests.faults.scenarios._common import (
    EXPORT_TICKETS,
    Context,
    Result,
    alerts_check,
    emergencies,
    messages_check,
    reports_check,
    say,
    settle,
    wait_until,
)
from tests.faults.stack import Process
from tests.staffing.factories import user_with_role
from tests.tickets.factories import FaultTypeFactory
from tickets import services
from tickets.choices import Channel
from tickets.models import Alert, AlertCursor, Ticket
from tickets.tasks import alerts_sweep


def _kill_while_writing(worker: Process, *, seconds: float = 60) -> bool:
    """SIGKILL the worker as soon as it has a transaction that has written; return whether
    it was caught inside one (else it is killed when the time is up)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if ledger.writing_backends():
            worker.kill()
            return True
        time.sleep(0.005)
    worker.kill()
    return False


def worker_killed(context: Context) -> Result:
    """A worker SIGKILLed in the middle of the overdue sweep, then of report production."""
    result = Result("worker", "A Celery worker killed with SIGKILL mid-task")
    app, centre = context.app, context.centre
    celery_app.control.purge()
    # Logged a second apart, all escalated by now (the last 5 minutes ago). They are logged
    # back in time, further than a sweep's overlap looks back past its watermark, so the
    # watermarks go too: the sweep is a first sweep, which looks back a day.
    ids = emergencies(centre, 600, escalated_at=timezone.now() - timedelta(minutes=15))
    AlertCursor.objects.all().delete()
    say(f"{len(ids)} overdue emergencies logged; the sweep starts and is killed")
    worker = app.worker()
    time.sleep(8)  # the worker connects
    alerts_sweep.delay()
    caught = _kill_while_writing(worker)
    ledger.fresh()
    raised = sum(ledger.alerts_found(ids).values())
    result.notes.append(
        f"sweep killed {'inside its transaction' if caught else 'at the time limit'}; "
        f"{raised} of its alerts committed at the kill"
    )
    result.check("worker killed inside the sweep's writing transaction", caught, "True", caught)

    Report.objects.all().delete()
    worker = app.worker()
    time.sleep(8)
    reports_produce.delay()
    caught = _kill_while_writing(worker)
    ledger.fresh()
    result.notes.append(
        f"report production killed {'inside a transaction' if caught else 'at the time limit'}"
        f"; {Report.objects.count()} reports committed at the kill"
    )
    result.check("worker killed inside report production", caught, "True", caught)

    # A new worker, and beat's next runs (sent here at once rather than waited for).
    worker = app.worker()
    app.beat()
    time.sleep(8)
    alerts_sweep.delay()
    reports_produce.delay()
    settle(app, result)
    alerts_check(result, f"{len(ids)} overdue emergencies", ids)
    reports_check(result)
    messages_check(result, expected_at_least=len(ids) * centre.shift_leaders)
    return result


def _worker_ready(worker: Process) -> None:
    """Wait until the worker says it is ready (connected, consuming)."""
    took = wait_until(lambda: " ready." in worker.log_path.read_text(), seconds=90)
    if took is None:
        raise RuntimeError(f"{worker.name} did not become ready")


def _task_results(workers: list[Process], task: str) -> list[str]:
    """Return what ``task`` returned, as the workers' logs say, each run once."""
    pattern = re.compile(rf"Task {re.escape(task)}\[[^\]]+\] succeeded in [\d.]+s: (\S+)")
    return [found for worker in workers for found in pattern.findall(worker.log_path.read_text())]


def _export_rows(export: Export) -> list[list[str]]:
    """Return the rows of an export's CSV file, without its headings."""
    with export.file.open("rb") as stored:
        text = stored.read().decode("utf-8-sig")
    return list(csv.reader(io.StringIO(text, newline="")))[1:]


def _stored_files(folder: Path) -> int:
    return sum(1 for path in folder.rglob("*") if path.is_file()) if folder.exists() else 0


def export_killed(context: Context) -> Result:
    """A worker SIGKILLed while it writes a ticket export; the export resumed once it is stale."""
    result = Result("export", "A Celery worker killed with SIGKILL mid-export")
    app, centre = context.app, context.centre
    celery_app.control.purge()
    supervisor = user_with_role(Role.SUPERVISOR, "supervisor")
    fault = FaultTypeFactory(code="export-faults", name="水表漏水 (export)")
    started = time.monotonic()
    with transaction.atomic():
        for index in range(EXPORT_TICKETS):
            services.ticket_create(
                actor=centre.agent,
                channel=Channel.HOTLINE,
                category=fault.category,
                fault_type=fault,
                description=f"水表漏水 export-{index}",
                caller_name="张先生",
                caller_phone="+8613812345678",
                address="锦华苑",
                building=str(index % 30 + 1),
                unit="1",
                community=centre.community,
            )
    say(f"{EXPORT_TICKETS} tickets logged in {time.monotonic() - started:.0f} s")
    expected = set(Ticket.objects.filter(fault_type=fault).values_list("number", flat=True))
    workers = [app.worker()]
    _worker_ready(workers[0])
    export = reports_services.export_request(
        actor=supervisor,
        query=f"fault_type={fault.code}",
        file_format=Export.Format.CSV,
        now=timezone.now(),
    )
    say(f"export {export.pk} asked for; the worker is killed as soon as it has written rows")
    caught = _kill_mid_export(workers[0], export.pk)
    export.refresh_from_db()
    result.notes.append(
        f"killed with the export {export.state}, {export.rows_done} of {export.rows_total} rows "
        "written (as its progress says)"
    )
    result.check(
        "worker killed while the export was being written",
        f"{export.state}, {export.rows_done} of {export.rows_total} rows",
        "running, 0 < rows written < all",
        caught
        and export.state == Export.State.RUNNING
        and 0 < export.rows_done < (export.rows_total or 0),
    )
    with celery_app.connection_for_write() as broker:
        unacked = broker.default_channel.client.hvals("unacked")
    held = sum(1 for message in unacked if b"reports.tasks.export_run" in message)
    result.check(
        "the killed task's message, left unacknowledged in Redis (acks_late)", held, "1", held == 1
    )

    # A new worker, and beat: the export, started a moment ago, is not stale yet.
    workers.append(app.worker())
    app.beat()
    _worker_ready(workers[-1])
    exports_resume.delay()
    wait_until(lambda: _task_results(workers, "reports.tasks.exports_resume"), seconds=60)
    early = _task_results(workers, "reports.tasks.exports_resume")
    export.refresh_from_db()
    result.check(
        "exports resumed before it is stale (resume runs, the export)",
        f"{early}, {export.state}",
        "all 0, running",
        early and set(early) == {"0"} and export.state == Export.State.RUNNING,
    )
    # The waiting is the one thing simulated: the export's start is moved back past
    # EXPORT_STALE, as the row would stand 36 minutes later, then beat's job runs for real.
    Export.objects.filter(pk=export.pk).update(
        started_at=F("started_at") - reports_services.EXPORT_STALE - timedelta(minutes=1)
    )
    exports_resume.delay()
    took = wait_until(
        lambda: Export.objects.get(pk=export.pk).state != Export.State.RUNNING, seconds=240
    )
    result.notes.append(
        "resumed and written in "
        + (f"{took:.0f} s" if took is not None else "never (gave up after 240 s)")
        + f"; exports-resume returned {_task_results(workers, 'reports.tasks.exports_resume')}"
    )
    settle(app, result)
    export.refresh_from_db()
    result.check("export state", export.state, "done", export.state == Export.State.DONE)
    runs = _task_results(workers, "reports.tasks.export_run")
    result.check(
        "export runs that wrote it (worker logs)", runs.count("True"), "1", runs.count("True") == 1
    )
    exports = Export.objects.filter(requested_by=supervisor).count()
    result.check("exports of the request", exports, "1", exports == 1)
    rows = _export_rows(export) if export.file else []
    numbers = [row[0] for row in rows]
    result.check(
        "rows in the file / rows counted / tickets it should hold",
        f"{len(rows)} / {export.rows_done} / {len(expected)}",
        f"{EXPORT_TICKETS} each",
        len(rows) == export.rows_done == export.rows_total == len(expected) == EXPORT_TICKETS,
    )
    doubled = len(numbers) - len(set(numbers))
    result.check("tickets in the file twice", doubled, "0", doubled == 0)
    wrong = len(set(numbers) ^ expected)
    result.check("tickets missing from the file or not its own", wrong, "0", wrong == 0)
    stored = _stored_files(Path(settings.MEDIA_ROOT) / "exports")
    result.check("export files stored", stored, "1", stored == 1)
    # The killed task's message comes back after Redis's visibility timeout (an hour): run
    # here as it would run then, it must find the export done and leave it.
    again = reports_services.export_run(
        export_id=export.pk, now=timezone.now() + timedelta(hours=1)
    )
    result.check(
        "the killed task, run again an hour on (its message redelivered)",
        "claimed" if again else "nothing claimed",
        "nothing claimed",
        again is None,
    )
    result.notes.append(
        "real: the tickets, the export asked for through the service, the worker SIGKILLed "
        "mid-file, a new worker and beat, beat's exports-resume task and the export task run "
        "by the worker. Simulated: the 35 minutes of EXPORT_STALE (the export's started_at "
        "moved back 36 minutes in the database) and the hour before Redis redelivers the "
        "killed task's message (that task's service run here with its clock an hour on). "
        "Moving only exports-resume's `now` would not do: the export task it sends claims "
        "the export by the worker's own clock"
    )
    return result


def _kill_mid_export(worker: Process, export_id: int, *, seconds: float = 120) -> bool:
    """SIGKILL the worker as soon as the export's progress shows rows written; return
    whether it was caught so (else it is killed when the time is up)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        state, done = Export.objects.values_list("state", "rows_done").get(pk=export_id)
        if state == Export.State.RUNNING and done > 0:
            worker.kill()
            return True
        if state != Export.State.QUEUED and state != Export.State.RUNNING:
            break
        time.sleep(0.005)
    worker.kill()
    return False


def _every(seconds: int, names: list[str]) -> None:
    """Make beat send these jobs every ``seconds`` (as a supervisor would in the admin)."""
    schedule, _ = IntervalSchedule.objects.get_or_create(
        every=seconds, period=IntervalSchedule.SECONDS
    )
    with transaction.atomic():
        PeriodicTask.objects.filter(name__in=names).update(interval=schedule)
        PeriodicTasks.update_changed()


def beat_twice(context: Context) -> Result:
    """Two beat processes at once, each sending every job, for a run of escalations."""
    result = Result("beat", "Celery beat running twice at once")
    app, centre = context.app, context.centre
    worker = app.worker()
    beats = [app.beat(), app.beat()]
    Report.objects.all().delete()
    ids = emergencies(centre, 60, escalated_at=timezone.now() + timedelta(seconds=40))
    say("two beats; 60 escalations fall due over the next 100 s")
    # A beat that starts writes the settings' schedule over the table, so the edit is made
    # again until both have started.
    for _ in range(4):
        _every(5, ["alerts-sweep", "reports-produce", "messages-retry"])
        time.sleep(10)
    time.sleep(80)
    for beat in beats:
        result.check(f"{beat.name} still running", beat.alive, "True", beat.alive)
        beat.stop()
    logs = [beat.log_path.read_text() for beat in beats]
    sent = [log.count("Sending due task alerts-sweep") for log in logs]
    result.notes.append(f"sweeps sent by each beat: {sent}")
    result.check("both beats sent the sweep every 5 s", sent, "each ≥ 10", min(sent) >= 10)
    made = [log.count("Sending due task reports-produce") for log in logs]
    result.notes.append(f"report runs sent by each beat: {made}")
    alive = worker.alive
    # Beat's next runs, after the last escalation fell due.
    alerts_sweep.delay()
    reports_produce.delay()
    settle(app, result)
    escalations = Alert.objects.filter(ticket_id__in=ids, level="escalated").count()
    result.check("escalations raised", escalations, str(len(ids)), escalations == len(ids))
    alerts_check(result, "60 emergencies", ids)
    reports_check(result)
    messages_check(result, expected_at_least=len(ids) * centre.shift_leaders)
    result.check("worker still running", alive, "True", alive)
    return result
