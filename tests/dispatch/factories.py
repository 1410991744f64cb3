import factory

from dispatch.models import Community, Crew, CrewMembership, Department, District


class DistrictFactory(factory.django.DjangoModelFactory):
    code = factory.Sequence(lambda n: f"district-{n}")
    name = factory.Sequence(lambda n: f"片区{n}")

    class Meta:
        model = District
        django_get_or_create = ["code"]


class CommunityFactory(factory.django.DjangoModelFactory):
    district = factory.SubFactory(DistrictFactory)
    name = factory.Sequence(lambda n: f"小区{n}")
    latitude = "30.650000"
    longitude = "104.060000"

    class Meta:
        model = Community


class CrewFactory(factory.django.DjangoModelFactory):
    code = factory.Sequence(lambda n: f"crew-{n}")
    name = factory.Sequence(lambda n: f"维修{n}队")

    class Meta:
        model = Crew


class CrewMembershipFactory(factory.django.DjangoModelFactory):
    crew = factory.SubFactory(CrewFactory)
    is_leader = False

    class Meta:
        model = CrewMembership


class DepartmentFactory(factory.django.DjangoModelFactory):
    code = factory.Sequence(lambda n: f"dept-{n}")
    name = factory.Sequence(lambda n: f"部门{n}")

    class Meta:
        model = Department


class OnDutyCrewFactory(CrewFactory):
    """A crew on duty; ``skills=[…]`` and ``districts=[…]`` set what it can do and where."""

    is_on_duty = True

    class Meta:
        skip_postgeneration_save = True

    @factory.post_generation
    def skills(self, create, extracted, **kwargs):
        if create and extracted:
            self.skills.add(*extracted)

    @factory.post_generation
    def districts(self, create, extracted, **kwargs):
        if create and extracted:
            self.districts.add(*extracted)
