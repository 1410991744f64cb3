"""Erlang A (callers who hang up): the closed forms it must meet, its limits (Erlang C for
endless patience, Erlang B for none), a centre of hundreds of agents against exact
arithmetic and against a second, independent algorithm, and the properties any staffing
must have."""

import math
from decimal import Decimal, localcontext
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from staffing import erlang

# The Erlang C worked example (tests/staffing/test_erlang.py): 100 calls in 30 minutes at
# 180 s, 10 erlangs, 80 % answered within 20 s.
EXAMPLE = {"calls": 100, "interval_minutes": 30, "aht_seconds": 180, "target_seconds": 20}


def _figures(agents, traffic, patience, aht=180, target=20):
    return erlang.figures(
        agents=agents,
        traffic=traffic,
        aht_seconds=aht,
        target_seconds=target,
        shrinkage=0,
        patience_seconds=patience,
    )


def _poisson_tail(agents: int, traffic: int) -> tuple[float, float]:
    """Return P(N ≥ n) and E[(N − n)+] / A for N ~ Poisson(A), in exact rationals (the
    factor e^{−A} cancels; the terms left out are below 1e-100 of the sum)."""
    terms = [Fraction(1)]
    for k in range(1, traffic + 40 * math.isqrt(traffic) + 200):
        terms.append(terms[-1] * traffic / k)
    total = sum(terms)
    waiting = sum(terms[agents:]) / total
    queued = sum((k - agents) * term for k, term in enumerate(terms) if k > agents) / total
    return float(waiting), float(queued / traffic)


# Poisson tables (any statistics text): F(9; 10) = 0.4579, F(13; 10) = 0.8645.
@pytest.mark.parametrize(("agents", "waiting"), [(10, 1 - 0.4579), (14, 1 - 0.8645)])
def test_patience_of_one_handle_time_is_poisson_as_tabled(agents, waiting):
    # Given callers as patient as a call is long, each leaves at the same rate waiting or
    # served, so the calls in the centre are Poisson(A) exactly.
    figures = _figures(agents, 10, patience=180)

    assert round(figures.probability_of_waiting, 4) == round(waiting, 4)


@pytest.mark.parametrize(
    ("agents", "traffic"), [(5, 10), (10, 10), (14, 10), (190, 200), (210, 200), (520, 500)]
)
def test_patience_of_one_handle_time_is_poisson_at_any_size(agents, traffic):
    waiting, abandon = _poisson_tail(agents, traffic)

    figures = _figures(agents, traffic, patience=180)

    assert figures.probability_of_waiting == pytest.approx(waiting, rel=1e-10)
    assert figures.probability_of_abandon == pytest.approx(abandon, rel=1e-10)
    assert round(figures.probability_of_abandon, 4) == round(abandon, 4)


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
def test_endless_patience_is_erlang_c(agents, waiting, service_level, asa):
    # The Erlang C worked example's figures (test_erlang.py), with callers who almost never
    # hang up: a patience of 30 years.
    figures = _figures(agents, 10, patience=1e9)

    assert round(figures.probability_of_waiting, 4) == waiting
    assert round(figures.service_level, 4) == service_level
    assert round(figures.asa_seconds, 2) == asa
    assert figures.probability_of_abandon < 1e-6


def test_no_patience_is_erlang_b():
    # The Wolfram Language's ErlangB example: 30 lines, 25 erlangs, a loss of about 0.05.
    blocking = erlang.erlang_b(agents=30, traffic=25)
    figures = _figures(30, 25, patience=1e-9)

    assert round(blocking, 2) == 0.05
    assert figures.probability_of_waiting == pytest.approx(blocking, rel=1e-9)
    assert figures.probability_of_abandon == pytest.approx(blocking, rel=1e-9)
    assert figures.service_level == pytest.approx(1 - blocking, rel=1e-9)
    assert figures.occupancy == pytest.approx(25 * (1 - blocking) / 30, rel=1e-9)


def _hypoexponential_cdf(rates: list[int], decays: list[Decimal]) -> Decimal:
    """Return P(Σ Exp(rate) ≤ t) by the alternating closed form,
    1 − Σ_m e^{−ν_m t} Π_{l≠m} ν_l / (ν_l − ν_m), given ``decays`` e^{−ν_m t}, at 250 digits:
    its cancellation (terms up to 1e90 here) is what the module avoids in floating point; the
    oracle can afford it."""
    total = Decimal(0)
    for m, rate in enumerate(rates):
        weight = Decimal(1)
        for other in rates[:m] + rates[m + 1 :]:
            weight = weight * other / (other - rate)
        total += weight * decays[m]
    return 1 - total


def _exact(
    agents: int, traffic: int, aht: int, patience: int, target: int, *, level: bool = True
) -> dict:
    """The Erlang A figures with exact rationals for the states (truncated where the terms
    are below 1e-40 of the sum) and, with ``level``, the closed form above for the service
    level."""
    theta, t = Fraction(aht, patience), Fraction(target, aht)
    free = [Fraction(1)]
    for k in range(1, agents):
        free.append(free[-1] * traffic / k)
    queue = [free[-1] * traffic / agents]
    while queue[-1] > Fraction(1, 10**40) * sum(free):
        queue.append(queue[-1] * traffic / (agents + len(queue) * theta))
    total = sum(free) + sum(queue)
    rates = [agents + m * theta for m in range(1, len(queue) + 1)]
    abandon = answered_wait = phases = Fraction(0)
    for j, term in enumerate(queue):
        answered = Fraction(agents) / rates[j]
        phases += 1 / rates[j]
        abandon += term / total * (1 - answered)
        answered_wait += term / total * answered * phases
    exact = {
        "probability_of_waiting": float(sum(queue) / total),
        "probability_of_abandon": float(abandon),
        "asa_seconds": float(answered_wait / (1 - abandon) * aht),
        "average_wait_seconds": float(abandon / theta * aht),
    }
    if not level:
        return exact
    with localcontext() as context:
        context.prec = 250
        within = Decimal(0)
        decays = [(-Decimal(rate.numerator) * t.numerator / t.denominator).exp() for rate in rates]
        for j, term in enumerate(queue):
            answered = Fraction(agents) / rates[j]
            if term > Fraction(1, 10**25) * total:  # the rest cannot move the level by 1e-9
                probability = term * answered / total
                cdf = _hypoexponential_cdf([int(rate) for rate in rates[: j + 1]], decays)
                within += Decimal(probability.numerator) / probability.denominator * cdf
        no_wait = sum(free) / total
        level_exact = Decimal(no_wait.numerator) / no_wait.denominator + within
    return {**exact, "service_level": float(level_exact)}


@pytest.mark.parametrize(
    ("agents", "traffic"),
    [(220, 200), (205, 200), (190, 200)],  # spare agents, few spare, fewer than the traffic
)
def test_hundreds_of_agents_agree_with_exact_arithmetic(agents, traffic):
    # 2,000 calls in 30 minutes at 180 s, callers who hang up after a minute on average.
    exact = _exact(agents, traffic, aht=180, patience=60, target=20)

    figures = _figures(agents, traffic, patience=60)

    for name, value in exact.items():
        assert getattr(figures, name) == pytest.approx(value, rel=1e-9), name


def test_a_centre_far_short_of_its_traffic_agrees_with_exact_arithmetic():
    # Given 50 agents for 200 erlangs and callers patient for 10 minutes, some 500 wait:
    # the states summed start hundreds of calls into the queue, not at its head.
    theta = Fraction(180, 600)
    exact = _exact(50, 200, aht=180, patience=600, target=20, level=False)

    figures = _figures(50, 200, patience=600)

    assert erlang._queue(50, 200, float(theta)).first > 200
    for name, value in exact.items():
        assert getattr(figures, name) == pytest.approx(value, rel=1e-9), name


def _uniformized_service_level(agents, traffic, aht, patience, target) -> float:
    """The service level by a second algorithm: the pure-death chain of phases ahead of a
    waiting caller (ending in progress at n + iθ, or in a hang-up at θ) uniformized at its
    fastest rate, Poisson weights by log-gamma, every sum positive."""
    theta, t = aht / patience, target / aht
    queue = erlang._queue(agents, traffic, theta)
    top = queue.first + len(queue.probabilities)
    fastest = agents + top * theta
    mass = [0.0] * queue.first + list(queue.probabilities)  # mass[i]: i + 1 phases to go
    answered = within = 0.0
    mean, k = fastest * t, 0
    weight = math.exp(-mean)
    while k < mean or weight > 1e-18:
        k += 1
        answered += mass[0] * agents / fastest
        mass = [
            mass[i] * (1 - (agents + (i + 1) * theta) / fastest)
            + (mass[i + 1] * (agents + (i + 1) * theta) / fastest if i + 1 < len(mass) else 0)
            for i in range(len(mass))
        ]
        weight = math.exp(k * math.log(mean) - mean - math.lgamma(k + 1))
        within += weight * answered
    return queue.no_wait + within


@pytest.mark.parametrize(
    ("agents", "traffic", "aht", "patience", "target"),
    [
        (14, 10, 180, 60, 20),
        (9, 10, 180, 30, 20),
        (205, 200, 180, 60, 20),
        (40, 35, 300, 600, 60),
        (50, 200, 180, 600, 830),  # hundreds waiting, and some of them answered in time
    ],
)
def test_the_service_level_agrees_with_uniformization(agents, traffic, aht, patience, target):
    figures = _figures(agents, traffic, patience, aht=aht, target=target)

    assert figures.service_level == pytest.approx(
        _uniformized_service_level(agents, traffic, aht, patience, target), rel=1e-10
    )


centres = st.fixed_dictionaries(
    {
        "agents": st.integers(min_value=1, max_value=300),
        "traffic": st.floats(min_value=0.5, max_value=300),
        "aht": st.integers(min_value=30, max_value=900),
        "patience": st.floats(min_value=5, max_value=3600),
        "target": st.integers(min_value=0, max_value=120),
    }
)


@given(centres)
def test_abandonment_is_the_hang_up_rate_of_the_queue(centre):
    # Two formulas: per caller, Σ π_{n+j}·(j+1)θ / (n+(j+1)θ); per queue, θ·E[queue] / λ.
    theta = centre["aht"] / centre["patience"]
    queue = erlang._queue(centre["agents"], centre["traffic"], theta)
    queued = sum(j * p for j, p in enumerate(queue.probabilities, start=queue.first))

    figures = _figures(**centre)

    assert figures.probability_of_abandon == pytest.approx(
        theta * queued / centre["traffic"], rel=1e-9, abs=1e-15
    )


@given(centres)
def test_another_agent_never_serves_worse(centre):
    fewer = _figures(**centre)
    more = _figures(**{**centre, "agents": centre["agents"] + 1})

    assert more.service_level >= fewer.service_level - 1e-12
    assert more.probability_of_abandon <= fewer.probability_of_abandon + 1e-12
    assert more.probability_of_waiting <= fewer.probability_of_waiting + 1e-12
    assert more.occupancy <= fewer.occupancy + 1e-12


@given(centres, st.floats(min_value=1.01, max_value=10))
def test_more_patience_never_waits_less(centre, longer):
    shorter = _figures(**centre)
    patient = _figures(**{**centre, "patience": centre["patience"] * longer})

    assert patient.probability_of_waiting >= shorter.probability_of_waiting - 1e-12
    assert patient.probability_of_abandon <= shorter.probability_of_abandon + 1e-12


intervals = st.fixed_dictionaries(
    {
        "calls": st.integers(min_value=1, max_value=3000),
        "interval_minutes": st.sampled_from([15, 30, 60]),
        "aht_seconds": st.integers(min_value=30, max_value=900),
        "target_seconds": st.integers(min_value=0, max_value=60),
        "patience_seconds": st.floats(min_value=5, max_value=3600),
        "max_occupancy": st.sampled_from([1.0, 0.9, 0.8]),
    }
)


@settings(deadline=None)
@given(intervals, st.floats(min_value=0.3, max_value=0.99))
def test_the_count_is_the_fewest_that_meet_the_level(interval, level):
    staffing = erlang.required(**interval, service_level=level)

    assert staffing.service_level >= level
    assert staffing.occupancy <= interval["max_occupancy"] + 1e-9
    fewer = _figures(
        staffing.agents - 1,
        staffing.traffic,
        interval["patience_seconds"],
        aht=interval["aht_seconds"],
        target=interval["target_seconds"],
    )
    assert fewer.service_level < level or fewer.occupancy > interval["max_occupancy"] + 1e-9


def test_impatient_callers_can_need_fewer_agents_than_the_traffic():
    # Half answered within 20 s, callers who hang up after 10 s on average: 6 agents for 10
    # erlangs, and nearly half the calls abandoned.
    staffing = erlang.required(**EXAMPLE, service_level=0.5, patience_seconds=10)

    assert staffing.agents < staffing.traffic == 10
    assert staffing.service_level >= 0.5
    assert 0.4 < staffing.probability_of_abandon < 0.5


def test_an_abandoned_call_is_not_answered_so_erlang_a_can_need_more():
    # 95 % within 60 s: Erlang C's 14 agents answer it, but with callers who hang up after
    # 5 s the calls that abandon within the minute miss it.
    query = {**EXAMPLE, "target_seconds": 60, "service_level": 0.95}

    assert erlang.required(**query).agents == 14
    assert erlang.required(**query, patience_seconds=5).agents == 15


def test_the_worked_example_with_patience_needs_fewer_agents():
    staffing = erlang.required(**EXAMPLE, service_level=0.8, patience_seconds=60)

    assert staffing.agents == 12 < 14
    assert staffing.service_level >= 0.8
    assert staffing.average_wait_seconds == pytest.approx(
        staffing.probability_of_abandon * 60, rel=1e-12
    )


def test_a_large_centre_with_patience_is_sized_without_overflow():
    # 2,000 calls in 30 minutes at 180 s: 200 erlangs, callers patient for a minute.
    query = {
        "calls": 2000,
        "interval_minutes": 30,
        "aht_seconds": 180,
        "target_seconds": 20,
        "service_level": 0.8,
        "patience_seconds": 60,
    }

    staffing = erlang.required(**query)

    # Big centres answer fast even when most calls wait: fewer agents than the traffic (and
    # than Erlang C's 208), with one call in seven abandoned.
    assert staffing.agents < 200 < erlang.required(**{**query, "patience_seconds": None}).agents
    assert staffing.service_level >= 0.8
    assert 0.1 < staffing.probability_of_abandon < 0.2
    assert _figures(staffing.agents - 1, 200, patience=60).service_level < 0.8


def test_no_calls_need_no_agents_and_lose_none():
    staffing = erlang.required(**{**EXAMPLE, "calls": 0}, service_level=0.8, patience_seconds=60)

    assert (staffing.agents, staffing.probability_of_abandon) == (0, 0.0)


def test_no_agents_answer_nothing():
    figures = _figures(0, 10, patience=60)

    assert (figures.service_level, figures.probability_of_abandon) == (0.0, 1.0)
    assert figures.asa_seconds == math.inf
