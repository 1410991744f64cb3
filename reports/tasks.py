from celery import shared_task
from django.utils import timezone

from reports import services


@shared_task
def reports_produce() -> int:
    return services.reports_produce(now=timezone.now())


# Larger than the default limit: a month of tickets takes minutes to write.
@shared_task(time_limit=30 * 60, soft_time_limit=29 * 60)
def export_run(export_id: int) -> bool:
    return services.export_run(export_id=export_id, now=timezone.now()) is not None


@shared_task
def exports_resume() -> int:
    return services.exports_resume(now=timezone.now())
