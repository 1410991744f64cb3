"""The seven faults: each injected for real into running processes, then checked by counts."""

import csv
import io
import re
import threading
import time
from collections import Counter
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

import time_machine
from django.conf import settings
from django.db import transaction
from django.db.models import F, Max
from django.utils import timezone
from django_celery_beat.models import IntervalSchedule, PeriodicTask, PeriodicTasks

from callcentre.celery import app as celery_app
from dispatch.models import OutboundMessage
from reports import services as reports_services
from reports.models import Export, Report
from reports.tasks import exports_resume, reports_produce
from staffing.roles import Role
from tests.faults import ledger
from tests.faults.load import Hit, Load, board_poll
from tests.faults.stack import App, Postgres, Process, Redis
from tests.staffing.factories import user_with_role
from tests.tickets.factories import FaultTypeFactory
from tickets import services
from tickets.choices import Channel
from tickets.models import Alert, AlertCursor, Ticket
from tickets.tasks import alerts_sweep

# No request may wait longer than this on a Redis that is down: a task sent, a cache call.
MAX_WAIT_SECONDS = 2.0
# Requests while it is down may be this much slower at the median than before (a page on a
# 2-core machine shared with other work can take seconds on its own; the wait itself is
# measured directly, above).
MAX_EXTRA_MEDIAN_SECONDS = 1.0
# An emergency ticket is escalated this long after it is logged: 10 minutes to dispatch,
# then 10 more (the seeded SLA policy).
EMERGENCY_ESCALATES_AFTER = timedelta(minutes=20)
CATCH_UP_SECONDS = 240
# Tickets in the export a worker is killed in: enough that writing them takes seconds, so
# the kill lands while its rows are being written.
EXPORT_TICKETS = 6000


@dataclass
class Centre:
    agent: object
    dispatcher: object
    shift_leaders: int
    community: object
    crew_code: str
    leak_code: str
    burst: object
    agent_token: str
    dispatcher_token: str
    password: str


@dataclass
class Context:
    postgres: Postgres
    redis: Redis
    app: App
    centre: Centre

    def load(self) -> Load:
        centre = self.centre
        return Load(
            base_url=self.app.base_url,
            agent_token=centre.agent_token,
            dispatcher_token=centre.dispatcher_token,
            dispatcher=(centre.dispatcher.username, centre.password),
            agent=(centre.agent.username, centre.password),
            community=centre.community.pk,
            fault_type=centre.leak_code,
            crew=centre.crew_code,
        )


@dataclass
class Result:
    name: str
    title: str
    rows: list[tuple[str, str, str, bool]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return all(ok for *_, ok in self.rows)

    def check(self, label: str, found, expected: str, ok: bool) -> None:
        self.rows.append((label, str(found), expected, bool(ok)))


def _say(text: str) -> None:
    print(f"  {time.strftime('%H:%M:%S')} {text}", flush=True)


def _emergencies(centre: Centre, count: int, *, escalated_at) -> list[int]:
    """Log ``count`` emergency tickets back in time, so that their escalation falls due at
    ``escalated_at`` (one a second after the first); return their ids."""
    ids = []
    for index in range(count):
        logged = escalated_at - EMERGENCY_ESCALATES_AFTER + timedelta(seconds=index)
        with time_machine.travel(logged, tick=False):
            ticket = services.ticket_create(
                actor=centre.agent,
                channel=Channel.HOTLINE,
                category=centre.burst.category,
                fault_type=centre.burst,
                description="爆管 (faults)",
                caller_name="李女士",
                caller_phone="+8613912345678",
                address="主干道",
                building="1",
                unit="1",
                community=centre.community,
            )
        ids.append(ticket.pk)
    return ids


def _wait_until(condition: Callable[[], bool], *, seconds: float) -> float | None:
    """Wait for ``condition``; return how long it took, None if it never came."""
    started = time.monotonic()
    while time.monotonic() - started < seconds:
        ledger.fresh()
        try:
            if condition():
                return time.monotonic() - started
        except Exception:  # noqa: S110 - the server may still be coming back
            pass
        time.sleep(2)
    return None


def _queue_empty() -> bool:
    with celery_app.connection_for_write() as broker:
        return broker.default_channel.client.llen("celery") == 0


def _settle(app: App, result: Result, *, seconds: float = CATCH_UP_SECONDS) -> None:
    """Let the workers finish: wait until the queue is empty, no message is pending and the
    counts have not moved for 15 s; then stop every process (beat first, the workers last,
    each ending its task in hand), so that what is counted next stays still."""
    started = time.monotonic()
    last, still_since = None, time.monotonic()
    while time.monotonic() - started < seconds:
        ledger.fresh()
        counts = (Alert.objects.count(), Report.objects.count(), tuple(ledger.messages().values()))
        if counts != last:
            last, still_since = counts, time.monotonic()
        elif time.monotonic() - still_since >= 15 and _queue_empty() and not counts[2][1]:
            break
        time.sleep(1)
    result.notes.append(f"settled {time.monotonic() - started:.0f} s after the run")
    app.stop_all()
    ledger.fresh()


def _server_errors(hits: list[Hit]) -> int:
    return sum(1 for hit in hits if hit.status >= 500 or hit.status == 0)


def _figures(seconds: list[float]) -> tuple[float, float, float]:
    """Return the median, the 95th percentile and the longest."""
    ordered = sorted(seconds) or [0.0]
    return ordered[len(ordered) // 2], ordered[int(len(ordered) * 0.95)], ordered[-1]


def _wait_figures(result: Result, label: str, hits: list[Hit]) -> dict[str, float]:
    """Note the requests' times, all and by kind; return each kind's median."""
    median, p95, longest = _figures([hit.seconds for hit in hits])
    kinds = sorted({hit.kind for hit in hits})
    by_kind = {kind: _figures([hit.seconds for hit in hits if hit.kind == kind]) for kind in kinds}
    shown = ", ".join(
        f"{kind} {figures[0]:.2f}/{figures[1]:.2f}/{figures[2]:.2f}"
        for kind, figures in by_kind.items()
    )
    result.notes.append(
        f"{label}: {len(hits)} requests, median {median:.2f} s, p95 {p95:.2f} s, longest "
        f"{longest:.2f} s (median/p95/longest by kind: {shown})"
    )
    return {kind: figures[0] for kind, figures in by_kind.items()}


@dataclass
class _Probe:
    """Times, from a process with the app's settings, a task sent and a cache call every
    second: what a request waits on a Redis that is down."""

    publish: list[float] = field(default_factory=list)
    cache: list[float] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)

    def run(self) -> None:
        from django.core.cache import caches

        from dispatch.tasks import message_send

        while not self._stop.wait(1.0):
            started = time.monotonic()
            with suppress(Exception):  # it fails, and fast: that is what is measured
                message_send.delay(0)  # no such message: harmless if it ever arrives
            self.publish.append(time.monotonic() - started)
            started = time.monotonic()
            caches["shared"].get("dispatch:board-version")
            caches["default"].set("faults:probe", 1)
            self.cache.append(time.monotonic() - started)

    def __enter__(self) -> "_Probe":
        self._thread = threading.Thread(target=self.run, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join(timeout=30)


def _messages_check(result: Result, *, expected_at_least: int = 0) -> None:
    counts = ledger.messages()
    result.check(
        "text messages queued / sent / reached the gateway",
        f"{counts['queued']} / {counts['sent']} / {counts['delivered']}",
        f"all sent, each once (≥ {expected_at_least} queued)",
        counts["queued"] >= expected_at_least
        and counts["pending"] == 0
        and counts["failed"] == 0
        and counts["sent"] == counts["queued"] == counts["delivered"],
    )
    result.check(
        "text messages that reached the gateway twice",
        counts["delivered_twice"],
        "0",
        counts["delivered_twice"] == 0,
    )


def _alerts_check(result: Result, label: str, ticket_ids: list[int]) -> None:
    # What was due by the last sweep's time: later deadlines are the next sweep's.
    now = AlertCursor.objects.aggregate(last=Max("scanned_through"))["last"] or timezone.now()
    found = ledger.alerts_found(ticket_ids)
    expected = ledger.alerts_expected(ticket_ids, now=now)
    result.notes.append(f"alerts expected as of the last sweep, {timezone.localtime(now):%X}")
    result.check(
        f"alerts of the {label}",
        sum(found.values()),
        str(sum(expected.values())),
        found == expected,
    )
    result.check(
        "alerts raised twice", ledger.alert_duplicates(), "0", ledger.alert_duplicates() == 0
    )


def _reports_check(result: Result) -> None:
    expected, missing = ledger.reports_missing(now=timezone.now())
    result.check(
        "reports of the periods ended (2 days)", expected - missing, str(expected), missing == 0
    )
    duplicates = ledger.report_duplicates()
    result.check("reports made twice for one (kind, period)", duplicates, "0", duplicates == 0)


def redis_stopped(context: Context) -> Result:
    """Redis (broker and cache) shut down for 60 s while people work."""
    result = Result("redis", "Redis stopped for 60 s under load")
    redis = context.redis
    _redis_outage(context, result, cut=redis.stop, restore=redis.start, down=60, state="down")
    return result


def redis_frozen(context: Context) -> Result:
    """Redis (broker and cache) frozen with SIGSTOP for 30 s while people work: connections
    hang instead of being refused, until SIGCONT."""
    result = Result("redis-frozen", "Redis frozen (SIGSTOP) for 30 s under load")
    redis = context.redis
    _redis_outage(context, result, cut=redis.freeze, restore=redis.thaw, down=30, state="frozen")
    result.notes.append(
        "frozen with SIGSTOP, so the kernel still accepts connections and takes what is sent; "
        "nothing is answered until SIGCONT, when Redis reads it all and answers at once"
    )
    return result


def _redis_outage(
    context: Context,
    result: Result,
    *,
    cut: Callable[[], None],
    restore: Callable[[], None],
    down: int,
    state: str,
) -> None:
    """Cut Redis with ``cut`` for ``down`` seconds under load, ``restore`` it, and check that
    requests waited little, nothing failed, and the work it held up was done once after."""
    app, centre = context.app, context.centre
    warm, after = 20, 20
    web, worker, beat = app.web(), app.worker(), app.beat()
    # Escalations (each texted to the shift leaders) that fall due while Redis is out.
    escalated_at = timezone.now() + timedelta(seconds=warm + 25)
    escalating = _emergencies(centre, 10, escalated_at=escalated_at)
    load = context.load()
    load.start()
    time.sleep(warm)
    status, etag_before = board_poll(app.base_url, load.dispatcher)
    verb = "stops" if state == "down" else "freezes"
    _say(f"Redis {verb} (board answered {status} with {etag_before})")
    stopped, stopped_at = time.monotonic(), timezone.now()
    cut()
    with _Probe() as probe:
        time.sleep(down)
    load.stop()  # so that no change after Redis is back moves the board for us
    restore()
    back, back_at = time.monotonic(), timezone.now()
    _say("Redis is back")
    time.sleep(2)
    status, etag_after = board_poll(app.base_url, load.dispatcher, etag_before)
    again = context.load()
    again.start()
    time.sleep(after)
    again.stop()
    hits = load.hits + again.hits

    during = load.between(stopped, back)
    longest = max(probe.publish, default=0.0)
    result.check(
        f"longest wait sending a task ({len(probe.publish)} sent while {state})",
        f"{longest:.2f} s",
        f"≤ {MAX_WAIT_SECONDS:.0f} s",
        probe.publish and longest <= MAX_WAIT_SECONDS,
    )
    longest = max(probe.cache, default=0.0)
    result.check(
        "longest wait on the cache (a read and a write)",
        f"{longest:.2f} s",
        f"≤ {MAX_WAIT_SECONDS:.0f} s",
        probe.cache and longest <= MAX_WAIT_SECONDS,
    )
    before_hits = load.between(0, stopped)
    before = _wait_figures(result, "before", before_hits)
    while_down = _wait_figures(result, f"while Redis was {state}", during)
    _wait_figures(result, "after", again.hits)
    slower = {
        kind: round(median - before.get(kind, median), 2) for kind, median in while_down.items()
    }
    result.check(
        f"median request slower while Redis was {state}, by kind (s)",
        slower,
        f"each ≤ {MAX_EXTRA_MEDIAN_SECONDS:.0f} s",
        all(extra <= MAX_EXTRA_MEDIAN_SECONDS for extra in slower.values()),
    )
    if state != "down":
        # A hang is bounded by the timeouts, not by the outage: each kind's longest request
        # while Redis was out against that kind's usual slow one (95th percentile before).
        usual = {
            kind: _figures([hit.seconds for hit in before_hits if hit.kind == kind])[1]
            for kind in {hit.kind for hit in before_hits}
        }
        longer = {
            kind: round(
                max(hit.seconds for hit in during if hit.kind == kind) - usual.get(kind, 0.0), 2
            )
            for kind in sorted({hit.kind for hit in during})
        }
        result.check(
            f"longest request while Redis was {state} past the usual p95 before, by kind (s)",
            longer,
            f"each ≤ {MAX_WAIT_SECONDS:.0f} s",
            all(extra <= MAX_WAIT_SECONDS for extra in longer.values()),
        )
        # A dispatch texts the crew leader and the customer: two tasks sent, each waiting
        # out its publish timeout on a Redis that does not answer; a verify sends none.
        for action in ("verify", "dispatch"):
            figures = [
                _figures(
                    [
                        hit.seconds
                        for hit in hits
                        if hit.kind == "act" and hit.path.endswith(f"/{action}/")
                    ]
                )
                for hits in (before_hits, during)
            ]
            result.notes.append(
                f"{action}: median/longest {figures[0][0]:.2f}/{figures[0][2]:.2f} s before, "
                f"{figures[1][0]:.2f}/{figures[1][2]:.2f} s while Redis was {state}"
            )
    result.check(
        "server errors (5xx or no answer), whole run",
        _server_errors(hits),
        "0",
        _server_errors(hits) == 0,
    )
    for hit in hits:
        if hit.status >= 500 or hit.status == 0:
            result.notes.append(
                f"{hit.kind} {hit.path} answered {hit.status or 'nothing'} after "
                f"{hit.seconds:.2f} s, sent {hit.started - stopped:+.1f} s from the cut "
                f"{hit.error}"
            )
    acts = Counter(hit.status for hit in during if hit.kind == "act")
    result.notes.append(f"crews sent while Redis was {state} (verify, dispatch) by status: {acts}")
    made = sum(1 for hit in during if hit.kind == "create" and hit.status == 201)
    result.check(f"tickets logged while Redis was {state}", made, "> 0", made > 0)
    pages = sum(1 for hit in during if hit.kind in ("page", "poll") and hit.status in (200, 304))
    result.check(f"pages shown while Redis was {state}", pages, "> 0", pages > 0)
    signins = sum(1 for hit in during if hit.kind == "signin" and hit.status == 302)
    result.check(f"sign-ins while Redis was {state}", signins, "> 0", signins > 0)
    moved = status == 200 and etag_after != etag_before
    result.check(
        "the board, polled with its version from before, after Redis is back",
        status,
        "200 (changed), not 304",
        moved,
    )

    def caught_up() -> bool:
        alerts = Alert.objects.filter(ticket_id__in=escalating, level="escalated").count()
        return alerts == len(escalating) and ledger.messages()["pending"] == 0

    took = _wait_until(caught_up, seconds=CATCH_UP_SECONDS)
    result.notes.append(
        f"caught up {took:.0f} s after the load ended" if took is not None else "never caught up"
    )
    queued = OutboundMessage.objects.filter(created_at__range=(stopped_at, back_at)).count()
    result.check(
        f"text messages queued by requests while Redis was {state}", queued, "> 0", queued > 0
    )
    escalations = Alert.objects.filter(ticket_id__in=escalating, level="escalated").count()
    result.check(
        f"escalations due while Redis was {state}, raised",
        escalations,
        str(len(escalating)),
        escalations == len(escalating),
    )
    result.notes.append(
        f"Redis {state} from {timezone.localtime(stopped_at):%H:%M:%S} for "
        f"{back - stopped:.0f} s; the escalations fell due from "
        f"{timezone.localtime(escalated_at):%H:%M:%S}, one a second"
    )
    for process in (web, worker, beat):
        result.check(f"{process.name} still running", process.alive, "True", process.alive)
    _settle(app, result)
    _alerts_check(result, "10 emergencies", escalating)
    _messages_check(result, expected_at_least=len(escalating) * centre.shift_leaders)


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
    ids = _emergencies(centre, 600, escalated_at=timezone.now() - timedelta(minutes=15))
    AlertCursor.objects.all().delete()
    _say(f"{len(ids)} overdue emergencies logged; the sweep starts and is killed")
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
    _settle(app, result)
    _alerts_check(result, f"{len(ids)} overdue emergencies", ids)
    _reports_check(result)
    _messages_check(result, expected_at_least=len(ids) * centre.shift_leaders)
    return result


def _worker_ready(worker: Process) -> None:
    """Wait until the worker says it is ready (connected, consuming)."""
    took = _wait_until(lambda: " ready." in worker.log_path.read_text(), seconds=90)
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
    _say(f"{EXPORT_TICKETS} tickets logged in {time.monotonic() - started:.0f} s")
    expected = set(Ticket.objects.filter(fault_type=fault).values_list("number", flat=True))
    workers = [app.worker()]
    _worker_ready(workers[0])
    export = reports_services.export_request(
        actor=supervisor,
        query=f"fault_type={fault.code}",
        file_format=Export.Format.CSV,
        now=timezone.now(),
    )
    _say(f"export {export.pk} asked for; the worker is killed as soon as it has written rows")
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
    _wait_until(lambda: _task_results(workers, "reports.tasks.exports_resume"), seconds=60)
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
    took = _wait_until(
        lambda: Export.objects.get(pk=export.pk).state != Export.State.RUNNING, seconds=240
    )
    result.notes.append(
        "resumed and written in "
        + (f"{took:.0f} s" if took is not None else "never (gave up after 240 s)")
        + f"; exports-resume returned {_task_results(workers, 'reports.tasks.exports_resume')}"
    )
    _settle(app, result)
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
    ids = _emergencies(centre, 60, escalated_at=timezone.now() + timedelta(seconds=40))
    _say("two beats; 60 escalations fall due over the next 100 s")
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
    _settle(app, result)
    escalations = Alert.objects.filter(ticket_id__in=ids, level="escalated").count()
    result.check("escalations raised", escalations, str(len(ids)), escalations == len(ids))
    _alerts_check(result, "60 emergencies", ids)
    _reports_check(result)
    _messages_check(result, expected_at_least=len(ids) * centre.shift_leaders)
    result.check("worker still running", alive, "True", alive)
    return result


def postgres_restarted(context: Context) -> Result:
    """PostgreSQL stopped (fast: connections cut) for 15 s and started again, under load."""
    result = Result("postgres", "PostgreSQL restarted under load")
    _postgres_outage(context, result, cut=context.postgres.stop, down=15)
    return result


def postgres_crashed(context: Context) -> Result:
    """PostgreSQL stopped as a crash (immediate: no checkpoint) for 10 s, then started again
    through crash recovery, under load."""
    result = Result("postgres-immediate", "PostgreSQL crashed (stop -m immediate) under load")
    _postgres_outage(context, result, cut=context.postgres.crash, down=10)
    result.notes.append(
        "the server runs with fsync off (stack.py): a crash of its processes, not of the "
        "machine, loses nothing written to the OS, so recovery replays every commit's WAL"
    )
    recovery = _recovery_log(context.postgres)
    result.check(
        "the restart went through crash recovery (server log)",
        recovery or "no",
        "redo done",
        "redo done" in recovery,
    )
    return result


def _recovery_log(postgres: Postgres) -> str:
    """Return the server log's lines of the last crash recovery."""
    lines = postgres.log.read_text(errors="replace").splitlines()
    marks = ("not properly shut down", "redo starts", "redo done")
    found = [
        line.split(" LOG:  ")[-1].split(" system usage:")[0]
        for line in lines
        if any(mark in line for mark in marks)
    ]
    return "; ".join(found[-3:])


def _postgres_outage(
    context: Context, result: Result, *, cut: Callable[[], None], down: int
) -> None:
    """Cut PostgreSQL with ``cut`` for ``down`` seconds under load and start it again; check
    the answers while it was out, how soon the app came back, and that nothing is
    half-written."""
    app, postgres = context.app, context.postgres
    warm, after = 15, 30
    web, worker, beat = app.web(), app.worker(), app.beat()
    load = context.load()
    load.start()
    time.sleep(warm)
    _say("PostgreSQL stops")
    stopped = time.monotonic()
    cut()
    time.sleep(down)
    postgres.start()
    back = time.monotonic()
    _say("PostgreSQL is back")
    time.sleep(after)
    load.stop()
    ledger.fresh()

    hits = load.hits
    refused = [hit for hit in hits if hit.status == 503]
    result.check("answers 503 while it was down", len(refused), "> 0", refused)
    others = sum(1 for hit in hits if hit.status >= 500 and hit.status != 503)
    result.check("other server errors (500, 502…)", others, "0", others == 0)
    silent = sum(1 for hit in hits if hit.status == 0)
    result.check("requests with no answer at all", silent, "0", silent == 0)
    api = [hit for hit in refused if hit.path.startswith("/api/")]
    json_ok = all(hit.code == "unavailable" for hit in api)
    result.check("503s of the API in JSON, code unavailable", f"{len(api)}", "all", json_ok)
    pages = [hit for hit in refused if not hit.path.startswith("/api/")]
    html_ok = all(hit.content_type.startswith("text/html") for hit in pages)
    result.check("503s of pages as a page", f"{len(pages)}", "all", html_ok)
    answered = [hit for hit in hits if hit.started >= back and hit.status < 500]
    first = min((hit.started for hit in answered), default=None)
    recovered = None if first is None else first - back
    late = [hit for hit in hits if hit.started >= back + 10 and hit.status == 503]
    came_back = "never" if recovered is None else f"{recovered:.1f} s"
    result.check(
        "first answer after it is back",
        came_back,
        "≤ 10 s",
        recovered is not None and recovered <= 10,
    )
    result.check("503s later than 10 s after it is back", len(late), "0", not late)
    _wait_figures(result, "while it was down", load.between(stopped, back))
    cut_off = Counter(
        hit.status for hit in hits if hit.started < stopped <= hit.started + hit.seconds
    )
    result.notes.append(f"requests in flight when it stopped, by status: {dict(cut_off)}")

    descriptions = Ticket.objects.filter(description__contains="faults-").values_list(
        "description", flat=True
    )
    saved = {description.split()[-1] for description in descriptions}
    lost = [c for c in load.created if c.status == 201 and c.marker not in saved]
    result.check("tickets answered 201 and not in the database", len(lost), "0", not lost)
    refused_saved = [c for c in load.created if c.status != 201 and c.marker in saved]
    result.notes.append(
        f"{len(refused_saved)} tickets answered with an error were saved whole "
        "(committed before the connection went)"
    )
    half = ledger.tickets_half_written()
    result.check("tickets half-written (no creation event)", half, "0", half == 0)
    half = ledger.dispatches_half_written()
    result.check("dispatches half-written (no assignment or no crew text)", half, "0", half == 0)
    result.check(
        "tickets logged",
        sum(c.status == 201 for c in load.created),
        "> 0",
        any(c.status == 201 for c in load.created),
    )
    for process in (web, worker, beat):
        result.check(f"{process.name} still running", process.alive, "True", process.alive)
    _settle(app, result)
    _messages_check(result)


SCENARIOS = {
    "redis": redis_stopped,
    "worker": worker_killed,
    "beat": beat_twice,
    "postgres": postgres_restarted,
    "redis-frozen": redis_frozen,
    "postgres-immediate": postgres_crashed,
    "export": export_killed,
}
