"""The outbox: each message once, sent after commit, retried, left failed after five tries."""

from datetime import timedelta

import pytest

from dispatch import services
from dispatch.models import OutboundMessage
from dispatch.sms import SmsError
from dispatch.tasks import messages_retry


class _Gateway:
    def __init__(self, fail: bool = False) -> None:
        self.fail = fail
        self.sent: list[tuple[str, str]] = []

    def send(self, *, to: str, text: str) -> None:
        if self.fail:
            raise SmsError("gateway down")
        self.sent.append((to, text))


@pytest.fixture
def gateway(monkeypatch):
    gateway = _Gateway()
    monkeypatch.setattr("dispatch.services.messages.sms_backend", lambda: gateway)
    return gateway


@pytest.mark.django_db
def test_a_message_is_queued_once_per_reason(gateway):
    first = services.message_enqueue(to="+8613812345678", text="您好", kind="test", dedupe_key="k")
    again = services.message_enqueue(to="+8613812345678", text="您好", kind="test", dedupe_key="k")
    assert first is not None
    assert again is None
    assert OutboundMessage.objects.count() == 1


@pytest.mark.django_db
def test_sending_marks_it_sent_and_a_second_send_does_nothing(gateway):
    message = services.message_enqueue(to="+8613812345678", text="您好", kind="t", dedupe_key="a")
    services.message_send(message_id=message.pk)
    services.message_send(message_id=message.pk)
    message.refresh_from_db()
    assert message.status == OutboundMessage.Status.SENT
    assert gateway.sent == [("+8613812345678", "您好")]


@pytest.mark.django_db
def test_a_refused_message_is_retried_and_left_failed_after_five_tries(gateway, clock):
    gateway.fail = True
    message = services.message_enqueue(to="+8613812345678", text="您好", kind="t", dedupe_key="b")
    services.message_send(message_id=message.pk)
    message.refresh_from_db()
    assert (message.status, message.attempts) == (OutboundMessage.Status.PENDING, 1)
    clock.shift(timedelta(minutes=2))
    for _ in range(4):
        messages_retry()
    message.refresh_from_db()
    assert (message.status, message.attempts) == (OutboundMessage.Status.FAILED, 5)
    assert message.last_error == "gateway down"


@pytest.mark.django_db(transaction=True)
def test_the_send_task_is_queued_only_after_commit(monkeypatch, sla_policies):
    queued = []
    monkeypatch.setattr("dispatch.tasks.message_send.delay", queued.append)
    from django.db import transaction

    with transaction.atomic():
        message = services.message_enqueue(to="+8613812345678", text="x", kind="t", dedupe_key="c")
        assert queued == []
    assert queued == [message.pk]
