"""The Celery app: the database beat schedule, a real Redis broker, and its jobs."""

from datetime import timedelta

import pytest
from django.contrib.sessions.backends.db import SessionStore
from django.contrib.sessions.models import Session
from django.utils import timezone
from django_celery_beat.models import PeriodicTask
from django_celery_beat.schedulers import DatabaseScheduler

from callcentre.celery import app
from callcentre.tasks import sessions_clear_expired


def test_the_broker_in_the_tests_is_redis_over_a_real_connection():
    assert app.conf.broker_url.startswith("redis://")
    with app.connection_for_write() as connection:
        connection.ensure_connection(max_retries=1)
        assert connection.connected


# The scheduler closes its database connection as it starts, so no wrapping transaction.
@pytest.mark.django_db(transaction=True)
def test_beat_copies_the_schedule_into_the_database_where_it_can_be_edited():
    DatabaseScheduler(app=app)
    task = PeriodicTask.objects.get(name="sessions-clear-expired")
    assert task.task == "callcentre.tasks.sessions_clear_expired"
    assert task.crontab.hour == "4"


@pytest.mark.django_db
def test_expired_sessions_are_cleared_and_live_ones_kept():
    live = SessionStore()
    live.create()
    expired = SessionStore()
    expired.create()
    Session.objects.filter(session_key=expired.session_key).update(
        expire_date=timezone.now() - timedelta(days=1)
    )
    assert sessions_clear_expired() == 1
    assert list(Session.objects.values_list("session_key", flat=True)) == [live.session_key]
