"""Run the fault scenarios against a PostgreSQL and a Redis of their own; write each one's
result to tests/faults/results/<scenario>.md; exit 1 if any failed.

``python -m tests.faults.run`` runs all seven; ``--scenario redis`` (worker, beat, postgres,
redis-frozen, postgres-immediate, export) runs one, and may be given again. scripts/faults.sh
sets up and calls this.
"""

import argparse
import logging
import os
import shutil
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"
# The export last: its thousands of tickets would make every later scenario's pages heavier.
ORDER = ["redis", "worker", "beat", "postgres", "redis-frozen", "postgres-immediate", "export"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--scenario", action="append", choices=ORDER, help="run only this one")
    parser.add_argument("--folder", type=Path, default=Path("/tmp/callcentre-faults"))  # noqa: S108
    parser.add_argument("--postgres-port", type=int, default=5433)
    parser.add_argument("--redis-port", type=int, default=6390)
    parser.add_argument("--web-port", type=int, default=8791)
    parser.add_argument("--keep", action="store_true", help="leave the servers' files behind")
    args = parser.parse_args(argv)
    chosen = [name for name in ORDER if name in (args.scenario or ORDER)]

    from tests.faults.stack import App, Postgres, Redis

    postgres = Postgres(args.folder / "postgres", args.postgres_port)
    redis = Redis(args.folder / "redis", args.redis_port)
    postgres.destroy()
    redis.destroy()
    # A run's logs and files (the exports) are its own: a process's log is named by its
    # number in the run, and would otherwise go on from the last run's.
    shutil.rmtree(args.folder / "var", ignore_errors=True)
    app = App(
        var_dir=args.folder / "var",
        database_url=postgres.url,
        redis=redis,
        port=args.web_port,
    )
    # This process counts in the same database, through the same settings.
    os.environ.update({key: app.env[key] for key in ("DATABASE_URL", "CELERY_BROKER_URL")})
    os.environ.update({key: app.env[key] for key in ("CACHE_URL", "VAR_DIR", "DEMO_MODE")})
    os.environ["DJANGO_SETTINGS_MODULE"] = "callcentre.settings"
    os.environ.setdefault("SMS_BACKEND", "dispatch.sms.DatabaseSmsBackend")

    results = []
    try:
        print(f"PostgreSQL on {args.postgres_port}, Redis on {args.redis_port}", flush=True)
        postgres.create()
        redis.start()
        import django

        django.setup()
        logging.getLogger("httpx").setLevel(logging.WARNING)  # a line per request otherwise
        from tests.faults.scenarios import SCENARIOS, Context

        context = Context(postgres=postgres, redis=redis, app=app, centre=_centre_make())
        for name in chosen:
            print(f"== {name}", flush=True)
            started = time.monotonic()
            result = SCENARIOS[name](context)
            app.stop_all()
            _write(result, seconds=time.monotonic() - started, command=_command(argv))
            results.append(result)
            print(f"   {'pass' if result.passed else 'FAIL'}", flush=True)
    finally:
        app.stop_all()
        redis.destroy() if not args.keep else redis.stop()
        postgres.destroy() if not args.keep else postgres.stop()
    for result in results:
        print(f"{result.name:18} {'pass' if result.passed else 'FAIL'}")
    return 0 if results and all(result.passed for result in results) else 1


def _centre_make():
    """Migrate the new database and make a small centre: an agent, a dispatcher, two shift
    leaders (who are texted an emergency's escalation), a crew, fault types, API tokens."""
    from django.core.management import call_command
    from rest_framework.authtoken.models import Token

    from dispatch.models import CrewMembership
    from staffing.roles import Role
    from tests.dispatch.factories import CommunityFactory, CrewFactory
    from tests.faults.scenarios import Centre
    from tests.staffing.factories import user_with_role
    from tests.tickets.factories import FaultTypeFactory
    from tickets.choices import Grade

    call_command("migrate", verbosity=0, interactive=False)
    call_command("collectstatic", verbosity=0, interactive=False)
    community = CommunityFactory()
    crew = CrewFactory()
    crew.districts.add(community.district)
    leader = user_with_role(Role.CREW_MEMBER, "crew-leader")
    leader.phone = "+8613700000001"  # texted each ticket sent to the crew
    leader.save(update_fields=["phone"])
    CrewMembership.objects.create(crew=crew, user=leader, is_leader=True)
    for number, name in enumerate(("leader-day", "leader-night"), start=2):
        shift_leader = user_with_role(Role.SHIFT_LEADER, name)
        shift_leader.phone = f"+861370000000{number}"  # texted an emergency's escalation
        shift_leader.save(update_fields=["phone"])
    agent = user_with_role(Role.AGENT, "agent")
    dispatcher = user_with_role(Role.DISPATCHER, "dispatcher")
    leak = FaultTypeFactory(code="household-leak", name="单户漏水")
    burst = FaultTypeFactory(code="burst-main", name="爆管", default_grade=Grade.EMERGENCY)
    return Centre(
        agent=agent,
        dispatcher=dispatcher,
        shift_leaders=2,
        community=community,
        crew_code=crew.code,
        leak_code=leak.code,
        burst=burst,
        agent_token=Token.objects.create(user=agent).key,
        dispatcher_token=Token.objects.create(user=dispatcher).key,
        password="pw-for-tests-1",  # user_with_role's
    )


def _command(argv: list[str] | None) -> str:
    given = sys.argv[1:] if argv is None else argv
    return " ".join(["scripts/faults.sh", *given])


def _write(result, *, seconds: float, command: str) -> None:
    RESULTS.mkdir(exist_ok=True)
    lines = [
        f"# Fault: {result.title}",
        "",
        f"**{'pass' if result.passed else 'FAIL'}**, run {datetime.now(UTC):%Y-%m-%d %H:%M} UTC "
        f"in {seconds:.0f} s with `{command}` ({os.cpu_count()} cores).",
        "",
        "| check | found | expected | |",
        "| --- | --- | --- | --- |",
    ]
    for label, found, expected, ok in result.rows:
        lines.append(f"| {label} | {found} | {expected} | {'ok' if ok else '**FAIL**'} |")
    if result.notes:
        lines += ["", *[f"- {note}" for note in result.notes]]
    (RESULTS / f"{result.name}.md").write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    sys.exit(main())
