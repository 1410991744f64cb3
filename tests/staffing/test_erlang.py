"""Erlang C: the published worked example, a centre of hundreds of agents against exact
arithmetic, the properties any staffing must have, and the API's refusals."""

import math
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from staffing import erlang

# The worked example of the Erlang C literature: 100 calls in 30 minutes, 180 s handle time
# (10 erlangs), 80 % answered in 20 s.
EXAMPLE = {"calls": 100, "interval_minutes": 30, "aht_seconds": 180, "target_seconds": 20}


def _exact_erlang_c(agents: int, traffic: int) -> float:
    """Erlang C by its textbook formula, in exact rationals (no overflow, no rounding)."""
    a = Fraction(traffic)
    terms = sum(a**k / math.factorial(k) for k in range(agents))
    last = a**agents / math.factorial(agents) * agents / (agents - a)
    return float(last / (terms + last))


@pytest.mark.parametrize(
    ("agents", "waiting", "service_level", "asa"),
    [
        (11, 0.6821, 0.3896, 122.78),
        (12, 0.4494, 0.6402, 40.44),
        (13, 0.2853, 0.7956, 17.12),
        (14, 0.1741, 0.8884, 7.84),
        (15, 0.1020, 0.9415, 3.67),
    ],
)
def test_the_worked_example_to_four_decimals(agents, waiting, service_level, asa):
    offered = erlang.traffic(calls=100, interval_minutes=30, aht_seconds=180)

    figures = erlang.figures(
        agents=agents, traffic=offered, aht_seconds=180, target_seconds=20, shrinkage=0
    )

    assert offered == 10
    assert round(figures.probability_of_waiting, 4) == waiting
    assert round(figures.service_level, 4) == service_level
    assert round(figures.asa_seconds, 2) == asa


def test_the_worked_example_needs_fourteen_agents():
    staffing = erlang.required(**EXAMPLE, service_level=0.8)

    assert staffing.agents == 14
    assert round(staffing.occupancy, 4) == 0.7143


def test_occupancy_and_shrinkage_raise_the_count():
    assert erlang.required(**EXAMPLE, service_level=0.8, max_occupancy=0.65).agents == 16
    shrunk = erlang.required(**EXAMPLE, service_level=0.8, shrinkage=0.3)
    assert (shrunk.agents, shrunk.scheduled_agents) == (14, 20)


@pytest.mark.parametrize(("agents", "traffic"), [(210, 200), (260, 250), (520, 500)])
def test_hundreds_of_agents_agree_with_exact_arithmetic(agents, traffic):
    assert erlang.erlang_c(agents=agents, traffic=traffic) == pytest.approx(
        _exact_erlang_c(agents, traffic), rel=1e-9
    )


def test_a_large_centre_is_sized_without_overflow():
    # 2,000 calls in 30 minutes at 180 s: 200 erlangs.
    staffing = erlang.required(
        calls=2000, interval_minutes=30, aht_seconds=180, target_seconds=20, service_level=0.8
    )

    assert 200 < staffing.agents < 230
    assert staffing.service_level >= 0.8
    fewer = erlang.figures(
        agents=staffing.agents - 1, traffic=200, aht_seconds=180, target_seconds=20, shrinkage=0
    )
    assert fewer.service_level < 0.8


def test_no_calls_need_no_agents():
    assert erlang.required(**{**EXAMPLE, "calls": 0}, service_level=0.8).agents == 0


intervals = st.fixed_dictionaries(
    {
        "calls": st.integers(min_value=1, max_value=3000),
        "interval_minutes": st.sampled_from([15, 30, 60]),
        "aht_seconds": st.integers(min_value=30, max_value=900),
        "target_seconds": st.integers(min_value=0, max_value=60),
    }
)


@given(intervals, st.floats(min_value=0.5, max_value=0.99))
def test_the_count_is_the_fewest_that_meet_the_level(interval, level):
    staffing = erlang.required(**interval, service_level=level)

    assert staffing.agents > staffing.traffic
    assert staffing.service_level >= level
    fewer = erlang.figures(
        agents=staffing.agents - 1,
        traffic=staffing.traffic,
        aht_seconds=interval["aht_seconds"],
        target_seconds=interval["target_seconds"],
        shrinkage=0,
    )
    assert fewer.service_level < level


@given(intervals, st.floats(min_value=0.5, max_value=0.95))
def test_more_calls_or_a_higher_level_never_need_fewer_agents(interval, level):
    base = erlang.required(**interval, service_level=level)

    assert (
        erlang.required(**{**interval, "calls": interval["calls"] + 10}, service_level=level).agents
        >= base.agents
    )
    assert erlang.required(**interval, service_level=min(0.99, level + 0.04)).agents >= base.agents


@given(st.integers(min_value=1, max_value=400), st.floats(min_value=0.5, max_value=300))
def test_more_agents_never_wait_more(agents, traffic):
    if agents <= traffic:
        assert erlang.erlang_c(agents=agents, traffic=traffic) == 1.0
        return
    assert erlang.erlang_c(agents=agents + 1, traffic=traffic) <= erlang.erlang_c(
        agents=agents, traffic=traffic
    )
