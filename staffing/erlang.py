"""How many agents an interval needs: Erlang C, for a target service level.

Calls arrive at random (Poisson), each takes the average handle time, and a caller waits as
long as it takes. The probability of waiting comes from Erlang B's recursion,
B(n) = A·B(n−1) / (n + A·B(n−1)), which stays within [0, 1] at every step and so is exact in
floating point for centres of hundreds of agents, where the textbook formula's factorials
and powers overflow.
"""

import math
from dataclasses import dataclass


@dataclass(frozen=True)
class Staffing:
    """The figures of ``agents`` agents on an interval's traffic."""

    agents: int
    scheduled_agents: int
    traffic: float
    service_level: float
    probability_of_waiting: float
    asa_seconds: float
    occupancy: float


def traffic(*, calls: float, interval_minutes: float, aht_seconds: float) -> float:
    """Return the offered traffic in erlangs: the agents' worth of work arriving."""
    return calls * aht_seconds / (interval_minutes * 60)


def erlang_c(*, agents: int, traffic: float) -> float:
    """Return the probability that a call waits, with ``agents`` agents on ``traffic``."""
    if agents <= traffic:
        return 1.0  # the queue grows without end: every call waits
    blocking = 1.0
    for n in range(1, agents + 1):
        blocking = traffic * blocking / (n + traffic * blocking)
    return _waiting(agents, traffic, blocking)


def _waiting(agents: int, traffic: float, blocking: float) -> float:
    return agents * blocking / (agents - traffic * (1 - blocking))


def figures(
    *, agents: int, traffic: float, aht_seconds: float, target_seconds: float, shrinkage: float
) -> Staffing:
    """Return the service level, wait and occupancy of ``agents`` agents."""
    waiting = erlang_c(agents=agents, traffic=traffic)
    return _staffing(agents, traffic, waiting, aht_seconds, target_seconds, shrinkage)


def _staffing(
    agents: int,
    traffic: float,
    waiting: float,
    aht_seconds: float,
    target_seconds: float,
    shrinkage: float,
) -> Staffing:
    spare = agents - traffic
    if spare <= 0:
        service_level, asa = 0.0, math.inf
    else:
        service_level = 1 - waiting * math.exp(-spare * target_seconds / aht_seconds)
        asa = waiting * aht_seconds / spare
    return Staffing(
        agents=agents,
        scheduled_agents=math.ceil(agents / (1 - shrinkage) - 1e-9),
        traffic=traffic,
        service_level=service_level,
        probability_of_waiting=waiting,
        asa_seconds=asa,
        occupancy=min(1.0, traffic / agents) if agents else float(traffic > 0),
    )


def required(
    *,
    calls: float,
    interval_minutes: float,
    aht_seconds: float,
    target_seconds: float,
    service_level: float,
    max_occupancy: float = 1.0,
    shrinkage: float = 0.0,
) -> Staffing:
    """Return the fewest agents that answer ``service_level`` of the calls within
    ``target_seconds`` with an occupancy no higher than ``max_occupancy``, and the agents to
    schedule for them once ``shrinkage`` (breaks, training, absence) is allowed for.

    The agents are counted up from the traffic, Erlang B's recursion carried along, so the
    search costs one step per agent.
    """
    offered = traffic(calls=calls, interval_minutes=interval_minutes, aht_seconds=aht_seconds)
    if offered == 0:
        return _staffing(0, 0.0, 0.0, aht_seconds, target_seconds, shrinkage)
    blocking, agents = 1.0, 0
    # Fewer agents than this are busier than allowed, or cannot keep up at all.
    fewest = max(math.floor(offered) + 1, math.ceil(offered / max_occupancy - 1e-9))
    while True:
        agents += 1
        blocking = offered * blocking / (agents + offered * blocking)
        if agents < fewest:
            continue
        waiting = _waiting(agents, offered, blocking)
        staffing = _staffing(agents, offered, waiting, aht_seconds, target_seconds, shrinkage)
        if staffing.service_level >= service_level:
            return staffing
