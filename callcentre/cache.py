"""The shared cache on Redis, read as an empty cache while Redis cannot be reached.

Everything the app keeps in the cache can be read again from the database or drawn again, so
a Redis outage costs speed, not pages: a read misses, a write is forgotten, ``add`` stores
(as in an empty cache) and ``incr`` finds no key. After a failure the process leaves Redis
alone for a few seconds, so a request waits at most one short timeout, not one per call.

A write lost in the outage may leave an older value standing in Redis (the board's version
from before the outage would tell a poll that nothing changed). So each process remembers the
keys whose writes it lost and deletes them as soon as Redis answers again: whoever reads one
next computes it afresh. Rate limits (sign-in, status look-ups, Open311, API tokens) count in
the cache too; while it is down they count nothing and let requests through (logged), rather
than locking every agent out.
"""

import logging
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any

from django.core.cache.backends.base import DEFAULT_TIMEOUT
from django.core.cache.backends.redis import RedisCache
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

logger = logging.getLogger(__name__)

# How long a process leaves Redis alone after a failure before it tries again.
RETRY_AFTER_SECONDS = 5.0
# The lost writes a process remembers to undo; an outage longer than this many writes undoes
# the first ones only (the rest expire with their timeouts).
LOST_KEYS_KEPT = 10_000
REDIS_DOWN = (RedisConnectionError, RedisTimeoutError)


class _Outage:
    """What this process knows of one Redis being down, shared by its threads."""

    def __init__(self, location: str) -> None:
        self.location = location
        self.lock = threading.Lock()
        self.retry_at = 0.0
        self.down = False
        self.lost: set[str] = set()

    def skipping(self) -> bool:
        return self.down and time.monotonic() < self.retry_at

    def failed(self, error: Exception) -> None:
        with self.lock:
            if not self.down:
                logger.warning(
                    "cache %s unreachable (%s): reading it as empty until it answers",
                    self.location,
                    error,
                )
            self.down = True
            self.retry_at = time.monotonic() + RETRY_AFTER_SECONDS

    def lose(self, keys: Iterable[str]) -> None:
        with self.lock:
            for key in keys:
                if len(self.lost) >= LOST_KEYS_KEPT:
                    break
                self.lost.add(key)

    def forget_lost(self, forget: Callable[[list[str]], Any]) -> None:
        """Before the first call once Redis may be back, delete the keys whose writes were
        lost; raise as the cache does if it is still down."""
        if not self.lost:
            return
        with self.lock:
            lost, self.lost = list(self.lost), set()
        try:
            forget(lost)
        except REDIS_DOWN:
            self.lose(lost)
            raise
        logger.warning(
            "cache %s: %d keys written while it was down deleted", self.location, len(lost)
        )

    def answered(self) -> None:
        if self.down:
            with self.lock:
                if self.down:
                    self.down = False
                    logger.warning("cache %s answers again", self.location)


_outages: dict[str, _Outage] = {}
_outages_lock = threading.Lock()


def _outage_for(location: str) -> _Outage:
    with _outages_lock:
        return _outages.setdefault(location, _Outage(location))


class DegradingRedisCache(RedisCache):
    """Django's Redis cache, read as an empty cache that forgets writes while Redis is down.

    Give it short ``socket_connect_timeout`` and ``socket_timeout`` in ``OPTIONS``.
    """

    def __init__(self, server: str, params: dict) -> None:
        super().__init__(server, params)
        self._outage = _outage_for(str(server))

    def add(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        return self._write([key], version, True, super().add, key, value, timeout, version)

    def get(self, key, default=None, version=None):
        return self._read(default, super().get, key, default, version)

    def set(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        self._write([key], version, None, super().set, key, value, timeout, version)

    def touch(self, key, timeout=DEFAULT_TIMEOUT, version=None):
        return self._write([key], version, False, super().touch, key, timeout, version)

    def delete(self, key, version=None):
        return self._write([key], version, False, super().delete, key, version)

    def get_many(self, keys, version=None):
        return self._read({}, super().get_many, keys, version)

    def has_key(self, key, version=None):
        return self._read(False, super().has_key, key, version)

    def incr(self, key, delta=1, version=None):
        missing = object()
        value = self._write([key], version, missing, super().incr, key, delta, version)
        if value is missing:
            raise ValueError(f"Key '{key}' not found.")  # as an empty cache would say
        return value

    def set_many(self, data, timeout=DEFAULT_TIMEOUT, version=None):
        keys = list(data)
        return self._write(keys, version, keys, super().set_many, data, timeout, version)

    def delete_many(self, keys, version=None):
        keys = list(keys)
        self._write(keys, version, None, super().delete_many, keys, version)

    def _read(self, default: Any, operation: Callable, *args: Any) -> Any:
        if self._outage.skipping():
            return default
        try:
            self._outage.forget_lost(self._cache.delete_many)
            result = operation(*args)
        except REDIS_DOWN as error:
            self._outage.failed(error)
            return default
        self._outage.answered()
        return result

    def _write(
        self, keys: list, version: int | None, default: Any, operation: Callable, *args: Any
    ) -> Any:
        if not self._outage.skipping():
            try:
                self._outage.forget_lost(self._cache.delete_many)
                result = operation(*args)
            except REDIS_DOWN as error:
                self._outage.failed(error)
            else:
                self._outage.answered()
                return result
        self._outage.lose(self.make_and_validate_key(key, version=version) for key in keys)
        return default
