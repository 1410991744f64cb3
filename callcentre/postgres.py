"""PostgreSQL connections: timestamps parsed by psycopg's C loader.

Django reads every ``timestamptz`` through a subclass of psycopg's pure-Python loader, which
sets the connection's time zone on each value. A board of two hundred cards with several
deadlines each reads some two thousand of them, and parsing them in Python cost more than the
queries. When the session's time zone is the one Django wants (UTC, with ``USE_TZ``),
psycopg's own C loader returns the same values, so it takes that loader's place.
"""

import datetime

from psycopg import adapters, pq
from psycopg.adapt import Loader

_TIMESTAMPTZ_OID = adapters.types["timestamptz"].oid
_FAST_LOADER = adapters.get_loader(_TIMESTAMPTZ_OID, pq.Format.TEXT)


class UtcTimestamptzLoader(Loader):
    """psycopg's C timestamptz loader, with the ``timezone`` Django's backend checks."""

    # Django compares this with the connection's time zone before each cursor, and would
    # put its own loader back if they differed.
    timezone = datetime.UTC

    def __init__(self, oid: int, context=None):
        super().__init__(oid, context)
        # psycopg calls ``loader.load`` for each value: the C loader's method answers.
        self.load = _FAST_LOADER(oid, context).load

    def load(self, data):  # always shadowed by the instance's C method
        raise NotImplementedError


def c_loaders_available() -> bool:
    return pq.__impl__ != "python"


def use_c_timestamp_loader(sender, connection, **kwargs) -> None:
    """Connect to ``connection_created``: load timestamps in C where the result is the same."""
    if connection.vendor != "postgresql" or not c_loaders_available():
        return
    # The C loader gives values the session's time zone: exactly Django's when it is UTC.
    if connection.timezone_name != "UTC" or connection.timezone != datetime.UTC:
        return
    connection.connection.adapters.register_loader("timestamptz", UtcTimestamptzLoader)
