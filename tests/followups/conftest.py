import pytest
from django.utils import timezone

from followups.models import Callback
from followups.services import callbacks_schedule


@pytest.fixture
def scheduled(rules, make_ticket, clock):
    """Return a closed hotline repair's callback, scheduled by the batch and callable now."""

    def make(**ticket_fields) -> Callback:
        ticket = make_ticket("closed", **ticket_fields)
        clock.shift(60)
        callbacks_schedule(now=timezone.now())
        callback = Callback.objects.get(ticket=ticket, follows__isnull=True)
        Callback.objects.filter(pk=callback.pk).update(callable_at=timezone.now())
        callback.refresh_from_db()
        return callback

    return make
