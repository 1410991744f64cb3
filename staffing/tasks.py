from celery import shared_task
from django.utils import timezone

from staffing import forecast, planning


@shared_task
def forecast_store() -> int:
    return forecast.forecast_store(now=timezone.now())


@shared_task
def accuracy_catch_up() -> int:
    return planning.accuracy_catch_up(now=timezone.now())
