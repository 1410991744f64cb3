"""The Celery application: configured from Django's settings (the ``CELERY_`` namespace)."""

import logging
import os
import time

from celery import Celery
from celery import Task as CeleryTask
from kombu.exceptions import OperationalError

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "callcentre.settings")

logger = logging.getLogger(__name__)

# After a task could not be sent, the process sends none for this long: a request that sends
# several (a dispatch texts the crew and the customer) waits one broker timeout, not one each.
PUBLISH_RETRY_AFTER_SECONDS = 5.0


class Task(CeleryTask):
    """A task whose sending gives up at once while the broker was just found unreachable.

    Every task sent from a request has its row in the database, which beat's jobs send again
    (see ``CELERY_BROKER_TRANSPORT_OPTIONS``): a send refused here is sent later, as one that
    timed out would be.
    """

    _retry_at = 0.0  # shared by every task of the process

    def apply_async(self, *args, **kwargs):
        if time.monotonic() < Task._retry_at:
            raise OperationalError("the broker was unreachable moments ago: not sent")
        try:
            return super().apply_async(*args, **kwargs)
        except OperationalError as error:
            # Logged once per back-off: the sends refused meanwhile do not get this far.
            logger.warning(
                "broker unreachable (%s): no task sent for %.0f s",
                error,
                PUBLISH_RETRY_AFTER_SECONDS,
            )
            Task._retry_at = time.monotonic() + PUBLISH_RETRY_AFTER_SECONDS
            raise


app = Celery("callcentre", task_cls=Task)
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
