"""The seven faults: each injected for real into running processes, then checked by counts."""

from tests.faults.scenarios._common import Centre, Context, Result
from tests.faults.scenarios.celery import beat_twice, export_killed, worker_killed
from tests.faults.scenarios.postgres import postgres_crashed, postgres_restarted
from tests.faults.scenarios.redis import redis_frozen, redis_stopped

SCENARIOS = {
    "redis": redis_stopped,
    "worker": worker_killed,
    "beat": beat_twice,
    "postgres": postgres_restarted,
    "redis-frozen": redis_frozen,
    "postgres-immediate": postgres_crashed,
    "export": export_killed,
}

__all__ = ["SCENARIOS", "Centre", "Context", "Result"]
