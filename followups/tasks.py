from celery import shared_task
from django.utils import timezone

from followups import services


@shared_task
def callbacks_schedule() -> int:
    return services.callbacks_schedule(now=timezone.now())


@shared_task
def account_callbacks_schedule() -> int:
    return services.account_callbacks_schedule(now=timezone.now())
