"""The overdue sweep (tickets) now texts the crew leader of a missed deadline: the old job goes."""

from django.db import migrations


def drop_breaches_job(apps, schema_editor):
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    PeriodicTask.objects.filter(task="dispatch.tasks.breaches_notify").delete()


class Migration(migrations.Migration):
    dependencies = [
        ("dispatch", "0005_department_working_days"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(drop_breaches_job, migrations.RunPython.noop)]
