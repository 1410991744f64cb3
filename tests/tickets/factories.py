import factory

from tickets.choices import Category, Grade
from tickets.models import FaultType, Skill


class SkillFactory(factory.django.DjangoModelFactory):
    code = factory.Sequence(lambda n: f"skill-{n}")
    name = factory.Sequence(lambda n: f"技能{n}")

    class Meta:
        model = Skill
        django_get_or_create = ["code"]


class FaultTypeFactory(factory.django.DjangoModelFactory):
    code = factory.Sequence(lambda n: f"fault-{n}")
    name = factory.Sequence(lambda n: f"故障{n}")
    category = Category.REPAIR
    default_grade = Grade.GENERAL
    skill = factory.SubFactory(SkillFactory, code="pipe", name="管道维修")

    class Meta:
        model = FaultType
        django_get_or_create = ["code"]


def ticket_api_body(centre, **changes) -> dict:
    """Return a valid body for ``POST /api/v1/tickets/`` in ``centre``, with ``changes``."""
    return {
        "channel": "hotline",
        "category": "repair",
        "fault_type": centre.leak.code,
        "description": "卫生间墙内渗水",
        "caller_name": "王女士",
        "caller_phone": "13812345678",
        "address": "锦华苑",
        "building": "5",
        "unit": "1",
        "room": "302",
        "community": centre.community.pk,
        **changes,
    }
