"""Try changes to the overdue sweep: ``python -m tests.bench.alerts_experiments``.

Runs on the alerts database a ``--suite alerts`` run left; every sweep comes in the quiet
minutes after its *now* and raises nothing, and the sweep positions are put back at now
after. The product's code is not changed: the variants are written here.

1. The warnings' SELECT of a sweep with nothing new, for each ticket deadline: EXPLAIN
   (ANALYZE, BUFFERS) as the sweep wrote it before (each grade's window OR-ed, then
   ``due > now`` AND-ed to them all) and as it does now (the bound folded into each window,
   ``due > max(since + lead, now)``, and the latest ``now + lead`` over them all).
2. A sweep with nothing new, ``--sweeps`` times each, in alternating rounds: as it was (a
   transaction per (milestone, level): its position locked, its ``INSERT … SELECT``, the
   position saved: 86 queries, the positions made where missing left out); in one
   transaction with a statement per pair (every position locked by one ``SELECT … FOR
   UPDATE``, moved by one ``UPDATE``: 32 queries);
   the product's ``alerts_sweep`` (one ``INSERT … SELECT`` of every pair: 5 queries); the
   same with its compiled SQL thrown away before each sweep.
"""

import argparse
import os
import re
import statistics
import sys
import time
from datetime import timedelta

from tests.bench.alerts import DEFAULT_DATABASE_URL


def earlier_due_rows(*, watch, level, windows, policies, since, now):
    """The rows whose ``level`` fell due in (since, now], as the sweep read them before: a
    queryset per pair, built and compiled at every sweep."""
    from django.db.models import Exists, OuterRef, Q

    from tickets.choices import AlertLevel
    from tickets.models import Alert

    due = watch.due_field
    if level == AlertLevel.WARNING:
        moments = Q(pk__in=[])
        for rows, length, policy in windows:
            lead = length * (100 - policy.warning_percent) / 100
            moments |= rows & Q(**{f"{due}__gt": since + lead, f"{due}__lte": now + lead})
        moments &= Q(**{f"{due}__gt": now})
    elif level == AlertLevel.ESCALATED:
        moments = Q(pk__in=[])
        for grade, policy in policies.items():
            after = timedelta(minutes=policy.escalate_after_minutes)
            moments |= Q(**{watch.grade_field: grade}) & Q(
                **{f"{due}__gt": since - after, f"{due}__lte": now - after}
            )
    else:
        moments = Q(**{f"{due}__gt": since, f"{due}__lte": now})
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


def _insert(select: str, params: list, *, now) -> list[int]:
    from django.db import connection

    sql = (
        'INSERT INTO "tickets_alert" (ticket_id, due_at, milestone, level, raised_at, '
        "delay_cause, delay_responsible, delay_note) "
        f"SELECT due.*, %s, '', '', '' FROM ({select}) AS due WHERE 1 = 1 "
        "ON CONFLICT DO NOTHING RETURNING id"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [now, *params])
        return [row[0] for row in cursor.fetchall()]


def sweep_per_pair(*, now, batch: int = 1000) -> int:
    """The sweep as it was: a transaction per (milestone, level)."""
    from django.conf import settings
    from django.db import transaction

    from tickets.models import AlertCursor, SlaPolicy
    from tickets.watches import watches

    policies = {policy.grade: policy for policy in SlaPolicy.objects.all()}
    overlap = timedelta(minutes=settings.ALERT_SWEEP_OVERLAP_MINUTES)
    raised = 0
    for watch in watches():
        windows = watch.windows(policies)
        for level in watch.levels:
            while True:
                with transaction.atomic():
                    cursor = AlertCursor.objects.select_for_update().get(
                        milestone=watch.milestone, level=level
                    )
                    rows = earlier_due_rows(
                        watch=watch,
                        level=level,
                        windows=windows,
                        policies=policies,
                        since=cursor.scanned_through - overlap,
                        now=now,
                    )
                    select, params = rows[:batch].query.sql_with_params()
                    # The milestone and the level as the INSERT's first columns after due.*.
                    ids = _insert(
                        f"SELECT pair.*, %s, %s FROM ({select}) AS pair",
                        [watch.milestone.value, level.value, *params],
                        now=now,
                    )
                    raised += len(ids)
                    if len(ids) < batch:
                        if cursor.scanned_through < now:
                            cursor.scanned_through = now
                            cursor.save(update_fields=["scanned_through"])
                        break
    return raised


def sweep_statement_per_pair(*, now, batch: int = 1000) -> int:
    """One transaction, every position locked and moved at once, but a statement per pair
    (the product's compiled SELECTs, run one by one)."""
    from django.conf import settings
    from django.db import transaction

    from tickets.models import AlertCursor, SlaPolicy
    from tickets.services import alerts as service
    from tickets.watches import watches

    policies = {policy.grade: policy for policy in SlaPolicy.objects.all()}
    overlap = timedelta(minutes=settings.ALERT_SWEEP_OVERLAP_MINUTES)
    raised = 0
    with transaction.atomic():
        positions = service._positions_read()
        for watch in watches():
            windows = watch.windows(policies)
            for level in watch.levels:
                moments = service._moments(
                    watch=watch, level=level, windows=windows, policies=policies
                )
                pair = service._pair(watch=watch, level=level, moments=moments, batch=batch)
                since = positions[pair.key].scanned_through - overlap
                raised += len(_insert(pair.sql, pair.bind(since=since, now=now), now=now))
        AlertCursor.objects.filter(scanned_through__lt=now).update(scanned_through=now)
    return raised


def _plan_summary(sql: str, params: list) -> str:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS) {sql}", params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    conditions = re.findall(r"Index Cond: \((.*)\)", plan)
    bounds = [
        re.sub(r"'[\d-]+ ([\d:]+)\+00'::timestamp with time zone", r"\1", condition)
        for condition in conditions
        if "_due" in condition
    ]
    read = sum(
        int(rows) * int(loops)
        for rows, loops in re.findall(
            r"Index Scan[^\n]*ticket_\w+_overdue_idx[^\n]*rows=(\d+) loops=(\d+)", plan
        )
    )
    timing = ", ".join(re.findall(r"((?:Planning|Execution) Time: [\d.]+ ms)", plan))
    return f"{timing}; {read:,} entries read; ranges: {' / '.join(bounds)[:220]}"


def warning_plans(now) -> None:
    from django.conf import settings

    from tickets.choices import AlertLevel, Milestone
    from tickets.models import SlaPolicy
    from tickets.services import alerts as service
    from tickets.watches import watches

    policies = {policy.grade: policy for policy in SlaPolicy.objects.all()}
    at = now + timedelta(seconds=1)
    since = now - timedelta(minutes=settings.ALERT_SWEEP_OVERLAP_MINUTES)
    print("\n== The warnings' SELECT of a sweep with nothing new")
    for watch in watches():
        if watch.milestone not in Milestone.values:
            continue
        windows = watch.windows(policies)
        earlier = earlier_due_rows(
            watch=watch,
            level=AlertLevel.WARNING,
            windows=windows,
            policies=policies,
            since=since,
            now=at,
        )[:1000]
        sql, params = earlier.query.sql_with_params()
        moments = service._moments(
            watch=watch, level=AlertLevel.WARNING, windows=windows, policies=policies
        )
        pair = service._pair(watch=watch, level=AlertLevel.WARNING, moments=moments, batch=1000)
        print(f"{watch.milestone.value}")
        print(f"  before   {_plan_summary(sql, list(params))}")
        print(f"  product  {_plan_summary(pair.sql, pair.bind(since=since, now=at))}")


def sweeps(now, repeat: int, rounds: int) -> None:
    from tests.bench.alerts_dataset import cursors_set
    from tickets.services import alerts as service
    from tickets.services import alerts_sweep

    def compiled_each_time(*, now):
        service._pair.cache_clear()
        return alerts_sweep(now=now)

    variants = {
        "as it was: a transaction per pair": sweep_per_pair,
        "one transaction, a statement per pair": sweep_statement_per_pair,
        "the product: one statement": lambda *, now: alerts_sweep(now=now),
        "the product, SQL compiled each sweep": compiled_each_time,
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
        ordered = sorted(measured)
        p95 = ordered[max(0, -(-len(ordered) * 95 // 100) - 1)]
        print(
            f"{label:<40} p50 {statistics.median(measured):6.1f}  p95 {p95:6.1f}  "
            f"max {max(measured):6.1f}  ({len(measured)} sweeps)"
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

    recorded = _recorded()
    if recorded is None:
        raise SystemExit("no alerts database: run `scripts/bench.sh --suite alerts` first")
    budget = (args.sweeps + 3) * 4 * args.rounds
    if budget >= recorded["quiet_minutes"] * 60:
        raise SystemExit(f"{budget} s of sweeps do not fit in the quiet minutes: fewer --sweeps")
    warning_plans(recorded["now"])
    sweeps(recorded["now"], args.sweeps, args.rounds)
    return 0


if __name__ == "__main__":
    sys.exit(main())
