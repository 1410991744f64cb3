"""The special-event ledger (《特殊事件处理台账》)."""

from datetime import timedelta

import pytest

from callcentre.models import SpecialEvent
from tests.conftest import T0


def _line(**changes):
    data = {
        "kind": "angry_caller",
        "occurred_at": (T0 - timedelta(minutes=10)).strftime("%Y-%m-%dT%H:%M"),
        "caller_phone": "13812345678",
        "ticket": "",
        "description": "来电人情绪激动，第三次反映停水",
        "outcome": "班长接听安抚，承诺两小时内回电",
    }
    data.update(changes)
    return data


@pytest.mark.django_db
def test_a_shift_leader_writes_a_line_and_reads_it_back(client, centre, make_ticket, clock):
    ticket = make_ticket()
    client.force_login(centre.shift_leader)
    response = client.post("/ledger/", _line(ticket=ticket.number))
    assert response.status_code == 302
    line = SpecialEvent.objects.get()
    assert (line.ticket, line.recorded_by) == (ticket, centre.shift_leader)
    assert "第三次反映停水" in client.get("/ledger/").content.decode()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"ticket": "000000-0000"}, "ticket"),
        ({"description": ""}, "description"),
        ({"occurred_at": "not a time"}, "occurred_at"),
    ],
)
def test_a_bad_line_is_refused_with_the_field_named(changes, field, client, centre, clock):
    client.force_login(centre.shift_leader)
    response = client.post("/ledger/", _line(**changes))
    assert response.status_code == 400
    assert f"id_{field}" in response.content.decode()
    assert not SpecialEvent.objects.exists()


@pytest.mark.django_db
def test_a_line_in_the_future_is_refused(client, centre, clock):
    client.force_login(centre.shift_leader)
    later = (T0 + timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M")
    response = client.post("/ledger/", _line(occurred_at=later))
    assert response.status_code == 400
    assert "id_occurred_at" in response.content.decode()
    assert not SpecialEvent.objects.exists()


@pytest.mark.django_db
def test_agents_and_crews_do_not_see_the_ledger(client, centre):
    for user in (centre.agent, centre.crew_leader):
        client.force_login(user)
        assert client.get("/ledger/").status_code == 403
