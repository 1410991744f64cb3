"""GET /api/v1/staffing/erlang/: the figures of the planning page, Erlang A's when a patience
is given, and bad input refused."""

import pytest

pytestmark = pytest.mark.django_db

URL = "/api/v1/staffing/erlang/"
EXAMPLE = {
    "calls": 100,
    "interval_minutes": 30,
    "aht_seconds": 180,
    "target_seconds": 20,
    "service_level": 0.8,
}


def test_the_worked_example_over_the_api(api, centre):
    api_client = api(centre.shift_leader)

    answer = api_client.get(URL, {**EXAMPLE, "shrinkage": 0.3})

    assert answer.status_code == 200
    body = answer.json()
    assert (body["agents"], body["scheduled_agents"], body["traffic"]) == (14, 20, 10.0)
    assert round(body["service_level"], 4) == 0.8884
    assert round(body["probability_of_waiting"], 4) == 0.1741
    assert round(body["asa_seconds"], 2) == 7.84
    assert round(body["occupancy"], 4) == 0.7143
    assert set(body) == ERLANG_C_FIELDS


ERLANG_C_FIELDS = {
    "agents",
    "scheduled_agents",
    "traffic",
    "service_level",
    "probability_of_waiting",
    "asa_seconds",
    "occupancy",
}


def test_a_patience_sizes_by_erlang_a(api, centre):
    # Given callers who hang up after a minute on average, 12 agents answer 80 % in 20 s
    # where Erlang C needs 14.
    api_client = api(centre.shift_leader)

    answer = api_client.get(URL, {**EXAMPLE, "patience_seconds": 60, "shrinkage": 0.3})

    assert answer.status_code == 200
    body = answer.json()
    assert set(body) == ERLANG_C_FIELDS | {"probability_of_abandon", "average_wait_seconds"}
    assert (body["agents"], body["scheduled_agents"], body["traffic"]) == (12, 18, 10.0)
    assert body["service_level"] >= 0.8
    assert 0 < body["probability_of_abandon"] < body["probability_of_waiting"] < 1
    assert body["average_wait_seconds"] == pytest.approx(body["probability_of_abandon"] * 60)
    assert 0 < body["asa_seconds"] < 20
    assert body["occupancy"] < 12 / 10


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"calls": -1}, "calls"),
        ({"interval_minutes": 0}, "interval_minutes"),
        ({"aht_seconds": 0}, "aht_seconds"),
        ({"target_seconds": -5}, "target_seconds"),
        ({"service_level": 1.5}, "service_level"),
        ({"service_level": 0}, "service_level"),
        ({"max_occupancy": 0}, "max_occupancy"),
        ({"shrinkage": 1}, "shrinkage"),
        ({"calls": 1_000_000, "aht_seconds": 3600}, "calls"),
        ({"calls": "many"}, "calls"),
        ({"patience_seconds": 0}, "patience_seconds"),
        ({"patience_seconds": -30}, "patience_seconds"),
        ({"patience_seconds": "a minute"}, "patience_seconds"),
        ({"patience_seconds": "nan"}, "patience_seconds"),
        ({"patience_seconds": 86_401}, "patience_seconds"),
        ({"patience_seconds": 18_001}, "patience_seconds"),  # over 100 handle times of 180 s
    ],
)
def test_bad_input_is_a_400_naming_the_parameter(api, centre, change, field):
    api_client = api(centre.shift_leader)

    answer = api_client.get(URL, {**EXAMPLE, **change})

    assert answer.status_code == 400
    assert field in str(answer.json())


def test_a_blank_patience_is_left_out_like_any_optional_parameter(api, centre):
    api_client = api(centre.shift_leader)

    answer = api_client.get(URL, {**EXAMPLE, "patience_seconds": ""})

    assert answer.status_code == 200
    assert (set(answer.json()), answer.json()["agents"]) == (ERLANG_C_FIELDS, 14)


@pytest.mark.parametrize("patience", [{}, {"patience_seconds": 60}])
def test_no_calls_need_no_agents_over_the_api(api, centre, patience):
    api_client = api(centre.shift_leader)

    answer = api_client.get(URL, {**EXAMPLE, "calls": 0, **patience})

    assert answer.status_code == 200
    body = answer.json()
    assert (body["agents"], body["service_level"], body["asa_seconds"]) == (0, 1.0, 0.0)


def test_a_missing_parameter_is_named(api, centre):
    api_client = api(centre.shift_leader)
    query = {key: value for key, value in EXAMPLE.items() if key != "aht_seconds"}

    answer = api_client.get(URL, query)

    assert answer.status_code == 400
    assert "aht_seconds" in str(answer.json())


def test_the_calculator_needs_a_sign_in(api):
    assert api().get(URL, EXAMPLE).status_code in (401, 403)
