"""One phase of the storm: Locust at one multiplier, the drain, and the count in the database.

Also the memory sampler, which reads the resident size of every process of the product
(gunicorn's master and workers, the Celery worker and its pool, beat) every few seconds for
the whole run, so the soak can tell growth from noise.
"""

import json
import os
import re
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from tests.bench.load import CpuMeter, _processes, postgres_pids, wait_quietly

ROOT = Path(__file__).resolve().parents[2]
LOCUSTFILE = Path(__file__).with_name("storm_locust.py")
DRAIN_GIVE_UP_SECONDS = 300
# Locust's users let their call, dispatch or crew step finish after the run's end, so that
# what they were told was done is what they sent; this long at most.
STOP_TIMEOUT_SECONDS = 30


def storm_users(multiplier: float, staff) -> dict[str, int]:
    """Return how many of each kind of Locust user play a storm of ``multiplier``."""
    return {
        "agents": min(len(staff.agents), max(2, round(10 * multiplier))),
        "switches": max(1, round(multiplier)),
        "dispatchers": min(len(staff.dispatchers), 2 + round(2 * multiplier)),
        "crews": len(staff.crews),
        "customers": max(1, round(2 * multiplier)),
    }


@dataclass
class Phase:
    """What one phase measured; ``memory`` is filled for the soak."""

    multiplier: float
    seconds: float
    warmup: float
    users: dict[str, int]
    samples: list  # (name, started at, ms, status, as wanted)
    began: float
    failures: dict[str, list[str]]
    acks: dict[str, int]
    calls_per_minute: float
    drain_seconds: float | None
    drain_left: dict[str, int]
    counts: list[tuple[str, int, int]]  # what, acknowledged, in the database
    messages: dict[str, dict[str, int]]  # kind -> status -> count
    sms_delivered: int
    alerts: int
    sweeps: list[float]
    cpu: dict[str, float]
    queue_max: int
    memory: dict = field(default_factory=dict)


def _descendants(root: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for pid, ppid, _cmdline in _processes():
        children.setdefault(ppid, []).append(pid)
    found, stack = [], [root]
    while stack:
        pid = stack.pop()
        found.append(pid)
        stack.extend(children.get(pid, []))
    return found


def _rss_kib(pid: int) -> int | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except (FileNotFoundError, ProcessLookupError):
        return None
    return None


class _Watch:
    """Call ``sample`` every ``interval`` seconds in a thread while the ``with`` block runs."""

    interval: float = 1

    def __enter__(self):
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self._run, name=type(self).__name__, daemon=True)
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stopped.set()
        self.thread.join()

    def _run(self) -> None:
        while not self.stopped.wait(self.interval):
            self.sample()

    def sample(self) -> None:
        raise NotImplementedError


class MemorySampler(_Watch):
    """Sample every process of each named tree every ``interval`` seconds, in a thread."""

    def __init__(self, roots: dict[str, int], interval: float = 5) -> None:
        self.roots, self.interval = roots, interval
        self.series: dict[str, list[tuple[float, int]]] = {}
        self.marks: dict[str, float] = {}

    def sample(self) -> None:
        now = time.monotonic()
        for name, root in self.roots.items():
            for pid in _descendants(root):
                kib = _rss_kib(pid)
                if kib is not None:
                    role = "master" if pid == root else "child"
                    label = f"{name} {role} {pid}" if role == "child" else f"{name} {role}"
                    self.series.setdefault(label, []).append((now, kib))

    def mark(self, name: str) -> None:
        self.marks[name] = time.monotonic()

    def since(self, name: str) -> dict[str, dict[str, float]]:
        """Return, per process, its size after warm-up (the first sixth of the time since
        the mark, at most 5 minutes), at the end, and at most, in MiB."""
        began, ended = self.marks[name], time.monotonic()
        warm = began + min(300, (ended - began) / 6)
        figures = {}
        for label, points in sorted(self.series.items()):
            after = [kib for at, kib in points if at >= warm]
            if len(after) < 2:
                continue
            figures[label] = {
                "start": after[0] / 1024,
                "end": after[-1] / 1024,
                "max": max(after) / 1024,
                "growth": (after[-1] - after[0]) / after[0] * 100,
            }
        return figures


def _cpu_groups(pids: dict[str, int], database: str, locust: list[int]) -> dict[str, list[int]]:
    groups = {name: _descendants(pid) for name, pid in pids.items()}
    groups["postgres"] = postgres_pids(database)
    groups["locust"] = [pid for root in locust for pid in _descendants(root)]
    return groups


def _watermarks() -> dict[str, int]:
    from django.db.models import Max

    from callcentre.models import Call, CtiEvent
    from dispatch.models import OutboundMessage, SmsRecord
    from tickets.models import Alert, Ticket, TicketEvent

    models = {
        "ticket": Ticket,
        "event": TicketEvent,
        "call": Call,
        "cti": CtiEvent,
        "message": OutboundMessage,
        "sms": SmsRecord,
        "alert": Alert,
    }
    return {
        name: model.objects.aggregate(top=Max("pk"))["top"] or 0 for name, model in models.items()
    }


class QueueWatch(_Watch):
    """The deepest the broker's queue got while the block ran (read once a second)."""

    def __init__(self, broker) -> None:
        self.broker, self.deepest = broker, 0

    def sample(self) -> None:
        self.deepest = max(self.deepest, self.broker.llen("celery"))


def _drain(broker, marks: dict[str, int]) -> tuple[float | None, dict[str, int]]:
    """Wait for the broker's queue to empty and the outbox to send everything queued since
    ``marks``; return the seconds it took (None past DRAIN_GIVE_UP_SECONDS) and what was left."""
    from dispatch.models import OutboundMessage

    started = time.monotonic()
    while True:
        left = {
            "queued tasks": broker.llen("celery"),
            "tasks being run": broker.hlen("unacked"),
            "messages waiting": OutboundMessage.objects.filter(
                pk__gt=marks["message"], status=OutboundMessage.Status.PENDING
            ).count(),
        }
        elapsed = time.monotonic() - started
        if not any(left.values()):
            return elapsed, left
        if elapsed > DRAIN_GIVE_UP_SECONDS:
            return None, left
        time.sleep(0.5)


# Locust's acknowledgement -> the ticket event the database must hold for it.
_STEPS = [
    ("dispatched", "dispatched"),
    ("accept", "accepted"),
    ("arrive", "arrived"),
    ("mitigate", "mitigated"),
    ("complete", "resolved"),
    ("closed", "closed"),
]


def _counts(marks: dict[str, int], run: str, out: dict):
    """Return (what, acknowledged, in the database) for everything the storm was told was
    done, the messages by kind and status, the texts the gateway took, and the alerts."""
    from django.db.models import Count

    from callcentre.models import Call, CtiEvent
    from dispatch.models import OutboundMessage, SmsRecord
    from tickets.models import Alert, Ticket, TicketEvent

    acks = out["acks"]
    calls = Call.objects.filter(cti_call_id__startswith=f"storm-{run}-")
    known_calls = set(calls.values_list("cti_call_id", flat=True))
    numbers = list(out["tickets"])
    tickets = set(
        Ticket.objects.filter(pk__gt=marks["ticket"], number__in=numbers).values_list(
            "number", flat=True
        )
    )
    events = dict(
        TicketEvent.objects.filter(pk__gt=marks["event"], ticket__number__in=numbers)
        .values_list("action")
        .annotate(n=Count("id"))
    )
    counts = [
        ("calls (ringing acknowledged)", len(out["calls"]), len(set(out["calls"]) & known_calls)),
        (
            "CTI events (201; repeats answered 200 are not rows)",
            acks.get("cti_events", 0),
            CtiEvent.objects.filter(pk__gt=marks["cti"], cti_call_id__startswith=f"storm-{run}-")
            .values("id")
            .count(),
        ),
        ("tickets logged at the console", len(numbers), len(tickets)),
        (
            "calls linked to an open ticket",
            acks.get("links", 0),
            calls.filter(outcome=Call.Outcome.LINKED).count(),
        ),
    ]
    counts += [
        (f"ticket events `{action}`", acks.get(ack, 0), events.get(action, 0))
        for ack, action in _STEPS
    ]
    messages: dict[str, dict[str, int]] = {}
    for kind, status, n in (
        OutboundMessage.objects.filter(pk__gt=marks["message"])
        .values_list("kind", "status")
        .annotate(n=Count("id"))
    ):
        messages.setdefault(kind, {})[status] = n
    dispatched = events.get("dispatched", 0)
    for kind in ("crew_dispatched", "customer_dispatched"):
        queued = sum(messages.get(kind, {}).values())
        counts.append((f"messages `{kind}` (one per dispatch)", dispatched, queued))
    sms = SmsRecord.objects.filter(pk__gt=marks["sms"]).count()
    alerts = Alert.objects.filter(pk__gt=marks["alert"]).count()
    return counts, messages, sms, alerts


def worker_task_times(log: Path, *, offset: int, task: str) -> list[float]:
    """Return how long each run of ``task`` took, from the worker's log after ``offset``."""
    pattern = re.compile(rf"Task {re.escape(task)}\[[^\]]+\] succeeded in ([\d.]+)s")
    with log.open("rb") as lines:
        lines.seek(offset)
        text = lines.read().decode(errors="replace")
    return [float(seconds) for seconds in pattern.findall(text)]


def phase_run(
    *,
    multiplier: float,
    seconds: float,
    warmup: float,
    url: str,
    staff,
    broker,
    var_dir: Path,
    worker_log: Path,
    pids: dict[str, int],
    quiet_wait: float,
    say,
) -> Phase:
    """Play the storm at ``multiplier`` for ``seconds``, wait for the drain, and count."""
    from django.conf import settings
    from django.db import connections

    users = storm_users(multiplier, staff)
    run = f"{time.strftime('%H%M%S')}-{multiplier:g}x"
    config, output = var_dir / f"locust-{run}.json", var_dir / f"locust-{run}-out.json"
    config.write_text(
        json.dumps({**staff.as_json(), "multiplier": multiplier, "run": run, "users": users})
    )
    wait_quietly(quiet_wait, say=say)
    _drain(broker, _watermarks())  # what earlier work left is not this phase's
    marks = _watermarks()
    connections.close_all()
    offset = worker_log.stat().st_size
    total = sum(users.values())
    say(
        f"{multiplier:g}x ({100 * multiplier:g} calls a minute) for {seconds:g} s: "
        + ", ".join(f"{n} {kind}" for kind, n in users.items())
    )
    command = [
        str(Path(sys.executable).parent / "locust"),
        "-f",
        str(LOCUSTFILE),
        "--headless",
        "--host",
        url,
        "--users",
        str(total),
        "--spawn-rate",
        str(max(1, total / 5)),
        "--run-time",
        f"{round(seconds)}s",
        "--stop-timeout",
        str(STOP_TIMEOUT_SECONDS),
        "--only-summary",
        "--loglevel",
        "WARNING",
        "--exit-code-on-error",
        "0",
    ]
    env = {**os.environ, "STORM_CONFIG": str(config), "STORM_OUTPUT": str(output)}
    database = settings.DATABASES["default"]["NAME"]
    with (var_dir / f"locust-{run}.log").open("w") as log, QueueWatch(broker) as queue:
        locust = subprocess.Popen(  # noqa: S603 - our own command
            command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT
        )
        meter = CpuMeter(lambda: _cpu_groups(pids, database, [locust.pid]))
        time.sleep(1)
        meter.start()
        began = time.time()
        # Read before Locust exits: a process that has ended has no CPU time to read.
        time.sleep(max(0, seconds - 2))
        cpu = meter.stop()
        locust.wait()
    if not output.exists():
        raise RuntimeError(f"Locust wrote no results; see {var_dir / f'locust-{run}.log'}")
    drain_seconds, left = _drain(broker, marks)
    say(
        f"  drained in {drain_seconds:.1f} s"
        if drain_seconds is not None
        else f"  NOT drained after {DRAIN_GIVE_UP_SECONDS} s: {left}"
    )
    out = json.loads(output.read_text())
    counts, messages, sms, alerts = _counts(marks, run, out)
    connections.close_all()
    window_start, window_end = began + warmup, began + seconds
    rung = [at for at in out["rung"] if window_start <= at <= window_end]
    minutes = max(1e-9, (window_end - window_start) / 60)
    return Phase(
        multiplier=multiplier,
        seconds=seconds,
        warmup=warmup,
        users=users,
        samples=out["samples"],
        began=began,
        failures=out["failures"],
        acks=out["acks"],
        calls_per_minute=len(rung) / minutes,
        drain_seconds=drain_seconds,
        drain_left=left,
        counts=counts,
        messages=messages,
        sms_delivered=sms,
        alerts=alerts,
        sweeps=worker_task_times(worker_log, offset=offset, task="tickets.tasks.alerts_sweep"),
        cpu=cpu,
        queue_max=queue.deepest,
    )
