"""The storm's database: an ordinary centre's history, and the people who work the storm.

The tickets are the ticket benchmark's (``tests.bench.dataset``: received over the last 90
days, a few per cent still open, every deadline stored), so the overdue sweep, the board
and the caller look-ups work on a table of realistic size. On top of it come the storm's
staff: seat agents, each signed in at a seat of their own (the extension the switch names),
dispatchers, a leader with a mobile phone for each crew (every crew on duty with every
skill, so the send dialog has recommendations), and a signed-in session for each, made here
as ``force_login`` would: signing in hashes the password (PBKDF2, most of a second of CPU),
which is not what a storm costs.

The load generator runs without Django; it is given what it needs as JSON (``StormStaff``).
"""

import time
from dataclasses import asdict, dataclass

from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.contrib.sessions.backends.db import SessionStore
from django.db import connection
from django.utils import timezone

from dispatch.models import Community, Crew, CrewMembership
from staffing.models import Seat
from staffing.roles import Role
from staffing.services import seat_sign_in, user_create
from tickets.choices import Grade
from tickets.models import FaultType, Skill
from tickets.tasks import alerts_sweep

# Seats of a provincial centre in a storm: floating seats switched on, shifts called in.
AGENTS = 60
DISPATCHERS = 12
FIRST_EXTENSION = 8001


@dataclass(frozen=True)
class StormStaff:
    """Who works the storm, and the choices their forms offer (ids of this database)."""

    agents: list[dict]  # username, their seat's extension, session
    dispatchers: list[dict]  # username, session
    crews: list[dict]  # id, username, session
    fault_types: list[dict]  # id, code, category, grade
    communities: list[int]
    cti_secret: str

    def as_json(self) -> dict:
        return asdict(self)


def _session_for(user) -> str:
    """Return the key of a signed-in session of ``user``, as Django's login writes it."""
    session = SessionStore()
    session[SESSION_KEY] = str(user.pk)
    session[BACKEND_SESSION_KEY] = settings.AUTHENTICATION_BACKENDS[0]
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session.create()
    return session.session_key


def storm_staff_create(*, cti_secret: str, log=print) -> StormStaff:
    """Create the storm's staff with their sessions, and put every crew on duty."""
    started = time.monotonic()
    agents = []
    for n in range(AGENTS):
        user = user_create(username=f"storm-agent-{n}", password=None, role=Role.AGENT)
        seat = Seat.objects.create(label=f"S{n + 1:02d}", extension=str(FIRST_EXTENSION + n))
        seat_sign_in(agent=user, seat=seat, at=timezone.now())
        agents.append(
            {"username": user.username, "extension": seat.extension, "session": _session_for(user)}
        )
    dispatchers = []
    for n in range(DISPATCHERS):
        user = user_create(username=f"storm-dispatcher-{n}", password=None, role=Role.DISPATCHER)
        dispatchers.append({"username": user.username, "session": _session_for(user)})
    skills = list(Skill.objects.all())
    crews = []
    for n, crew in enumerate(Crew.objects.order_by("id")):
        crew.skills.set(skills)
        crew.is_on_duty = True
        crew.save(update_fields=["is_on_duty"])
        leader = user_create(
            username=f"storm-crew-{n}",
            password=None,
            role=Role.CREW_MEMBER,
            phone=f"+8613700{n:06d}",
        )
        CrewMembership.objects.create(crew=crew, user=leader, is_leader=True)
        crews.append({"id": crew.pk, "username": leader.username, "session": _session_for(leader)})
    fault_types = [
        {"id": f.pk, "code": f.code, "category": f.category, "grade": f.default_grade}
        for f in FaultType.objects.exclude(default_grade=Grade.CONSULT).order_by("id")
    ]
    communities = list(Community.objects.order_by("id").values_list("id", flat=True))
    log(
        f"staff: {len(agents)} agents, {len(dispatchers)} dispatchers, {len(crews)} crew "
        f"leaders, in {time.monotonic() - started:.1f} s"
    )
    return StormStaff(
        agents=agents,
        dispatchers=dispatchers,
        crews=crews,
        fault_types=fault_types,
        communities=communities,
        cti_secret=cti_secret,
    )


def alerts_catch_up(*, log=print) -> None:
    """Run the overdue sweep until it has nothing new: the centre swept all along before the
    storm, so the storm's sweeps start from a watermark of a minute ago, not from none."""
    started = time.monotonic()
    alerts_sweep()
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM tickets_alert")
        (alerts,) = cursor.fetchone()
        cursor.execute("VACUUM (ANALYZE)")
    log(f"overdue sweep caught up: {alerts:,} alerts, in {time.monotonic() - started:.1f} s")
