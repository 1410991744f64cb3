"""Seed the callback rules with the water company's (DOMAIN: "Follow-up callbacks")."""

from django.db import migrations

# code: name, trigger, channel, category, within, counted in, period, questions, remedy.
STANDARD_RULES = {
    "hotline-repair": (
        "热线报修回访（派单次日）", "dispatched", "hotline", "repair", 1, "calendar", None,
        "repair", "reopen",
    ),
    "gov-12345": (
        "12345 转办回访（受理后 3 个工作日内）", "received", "gov_12345", "", 3, "working", None,
        "repair", "complaint",
    ),
    "application": (
        "接水、过户回访（办结后 2 个工作日内）", "closed", "", "application", 2, "working", None,
        "application", "complaint",
    ),
    "complaint": (
        "投诉回访（办结后 1 个工作日内）", "closed", "", "complaint", 1, "working", None,
        "repair", "reopen",
    ),
    "key-accounts": (
        "大客户、特殊客户回访（每半年）", "periodic", "", "", 14, "calendar", 6,
        "account", "complaint",
    ),
}


def seed(apps, schema_editor):
    CallbackRule = apps.get_model("followups", "CallbackRule")
    for order, (code, values) in enumerate(STANDARD_RULES.items()):
        name, trigger, channel, category, days, kind, period, questions, remedy = values
        CallbackRule.objects.get_or_create(
            code=code,
            defaults={
                "name": name,
                "trigger": trigger,
                "channel": channel,
                "category": category,
                "due_days": days,
                "day_kind": kind,
                "period_months": period,
                "questionnaire": questions,
                "on_unsatisfied": remedy,
                "sort_order": order,
            },
        )


class Migration(migrations.Migration):
    dependencies = [("followups", "0002_callbacks")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
