import factory

from staffing.models import User
from staffing.roles import Role
from staffing.services import user_create


class UserFactory(factory.django.DjangoModelFactory):
    username = factory.Sequence(lambda n: f"user{n}")
    first_name = "测试"
    last_name = "用户"

    class Meta:
        model = User


def user_with_role(role: Role, username: str | None = None) -> User:
    """Create a user in ``role`` through the service the product uses."""
    username = username or f"{role.value}-{User.objects.count() + 1}"
    return user_create(username=username, password="pw-for-tests-1", role=role)
