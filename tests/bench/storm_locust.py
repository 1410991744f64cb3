"""The storm, as Locust's users: the people and the switch of a centre in a burst-main storm.

Run by ``tests.bench.storm`` (``locust --headless -f tests/bench/storm_locust.py``), never
by hand: it reads the staff, their sessions and the storm's size from the JSON file named by
``STORM_CONFIG``, and writes every request and every acknowledgement to ``STORM_OUTPUT``
when the run stops, for the orchestrator to set against the database.

One multiplier (1 = the peak of 1,000 calls in 10 minutes, 100 a minute) sizes the storm:

- **calls**: 85 % are put through to an agent: the switch reports ringing and answered
  (signed, as ``callcentre/cti.py`` checks), the agent's console pops up with the call (its
  caller's history drawn in), the agent logs a new ticket (65 %) or links the call to an
  open ticket of the storm (35 %), and the switch reports the end. The other 15 % ring and
  are abandoned. One event in twenty is sent twice, as a switch retries: it must change
  nothing;
- **agents' consoles**, each signed in at its seat, poll as the page does all shift long:
  ``/console/pop/`` every 2 s (with the call and phone on the form) and the seat and status
  panel every 5 s;
- **dispatchers** (2 + 2 per multiplier) poll ``/dispatch/lanes/`` every 3 s with the ETag
  they have, as ``board.js`` does; between polls each sends up to two new tickets to the
  crew the send dialog recommends, and closes one the crew has completed;
- **crews** (every crew, however big the storm: crews do not multiply) look at their list
  every 10 s and take up to three tickets a step further: accept, arrive, stop the water
  (emergencies), complete;
- **customers** (2 per multiplier) read ``/status/`` (a look-up by number and the phone's
  last four digits, then the ticket's page) and ``/notices/``.
"""

import hashlib
import hmac
import itertools
import json
import os
import random
import re
import time
import uuid
from collections import defaultdict
from pathlib import Path

import gevent
from locust import HttpUser, between, constant, constant_pacing, events, task

CONFIG = json.loads(Path(os.environ["STORM_CONFIG"]).read_text())
MULTIPLIER = CONFIG["multiplier"]
CALLS_PER_MINUTE = 100 * MULTIPLIER
ANSWERED_SHARE = 0.85
LINK_SHARE = 0.35
DUPLICATE_SHARE = 0.05
# How many of each kind: ``tests.bench.storm_measure.storm_users``.
AGENTS, SWITCHES, DISPATCHERS, CREWS, CUSTOMERS = (
    CONFIG["users"][kind] for kind in ("agents", "switches", "dispatchers", "crews", "customers")
)
RUN = CONFIG["run"]

# Every request: (name, started at, milliseconds, status, whether it was the answer wanted,
# the CPU milliseconds the web worker spent on it: its ``Server-Timing: cpu;dur=``).
samples: list[tuple[str, float, float, int, bool, float | None]] = []
_CPU = re.compile(r"\bcpu;dur=([\d.]+)")
failures: dict[str, list[str]] = defaultdict(list)
acks: dict[str, int] = defaultdict(int)
acked_calls: set[str] = set()
rung: list[float] = []  # when each call's ringing was acknowledged: the rate offered
acked_tickets: dict[str, str] = {}  # number -> caller phone
ticket_faults: dict[str, int] = {}  # number -> fault type id
storm = {
    "to_dispatch": [],  # numbers logged, not yet sent
    "open": [],  # numbers a call may still be linked to
    "crew_work": defaultdict(list),  # crew id -> [number, next step]
    "to_close": [],  # numbers the crew completed
}
_serial = itertools.count(1)


@events.request.add_listener
def _record(request_type, name, response_time, response, exception, context, **kwargs):
    status = getattr(response, "status_code", 0) or 0
    started = kwargs.get("start_time") or time.time() - response_time / 1000
    cpu = _CPU.search(response.headers.get("Server-Timing", "")) if status else None
    samples.append(
        (name, started, response_time, status, exception is None, float(cpu[1]) if cpu else None)
    )
    if exception is not None and len(failures[name]) < 5:
        failures[name].append(f"{status}: {exception}")


@events.test_stop.add_listener
def _write(**kwargs):
    out = {
        "samples": samples,
        "failures": failures,
        "acks": acks,
        "calls": sorted(acked_calls),
        "rung": rung,
        "tickets": acked_tickets,
    }
    Path(os.environ["STORM_OUTPUT"]).write_text(json.dumps(out))


def _expect(response, *statuses: int) -> bool:
    """Mark the answer a failure unless its status is one of ``statuses``."""
    if response.status_code in statuses:
        response.success()
        return True
    response.failure(f"{response.status_code} {response.text[:160]!r}")
    return False


class Staff(HttpUser):
    """A member of staff, signed in (the session made by the orchestrator)."""

    abstract = True
    people: list[dict] = []
    _next = itertools.count()

    def on_start(self) -> None:
        self.me = self.people[next(self._next) % len(self.people)]
        self.client.cookies.set("sessionid", self.me["session"])

    def csrf(self) -> dict:
        return {"X-CSRFToken": self.client.cookies.get("csrftoken", "")}

    def get(self, path: str, name: str, *statuses: int, **kwargs):
        with self.client.get(
            path, name=name, catch_response=True, allow_redirects=False, **kwargs
        ) as response:
            return response if _expect(response, *(statuses or (200,))) else None

    def post(self, path: str, name: str, data: dict, *statuses: int):
        with self.client.post(
            path,
            name=name,
            data=data,
            headers=self.csrf(),
            catch_response=True,
            allow_redirects=False,
        ) as response:
            return response if _expect(response, *(statuses or (302,))) else None


def _signature(stamp: str, body: bytes) -> str:
    """Sign as README's "Taking calls" tells a switch to: written here from the description,
    not imported, so the product's own check is tested against it."""
    secret = CONFIG["cti_secret"].encode()
    return "sha256=" + hmac.new(secret, f"{stamp}.".encode() + body, hashlib.sha256).hexdigest()


def _switch_event(client, payload: dict) -> dict | None:
    """Send one signed event as the switch does; return its answer, or None if refused."""
    body = json.dumps(payload).encode()
    stamp = str(int(time.time()))
    headers = {
        "Content-Type": "application/json",
        "X-CTI-Timestamp": stamp,
        "X-CTI-Signature": _signature(stamp, body),
    }
    with client.post(
        "/api/v1/cti/events/",
        data=body,
        headers=headers,
        name="POST /api/v1/cti/events/",
        catch_response=True,
    ) as response:
        if not _expect(response, 200, 201):
            return None
        answer = response.json()
        if answer["duplicate"]:
            acks["cti_duplicates"] += 1
        else:
            acks["cti_events"] += 1
        return answer


def _ring(client, event: str, call_id: str, **extra) -> dict | None:
    payload = {"call_id": call_id, "event": event, **extra}
    answer = _switch_event(client, payload)
    if answer is not None and random.random() < DUPLICATE_SHARE:
        _switch_event(client, payload)
    return answer


def _new_call_id() -> str:
    return f"storm-{RUN}-{next(_serial)}"


def _phone() -> str:
    return f"139{random.randrange(10**8):08d}"


class Agent(Staff):
    """A seat agent: each call put through to the seat, logged or linked."""

    fixed_count = AGENTS
    people = CONFIG["agents"][:AGENTS]
    _next = itertools.count()
    # AGENTS agents take the answered share of CALLS_PER_MINUTE between them.
    wait_time = constant_pacing(AGENTS * 60 / (CALLS_PER_MINUTE * ANSWERED_SHARE))

    def on_start(self) -> None:
        super().on_start()
        self.on_form = {"call": "", "caller_phone": ""}
        self.pollers = [
            # The pop: 204 with nothing new; 200 when a call was put through that the form does
            # not show yet (a race with the screen pop, which this user opens itself as soon
            # as the switch acknowledges the answer).
            gevent.spawn(
                self._poll, 2, "/console/pop/", "GET /console/pop/ (poll)", 200, 204, form=True
            ),
            gevent.spawn(self._poll, 5, "/staffing/me/", "GET /staffing/me/ (poll)", 200),
        ]

    def on_stop(self) -> None:
        gevent.killall(self.pollers)

    def _poll(self, seconds: float, path: str, name: str, *statuses: int, form=False) -> None:
        """Ask for ``path`` every ``seconds`` as one of the console's htmx polls does (with the
        call and phone on the form when it includes them)."""
        gevent.sleep(random.uniform(0, seconds))
        while True:
            params = self.on_form if form else None  # the form as it stands now
            self.get(path, name, *statuses, params=params, headers={"HX-Request": "true"})
            gevent.sleep(seconds)

    @task
    def take_call(self) -> None:
        call_id, phone = _new_call_id(), _phone()
        if _ring(self.client, "ringing", call_id, caller_number=phone) is None:
            return
        acked_calls.add(call_id)
        rung.append(time.time())
        extension = self.me["extension"]
        answer = _ring(
            self.client, "answered", call_id, caller_number=phone, agent_extension=extension
        )
        if answer is None:
            return
        call = answer["call"]
        self.get(f"/console/?call={call}", "GET /console/?call= (screen pop)")
        self.on_form = {"call": call, "caller_phone": phone}
        time.sleep(random.uniform(0.5, 1.5))  # the agent listens and types
        if storm["open"] and random.random() < LINK_SHARE:
            self._link(call, phone)
        else:
            self._log(call, phone)
        self.on_form = {"call": "", "caller_phone": ""}
        _ring(self.client, "ended", call_id)

    def _log(self, call: int, phone: str) -> None:
        fault = random.choice(CONFIG["fault_types"])
        form = {
            "call": call,
            "caller_phone": phone,
            "caller_name": "王先生",
            "channel": "hotline",
            "category": fault["category"],
            "fault_type": fault["id"],
            "community": random.choice(CONFIG["communities"]),
            "address": f"锦华路{random.randrange(1, 300)}号",
            "building": str(random.randrange(1, 20)),
            "unit": str(random.randrange(1, 4)),
            "room": str(random.randrange(101, 1800)),
            "description": f"暴雨后{fault['code']} 压测风暴",
        }
        response = self.post("/console/", "POST /console/ (new ticket)", form)
        if response is None:
            return
        number = response.headers["Location"].rstrip("/").rsplit("/", 1)[-1]
        acks["tickets"] += 1
        acked_tickets[number] = phone
        ticket_faults[number] = fault["id"]
        storm["to_dispatch"].append(number)
        storm["open"].append(number)
        self.get(response.headers["Location"], "GET /console/done/{number}/")

    def _link(self, call: int, phone: str) -> None:
        number = random.choice(storm["open"][-200:])
        form = {"call": call, "caller_phone": phone, "caller_name": "李女士", "notes": "同一爆管"}
        with self.client.post(
            f"/console/link/{number}/",
            name="POST /console/link/{number}/",
            data=form,
            headers=self.csrf(),
            catch_response=True,
            allow_redirects=False,
        ) as response:
            if response.status_code == 302:
                response.success()
                acks["links"] += 1
            elif response.status_code == 400 and number not in storm["open"]:
                # A dispatcher closed the ticket meanwhile: the console refuses the link, as
                # it should (counted apart, not as a failure).
                response.success()
                acks["links_refused_closed"] += 1
            else:
                response.failure(f"{response.status_code} {response.text[:160]!r}")


class Switch(HttpUser):
    """The telephone switch's calls that nobody answers: the caller gives up waiting."""

    fixed_count = SWITCHES
    wait_time = constant_pacing(SWITCHES * 60 / (CALLS_PER_MINUTE * (1 - ANSWERED_SHARE)))

    @task
    def abandoned_call(self) -> None:
        call_id, phone = _new_call_id(), _phone()
        if _ring(self.client, "ringing", call_id, caller_number=phone) is None:
            return
        acked_calls.add(call_id)
        rung.append(time.time())
        time.sleep(random.uniform(0.5, 2))
        _ring(self.client, "abandoned", call_id)


_ETAG = re.compile(r'data-etag="([^"]*)"')
# The send dialog's first recommendation is the crew radio button already checked.
_RECOMMENDED = re.compile(r'name="crew" value="(\d+)"[^>]*\bchecked')


# A dispatcher opens the board again now and then (a filter, a new tab): once a minute.
BOARD_RELOAD_SECONDS = 60


class Dispatcher(Staff):
    """A dispatcher at the board: polls it, sends the new tickets, closes completed ones."""

    fixed_count = DISPATCHERS
    people = CONFIG["dispatchers"][:DISPATCHERS]
    _next = itertools.count()
    wait_time = constant(3)  # board.js's POLL_MS

    def on_start(self) -> None:
        super().on_start()
        self._open_board()

    def _open_board(self) -> None:
        self.opened = time.monotonic()
        board = self.get("/dispatch/", "GET /dispatch/ (board)")
        found = _ETAG.search(board.text) if board is not None else None
        self.etag = found[1].replace("&quot;", '"') if found else ""

    @task
    def poll_and_work(self) -> None:
        if time.monotonic() - self.opened >= BOARD_RELOAD_SECONDS:
            self._open_board()
        response = self.get(
            "/dispatch/lanes/",
            "GET /dispatch/lanes/ (poll)",
            200,
            304,
            headers={"If-None-Match": self.etag},
        )
        if response is not None:
            self.etag = response.headers.get("ETag", self.etag)
        for _ in range(2):
            if storm["to_dispatch"]:
                self._send(storm["to_dispatch"].pop(0))
        if storm["to_close"]:
            self._close(storm["to_close"].pop(0))

    def _send(self, number: str) -> None:
        path = f"/dispatch/tickets/{number}/send/"
        dialog = self.get(path, "GET /dispatch/tickets/{number}/send/ (dialog)")
        if dialog is None:
            return
        found = _RECOMMENDED.search(dialog.text)
        crews = [crew["id"] for crew in CONFIG["crews"]]
        crew = int(found[1]) if found else random.choice(crews)
        if self.post(path, "POST /dispatch/tickets/{number}/send/", {"crew": crew}, 204):
            acks["dispatched"] += 1
            storm["crew_work"][crew].append([number, "accept"])

    def _close(self, number: str) -> None:
        if number in storm["open"]:
            storm["open"].remove(number)  # no more calls are linked to it from now on
        self.get(f"/tickets/{number}/", "GET /tickets/{number}/")
        form = {"result": "已修复，恢复供水", "cost": "0"}
        if self.post(f"/tickets/{number}/close/", "POST /tickets/{number}/close/", form):
            acks["closed"] += 1


# The crew's next step after each one; emergencies stop the water before the repair.
_AFTER = {"accept": "arrive", "arrive": "complete", "mitigate": "complete"}
_EMERGENCY = {f["id"] for f in CONFIG["fault_types"] if f["grade"] == "emergency"}
# The repair report, with the part and cost formsets' management fields and no lines.
_COMPLETE = {
    "measures": "更换DN100管段",
    **{
        f"{prefix}-{field}": "0"
        for prefix in ("part", "cost")
        for field in ("TOTAL_FORMS", "INITIAL_FORMS")
    },
}


class CrewLeader(Staff):
    """A crew leader's phone: the list, then the next step of up to three of its tickets
    (the oldest first: at 1x that keeps up, so no ticket waits the 15 minutes after which
    beat takes it back from the crew)."""

    fixed_count = CREWS
    people = CONFIG["crews"][:CREWS]
    _next = itertools.count()
    wait_time = constant_pacing(10)

    @task
    def work(self) -> None:
        self.get("/crew/", "GET /crew/ (list)")
        work = storm["crew_work"][self.me["id"]]
        for item in work[:3]:
            number, step = item
            self.get(f"/crew/{number}/", "GET /crew/{number}/")
            form = {"receipt": str(uuid.uuid4())}
            if step == "complete":
                form |= _COMPLETE
            if not self.post(f"/crew/{number}/{step}/", f"POST /crew/{{number}}/{step}/", form):
                work.remove(item)
                continue
            acks[step] += 1
            if step == "arrive" and ticket_faults.get(number) in _EMERGENCY:
                item[1] = "mitigate"
            elif step == "complete":
                work.remove(item)
                storm["to_close"].append(number)
            else:
                item[1] = _AFTER[step]


class Customer(HttpUser):
    """A customer reading the public pages: their ticket's status, the outage notices."""

    fixed_count = CUSTOMERS
    wait_time = between(2, 6)

    @task
    def status(self) -> None:
        with self.client.get("/status/", name="GET /status/", catch_response=True) as response:
            _expect(response, 200)
        if not acked_tickets:
            return
        number = random.choice(list(acked_tickets)[-500:])
        form = {"number": number, "digits": acked_tickets[number][-4:]}
        with self.client.post(
            "/status/",
            data=form,
            headers={"X-CSRFToken": self.client.cookies.get("csrftoken", "")},
            name="POST /status/ (look-up)",
            catch_response=True,
            allow_redirects=False,
        ) as response:
            if not _expect(response, 302):
                return
            page = response.headers["Location"]
        with self.client.get(page, name="GET /status/{token}/", catch_response=True) as response:
            _expect(response, 200)

    @task
    def notices(self) -> None:
        with self.client.get("/notices/", name="GET /notices/", catch_response=True) as response:
            _expect(response, 200)
