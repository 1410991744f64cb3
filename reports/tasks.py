from celery import shared_task
from django.utils import timezone

from reports import services


@shared_task
def reports_produce() -> int:
    return services.reports_produce(now=timezone.now())
