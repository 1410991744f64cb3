"""The state machine through the API: every legal move, every illegal one, every role."""

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from staffing.roles import Role
from tests.staffing.factories import user_with_role
from tickets.choices import Grade, State
from tickets.models import Ticket, TicketEvent

STATES = [
    State.NEW,
    State.VERIFIED,
    State.DISPATCHED,
    State.ACCEPTED,
    State.ON_SITE,
    State.MITIGATED,
    State.REFERRED,
    State.RESOLVED,
    State.CLOSED,
    State.CANCELLED,
    State.MERGED,
]

# action: {source state: target state}, written out from the design's diagram.
LEGAL = {
    "verify": {State.NEW: State.VERIFIED},
    "dispatch": {State.VERIFIED: State.DISPATCHED},
    "refer": {State.VERIFIED: State.REFERRED},
    "accept": {State.DISPATCHED: State.ACCEPTED},
    "decline": {State.DISPATCHED: State.VERIFIED},
    "arrive": {State.ACCEPTED: State.ON_SITE},
    "mitigate": {State.ON_SITE: State.MITIGATED},
    "resolve": {State.ON_SITE: State.RESOLVED, State.MITIGATED: State.RESOLVED},
    "answer": {State.REFERRED: State.RESOLVED},
    "close": {State.RESOLVED: State.CLOSED},
    "cancel": {
        state: State.CANCELLED
        for state in STATES
        if state not in (State.CLOSED, State.CANCELLED, State.MERGED)
    },
    "reopen": {State.CLOSED: State.VERIFIED},
    "merge": {State.NEW: State.MERGED, State.VERIFIED: State.MERGED},
}


def _body(action, centre, parent_number=None):
    return {
        "dispatch": {"crew": centre.crew.code},
        "refer": {"department": centre.department.code},
        "decline": {"reason": "不在本队片区"},
        "resolve": {"measures": "更换接头", "parts": "接头 1 个", "cost": "35.50"},
        "answer": {"answer": "已电话答复"},
        "cancel": {"reason": "用户已自行修好"},
        "reopen": {"reason": "回访不满意"},
        "merge": {"parent": parent_number},
    }.get(action, {})


@pytest.fixture
def superuser(centre):
    user = user_with_role(Role.ADMIN, "root")
    user.is_superuser = True
    user.save()
    return user


def _ticket_in(state, make_ticket, centre):
    # Emergency tickets can take every crew path; a referral starts from a consult.
    if state == State.REFERRED:
        return make_ticket(state, fault_type=centre.billing)
    return make_ticket(state, fault_type=centre.burst)


@pytest.mark.django_db
@pytest.mark.parametrize("action", list(LEGAL))
@pytest.mark.parametrize("state", STATES)
def test_each_action_from_each_state_moves_the_ticket_or_is_refused_with_409(
    action, state, make_ticket, centre, superuser, api, clock
):
    ticket = _ticket_in(state, make_ticket, centre)
    if action == "refer" and state == State.VERIFIED:
        ticket = make_ticket(State.VERIFIED, fault_type=centre.billing)
    parent = make_ticket(fault_type=centre.burst)
    events_before = ticket.events.count()

    response = api(superuser).post(
        f"/api/v1/tickets/{ticket.number}/{action}/",
        _body(action, centre, parent.number),
        format="json",
    )

    ticket.refresh_from_db()
    if state in LEGAL[action]:
        assert response.status_code == 200, response.json()
        assert ticket.state == LEGAL[action][state]
        assert response.json()["state"] == ticket.state
        event = ticket.events.latest("id")
        assert (event.from_state, event.to_state, event.actor) == (state, ticket.state, superuser)
        assert ticket.events.count() == events_before + 1
    else:
        assert response.status_code == 409, response.json()
        body = response.json()
        assert body["code"] == "conflict"
        assert body["state"] == state
        assert body["message"]
        assert ticket.state == state
        assert ticket.events.count() == events_before


@pytest.mark.django_db
def test_a_general_ticket_cannot_report_water_stopped(make_ticket, centre, api, clock):
    ticket = make_ticket(State.ON_SITE)
    response = api(centre.crew_leader).post(f"/api/v1/tickets/{ticket.number}/mitigate/")
    assert response.status_code == 409
    assert Ticket.objects.get(pk=ticket.pk).state == State.ON_SITE


@pytest.mark.django_db
def test_a_consult_is_referred_not_dispatched(make_ticket, centre, api, clock):
    ticket = make_ticket(State.VERIFIED, fault_type=centre.billing)
    response = api(centre.dispatcher).post(
        f"/api/v1/tickets/{ticket.number}/dispatch/", {"crew": centre.crew.code}, format="json"
    )
    assert response.status_code == 409
    assert ticket.grade == Grade.CONSULT


# Role → the actions its permissions allow (crew roles act only on their crew's tickets).
ALLOWED = {
    "agent": {"merge"},
    "shift_leader": {"verify", "cancel", "reopen", "merge"},
    "dispatcher": {"verify", "dispatch", "refer", "answer", "close", "cancel", "reopen", "merge"},
    "supervisor": {"verify", "dispatch", "refer", "answer", "close", "cancel", "reopen", "merge"},
    "crew_leader": {"accept", "decline", "arrive", "mitigate", "resolve"},
    "crew_member": {"accept", "decline", "arrive", "mitigate", "resolve"},
    "department": {"answer"},
}
SOURCE = {action: next(iter(sources)) for action, sources in LEGAL.items()}
SOURCE["cancel"] = State.DISPATCHED


def _visible(role, ticket, centre):
    if role in ("crew_leader", "crew_member"):
        return ticket.crew_id == centre.crew.pk
    if role == "department":
        return ticket.department_id == centre.department.pk
    return True


@pytest.mark.django_db
@pytest.mark.parametrize("action", list(LEGAL))
@pytest.mark.parametrize("role", list(ALLOWED))
def test_each_role_may_take_only_its_own_actions(action, role, make_ticket, centre, api, clock):
    state = SOURCE[action]
    fault = centre.billing if action in ("refer", "answer") else centre.burst
    ticket = make_ticket(state, fault_type=fault)
    parent = make_ticket(fault_type=centre.burst)
    user = centre.by_role()[role]
    events_before = ticket.events.count()

    response = api(user).post(
        f"/api/v1/tickets/{ticket.number}/{action}/",
        _body(action, centre, parent.number),
        format="json",
    )

    if not _visible(role, ticket, centre):
        assert response.status_code == 404
    elif action in ALLOWED[role]:
        assert response.status_code == 200, response.json()
        return
    else:
        assert response.status_code == 403, response.json()
        assert response.json()["code"] == "forbidden"
    assert Ticket.objects.get(pk=ticket.pk).state == state
    assert ticket.events.count() == events_before


@pytest.mark.django_db
def test_a_role_that_may_not_act_gets_403_even_with_a_bad_body(make_ticket, centre, api, clock):
    ticket = make_ticket(State.VERIFIED)
    response = api(centre.agent).post(
        f"/api/v1/tickets/{ticket.number}/dispatch/", {"crew": "no-such-crew"}, format="json"
    )
    assert response.status_code == 403


@pytest.mark.django_db
def test_a_crew_cannot_see_or_touch_another_crews_ticket(make_ticket, centre, api, clock):
    ticket = make_ticket(State.DISPATCHED)
    client = api(centre.other_crew_leader)
    assert client.get(f"/api/v1/tickets/{ticket.number}/").status_code == 404
    assert client.post(f"/api/v1/tickets/{ticket.number}/accept/").status_code == 404
    assert TicketEvent.objects.filter(ticket=ticket, action="accepted").count() == 0


@pytest.mark.django_db
def test_any_sequence_of_actions_follows_the_diagram_and_logs_one_event_per_move(
    make_ticket, centre, superuser, api, clock
):
    @settings(
        max_examples=40,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture],
    )
    @given(
        emergency=st.booleans(),
        actions=st.lists(st.sampled_from(sorted(set(LEGAL) - {"merge"})), max_size=10),
    )
    def check(emergency, actions):
        ticket = make_ticket(fault_type=centre.burst if emergency else centre.leak)
        client = api(superuser)
        state, moves = State.NEW, 1
        for action in actions:
            body = _body(action, centre)
            response = client.post(
                f"/api/v1/tickets/{ticket.number}/{action}/", body, format="json"
            )
            legal = state in LEGAL[action] and not (action == "mitigate" and not emergency)
            if legal:
                assert response.status_code == 200, (state, action, response.json())
                state, moves = LEGAL[action][state], moves + 1
            else:
                assert response.status_code == 409, (state, action, response.json())
            ticket.refresh_from_db()
            assert ticket.state == state
            assert ticket.events.count() == moves

    check()


def test_the_actions_offered_ask_for_the_same_permission_as_their_transitions():
    from tickets.actions import ACTIONS

    for action in ACTIONS.values():
        if action.transition:
            assert action.permission == Ticket.transition_permission(action.transition)
