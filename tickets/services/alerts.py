"""The overdue sweep, and what people do with the alerts it raises.

Each (milestone, level) keeps a watermark: the time it has looked through. A sweep reads only
the deadlines whose moment (the warning time, the deadline, the escalation time) fell since
then, from the deadline's partial index, a batch at a time; so its cost follows the alerts it
raises, not the number of tickets. Each batch is one ``INSERT … SELECT`` that skips what is
raised already, in the transaction that takes the watermark's row lock: two sweeps at once
(two workers, two beat processes) take turns, and the unique key holds if anything slips by.
"""

from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils.translation import gettext as _

from tickets.choices import TICKET_ALERT_MILESTONES, AlertLevel, ExtensionCause
from tickets.errors import ApplicationError, invalid
from tickets.hooks import alerts_raised
from tickets.models import Alert, AlertCursor, SlaPolicy, Ticket
from tickets.services._base import require_perm
from tickets.watches import Watch, Window, watches

SWEEP_BATCH = 1000


def alerts_sweep(*, now: datetime, batch: int = SWEEP_BATCH) -> int:
    """Raise every alert whose moment has come by ``now`` and is not raised yet; return how
    many were raised."""
    policies = {policy.grade: policy for policy in SlaPolicy.objects.all()}
    _cursors_ensure(now=now)
    raised = 0
    for watch in watches():
        windows = watch.windows(policies)
        for level in watch.levels:
            raised += _sweep(
                watch=watch, level=level, windows=windows, policies=policies, now=now, batch=batch
            )
    return raised


def _cursors_ensure(*, now: datetime) -> None:
    # A first sweep looks back a day: what went overdue before it started is raised too.
    start = now - timedelta(hours=settings.ALERT_SWEEP_FIRST_LOOKBACK_HOURS)
    AlertCursor.objects.bulk_create(
        [
            AlertCursor(milestone=watch.milestone, level=level, scanned_through=start)
            for watch in watches()
            for level in watch.levels
        ],
        ignore_conflicts=True,
    )


def _sweep(
    *,
    watch: Watch,
    level: AlertLevel,
    windows: list[Window],
    policies: dict[str, SlaPolicy],
    now: datetime,
    batch: int,
) -> int:
    raised = 0
    while True:
        with transaction.atomic():
            cursor = AlertCursor.objects.select_for_update().get(
                milestone=watch.milestone, level=level
            )
            # Rows written late (a receipt time in the past, a slow transaction) are caught
            # by looking back a little further than the watermark.
            since = cursor.scanned_through - timedelta(minutes=settings.ALERT_SWEEP_OVERLAP_MINUTES)
            due = _due_rows(
                watch=watch, level=level, windows=windows, policies=policies, since=since, now=now
            )
            alert_ids = _alerts_insert(rows=due, watch=watch, level=level, now=now, batch=batch)
            if alert_ids:
                alerts_raised.send(sender=Alert, alert_ids=alert_ids)
            raised += len(alert_ids)
            if len(alert_ids) < batch:
                if cursor.scanned_through < now:
                    cursor.scanned_through = now
                    cursor.save(update_fields=["scanned_through"])
                return raised


def _due_rows(
    *,
    watch: Watch,
    level: AlertLevel,
    windows: list[Window],
    policies: dict[str, SlaPolicy],
    since: datetime,
    now: datetime,
) -> QuerySet:
    """Return the watched rows whose ``level`` fell due in (since, now], without an alert."""
    due = watch.due_field
    if level == AlertLevel.WARNING:
        # Warned once the share of the window is gone: ``lead`` before the deadline. The
        # deadline itself must still be ahead; a breach says the rest.
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
    else:  # the breach, and the overdue alarm that comes with the close deadline's
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


def _alerts_insert(
    *, rows: QuerySet, watch: Watch, level: AlertLevel, now: datetime, batch: int
) -> list[int]:
    """Insert an alert for each of the first ``batch`` rows; return the new alerts' ids."""
    select, params = rows[:batch].query.sql_with_params()
    table = connection.ops.quote_name(Alert._meta.db_table)
    # The trailing WHERE lets SQLite read ON CONFLICT as the upsert clause. Only the
    # table's name and Django's compiled query go into the text; every value is a parameter.
    sql = (
        f"INSERT INTO {table} (ticket_id, due_at, milestone, level, raised_at, "  # noqa: S608
        "delay_cause, delay_responsible, delay_note) "
        f"SELECT due.*, %s, %s, %s, '', '', '' FROM ({select}) AS due WHERE 1 = 1 "
        "ON CONFLICT DO NOTHING RETURNING id"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [watch.milestone.value, level.value, now, *params])
        return [row[0] for row in cursor.fetchall()]


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
