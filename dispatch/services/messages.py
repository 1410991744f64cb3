"""The outbox: text messages written with the change that causes them, sent by Celery."""

from django.db import IntegrityError, transaction
from django.utils import timezone

from dispatch.models import OutboundMessage
from dispatch.sms import SmsError, sms_backend

# After this many failed attempts a message is left failed for someone to look at.
MAX_ATTEMPTS = 5


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
