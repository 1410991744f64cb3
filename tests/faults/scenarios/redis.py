"""Redis stopped, and Redis frozen, under the load."""

import time
from collections import Counter
from collections.abc import Callable
from datetime import timedelta

from django.utils import timezone

from dispatch.models import OutboundMessage
from tests.faults import ledger
from tests.faults.load import board_poll
from tests.faults.scenarios._common import (
    CATCH_UP_SECONDS,
    MAX_EXTRA_MEDIAN_SECONDS,
    MAX_WAIT_SECONDS,
    Context,
    Probe,
    Result,
    alerts_check,
    emergencies,
    messages_check,
    quantiles,
    say,
    server_errors,
    settle,
    wait_figures,
    wait_until,
)
from tickets.models import Alert


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
    escalating = emergencies(centre, 10, escalated_at=escalated_at)
    load = context.load()
    load.start()
    time.sleep(warm)
    status, etag_before = board_poll(app.base_url, load.dispatcher)
    verb = "stops" if state == "down" else "freezes"
    say(f"Redis {verb} (board answered {status} with {etag_before})")
    stopped, stopped_at = time.monotonic(), timezone.now()
    cut()
    with Probe() as probe:
        time.sleep(down)
    load.stop()  # so that no change after Redis is back moves the board for us
    restore()
    back, back_at = time.monotonic(), timezone.now()
    say("Redis is back")
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
    before = wait_figures(result, "before", before_hits)
    while_down = wait_figures(result, f"while Redis was {state}", during)
    wait_figures(result, "after", again.hits)
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
            kind: quantiles([hit.seconds for hit in before_hits if hit.kind == kind])[1]
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
            timings = [
                quantiles(
                    [
                        hit.seconds
                        for hit in hits
                        if hit.kind == "act" and hit.path.endswith(f"/{action}/")
                    ]
                )
                for hits in (before_hits, during)
            ]
            result.notes.append(
                f"{action}: median/longest {timings[0][0]:.2f}/{timings[0][2]:.2f} s before, "
                f"{timings[1][0]:.2f}/{timings[1][2]:.2f} s while Redis was {state}"
            )
    result.check(
        "server errors (5xx or no answer), whole run",
        server_errors(hits),
        "0",
        server_errors(hits) == 0,
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

    took = wait_until(caught_up, seconds=CATCH_UP_SECONDS)
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
    settle(app, result)
    alerts_check(result, "10 emergencies", escalating)
    messages_check(result, expected_at_least=len(escalating) * centre.shift_leaders)
