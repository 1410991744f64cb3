"""The overdue sweep, and what people do with the alerts it raises.

Each (milestone, level) keeps a watermark: the time it has looked through. A sweep reads only
the deadlines whose moment (the warning time, the deadline, the escalation time) fell since
then, from the deadline's partial index, a batch at a time; so its cost follows the alerts it
raises, not the number of tickets, and it makes the same few queries however many deadlines
it watches.

A sweep is one transaction, or a few when a (milestone, level) has more than a batch due: it
locks every watermark, raises with one ``INSERT … SELECT`` the next batch of every
(milestone, level) that is not raised yet, and moves on the watermarks of those that are
done. Two sweeps at once (two workers, two beat processes) take turns on the locks, a sweep
that dies leaves its watermarks where they were for the next one, and the unique key holds
if anything slips by.
"""

from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache

from django.conf import settings
from django.db import connection, transaction
from django.db.models import DateTimeField, Exists, Expression, OuterRef, Q, QuerySet
from django.utils.translation import gettext as _

from tickets.choices import TICKET_ALERT_MILESTONES, AlertLevel, ExtensionCause
from tickets.errors import ApplicationError, invalid
from tickets.hooks import alerts_raised
from tickets.models import Alert, AlertCursor, SlaPolicy, Ticket
from tickets.services._base import require_perm
from tickets.watches import Watch, Window, watches

SWEEP_BATCH = 1000

# (milestone, level), as an alert and a watermark name them.
PairKey = tuple[str, str]


def alerts_sweep(*, now: datetime, batch: int = SWEEP_BATCH) -> int:
    """Raise every alert whose moment has come by ``now`` and is not raised yet; return how
    many were raised."""
    policies = {policy.grade: policy for policy in SlaPolicy.objects.all()}
    pairs = []
    for watch in watches():
        windows = watch.windows(policies)
        for level in watch.levels:
            moments = _moments(watch=watch, level=level, windows=windows, policies=policies)
            pairs.append(_pair(watch=watch, level=level, moments=moments, batch=batch))
    raised = 0
    # A (milestone, level) that filled its batch goes round again, from the same watermark.
    while pairs:
        with transaction.atomic():
            positions = _positions_lock(pairs=pairs, now=now)
            alerts = _alerts_insert(pairs=pairs, positions=positions, now=now)
            if alerts:
                alerts_raised.send(sender=Alert, alert_ids=[pk for pk, _ in alerts])
            counts = Counter(key for _, key in alerts)
            pending = [pair for pair in pairs if counts[pair.key] >= batch]
            done = [positions[pair.key].pk for pair in pairs if counts[pair.key] < batch]
            AlertCursor.objects.filter(pk__in=done, scanned_through__lt=now).update(
                scanned_through=now
            )
        raised += len(alerts)
        pairs = pending
    return raised


class _Moment(Expression):
    """A bound of a window, filled in at each sweep: the later of the watermark (less the
    overlap) and the sweep's time, each moved by its offset; one of them may be left out."""

    output_field = DateTimeField()

    def __init__(self, *, since: timedelta | None = None, now: timedelta | None = None):
        super().__init__()
        self.since = since
        self.now = now

    def as_sql(self, compiler, connection):
        # A parameter: the SQL around it is compiled once, the value set at each sweep.
        return "%s", [self]

    def at(self, *, since: datetime, now: datetime) -> datetime:
        return max(
            base + offset
            for base, offset in ((since, self.since), (now, self.now))
            if offset is not None
        )


def _moments(
    *, watch: Watch, level: AlertLevel, windows: list[Window], policies: dict[str, SlaPolicy]
) -> Q:
    """Return the filter of the watched rows whose ``level`` fell due in (since, now]."""
    due = watch.due_field
    if level == AlertLevel.WARNING:
        # Warned once the share of the window is gone: ``lead`` before the deadline, while the
        # deadline is still ahead (a breach says the rest). That bound is part of each
        # window's lower one, so that each window is one closed range of the index.
        leads = [
            (rows, length * (100 - policy.warning_percent) / 100)
            for rows, length, policy in windows
        ]
        moments = Q(pk__in=[])
        for rows, lead in leads:
            moments |= rows & Q(
                **{
                    f"{due}__gt": _Moment(since=lead, now=timedelta(0)),
                    f"{due}__lte": _Moment(now=lead),
                }
            )
        if not leads:
            return moments
        # Where every window's lower bound is the deadline ahead (the watermark further back
        # than every lead), PostgreSQL takes that one bound out of them for the index range;
        # the latest upper bound over them keeps the range closed.
        longest = max(lead for _, lead in leads)
        return moments & Q(**{f"{due}__lte": _Moment(now=longest)})
    if level == AlertLevel.ESCALATED:
        moments = Q(pk__in=[])
        for grade, policy in policies.items():
            after = timedelta(minutes=policy.escalate_after_minutes)
            moments |= Q(**{watch.grade_field: grade}) & Q(
                **{f"{due}__gt": _Moment(since=-after), f"{due}__lte": _Moment(now=-after)}
            )
        return moments
    # The breach, and the overdue alarm that comes with the close deadline's.
    return Q(
        **{f"{due}__gt": _Moment(since=timedelta(0)), f"{due}__lte": _Moment(now=timedelta(0))}
    )


@dataclass(frozen=True)
class _Pair:
    """One (milestone, level)'s SELECT of its next batch: the rows due and not raised, each
    with the alert's milestone and level."""

    key: PairKey
    sql: str
    # The values, and the window's moments to fill in.
    params: tuple

    def bind(self, *, since: datetime, now: datetime) -> list:
        return [
            connection.ops.adapt_datetimefield_value(param.at(since=since, now=now))
            if isinstance(param, _Moment)
            else param
            for param in self.params
        ]


# Compiled once per process for each (milestone, level) and its windows; a sweep fills in the
# moments. A policy or a department edited makes other windows, and so another entry.
@lru_cache(maxsize=256)
def _pair(*, watch: Watch, level: AlertLevel, moments: Q, batch: int) -> _Pair:
    due = watch.due_field
    raised = Alert.objects.filter(
        ticket_id=OuterRef(watch.ticket_field),
        milestone=watch.milestone,
        level=level,
        due_at=OuterRef(due),
    )
    rows = (
        watch.model.objects.filter(watch.pending, moments)
        .filter(~Exists(raised))
        .order_by(due)
        .values_list(watch.ticket_field, due)[:batch]
    )
    # A watch without a window today (no grade has the deadline) compiles to no rows.
    select, params = rows.query.get_compiler(connection=connection, elide_empty=False).as_sql()
    key = (watch.milestone.value, level.value)
    return _Pair(
        key=key,
        sql=f"SELECT pair.*, %s AS milestone, %s AS level FROM ({select}) AS pair",  # noqa: S608
        params=(*key, *params),
    )


def _positions_lock(*, pairs: list[_Pair], now: datetime) -> dict[PairKey, AlertCursor]:
    """Lock every watermark, making those that are missing; return them by pair."""
    positions = _positions_read()
    missing = [pair.key for pair in pairs if pair.key not in positions]
    if missing:
        # A first sweep looks back a day: what went overdue before it started is raised too.
        start = now - timedelta(hours=settings.ALERT_SWEEP_FIRST_LOOKBACK_HOURS)
        AlertCursor.objects.bulk_create(
            [
                AlertCursor(milestone=milestone, level=level, scanned_through=start)
                for milestone, level in missing
            ],
            ignore_conflicts=True,
        )
        positions = _positions_read()
    return positions


def _positions_read() -> dict[PairKey, AlertCursor]:
    # All at once, in primary-key order: a second sweep waits here until the first commits,
    # and its INSERT, a statement later, then sees what the first raised.
    return {
        (position.milestone, position.level): position
        for position in AlertCursor.objects.select_for_update().order_by("pk")
    }


def _alerts_insert(
    *, pairs: list[_Pair], positions: dict[PairKey, AlertCursor], now: datetime
) -> list[tuple[int, PairKey]]:
    """Insert an alert for each row of every pair's next batch; return the new alerts' ids,
    each with its pair."""
    overlap = timedelta(minutes=settings.ALERT_SWEEP_OVERLAP_MINUTES)
    params = [connection.ops.adapt_datetimefield_value(now)]
    for pair in pairs:
        # Rows written late (a receipt time in the past, a slow transaction) are caught by
        # looking back a little further than the watermark.
        params += pair.bind(since=positions[pair.key].scanned_through - overlap, now=now)
    table = connection.ops.quote_name(Alert._meta.db_table)
    # The trailing WHERE lets SQLite read ON CONFLICT as the upsert clause. Only the
    # table's name and Django's compiled queries go into the text; every value is a parameter.
    sql = (
        f"INSERT INTO {table} (ticket_id, due_at, milestone, level, raised_at, "  # noqa: S608
        "delay_cause, delay_responsible, delay_note) "
        f"SELECT due.*, %s, '', '', '' FROM ({' UNION ALL '.join(p.sql for p in pairs)}) AS due "
        "WHERE 1 = 1 ON CONFLICT DO NOTHING RETURNING id, milestone, level"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return [(pk, (milestone, level)) for pk, milestone, level in cursor.fetchall()]


def alert_acknowledge(*, alert: Alert, actor, at: datetime) -> Alert:
    """Record that ``actor`` has seen the alert; an acknowledged alert stays acknowledged."""
    with transaction.atomic():
        alert = Alert.objects.select_for_update().get(pk=alert.pk)
        if alert.acknowledged_at is None:
            alert.acknowledged_at = at
            alert.acknowledged_by = actor
            alert.save(update_fields=["acknowledged_at", "acknowledged_by"])
    return alert


def alerts_acknowledge(*, alerts: QuerySet[Alert], actor, at: datetime) -> int:
    """Acknowledge every alert of ``alerts`` not acknowledged yet; return how many."""
    return alerts.filter(acknowledged_at__isnull=True).update(
        acknowledged_at=at, acknowledged_by=actor
    )


def alert_delay_record(
    *, alert: Alert, actor, at: datetime, cause: str, responsible: str = "", note: str = ""
) -> Alert:
    """Record why a ticket missed a deadline; a human cause names who is responsible.

    The responsible party is written on the ticket too, where the supervisor reads it.
    """
    require_perm(actor, "tickets.record_delay_cause")
    responsible = responsible.strip()
    if alert.level != AlertLevel.BREACH or alert.milestone not in TICKET_ALERT_MILESTONES:
        raise ApplicationError(
            _("The cause of a delay is recorded on a missed ticket deadline."), code="conflict"
        )
    if cause not in ExtensionCause.values:
        raise invalid({"cause": _("Choose an objective or a human cause.")})
    if cause == ExtensionCause.HUMAN and not responsible:
        raise invalid({"responsible": _("Name who is responsible for a human cause.")})
    with transaction.atomic():
        alert = Alert.objects.select_for_update().get(pk=alert.pk)
        alert.delay_cause = cause
        alert.delay_responsible = responsible if cause == ExtensionCause.HUMAN else ""
        alert.delay_note = note.strip()
        alert.delay_recorded_at = at
        alert.delay_recorded_by = actor
        alert.save(
            update_fields=[
                "delay_cause",
                "delay_responsible",
                "delay_note",
                "delay_recorded_at",
                "delay_recorded_by",
            ]
        )
        if cause == ExtensionCause.HUMAN:
            Ticket.objects.filter(pk=alert.ticket_id).update(
                delay_responsible=alert.delay_responsible, updated_at=at
            )
    return alert
