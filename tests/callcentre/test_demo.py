import pytest
from django.core.management import CommandError, call_command

from followups.models import Callback, Complaint
from staffing.models import User
from staffing.roles import Role
from tickets.choices import State
from tickets.models import Ticket


@pytest.mark.django_db
def test_demo_data_refuses_outside_demo_mode(settings):
    settings.DEMO_MODE = False
    with pytest.raises(CommandError):
        call_command("demo_data")
    assert not User.objects.exists()


@pytest.mark.django_db
def test_demo_data_gives_every_role_a_user_and_tickets_in_every_state(settings, sla_policies):
    settings.DEMO_MODE = True
    call_command("demo_data", days=1, per_day=20, verbosity=0)
    for role in Role:
        assert User.objects.filter(groups__name=role).exists(), role
    states = set(Ticket.objects.values_list("state", flat=True))
    assert states == set(State.values)
    assert all(ticket.events.exists() for ticket in Ticket.objects.all())
    call_command("demo_data", days=1, per_day=20, verbosity=0)  # a second run adds nothing
    assert Ticket.objects.filter(state=State.MERGED).count() == 1


def test_the_demo_has_callbacks_to_make_some_already_made_and_complaints(settings, sla_policies):
    settings.DEMO_MODE = True

    call_command("demo_data", days=3, per_day=20, verbosity=0)

    states = set(Callback.objects.values_list("state", flat=True))
    assert {Callback.State.PENDING, Callback.State.DONE} <= states
    assert Callback.objects.filter(caller__isnull=False).count() == 3  # the key accounts
    assert Callback.objects.filter(satisfaction="unsatisfied").exists()
    assert Complaint.objects.exists()
