"""What-if patches: product changes tried inside the benchmark's processes only.

They measure a recommended change before anyone makes it; the product's files are never
touched. ``tests.bench.urls`` applies the ones named in ``BENCH_WHAT_IF`` (comma-separated)
in each gunicorn worker; ``tests.bench.profile --what-if`` applies them in its own process.
Each mirrors the change described in ``tests/bench/README.md``.
"""

import inspect
import os
import time
from collections.abc import Callable, Iterable
from typing import Any


def _create_globals() -> tuple[dict[str, Any], Callable[[list[str]], str]]:
    """Return the module namespace ``ticket_create`` looks its helpers up in, and a finder of
    the first of several names it has (the services are being refactored)."""
    from tickets import services

    namespace = inspect.unwrap(services.ticket_create).__globals__

    def find(names: list[str]) -> str:
        for name in names:
            if name in namespace:
                return name
        raise LookupError(f"ticket_create uses none of {names}; update tests/bench/whatif.py")

    return namespace, find


def detail_in_memory() -> None:
    """Answer a create from the ticket ``ticket_create`` returns instead of reading it back.

    The related rows are already loaded (validation fetched the fault type and community),
    and a new ticket's history is the one event ``ticket_create`` wrote.
    """
    from rest_framework import status
    from rest_framework.response import Response

    from tickets import api, services
    from tickets import serializers as io
    from tickets.models import TicketEvent

    namespace, find = _create_globals()
    name = find(["event", "_event"])
    record_event = namespace[name]

    def event(**kwargs):
        row = record_event(**kwargs)
        if kwargs["action"] == TicketEvent.Action.CREATED:
            kwargs["ticket"].timeline = [row]
        return row

    def create(self, request):
        self._require_perm("tickets.add_ticket")
        data = self._validated(io.TicketCreateInput, request.data)
        ticket = services.ticket_create(actor=request.user, **data)
        ticket.extension_list = []
        return Response(io.TicketDetailOutput(ticket).data, status=status.HTTP_201_CREATED)

    namespace[name] = event
    api.TicketViewSet.create = create


def permission_cache(seconds: float = 60) -> None:
    """Keep each user's permission sets for ``seconds`` instead of two queries per request."""
    from django.contrib.auth.backends import ModelBackend

    load = ModelBackend._get_permissions
    kept: dict[tuple, tuple[float, set[str]]] = {}

    def _get_permissions(self, user_obj, obj, from_name):
        key = (user_obj.pk, user_obj.is_active, obj, from_name)
        now = time.monotonic()
        hit = kept.get(key)
        if hit is not None and hit[0] > now:
            return hit[1]
        perms = load(self, user_obj, obj, from_name)
        kept[key] = (now + seconds, perms)
        return perms

    ModelBackend._get_permissions = _get_permissions


def policy_cache(seconds: float = 60) -> None:
    """Keep the three SLA policies for ``seconds`` instead of one query per create."""
    namespace, find = _create_globals()
    name = find(["policy_for", "_policy"])
    load = namespace[name]
    kept: dict[str, tuple[float, object]] = {}

    def policy(grade: str):
        now = time.monotonic()
        hit = kept.get(grade)
        if hit is not None and hit[0] > now:
            return hit[1]
        policy = load(grade)
        kept[grade] = (now + seconds, policy)
        return policy

    namespace[name] = policy


PATCHES: dict[str, Callable[[], None]] = {
    "detail-in-memory": detail_in_memory,
    "permission-cache": permission_cache,
    "policy-cache": policy_cache,
}


def parse(value: str) -> list[str]:
    """Return the patch names in ``value`` (comma-separated), refusing unknown ones."""
    names = [name.strip() for name in value.split(",") if name.strip()]
    unknown = sorted(set(names) - PATCHES.keys())
    if unknown:
        raise ValueError(f"unknown what-if {', '.join(unknown)}; known: {', '.join(PATCHES)}")
    return names


def apply(names: Iterable[str]) -> None:
    for name in names:
        PATCHES[name]()


def apply_from_environment() -> list[str]:
    """Apply the patches ``BENCH_WHAT_IF`` names; return their names."""
    names = parse(os.environ.get("BENCH_WHAT_IF", ""))
    apply(names)
    return names
