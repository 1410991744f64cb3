"""Try changes to the overdue sweep: ``python -m tests.bench.alerts_experiments``.

Runs on the alerts database a ``--suite alerts`` run left; every sweep comes in the quiet
minutes after its *now* and raises nothing, and the sweep positions are put back at now
after. The product's code is not changed: the variants are written here.

1. The close deadline's warning, the slowest SELECT of a sweep with nothing new: EXPLAIN
   (ANALYZE, BUFFERS) as ``_due_rows`` writes it (each grade's window OR-ed, then
   ``close_due > now`` AND-ed to them all) and with that bound folded into each window
   (``close_due > max(since + lead, now)``: the same rows).
2. A sweep with nothing new, ``--sweeps`` times each, in alternating rounds: the product's
   ``alerts_sweep``; with the warnings' bound folded in; in one transaction (every position
   locked by one ``SELECT … FOR UPDATE``, moved by one ``UPDATE``, one COMMIT); both.
"""

import argparse
import os
import re
import statistics
import sys
import time
from datetime import timedelta

from tests.bench.alerts import DEFAULT_DATABASE_URL

# The product's ``_due_rows``, kept before a variant puts its own in its place.
_PRODUCT: dict = {}


def folded_due_rows(*, watch, level, windows, policies, since, now):
    """``tickets.services.alerts._due_rows`` with a warning's ``due > now`` folded into each
    window's lower bound."""
    from django.db.models import Exists, OuterRef, Q

    from tickets.choices import AlertLevel
    from tickets.models import Alert

    if level != AlertLevel.WARNING:
        return _PRODUCT["due_rows"](
            watch=watch, level=level, windows=windows, policies=policies, since=since, now=now
        )
    due = watch.due_field
    moments = Q(pk__in=[])
    for rows, length, policy in windows:
        lead = length * (100 - policy.warning_percent) / 100
        moments |= rows & Q(**{f"{due}__gt": max(since + lead, now), f"{due}__lte": now + lead})
    raised = Alert.objects.filter(
        ticket_id=OuterRef(watch.ticket_field),
        milestone=watch.milestone,
        level=level,
        due_at=OuterRef(due),
    )
    return (
        watch.model.objects.filter(watch.pending, moments)
        .filter(~Exists(raised))
        .order_by(due)
        .values_list(watch.ticket_field, due)
    )


def sweep_in_one_transaction(*, now, batch: int = 1000, due_rows=None) -> int:
    """The sweep with every position locked at once and moved at once, in one transaction."""
    from django.conf import settings
    from django.db import transaction

    from tickets.hooks import alerts_raised
    from tickets.models import Alert, AlertCursor, SlaPolicy
    from tickets.services import alerts as service
    from tickets.watches import watches

    due_rows = due_rows or service._due_rows
    policies = {policy.grade: policy for policy in SlaPolicy.objects.all()}
    service._cursors_ensure(now=now)
    overlap = timedelta(minutes=settings.ALERT_SWEEP_OVERLAP_MINUTES)
    raised = 0
    with transaction.atomic():
        cursors = {
            (cursor.milestone, cursor.level): cursor
            for cursor in AlertCursor.objects.select_for_update().order_by("id")
        }
        for watch in watches():
            windows = watch.windows(policies)
            for level in watch.levels:
                since = cursors[(watch.milestone, level)].scanned_through - overlap
                while True:
                    rows = due_rows(
                        watch=watch,
                        level=level,
                        windows=windows,
                        policies=policies,
                        since=since,
                        now=now,
                    )
                    ids = service._alerts_insert(
                        rows=rows, watch=watch, level=level, now=now, batch=batch
                    )
                    if ids:
                        alerts_raised.send(sender=Alert, alert_ids=ids)
                    raised += len(ids)
                    if len(ids) < batch:
                        break
        AlertCursor.objects.filter(scanned_through__lt=now).update(scanned_through=now)
    return raised


def close_warning_plans(now) -> None:
    from django.conf import settings
    from django.db import connection

    from tickets.choices import AlertLevel, AlertMilestone
    from tickets.models import SlaPolicy
    from tickets.services import alerts as service
    from tickets.watches import watches

    policies = {policy.grade: policy for policy in SlaPolicy.objects.all()}
    watch = next(watch for watch in watches() if watch.milestone == AlertMilestone.CLOSE)
    since = now - timedelta(minutes=settings.ALERT_SWEEP_OVERLAP_MINUTES)
    at = now + timedelta(seconds=1)
    print("\n== The close deadline's warning: the SELECT of a sweep with nothing new")
    for label, due_rows in [("product", service._due_rows), ("folded", folded_due_rows)]:
        rows = due_rows(
            watch=watch,
            level=AlertLevel.WARNING,
            windows=watch.windows(policies),
            policies=policies,
            since=since,
            now=at,
        )[:1000]
        sql, params = rows.query.sql_with_params()
        with connection.cursor() as cursor:
            cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS) {sql}", params)
            plan = "\n".join(row[0] for row in cursor.fetchall())
        scan = next(line.strip() for line in plan.splitlines() if "Scan" in line)
        conditions = re.findall(r"(?:Index|Recheck) Cond: (.*)", plan)
        removed = sum(int(n) for n in re.findall(r"Rows Removed by Filter: (\d+)", plan))
        timing = ", ".join(re.findall(r"((?:Planning|Execution) Time: [\d.]+ ms)", plan))
        buffers = re.search(r"Buffers: (.*)", plan).group(1)
        print(
            f"{label:<8} {timing}; {buffers}; {removed:,} entries dropped by the filter\n"
            f"         {scan.split('  (')[0]}\n         cond: {conditions[0][:160]}"
        )


def sweeps(now, repeat: int, rounds: int) -> None:
    from tests.bench.alerts_dataset import cursors_set
    from tickets.services import alerts as service
    from tickets.services import alerts_sweep

    def product_folded(*, now):
        service._due_rows = folded_due_rows
        try:
            return alerts_sweep(now=now)
        finally:
            service._due_rows = _PRODUCT["due_rows"]

    variants = {
        "the product's alerts_sweep": lambda *, now: alerts_sweep(now=now),
        "the warnings' bound folded in": product_folded,
        "one transaction": lambda *, now: sweep_in_one_transaction(now=now),
        "one transaction, the bound folded in": lambda *, now: sweep_in_one_transaction(
            now=now, due_rows=folded_due_rows
        ),
    }
    times: dict[str, list[float]] = {label: [] for label in variants}
    step = repeat + 3
    print(f"\n== A sweep with nothing new: {rounds} rounds of {repeat} sweeps per variant (ms)")
    for number in range(rounds):
        for n, (label, variant) in enumerate(variants.items()):
            start = now + timedelta(seconds=step * (number * len(variants) + n))
            cursors_set(start)
            for k in range(repeat + 2):
                began = time.perf_counter()
                raised = variant(now=start + timedelta(seconds=k + 1))
                if k >= 2:  # two unmeasured first
                    times[label].append((time.perf_counter() - began) * 1000)
                if raised:
                    raise RuntimeError(f"{label} raised {raised}: not in the quiet time")
    cursors_set(now)
    for label, measured in times.items():
        print(
            f"{label:<38} p50 {statistics.median(measured):6.0f}  max {max(measured):6.0f}  "
            f"({len(measured)} sweeps)"
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tests.bench.alerts_experiments",
        description=__doc__,
        formatter_class=argparse.RawTextHelpFormatter,
    )
    parser.add_argument("--sweeps", type=int, default=10, help="per variant and round")
    parser.add_argument("--rounds", type=int, default=2, help="alternating rounds")
    parser.add_argument(
        "--database-url",
        default=os.environ.get("BENCH_ALERTS_DATABASE_URL", DEFAULT_DATABASE_URL),
    )
    args = parser.parse_args(argv)
    os.environ["DJANGO_SETTINGS_MODULE"] = "tests.bench.settings"
    os.environ["DATABASE_URL"] = args.database_url
    os.environ.setdefault("CELERY_BROKER_URL", "redis://127.0.0.1:6379/0")

    import django

    django.setup()
    from tests.bench.alerts_dataset import _recorded
    from tickets.services import alerts as service

    _PRODUCT["due_rows"] = service._due_rows
    recorded = _recorded()
    if recorded is None:
        raise SystemExit("no alerts database: run `scripts/bench.sh --suite alerts` first")
    budget = (args.sweeps + 3) * 4 * args.rounds
    if budget >= recorded["quiet_minutes"] * 60:
        raise SystemExit(f"{budget} s of sweeps do not fit in the quiet minutes: fewer --sweeps")
    close_warning_plans(recorded["now"])
    sweeps(recorded["now"], args.sweeps, args.rounds)
    return 0


if __name__ == "__main__":
    sys.exit(main())
