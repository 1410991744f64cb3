"""Load generators: HTTP clients against gunicorn, and raw single-row INSERTs.

Each phase starts its clients together, lets them run ``warmup`` seconds unrecorded, then
records every request that completes in the next ``seconds`` seconds. Meanwhile it samples the
CPU time of the client (this process), the web workers, PostgreSQL and everything else on
the machine, so a report shows where the cores went and whether something else competed.
"""

import itertools
import os
import random
import re
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import psycopg

from tests.bench.dataset import Dataset

_CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
# The bench settings' middleware: ``Server-Timing: app;dur=<ms>``.
SERVER_TIMING = re.compile(r"\bapp;dur=([\d.]+)")

# One request: return a short description of the failure, or on success None or the
# server's own time in milliseconds (its ``Server-Timing``).
Request = Callable[[], str | float | None]
# Called once in each client thread: its request, and what closes its connection.
ClientFactory = Callable[[], tuple[Request, Callable[[], None]]]


@dataclass
class PhaseResult:
    """The figures of one phase."""

    name: str
    what: str
    concurrency: int
    seconds: float
    latencies: list[float] = field(repr=False)
    errors: int
    error_samples: list[str]
    cpu_cores: dict[str, float]
    rounds: int = 1
    server_ms: list[float] = field(default_factory=list, repr=False)

    @property
    def requests(self) -> int:
        return len(self.latencies)

    @property
    def per_second(self) -> float:
        return self.requests / self.seconds

    @property
    def server_cpu_ms(self) -> float:
        """CPU milliseconds the web server and PostgreSQL spent per request."""
        cores = self.cpu_cores["web"] + self.cpu_cores["postgres"]
        return cores / self.per_second * 1000 if self.requests else float("nan")

    def percentile_ms(self, pct: float) -> float:
        """Return the ``pct`` percentile latency in milliseconds (nearest rank)."""
        return _percentile(self.latencies, pct) * 1000

    def server_percentile_ms(self, pct: float) -> float:
        """Return the ``pct`` percentile of the server's own times, where it told them."""
        return _percentile(self.server_ms, pct)


def _percentile(values: list[float], pct: float) -> float:
    """Nearest rank."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[max(1, round(pct / 100 * len(ordered))) - 1]


def merge(parts: list[PhaseResult]) -> PhaseResult:
    """Return one phase's rounds as one result: all requests over all measured seconds."""
    seconds = sum(part.seconds for part in parts)
    first = parts[0]
    return PhaseResult(
        name=first.name,
        what=first.what,
        concurrency=first.concurrency,
        seconds=seconds,
        latencies=[latency for part in parts for latency in part.latencies],
        errors=sum(part.errors for part in parts),
        error_samples=sorted({sample for part in parts for sample in part.error_samples})[:5],
        cpu_cores={
            group: sum(part.cpu_cores[group] * part.seconds for part in parts) / seconds
            for group in first.cpu_cores
        },
        rounds=len(parts),
        server_ms=[value for part in parts for value in part.server_ms],
    )


def _cpu_seconds(pids: list[int]) -> dict[int, float]:
    """Return the user+system CPU seconds each live process of ``pids`` used so far, with
    what its children that have ended used (the kernel adds theirs when they are reaped)."""
    used = {}
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except (FileNotFoundError, ProcessLookupError):
            continue
        used[pid] = sum(int(value) for value in fields[11:15]) / _CLOCK_TICKS
    return used


def _busy_seconds() -> float:
    """Return the CPU seconds all cores of the machine spent busy so far."""
    user, nice, system, _idle, _iowait, irq, softirq, steal = (
        int(value) for value in Path("/proc/stat").read_text().split(maxsplit=9)[1:9]
    )
    return (user + nice + system + irq + softirq + steal) / _CLOCK_TICKS


def _processes() -> Iterator[tuple[int, int, str]]:
    """Yield (pid, parent pid, command line) of every process."""
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except (FileNotFoundError, ProcessLookupError):
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        yield int(entry.name), ppid, cmdline.strip()


def process_groups(*, web_master: int | None, database: str) -> dict[str, list[int]]:
    """Return the pids of the client, the web server and PostgreSQL serving the bench.

    PostgreSQL's share is described at ``postgres_pids``.
    """
    groups: dict[str, list[int]] = {"client": [os.getpid()], "web": [], "postgres": []}
    for pid, ppid, _cmdline in _processes():
        if web_master and web_master in (pid, ppid):
            groups["web"].append(pid)
    groups["postgres"] = postgres_pids(database)
    return groups


def postgres_pids(database: str) -> list[int]:
    """Return the pids of PostgreSQL serving ``database``: the postmaster, its background
    processes and the backends connected to ``database``.

    Live backends of other databases count as another tenant's load; the postmaster also
    holds every backend that has ended meanwhile (a connection closed at its age limit),
    whichever database it served, so other work on the machine shows here too.
    """
    processes = list(_processes())
    backends = [
        (pid, ppid)
        for pid, ppid, cmdline in processes
        if cmdline.startswith("postgres:") and (f" {database} " in cmdline or "(" not in cmdline)
    ]
    postmasters = {ppid for _pid, ppid in backends}
    return [pid for pid, _ppid in backends] + sorted(postmasters)


class CpuMeter:
    """CPU cores used between ``start()`` and ``stop()``: by each group, and by the rest.

    The groups are listed at both ends: a process started meanwhile (a database connection
    the web workers reopened) counts whole. One that ended meanwhile is counted by its parent,
    which must be in the group (PostgreSQL's postmaster, gunicorn's master): the parent's
    figure then holds the whole of the child's, so what the child had used at the start is
    taken off.
    """

    def __init__(self, list_groups: Callable[[], dict[str, list[int]]]) -> None:
        self.list_groups = list_groups

    def start(self) -> None:
        self.began = time.perf_counter()
        self.busy = _busy_seconds()
        self.used = {group: _cpu_seconds(pids) for group, pids in self.list_groups().items()}

    def stop(self) -> dict[str, float]:
        seconds = time.perf_counter() - self.began
        cores = {}
        for group, pids in self.list_groups().items():
            before, after = self.used.get(group, {}), _cpu_seconds(pids)
            spent = sum(max(0.0, used - before.get(pid, 0.0)) for pid, used in after.items())
            spent -= sum(used for pid, used in before.items() if pid not in after)
            cores[group] = max(0.0, spent) / seconds
        busy = (_busy_seconds() - self.busy) / seconds
        cores["other"] = max(0.0, busy - sum(cores.values()))
        return cores


# Other work on the machine below this many cores counts as quiet.
QUIET_CORES = 0.25


def wait_quietly(max_seconds: float, *, say: Callable[[str], None]) -> None:
    """Before a measured round: wait up to ``max_seconds`` for other work on the machine to
    use under ``QUIET_CORES``, and say so when it still does (0: do not wait)."""
    if max_seconds <= 0:
        return
    cores = wait_for_quiet(threshold=QUIET_CORES, max_seconds=max_seconds)
    if cores >= QUIET_CORES:
        say(f"the machine is still busy ({cores:.2f} cores used by other work); going on")


def wait_for_quiet(*, threshold: float, max_seconds: float) -> float:
    """Wait until the machine's other work uses under ``threshold`` cores (measured over a
    second), at most ``max_seconds``; return the last measure."""
    deadline = time.monotonic() + max_seconds
    while True:
        busy = _busy_seconds()
        time.sleep(1)
        cores = _busy_seconds() - busy
        if cores < threshold or time.monotonic() >= deadline:
            return cores


def run_phase(
    *,
    name: str,
    what: str,
    make_client: ClientFactory,
    concurrency: int,
    seconds: float,
    warmup: float,
    database: str,
    web_master: int | None = None,
) -> PhaseResult:
    """Run ``concurrency`` threads, each making one client and calling it in a loop."""
    ready = threading.Barrier(concurrency + 1)
    measured = threading.Event()  # connections stay open until the CPU meter has read them
    window: dict[str, float] = {}
    lock = threading.Lock()
    latencies: list[float] = []
    servers: list[float] = []
    errors: list[str] = []

    def client() -> None:
        try:
            request, close = make_client()
        except Exception:
            ready.abort()  # the run stops instead of waiting for this client forever
            raise
        mine: list[float] = []
        server: list[float] = []
        failures: list[str] = []
        ready.wait()
        start, end = window["start"], window["end"]
        while True:
            began = time.perf_counter()
            answer = request()
            done = time.perf_counter()
            if done >= end:
                break
            if done >= start:
                if isinstance(answer, str):
                    failures.append(answer)
                else:
                    mine.append(done - began)
                    if answer is not None:
                        server.append(answer)
        measured.wait()
        close()
        with lock:
            latencies.extend(mine)
            servers.extend(server)
            errors.extend(failures)

    threads = [threading.Thread(target=client, name=f"{name}-{n}") for n in range(concurrency)]
    for thread in threads:
        thread.start()
    now = time.perf_counter()
    window["start"], window["end"] = now + warmup, now + warmup + seconds
    ready.wait()
    time.sleep(max(0.0, window["start"] - time.perf_counter()))
    meter = CpuMeter(lambda: process_groups(web_master=web_master, database=database))
    meter.start()
    time.sleep(max(0.0, window["end"] - time.perf_counter()))
    cpu_cores = meter.stop()
    measured.set()
    for thread in threads:
        thread.join()
    return PhaseResult(
        name=name,
        what=what,
        concurrency=concurrency,
        seconds=seconds,
        latencies=latencies,
        errors=len(errors),
        error_samples=sorted(set(errors))[:5],
        cpu_cores=cpu_cores,
        server_ms=servers,
    )


class TicketBodies:
    """Request bodies: the same ticket each time, with a new caller and, where the client
    supplies it, a new number, receipt time and deadlines."""

    def __init__(self, dataset: Dataset, *, day: datetime) -> None:
        self.dataset = dataset
        self.day = f"{day:%y%m%d}"
        self.run = f"{int(time.time()) % 4096:03x}"
        self.counter = itertools.count(1)

    def _caller(self) -> dict[str, str]:
        serial = random.randrange(10**8)
        return {
            "description": f"厨房水管接头漏水 滴水不止 压测 {serial}",
            "caller_name": "张先生",
            "caller_phone": f"+86139{serial:08d}",
        }

    def api(self) -> dict:
        """The body of ``POST /api/v1/tickets/``: what a seat agent sends."""
        return {
            "channel": "hotline",
            "category": self.dataset.category,
            "fault_type": self.dataset.fault_type_code,
            **self._caller(),
            "address": "锦华路18号锦华苑",
            "building": "3",
            "unit": "2",
            "room": "501",
            "community": self.dataset.community_id,
        }

    def row(self, prefix: str) -> dict:
        """Every column ``ticket_create`` fills, computed here, as the ceilings send them."""
        at = datetime.now(UTC)
        deadlines = {
            column: None if minutes is None else at + timedelta(minutes=minutes)
            for column, minutes in self.dataset.deadline_minutes.items()
        }
        return {
            "number": f"{self.day}-{prefix}{self.run}{next(self.counter):07d}",
            "channel": "hotline",
            "category": self.dataset.category,
            "fault_type": self.dataset.fault_type_id,
            "grade": self.dataset.grade,
            **self._caller(),
            "address": "锦华路18号锦华苑",
            "building": "3",
            "unit": "2",
            "room": "501",
            "district": self.dataset.district_id,
            "community": self.dataset.community_id,
            "received_at": at,
            "sla_started_at": at,
            **deadlines,
        }

    def bare(self) -> dict:
        """The body of the bare endpoint: the row, with times as ISO 8601 strings."""
        return {
            key: value.isoformat() if isinstance(value, datetime) else value
            for key, value in self.row("B").items()
        }


def http_client(
    base_url: str, path: str, body: Callable[[], dict], headers: dict[str, str] | None = None
) -> ClientFactory:
    """Return a factory of POST requests, one keep-alive ``httpx.Client`` per thread."""

    def make() -> tuple[Request, Callable[[], None]]:
        client = httpx.Client(base_url=base_url, headers=headers or {}, timeout=30)

        def request() -> str | None:
            try:
                response = client.post(path, json=body())
            except httpx.HTTPError as error:
                return f"{type(error).__name__}: {error}"
            if response.status_code // 100 != 2:
                return f"{response.status_code}: {response.text[:200]}"
            return None

        return request, client.close

    return make


_INSERT_COLUMNS = [
    "number",
    "channel",
    "category",
    "grade",
    "description",
    "caller_name",
    "caller_phone",
    "address",
    "building",
    "unit",
    "room",
    "received_at",
    "sla_started_at",
    "dispatch_due",
    "accept_due",
    "arrive_due",
    "mitigate_due",
    "resolve_due",
    "close_due",
    "district_id",
    "community_id",
    "fault_type_id",
]
# The columns Django fills from the model's defaults on a create.
_INSERT_SQL = (
    f"INSERT INTO tickets_ticket ({', '.join(_INSERT_COLUMNS)}, state, external_ref, returned, "
    "repair_measures, repair_parts, resolution, delay_responsible, is_special, created_at, "
    f"updated_at) VALUES ({', '.join(['%s'] * len(_INSERT_COLUMNS))}, 'new', '', '', '', '', "
    "'', '', false, now(), now()) RETURNING id"
)


def raw_insert_client(conninfo: str, bodies: TicketBodies) -> ClientFactory:
    """Return a factory of single-row INSERTs, one autocommit connection per thread."""

    def make() -> tuple[Request, Callable[[], None]]:
        conn = psycopg.connect(conninfo, autocommit=True)

        def request() -> str | None:
            row = bodies.row("R")
            row["district_id"] = row.pop("district")
            row["community_id"] = row.pop("community")
            row["fault_type_id"] = row.pop("fault_type")
            try:
                conn.execute(_INSERT_SQL, [row[column] for column in _INSERT_COLUMNS]).fetchone()
            except psycopg.Error as error:
                return f"{type(error).__name__}: {error}"
            return None

        return request, conn.close

    return make
