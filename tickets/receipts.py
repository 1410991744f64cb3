"""Receipts of submitted actions: a retried submission (a flaky phone network) acts once."""

import uuid
from datetime import datetime

from django.db import IntegrityError, transaction

from tickets.models import ActionReceipt, Ticket


def receipt_take(*, user, key: uuid.UUID | None, ticket: Ticket, action: str, at: datetime) -> bool:
    """Record the submission ``key``; return False if it was already recorded (a retry).

    Call inside the transaction of the action itself, so that an action that fails leaves no
    receipt and can be tried again with the same key.
    """
    if key is None:
        return True
    try:
        with transaction.atomic():
            ActionReceipt.objects.create(user=user, key=key, ticket=ticket, action=action, at=at)
    except IntegrityError:
        return False
    return True


def receipts_clear(*, before: datetime) -> int:
    """Delete receipts older than ``before``: no phone retries a submission for days."""
    deleted, _ = ActionReceipt.objects.filter(at__lt=before).delete()
    return deleted
