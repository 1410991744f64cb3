"""PostgreSQL restarted, and crashed, under the load."""

import time
from collections import Counter
from collections.abc import Callable

from tests.faults import ledger
from tests.faults.scenarios._common import (
    Context,
    Result,
    messages_check,
    say,
    settle,
    wait_figures,
)
from tests.faults.stack import Postgres
from tickets.models import Ticket


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
    say("PostgreSQL stops")
    stopped = time.monotonic()
    cut()
    time.sleep(down)
    postgres.start()
    back = time.monotonic()
    say("PostgreSQL is back")
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
    wait_figures(result, "while it was down", load.between(stopped, back))
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
    settle(app, result)
    messages_check(result)
