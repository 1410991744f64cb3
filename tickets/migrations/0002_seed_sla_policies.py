"""Seed the SLA policy table with the numbers of the fault grading standard."""

from django.db import migrations

# Minutes after receipt. The crew's clocks follow one another: it confirms within 15 minutes
# of the dispatch deadline and is on site 30 minutes (emergency) or 2 hours (general) after
# that. An emergency is closed within 4 hours, a general repair within 24, or the overdue
# alarm goes off.
STANDARD_POLICIES = {
    "emergency": {
        "dispatch_minutes": 10,
        "accept_minutes": 25,
        "arrive_minutes": 55,
        "mitigate_minutes": 120,
        "resolve_minutes": None,
        "close_minutes": 240,
    },
    "general": {
        "dispatch_minutes": 30,
        "accept_minutes": 45,
        "arrive_minutes": 165,
        "mitigate_minutes": None,
        "resolve_minutes": 1440,
        "close_minutes": 1440,
    },
    "consult": {
        "dispatch_minutes": 60,
        "accept_minutes": None,
        "arrive_minutes": None,
        "mitigate_minutes": None,
        "resolve_minutes": None,
        "close_minutes": None,
    },
}


def seed(apps, schema_editor):
    SlaPolicy = apps.get_model("tickets", "SlaPolicy")
    for grade, minutes in STANDARD_POLICIES.items():
        SlaPolicy.objects.get_or_create(grade=grade, defaults=minutes)


class Migration(migrations.Migration):
    dependencies = [("tickets", "0001_initial")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
