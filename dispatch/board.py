"""The board's version: one value every process shares, changed after each ticket change.

A poll that brings the version the client already has is answered 304 without reading a
ticket. The version moves after the change commits, so a poll that sees the new version
also sees the new rows. The lanes drawn for a version are kept beside it for a minute: every
dispatcher looking at the same board (the same filters, language and tickets they may see)
gets them from there, and they are drawn once per change instead of once per dispatcher.
"""

from collections.abc import Callable
from contextlib import suppress
from uuid import uuid4

from django.conf import settings
from django.core.cache import caches
from django.db import transaction

_KEY = "dispatch:board-version"


def _cache():
    return caches["shared"]


def board_version() -> str:
    """Return the current version; a cache that lost it starts a new one."""
    try:
        version = _cache().get(_KEY)
        if version is None:
            version = uuid4().hex
            _cache().add(_KEY, version, timeout=None)
            version = _cache().get(_KEY, version)
    except Exception:  # a cache outage must not stop the board
        # Without the cache every poll is answered in full: slower, never stale.
        return uuid4().hex
    return version


def board_changed() -> None:
    """Move the version once the current transaction commits."""

    def bump() -> None:
        # While the cache is down every poll is answered in full anyway.
        with suppress(Exception):
            _cache().set(_KEY, uuid4().hex, timeout=None)

    transaction.on_commit(bump)


def board_lanes_drawn(*, key: str, draw: Callable[[], str]) -> str:
    """Return the lanes kept under ``key`` (which names the board's version), else draw and
    keep them for ``BOARD_LANES_CACHE_SECONDS``.

    Read the version before the tickets: lanes drawn from rows newer than their version are
    harmless (the next poll brings the newer version), older ones cannot happen.
    """
    seconds = settings.BOARD_LANES_CACHE_SECONDS
    if seconds <= 0:
        return draw()
    key = f"dispatch:lanes:{key}"
    try:
        html = _cache().get(key)
    except Exception:  # a cache outage must not stop the board
        html = None
    if html is None:
        html = draw()
        with suppress(Exception):
            _cache().set(key, html, timeout=seconds)
    return html
