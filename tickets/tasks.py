from datetime import timedelta

from celery import shared_task
from django.utils import timezone

from tickets.receipts import receipts_clear
from tickets.services import alerts_sweep as sweep

# A retried submission arrives within minutes; a week is far more than enough.
RECEIPTS_KEPT = timedelta(days=7)


@shared_task
def action_receipts_clear() -> int:
    return receipts_clear(before=timezone.now() - RECEIPTS_KEPT)


@shared_task
def alerts_sweep() -> int:
    return sweep(now=timezone.now())
