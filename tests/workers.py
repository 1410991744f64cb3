"""Real Celery worker processes on Redis, against the test database, for the tests that
need them (the sweep run at once or killed, the exports)."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from django.db import connection

from callcentre.celery import app

ROOT = Path(__file__).resolve().parents[1]


class Worker:
    """A Celery worker process (solo pool) on its own queue, against the test database."""

    def __init__(self, queue: str, name: str, log: Path) -> None:
        database = connection.settings_dict
        env = {
            **os.environ,
            "DATABASE_URL": (
                f"postgres://{database['USER']}@{database['HOST']}:{database['PORT']}/"
                f"{database['NAME']}"
            ),
        }
        # The worker's output is kept with the test's files, for a failure's post-mortem.
        self.log = log.open("w")
        self.process = subprocess.Popen(  # noqa: S603 - our own interpreter and arguments
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "callcentre",
                "worker",
                "--pool",
                "solo",
                "--queues",
                queue,
                "--hostname",
                f"{name}@%h",
                "--without-gossip",
                "--without-mingle",
                "--loglevel",
                "WARNING",
            ],
            cwd=ROOT,
            env=env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )

    def kill(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=30)
        self.log.close()

    def stop(self) -> None:
        """Stop once the task in hand is done (a warm shutdown)."""
        self.process.send_signal(signal.SIGTERM)
        self.process.wait(timeout=120)
        self.log.close()


def queue_length(queue: str) -> int:
    with app.connection_for_write() as broker:
        return broker.default_channel.client.llen(queue)


def wait_for(condition, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("timed out")
        time.sleep(0.2)
