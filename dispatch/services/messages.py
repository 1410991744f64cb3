"""The outbox: text messages written with the change that causes them, sent by Celery."""

from django.db import IntegrityError, transaction
from django.utils import timezone

from dispatch.models import OutboundMessage
from dispatch.sms import SmsError, sms_backend

# After this many failed attempts a message is left failed for someone to look at.
MAX_ATTEMPTS = 5
# Messages queued together are sent by one task per this many.
SEND_BATCH = 200


def message_enqueue(*, to: str, text: str, kind: str, dedupe_key: str) -> OutboundMessage | None:
    """Put a message in the outbox; it is sent after the transaction commits.

    Return None when a message with this key is already there: each reason sends once.
    """
    from dispatch.tasks import message_send

    try:
        with transaction.atomic():
            message = OutboundMessage.objects.create(
                to_phone=to, body=text, kind=kind, dedupe_key=dedupe_key
            )
    except IntegrityError:
        return None
    # Robust: with the broker down the change that caused the message still stands, the
    # other callbacks (the board's version) still run, and messages_retry sends it later.
    transaction.on_commit(lambda: message_send.delay(message.pk), robust=True)
    return message


def messages_enqueue(messages: list[OutboundMessage]) -> int:
    """Put many messages in the outbox at once, skipping keys already there; return how many
    are new. They are sent after the transaction commits, a batch per task."""
    from dispatch.tasks import messages_send

    if not messages:
        return 0
    keys = [message.dedupe_key for message in messages]
    known = set(
        OutboundMessage.objects.filter(dedupe_key__in=keys).values_list("dedupe_key", flat=True)
    )
    OutboundMessage.objects.bulk_create(messages, ignore_conflicts=True)
    new = list(
        OutboundMessage.objects.filter(dedupe_key__in=set(keys) - known).values_list(
            "pk", flat=True
        )
    )
    for start in range(0, len(new), SEND_BATCH):
        batch = new[start : start + SEND_BATCH]
        transaction.on_commit(lambda batch=batch: messages_send.delay(batch), robust=True)
    return len(new)


@transaction.atomic
def message_send(*, message_id: int) -> OutboundMessage | None:
    """Send one pending message through the gateway; a failure is counted for a retry."""
    message = (
        OutboundMessage.objects.select_for_update(skip_locked=True)
        .filter(pk=message_id, status=OutboundMessage.Status.PENDING)
        .first()
    )
    if message is None:
        return None  # sent already, or another worker has it now
    message.attempts += 1
    try:
        sms_backend().send(to=message.to_phone, text=message.body)
    except SmsError as error:
        message.last_error = str(error)
        if message.attempts >= MAX_ATTEMPTS:
            message.status = OutboundMessage.Status.FAILED
    else:
        message.status = OutboundMessage.Status.SENT
        message.sent_at = timezone.now()
    message.save(update_fields=["attempts", "last_error", "status", "sent_at"])
    return message
