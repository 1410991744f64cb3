"""Slowing down password guessing without locking a real user out.

Failed sign-ins are counted in the shared cache in 15-minute windows, per address and
username and per address alone. Past the limit that address waits for the window to end:
the person at another address (the real user at their seat) still signs in, and a guesser
cannot lock them out by failing on purpose.
"""

import hashlib
import time

from django.core.cache import caches

WINDOW_SECONDS = 15 * 60
# Failures from one address: for one username, and for all together (guessing across users).
PER_USERNAME = 5
PER_ADDRESS = 30


def _keys(address: str, username: str) -> tuple[str, str]:
    window = int(time.time()) // WINDOW_SECONDS
    named = hashlib.sha256(username.strip().lower().encode()).hexdigest()[:32]
    return f"signin:{window}:{address}:{named}", f"signin:{window}:{address}"


def signin_wait(*, address: str, username: str) -> int:
    """Seconds this address must wait before trying ``username`` again; 0 if it may."""
    cache = caches["shared"]
    named, anyone = _keys(address, username)
    counts = cache.get_many([named, anyone])
    if counts.get(named, 0) < PER_USERNAME and counts.get(anyone, 0) < PER_ADDRESS:
        return 0
    return WINDOW_SECONDS - int(time.time()) % WINDOW_SECONDS


def signin_failed(*, address: str, username: str) -> None:
    cache = caches["shared"]
    for key in _keys(address, username):
        cache.add(key, 0, timeout=WINDOW_SECONDS)
        try:
            cache.incr(key)
        except ValueError:  # the window's key expired between add and incr
            cache.set(key, 1, timeout=WINDOW_SECONDS)
        cache.touch(key, WINDOW_SECONDS)


def signin_succeeded(*, address: str, username: str) -> None:
    """A right password clears that username's count at this address."""
    caches["shared"].delete(_keys(address, username)[0])


def signin_refused_first(*, address: str) -> bool:
    """Whether this is the address's first refusal in the window: the audit log records that
    one, so a guesser hammering away cannot flood it."""
    window = int(time.time()) // WINDOW_SECONDS
    return caches["shared"].add(f"signin-refused:{window}:{address}", 1, timeout=WINDOW_SECONDS)
