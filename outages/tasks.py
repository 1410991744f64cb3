from datetime import timedelta

from celery import shared_task
from django.utils import timezone

from outages import services
from outages.models import OutageChange

# A change whose customers were not told after this long (the broker was down) is sent again.
NOTIFY_AFTER = timedelta(minutes=1)


@shared_task
def outage_notify(change_id: int) -> int:
    change = OutageChange.objects.select_related("outage").filter(pk=change_id).first()
    return 0 if change is None else services.outage_notify(change=change)


@shared_task
def outage_notify_pending() -> int:
    """Tell the customers of changes no task has told yet; each message still goes once."""
    pending = OutageChange.objects.select_related("outage").filter(
        notified_at__isnull=True, at__lt=timezone.now() - NOTIFY_AFTER
    )[:20]
    return sum(services.outage_notify(change=change) for change in pending)
