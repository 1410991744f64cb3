"""Receipts of submitted actions: a retried submission (a flaky phone network) acts once."""

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime

from django.db import IntegrityError, transaction
from django.utils import timezone

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


@contextmanager
def acting_once(*, user, key: uuid.UUID | None, ticket: Ticket, action: str) -> Iterator[bool]:
    """Open the action's transaction; yield False when this submission already acted.

    ``with acting_once(...) as first: if first: <the service>`` — an action that fails takes
    its receipt with it, so the same key may try again.
    """
    with transaction.atomic():
        yield receipt_take(user=user, key=key, ticket=ticket, action=action, at=timezone.now())


def receipts_clear(*, before: datetime) -> int:
    """Delete receipts older than ``before``: no phone retries a submission for days."""
    deleted, _ = ActionReceipt.objects.filter(at__lt=before).delete()
    return deleted
