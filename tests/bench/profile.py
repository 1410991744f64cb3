"""Where one ticket creation spends its time: ``python -m tests.bench.profile``.

Runs on the bench database that ``tests.bench.run`` left (its extra rows are deleted first
and last), in this process through Django's test client with the same settings and
middleware as gunicorn. For the full and the bare create it prints the SQL of one request,
the mean wall time of each step over ``--requests`` requests (the steps are timed by
wrapping them here; no product code changes), and with ``--cprofile`` the top functions.
"""

import argparse
import cProfile
import importlib
import inspect
import io
import os
import pstats
import sys
import time
from collections import defaultdict
from collections.abc import Callable
from functools import wraps
from typing import Any

_spent: dict[str, float] = defaultdict(float)


def _timed(label: str, function: Callable) -> Callable:
    @wraps(function)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        started = time.perf_counter()
        try:
            return function(*args, **kwargs)
        finally:
            _spent[label] += time.perf_counter() - started

    return wrapper


# (module, object in it, attribute, label): the steps timed; a step the code no longer has is
# left out, so the script survives refactors of the views.
_STEPS = [
    ("rest_framework.request", "Request", "_authenticate", "DRF authentication (token lookup)"),
    (
        "staffing.backends",
        "RoleBackend",
        "_read_permissions",
        "permissions: one query, then remembered",
    ),
    ("tickets.api", "TicketViewSet", "_validated", "input validation (TicketCreateInput)"),
    ("tickets.services", None, "ticket_create", "ticket_create (policy, number, INSERTs, COMMIT)"),
    ("tickets.api", "TicketViewSet", "_detail", "response: re-read ticket, events, extensions"),
    ("tickets.serializers", "TicketDetailOutput", "data", "response: TicketDetailOutput.data"),
    ("tests.bench.views", "BareTicketSerializer", "is_valid", "bare: ModelSerializer validation"),
    ("tests.bench.views", "BareTicketCreateView", "perform_create", "bare: INSERT"),
    ("tests.bench.views", "BareTicketSerializer", "data", "bare: response serialization"),
    ("rest_framework.renderers", "JSONRenderer", "render", "JSON rendering"),
]


_DETAIL, _SERIALIZE = _STEPS[4][3], _STEPS[5][3]


def _instrument() -> None:
    """Time the steps of both creates by wrapping them where the views look them up."""
    for module_name, owner_name, name, label in _STEPS:
        owner = importlib.import_module(module_name)
        if owner_name is not None:
            owner = getattr(owner, owner_name, None)
        attribute = getattr(owner, name, None)
        if attribute is None:
            print(f"(not timed: {module_name}.{owner_name}.{name} is gone)")
            continue
        attribute = inspect.getattr_static(owner, name)
        if isinstance(attribute, property):
            setattr(owner, name, property(_timed(label, attribute.fget)))
        else:
            setattr(owner, name, _timed(label, getattr(owner, name)))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.bench.profile", description=__doc__)
    parser.add_argument("--requests", type=int, default=300, help="requests per create")
    parser.add_argument("--cprofile", action="store_true", help="also profile with cProfile")
    parser.add_argument("--top", type=int, default=30, help="functions cProfile lists")
    args = parser.parse_args(argv)
    os.environ["DJANGO_SETTINGS_MODULE"] = "tests.bench.settings"

    import django

    django.setup()
    from django.db import connection
    from django.test import Client
    from django.utils import timezone

    from tests.bench.dataset import dataset_prepare
    from tests.bench.load import TicketBodies

    with connection.cursor() as cursor:
        cursor.execute("SELECT tickets, days FROM bench_dataset")
        tickets, days = cursor.fetchone()
    dataset = dataset_prepare(tickets=tickets, days=days, fresh=False)
    bodies = TicketBodies(dataset, day=timezone.localtime())
    client = Client(HTTP_HOST="127.0.0.1")
    token = {"HTTP_AUTHORIZATION": f"Token {dataset.token}"}
    cases = {
        "full": lambda: client.post(
            "/api/v1/tickets/", bodies.api(), content_type="application/json", **token
        ),
        "bare": lambda: client.post(
            "/bench/bare-tickets/", bodies.bare(), content_type="application/json"
        ),
    }
    _instrument()
    for name, post in cases.items():
        for _ in range(30):  # warm imports, caches and the connection
            assert post().status_code == 201
        queries: list[tuple[float, str]] = []

        def timed_query(execute, sql, params, many, context, queries=queries):
            started = time.perf_counter()
            try:
                return execute(sql, params, many, context)
            finally:
                queries.append((time.perf_counter() - started, sql))

        commit = connection._commit

        def timed_commit(commit=commit, queries=queries):
            started = time.perf_counter()
            try:
                return commit()
            finally:
                queries.append((time.perf_counter() - started, "COMMIT"))

        connection._commit = timed_commit
        try:
            with connection.execute_wrapper(timed_query):
                response = post()
        finally:
            connection._commit = commit
        assert response.status_code == 201, response.content
        print(f"\n== {name}: {len(queries)} queries in one request (round trip, ms)")
        for number, (seconds, sql) in enumerate(queries, 1):
            print(f"{number:>3}. {seconds * 1000:5.2f}  {sql[:140]}")

        _spent.clear()
        started = time.perf_counter()
        for _ in range(args.requests):
            post()
        total = (time.perf_counter() - started) / args.requests * 1000
        print(f"\n== {name}: {total:.2f} ms per request in-process ({1000 / total:.0f}/s)")
        # The detail's time includes its serialization: show the two apart.
        reread, serialize = _spent.get(_DETAIL), _spent.get(_SERIALIZE)
        if reread is not None and serialize is not None:
            _spent[_DETAIL] = reread - serialize
        accounted = 0.0
        for label, seconds in _spent.items():
            per_request = seconds / args.requests * 1000
            accounted += per_request
            print(f"  {per_request:6.2f} ms  {per_request / total:4.0%}  {label}")
        rest = total - accounted
        print(f"  {rest:6.2f} ms  {rest / total:4.0%}  the rest: middleware, DRF dispatch, parsing")

        if args.cprofile:
            profiler = cProfile.Profile()
            profiler.enable()
            for _ in range(args.requests):
                post()
            profiler.disable()
            out = io.StringIO()
            pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(args.top)
            print(out.getvalue())
    dataset_prepare(tickets=tickets, days=days, fresh=False)  # deletes the rows made here
    return 0


if __name__ == "__main__":
    sys.exit(main())
