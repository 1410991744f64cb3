"""What the fault scenarios share: the centre they work on, their result, the checks."""

import threading
import time
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass, field
from datetime import timedelta

import time_machine
from django.db.models import Max
from django.utils import timezone

from callcentre.celery import app as celery_app
from reports.models import Report
from tests.faults import ledger
from tests.faults.load import Hit, Load
from tests.faults.stack import App, Postgres, Redis
from tickets import services
from tickets.choices import Channel
from tickets.models import Alert, AlertCursor

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


def say(text: str) -> None:
    print(f"  {time.strftime('%H:%M:%S')} {text}", flush=True)


def emergencies(centre: Centre, count: int, *, escalated_at) -> list[int]:
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


def wait_until(condition: Callable[[], bool], *, seconds: float) -> float | None:
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


def settle(app: App, result: Result, *, seconds: float = CATCH_UP_SECONDS) -> None:
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


def server_errors(hits: list[Hit]) -> int:
    return sum(1 for hit in hits if hit.status >= 500 or hit.status == 0)


def quantiles(seconds: list[float]) -> tuple[float, float, float]:
    """Return the median, the 95th percentile and the longest."""
    ordered = sorted(seconds) or [0.0]
    return ordered[len(ordered) // 2], ordered[int(len(ordered) * 0.95)], ordered[-1]


def wait_figures(result: Result, label: str, hits: list[Hit]) -> dict[str, float]:
    """Note the requests' times, all and by kind; return each kind's median."""
    median, p95, longest = quantiles([hit.seconds for hit in hits])
    kinds = sorted({hit.kind for hit in hits})
    by_kind = {kind: quantiles([hit.seconds for hit in hits if hit.kind == kind]) for kind in kinds}
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
class Probe:
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

    def __enter__(self) -> "Probe":
        self._thread = threading.Thread(target=self.run, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join(timeout=30)


def messages_check(result: Result, *, expected_at_least: int = 0) -> None:
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


def alerts_check(result: Result, label: str, ticket_ids: list[int]) -> None:
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


def reports_check(result: Result) -> None:
    expected, missing = ledger.reports_missing(now=timezone.now())
    result.check(
        "reports of the periods ended (2 days)", expected - missing, str(expected), missing == 0
    )
    duplicates = ledger.report_duplicates()
    result.check("reports made twice for one (kind, period)", duplicates, "0", duplicates == 0)
