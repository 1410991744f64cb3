from datetime import timedelta

from celery import shared_task
from django.utils import timezone

from dispatch import services
from dispatch.models import OutboundMessage

# Messages older than this still pending are tried again by the sweep.
RETRY_AFTER = timedelta(minutes=1)
RETRY_BATCH = 500


@shared_task
def message_send(message_id: int) -> None:
    services.message_send(message_id=message_id)


@shared_task
def messages_send(message_ids: list[int]) -> None:
    for message_id in message_ids:
        services.message_send(message_id=message_id)


@shared_task
def messages_retry() -> int:
    """Send again what is still pending (the broker was down, the gateway refused)."""
    pending = OutboundMessage.objects.filter(
        status=OutboundMessage.Status.PENDING, created_at__lt=timezone.now() - RETRY_AFTER
    ).values_list("pk", flat=True)[:RETRY_BATCH]
    for message_id in pending:
        services.message_send(message_id=message_id)
    return len(pending)


@shared_task
def assignments_expire() -> int:
    return services.assignments_expire(now=timezone.now())
