import importlib

import pytest
from django.apps import apps
from django.utils import timezone

from followups.models import Callback, CallbackRule
from followups.services import callbacks_schedule
from tests.tickets.factories import FaultTypeFactory
from tickets.choices import Category


@pytest.fixture
def rules(db) -> dict[str, CallbackRule]:
    """The seeded callback rules, by code (transactional tests flush the table)."""
    importlib.import_module("followups.migrations.0003_seed_callback_rules").seed(apps, None)
    return {rule.code: rule for rule in CallbackRule.objects.all()}


@pytest.fixture
def complaint_type(db):
    return FaultTypeFactory(
        code="service-complaint", name="服务态度投诉", category=Category.COMPLAINT, skill=None
    )


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
