"""How many agents an interval needs: Erlang C, or Erlang A when callers hang up.

Erlang C: calls arrive at random (Poisson), each takes the average handle time, and a caller
waits as long as it takes. The probability of waiting comes from Erlang B's recursion,
B(n) = A·B(n−1) / (n + A·B(n−1)), which stays within [0, 1] at every step and so is exact in
floating point for centres of hundreds of agents, where the textbook formula's factorials
and powers overflow.

Erlang A (M/M/n+M) gives each waiting caller a patience, exponential with mean
``patience_seconds``. Time is counted in handle times there: an agent serves at rate 1, calls
arrive at rate A (the traffic) and a waiting caller hangs up at rate θ = AHT / patience. With
k calls in the centre:

- k ≤ n: Σ π_k / π_n = 1 / B(n, A), Erlang B's recursion again;
- k = n + j: r_j = π_{n+j} / π_n = Π_{i=1..j} A / (n + iθ), summed out from the largest term
  until a bound on the (geometric) rest is below 1e-16 of the sum, so no factorial or power
  is ever formed;
- a caller who finds j waiting ahead goes through phases of j, j−1, …, 0 callers ahead; a
  phase of i ends at rate n + (i+1)θ, in progress (n + iθ) or in the caller's own hang-up (θ),
  so the caller is answered with probability Π_{i=0..j} (n+iθ)/(n+(i+1)θ) = n / (n + (j+1)θ)
  and, if answered, after a sum of independent Exp(n + (i+1)θ);
- that sum is −log(U) / θ in law, U ~ Beta(n/θ + 1, j + 1), so the share answered within t
  is a negative binomial tail (see ``_answered_within``): every term positive, no
  alternating sums;
- P(abandon) = Σ π_{n+j}·(j+1)θ / (n + (j+1)θ), and the mean wait of all calls, answered or
  not, is P(abandon) / θ (Little's law, with hang-ups at rate θ·E[queue] = λ·P(abandon)).
"""

import math
from dataclasses import dataclass

# A sum stops when what is left of it is below this share: a double would not change.
NEGLIGIBLE = 1e-16
# A term below this is taken afresh from log-gamma rather than from its neighbour's ratio,
# which could have underflowed on the way up from nothing.
RESCALE = 1e-250


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
    # Erlang A only: the share of calls that hang up unanswered, and the mean wait of all
    # calls, answered or not (ASA counts the answered ones only).
    probability_of_abandon: float | None = None
    average_wait_seconds: float | None = None


def traffic(*, calls: float, interval_minutes: float, aht_seconds: float) -> float:
    """Return the offered traffic in erlangs: the agents' worth of work arriving."""
    return calls * aht_seconds / (interval_minutes * 60)


def erlang_b(*, agents: int, traffic: float) -> float:
    """Return the probability that all ``agents`` agents are busy when calls are not queued."""
    blocking = 1.0
    for n in range(1, agents + 1):
        blocking = traffic * blocking / (n + traffic * blocking)
    return blocking


def erlang_c(*, agents: int, traffic: float) -> float:
    """Return the probability that a call waits, with ``agents`` agents on ``traffic``."""
    if agents <= traffic:
        return 1.0  # the queue grows without end: every call waits
    return _waiting(agents, traffic, erlang_b(agents=agents, traffic=traffic))


def _waiting(agents: int, traffic: float, blocking: float) -> float:
    return agents * blocking / (agents - traffic * (1 - blocking))


def figures(
    *,
    agents: int,
    traffic: float,
    aht_seconds: float,
    target_seconds: float,
    shrinkage: float,
    patience_seconds: float | None = None,
) -> Staffing:
    """Return the service level, wait and occupancy of ``agents`` agents; with
    ``patience_seconds``, by Erlang A, with the share of calls abandoned."""
    if patience_seconds is not None:
        return _abandoning(
            agents, traffic, aht_seconds, target_seconds, shrinkage, patience_seconds
        )
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
    if traffic == 0:
        service_level, asa = 1.0, 0.0  # no call, so none waits
    elif spare <= 0:
        service_level, asa = 0.0, math.inf
    else:
        service_level = 1 - waiting * math.exp(-spare * target_seconds / aht_seconds)
        asa = waiting * aht_seconds / spare
    return Staffing(
        agents=agents,
        scheduled_agents=_scheduled(agents, shrinkage),
        traffic=traffic,
        service_level=service_level,
        probability_of_waiting=waiting,
        asa_seconds=asa,
        occupancy=min(1.0, traffic / agents) if agents else float(traffic > 0),
    )


def _scheduled(agents: int, shrinkage: float) -> int:
    return math.ceil(agents / (1 - shrinkage) - 1e-9)


@dataclass(frozen=True)
class _Queue:
    """The calls that find every agent busy: ``probabilities[i]`` is P(k = n + first + i)."""

    first: int
    probabilities: list[float]
    no_wait: float


def _queue(agents: int, traffic: float, theta: float) -> _Queue:
    blocking = erlang_b(agents=agents, traffic=traffic)
    if traffic == 0 or blocking == 0:
        return _Queue(0, [], 1.0)  # no call ever waits, to a double's precision
    # The terms r_j rise while A / (n + jθ) ≥ 1 and fall after: start from the largest.
    mode = math.floor((traffic - agents) / theta) if traffic > agents else 0
    above, total = [1.0], 1.0
    j, term = mode, 1.0
    while True:
        ratio = traffic / (agents + (j + 1) * theta)  # falls with j: the rest is below
        if ratio < 1 and term * ratio / (1 - ratio) < NEGLIGIBLE * total:
            break
        j, term = j + 1, term * ratio
        above.append(term)
        total += term
    below = []
    j, term = mode, 1.0
    while j > 0:
        ratio = (agents + j * theta) / traffic  # r_{j−1} / r_j, falls as j does
        if ratio < 1 and term * ratio / (1 - ratio) < NEGLIGIBLE * total:
            break
        j, term = j - 1, term * ratio
        below.append(term)
        total += term
    below.reverse()
    # log r_mode = Σ_{i≤mode} log(A / (n + iθ)), by log-gamma; the calls with a free agent,
    # Σ_{k<n} π_k / π_n = (1 − B) / B, are weighed against the largest queue term.
    log_mode = 0.0
    if mode:
        offset = agents / theta
        log_mode = mode * math.log(traffic / theta) - (
            math.lgamma(offset + mode + 1) - math.lgamma(offset + 1)
        )
    exponent = -(math.log(blocking) + log_mode)
    if exponent > 700:
        return _Queue(0, [], 1.0)
    free = (1 - blocking) * math.exp(exponent)
    scale = free + total
    return _Queue(j, [term / scale for term in below + above], free / scale)


def _digamma(x: float) -> float:
    """Return ψ(x), x > 0: the recurrence up to 15, then the asymptotic series (to 2e-16)."""
    shift = 0.0
    while x < 15:
        shift -= 1 / x
        x += 1
    inverse = 1 / (x * x)
    series = inverse * (
        1 / 12 - inverse * (1 / 120 - inverse * (1 / 252 - inverse * (1 / 240 - inverse / 132)))
    )
    return shift + math.log(x) - 0.5 / x - series


def _phase_times(agents: int, theta: float, count: int) -> float:
    """Return Σ_{m=1..count} 1 / (n + mθ), the mean time of ``count`` phases."""
    if count == 0:
        return 0.0
    offset = agents / theta
    return (_digamma(offset + count + 1) - _digamma(offset + 1)) / theta


def _answered_within(agents: int, theta: float, queue: _Queue, target: float) -> float:
    """Return the share of all calls that wait and are answered within ``target``.

    An answered caller who found j ahead waits H = Σ_{m=1..j+1} Exp(n + mθ). That sum has the
    Laplace transform of −log(U) / θ with U ~ Beta(n/θ + 1, j + 1), product for product, so
    P(H ≤ t) = P(U ≥ e^{−θt}) = P(N ≥ j + 1) for N negative binomial: P(N = i) =
    C(r + i − 1, i)·p^r·(1 − p)^i with r = n/θ + 1 and p = e^{−θt} (Beta's distribution
    function at a whole-number parameter). Each P(N = i) comes from its neighbour's ratio, or
    afresh from log-gamma where it is tiny; every sum is of positive terms, and the cost is
    one term per queue length, however long the target.
    """
    if target == 0 or agents == 0 or not queue.probabilities:
        return 0.0
    shape = agents / theta + 1
    fail = -math.expm1(-theta * target)  # 1 − p
    log_fail = math.log(fail)
    log_start = -(agents + theta) * target  # r·log p

    def count(i: int) -> float:  # P(N = i)
        return math.exp(
            math.lgamma(shape + i)
            - math.lgamma(shape)
            - math.lgamma(i + 1)
            + log_start
            + i * log_fail
        )

    low = queue.first + 1
    if theta * target < 700 and low > (shape - 1) * math.expm1(theta * target) + 1:
        ratio = (shape + low) * fail / (low + 1)  # P(N = i + 1) / P(N = i), falling in i
        if ratio < 1 and count(low) / (1 - ratio) < NEGLIGIBLE:
            return 0.0  # N ≥ low is out of reach: no waiting caller is answered in time
    below, i = 0.0, low - 1  # P(N < low), down from low − 1 while the terms still count
    term = count(i) if i >= 0 else 0.0
    while i >= 0:
        below += term
        ratio = i / ((shape + i - 1) * fail)  # P(N = i − 1) / P(N = i)
        if ratio < 1 and term * ratio / (1 - ratio) < NEGLIGIBLE:
            break
        i -= 1
        term = term * ratio if term > RESCALE else count(i)
    tail, within = max(0.0, 1 - below), 0.0  # tail: P(N ≥ j + 1)
    term = count(low)
    for j, p in enumerate(queue.probabilities, start=queue.first):
        within += p * agents / (agents + (j + 1) * theta) * tail
        tail -= term
        if tail <= 0:
            break
        term = term * (shape + j + 1) * fail / (j + 2) if term > RESCALE else count(j + 2)
    return within


def _abandoning(
    agents: int,
    traffic: float,
    aht_seconds: float,
    target_seconds: float,
    shrinkage: float,
    patience_seconds: float,
) -> Staffing:
    theta = aht_seconds / patience_seconds
    queue = _queue(agents, traffic, theta)
    abandon, answered, answered_wait = 0.0, queue.no_wait, 0.0
    phases = _phase_times(agents, theta, queue.first)
    for j, p in enumerate(queue.probabilities, start=queue.first):
        rate = agents + (j + 1) * theta
        phases += 1 / rate
        abandon += p * (j + 1) * theta / rate
        answered += p * agents / rate
        answered_wait += p * agents / rate * phases
    target = target_seconds / aht_seconds
    return Staffing(
        agents=agents,
        scheduled_agents=_scheduled(agents, shrinkage),
        traffic=traffic,
        service_level=queue.no_wait + _answered_within(agents, theta, queue, target),
        probability_of_waiting=1 - queue.no_wait,
        asa_seconds=answered_wait / answered * aht_seconds if answered else math.inf,
        occupancy=min(1.0, traffic * answered / agents) if agents else float(traffic > 0),
        probability_of_abandon=abandon,
        average_wait_seconds=abandon / theta * aht_seconds,
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
    patience_seconds: float | None = None,
) -> Staffing:
    """Return the fewest agents that answer ``service_level`` of the calls within
    ``target_seconds`` with an occupancy no higher than ``max_occupancy``, and the agents to
    schedule for them once ``shrinkage`` (breaks, training, absence) is allowed for. With
    ``patience_seconds``, callers hang up (Erlang A) and a call abandoned is not answered.

    For Erlang C the agents are counted up from the traffic, Erlang B's recursion carried
    along, so the search costs one step per agent.
    """
    offered = traffic(calls=calls, interval_minutes=interval_minutes, aht_seconds=aht_seconds)
    if offered == 0 and patience_seconds is None:
        return _staffing(0, 0.0, 0.0, aht_seconds, target_seconds, shrinkage)
    if offered == 0:
        return _abandoning(0, 0.0, aht_seconds, target_seconds, shrinkage, patience_seconds)
    if patience_seconds is not None:
        return _required_abandoning(
            offered,
            aht_seconds,
            target_seconds,
            service_level,
            max_occupancy,
            shrinkage,
            patience_seconds,
            guess=required(
                calls=calls,
                interval_minutes=interval_minutes,
                aht_seconds=aht_seconds,
                target_seconds=target_seconds,
                service_level=service_level,
                max_occupancy=max_occupancy,
            ).agents,
        )
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


def _required_abandoning(
    offered: float,
    aht_seconds: float,
    target_seconds: float,
    service_level: float,
    max_occupancy: float,
    shrinkage: float,
    patience_seconds: float,
    *,
    guess: int,
) -> Staffing:
    """Return the fewest agents that fit, by Erlang A: galloping from ``guess`` (the Erlang C
    count, usually a little above) to a count that fits and one that does not, then halving.
    This relies on the service level rising and the occupancy falling with each agent
    added, which tests/staffing/test_erlang_a.py checks."""
    found: dict[int, Staffing] = {}

    def fits(agents: int) -> bool:
        staffing = figures(
            agents=agents,
            traffic=offered,
            aht_seconds=aht_seconds,
            target_seconds=target_seconds,
            shrinkage=shrinkage,
            patience_seconds=patience_seconds,
        )
        found[agents] = staffing
        return (
            staffing.service_level >= service_level and staffing.occupancy <= max_occupancy + 1e-9
        )

    short, enough = (None, guess) if fits(guess) else (guess, None)
    step = 1
    while enough is None:  # the Erlang C count was short: double up from it
        if fits(short + step):
            enough = short + step
        else:
            short += step
        step *= 2
    while short is None:  # double down from it to a count that is short
        if enough - step < 0:
            short = -1
        elif fits(enough - step):
            enough -= step
        else:
            short = enough - step
        step *= 2
    while enough - short > 1:
        middle = (short + enough) // 2
        if fits(middle):
            enough = middle
        else:
            short = middle
    return found[enough]
