from datetime import timedelta

from celery import shared_task
from django.utils import timezone

from tickets.receipts import receipts_clear

# A retried submission arrives within minutes; a week is far more than enough.
RECEIPTS_KEPT = timedelta(days=7)


@shared_task
def action_receipts_clear() -> int:
    return receipts_clear(before=timezone.now() - RECEIPTS_KEPT)
