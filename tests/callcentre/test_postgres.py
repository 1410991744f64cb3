"""PostgreSQL connections read timestamps with psycopg's C loader, to the same values."""

from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from psycopg import adapters, pq

from callcentre.postgres import UtcTimestamptzLoader, use_c_timestamp_loader
from tests.conftest import T0

pytestmark = pytest.mark.django_db

_TIMESTAMPTZ = adapters.types["timestamptz"].oid


def test_given_a_connection_then_it_loads_timestamps_with_the_c_loader():
    connection.ensure_connection()

    loader = connection.connection.adapters.get_loader(_TIMESTAMPTZ, pq.Format.TEXT)

    assert loader is UtcTimestamptzLoader


@pytest.mark.parametrize(
    "value",
    [
        T0,
        datetime(2026, 11, 16, 0, 0, 0, 123456, tzinfo=ZoneInfo("Asia/Shanghai")),
        datetime(1999, 12, 31, 23, 59, 59, tzinfo=UTC),
    ],
)
def test_given_a_stored_time_when_it_is_read_back_then_it_is_the_same_instant_in_utc(value):
    with connection.cursor() as cursor:
        cursor.execute("SELECT %s::timestamptz, NULL::timestamptz", [value])
        read, nothing = cursor.fetchone()

    assert read == value
    assert read.tzinfo is UTC
    assert read.utcoffset() == timedelta(0)
    assert nothing is None


def test_given_a_session_not_in_utc_then_djangos_own_loader_stays():
    adapters_map = SimpleNamespace(registered=[])
    other = SimpleNamespace(
        vendor="postgresql",
        timezone_name="Asia/Shanghai",
        timezone=ZoneInfo("Asia/Shanghai"),
        connection=SimpleNamespace(
            adapters=SimpleNamespace(register_loader=lambda *a: adapters_map.registered.append(a))
        ),
    )

    use_c_timestamp_loader(sender=None, connection=other)

    assert adapters_map.registered == []
