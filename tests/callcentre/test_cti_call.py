import pytest
from django.core.management import CommandError, call_command

from callcentre.models import Call


@pytest.mark.django_db(transaction=True)
def test_the_cti_call_command_plays_the_switch_against_a_live_system(live_server, centre, settings):
    settings.CTI_SHARED_SECRET = "secret-for-the-command"
    centre.agent.extension = "8001"
    centre.agent.save()
    call_command("cti_call", number="13812345678", extension="8001", url=live_server.url, end=True)
    call = Call.objects.get()
    assert (call.agent, call.caller_number) == (centre.agent, "13812345678")
    assert call.answered_at is not None
    assert call.ended_at is not None


def test_without_a_secret_the_command_says_what_to_set(settings):
    settings.CTI_SHARED_SECRET = ""
    with pytest.raises(CommandError, match="CTI_SHARED_SECRET"):
        call_command("cti_call", number="1", extension="1")
