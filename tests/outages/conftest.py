import pytest

from outages.tasks import outage_notify


@pytest.fixture
def told(monkeypatch):
    """The fan-out task run at once, and the sends it queues kept here: their batches."""
    sends = []
    monkeypatch.setattr("outages.tasks.outage_notify.delay", outage_notify)
    monkeypatch.setattr("dispatch.tasks.messages_send.delay", sends.append)
    return sends
