"""The fault runs' own PostgreSQL and Redis, and the app's processes against them.

Both servers run from a folder under /tmp on ports of their own, so stopping and restarting
them never touches the PostgreSQL (5432) and Redis (6379) that the tests and other people
use on the same machine.
"""

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[2]


def _run(command: list[str], **options) -> subprocess.CompletedProcess:
    """Run one of our own commands (the servers' tools, found on the PATH or by path)."""
    return subprocess.run(command, **options)  # noqa: S603


def _spawn(command: list[str], **options) -> subprocess.Popen:
    return subprocess.Popen(command, **options)  # noqa: S603


def _as_postgres(command: list[str]) -> list[str]:
    """PostgreSQL refuses to run as root: run it as the postgres user then."""
    if os.geteuid() == 0:
        return ["runuser", "-u", "postgres", "--", *command]
    return command


def _postgres_bin() -> Path:
    found = sorted(
        Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"), key=lambda path: int(path.parts[-3])
    )
    if not found:
        raise SystemExit("PostgreSQL is not installed (apt-get install postgresql).")
    return found[-1].parent


class Postgres:
    """A PostgreSQL cluster of our own: initdb'd in ``folder``, listening on ``port``."""

    def __init__(self, folder: Path, port: int) -> None:
        self.folder = folder
        self.port = port
        self.data = folder / "data"
        self.log = folder / "postgres.log"
        self.bin = _postgres_bin()
        self.url = f"postgres://postgres@127.0.0.1:{port}/callcentre"

    def create(self) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        if os.geteuid() == 0:
            shutil.chown(self.folder, "postgres", "postgres")
        _run(
            _as_postgres(
                [
                    *(str(self.bin / "initdb"), "-D", str(self.data), "-U", "postgres"),
                    *("--auth=trust", "--encoding=UTF8", "--locale=C.UTF-8"),
                ]
            ),
            check=True,
            stdout=subprocess.DEVNULL,
        )
        self.start()
        _run(
            [
                *(str(self.bin / "createdb"), "-h", "127.0.0.1", "-p", str(self.port)),
                *("-U", "postgres", "callcentre"),
            ],
            check=True,
        )

    def start(self) -> None:
        # Without fsync: it guards against the machine losing power, not against the
        # server being stopped or killed (the faults here), and this machine's disk makes
        # each commit wait tens of milliseconds for it.
        options = f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.folder} -c fsync=off"
        _run(
            _as_postgres(
                [
                    *(str(self.bin / "pg_ctl"), "-D", str(self.data), "-l", str(self.log)),
                    *("-o", options, "-w", "-t", "60", "start"),
                ]
            ),
            check=True,
            stdout=subprocess.DEVNULL,
        )

    def stop(self) -> None:
        """Stop at once: connections are cut, open transactions roll back."""
        self._pg_ctl_stop("fast")

    def crash(self) -> None:
        """Stop as a crash would (``-m immediate``): every process quits at once, no
        checkpoint; the next start replays the WAL (crash recovery)."""
        self._pg_ctl_stop("immediate")

    def _pg_ctl_stop(self, mode: str) -> None:
        _run(
            _as_postgres(
                [str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", mode, "-w", "stop"]
            ),
            check=True,
            stdout=subprocess.DEVNULL,
        )

    def destroy(self) -> None:
        if (self.data / "postmaster.pid").exists():
            _run(
                _as_postgres(
                    [str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "stop"]
                ),
                check=False,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
        shutil.rmtree(self.folder, ignore_errors=True)


class Redis:
    """A Redis server of our own on ``port``, with an append-only file as in production, so
    that what is queued survives its restart."""

    def __init__(self, folder: Path, port: int) -> None:
        self.folder = folder
        self.port = port
        self.process: subprocess.Popen | None = None
        self.frozen = False

    def url(self, db: int) -> str:
        return f"redis://127.0.0.1:{self.port}/{db}"

    def start(self) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        log = (self.folder / "redis.log").open("a")
        self.process = _spawn(
            [
                *("redis-server", "--port", str(self.port), "--bind", "127.0.0.1"),
                *("--dir", str(self.folder), "--appendonly", "yes", "--save", ""),
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        _wait(lambda: self._ping(), what=f"Redis on {self.port}")

    def stop(self) -> None:
        """Shut down as an operator would (``redis-cli shutdown``): clients are refused."""
        if self.frozen:  # a run cut short while it was frozen: it could not answer
            self.thaw()
        _run(["redis-cli", "-p", str(self.port), "shutdown"], check=False, capture_output=True)
        if self.process is not None:
            self.process.wait(timeout=30)

    def freeze(self) -> None:
        """SIGSTOP the server: it neither answers nor refuses; connections are still accepted
        by the kernel and then hang (a Redis stuck on a slow disk, a paused VM)."""
        os.kill(self.process.pid, signal.SIGSTOP)
        self.frozen = True

    def thaw(self) -> None:
        """SIGCONT: the server reads what was sent while it was frozen and answers again."""
        os.kill(self.process.pid, signal.SIGCONT)
        self.frozen = False

    def _ping(self) -> bool:
        done = _run(["redis-cli", "-p", str(self.port), "ping"], check=False, capture_output=True)
        return b"PONG" in done.stdout

    def destroy(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=30)
        shutil.rmtree(self.folder, ignore_errors=True)


class Process:
    """One of the app's processes (gunicorn, a Celery worker, beat) in its own process group,
    so that a kill takes its children (the prefork pool) with it."""

    def __init__(self, name: str, command: list[str], *, env: dict, log_dir: Path) -> None:
        self.name = name
        self.log_path = log_dir / f"{name}.log"
        self.log = self.log_path.open("a")
        self.process = _spawn(
            command,
            cwd=ROOT,
            env=env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    @property
    def alive(self) -> bool:
        return self.process.poll() is None

    def kill(self) -> None:
        """SIGKILL the whole group: no warm shutdown, no task finished, nothing acked."""
        if self.alive:
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=30)
        self.log.close()

    def stop(self) -> None:
        """A warm shutdown: SIGTERM to the main process only, which lets its children end
        the task in hand (SIGTERM to them too would cut it)."""
        if self.alive:
            self.process.terminate()
            try:
                self.process.wait(timeout=120)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=30)
        self.log.close()


class App:
    """The app's environment on our servers, and the processes started on it."""

    def __init__(self, *, var_dir: Path, database_url: str, redis: Redis, port: int) -> None:
        self.var_dir = var_dir
        self.port = port
        self.base_url = f"http://127.0.0.1:{port}"
        self.log_dir = var_dir / "log"
        self.log_dir.mkdir(parents=True, exist_ok=True)
        self.env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "callcentre.settings",
            "DATABASE_URL": database_url,
            "CELERY_BROKER_URL": redis.url(0),
            "CACHE_URL": redis.url(1),
            "VAR_DIR": str(var_dir),
            "DEBUG": "0",
            "DEMO_MODE": "1",
            "SECURE_HSTS_SECONDS": "0",
            "SECURE_COOKIES": "0",
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            "SMS_BACKEND": "dispatch.sms.DatabaseSmsBackend",
            "PUBLIC_BASE_URL": self.base_url,
            "LOG_LEVEL": "INFO",
        }
        self.processes: list[Process] = []
        self._count = 0

    def _start(self, name: str, command: list[str]) -> Process:
        self._count += 1
        process = Process(f"{name}-{self._count}", command, env=self.env, log_dir=self.log_dir)
        self.processes.append(process)
        return process

    def web(self) -> Process:
        process = self._start(
            "web",
            [
                *(sys.executable, "-m", "gunicorn", "callcentre.wsgi"),
                *("--bind", f"127.0.0.1:{self.port}", "--workers", "2", "--threads", "4"),
                *("--timeout", "60", "--access-logfile", "-"),
            ],
        )
        _wait(self._answers, what=f"gunicorn on {self.port}")
        return process

    def worker(self) -> Process:
        return self._start(
            "worker",
            [
                *(sys.executable, "-m", "celery", "-A", "callcentre", "worker"),
                *("--concurrency", "2", "--loglevel", "INFO", "--hostname", f"w{self._count}@%h"),
                *("--without-gossip", "--without-mingle"),
            ],
        )

    def beat(self) -> Process:
        return self._start(
            "beat",
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "callcentre",
                "beat",
                "--loglevel",
                "INFO",
                "--pidfile=",
            ],
        )

    def _answers(self) -> bool:
        try:
            return httpx.get(f"{self.base_url}/accounts/login/", timeout=5).status_code == 200
        except httpx.HTTPError:
            return False

    def stop_all(self) -> None:
        """Stop beat first, then the web, then the workers (each ends its task in hand)."""
        order = {"beat": 0, "web": 1, "worker": 2}
        for process in sorted(self.processes, key=lambda each: order[each.name.split("-")[0]]):
            if process.alive:
                process.stop()
        self.processes = []


def _wait(condition, *, what: str, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise RuntimeError(f"{what} did not come up in {timeout:.0f} s")
        time.sleep(0.3)
