"""Light, steady load while a fault is injected: an agent logging tickets through the API, a
dispatcher on the board and the lists, a dispatcher sending crews (which texts them), and
someone signing in every few seconds. Every request is timed and kept."""

import re
import threading
import time
import uuid
from dataclasses import dataclass, field

import httpx

# A request that takes longer than this is a transport failure, not a slow answer.
REQUEST_TIMEOUT = 30.0
# gunicorn closes a connection idle for 2 s (its keepalive); a client that reused one idle
# that long could send into the closing socket and get a reset it would blame on the app.
LIMITS = httpx.Limits(keepalive_expiry=1.0)
PAGES = ["/", "/dispatch/", "/tickets/", "/alerts/"]
URL = "/api/v1/tickets/"
LANES = "/dispatch/lanes/"
LOGIN = "/accounts/login/"
CSRF = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


@dataclass
class Hit:
    kind: str
    path: str
    started: float  # time.monotonic()
    seconds: float
    status: int  # 0: no answer at all
    content_type: str = ""
    code: str = ""  # the API's error code, when it gave one
    error: str = ""  # why no answer came (the transport's exception), when none did


@dataclass
class Created:
    marker: str
    status: int
    number: str = ""


@dataclass
class Load:
    base_url: str
    agent_token: str
    dispatcher_token: str
    dispatcher: tuple[str, str]
    agent: tuple[str, str]
    community: int
    fault_type: str
    crew: str
    hits: list[Hit] = field(default_factory=list)
    created: list[Created] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)
    _threads: list[threading.Thread] = field(default_factory=list)

    def start(self) -> None:
        for target in (self._create, self._browse, self._dispatch, self._sign_in):
            thread = threading.Thread(target=target, daemon=True)
            thread.start()
            self._threads.append(thread)

    def stop(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=REQUEST_TIMEOUT + 5)

    def between(self, start: float, end: float) -> list[Hit]:
        return [hit for hit in self.hits if start <= hit.started < end]

    def _request(
        self, client: httpx.Client, kind: str, method: str, path: str, **kw
    ) -> tuple[Hit, httpx.Response | None]:
        """Send one request and keep its timing; return it with the response (None when no
        answer came)."""
        started = time.monotonic()
        try:
            response = client.request(method, path, timeout=REQUEST_TIMEOUT, **kw)
        except httpx.HTTPError as error:
            hit = Hit(kind, path, started, time.monotonic() - started, 0, error=repr(error))
            self.hits.append(hit)
            return hit, None
        hit = Hit(
            kind,
            path,
            started,
            time.monotonic() - started,
            response.status_code,
            response.headers.get("content-type", ""),
        )
        if hit.content_type.startswith("application/json") and response.status_code >= 400:
            hit.code = str(response.json().get("code", ""))
        self.hits.append(hit)
        return hit, response

    def _api(self, token: str) -> httpx.Client:
        return httpx.Client(
            base_url=self.base_url, headers={"Authorization": f"Token {token}"}, limits=LIMITS
        )

    def _create(self) -> None:
        with self._api(self.agent_token) as client:
            while not self._stop.is_set():
                marker = f"faults-{uuid.uuid4().hex[:12]}"
                body = {
                    "channel": "hotline",
                    "category": "repair",
                    "fault_type": self.fault_type,
                    "description": f"厨房水管漏水 {marker}",
                    "caller_name": "王女士",
                    "caller_phone": "13812345678",
                    "address": "锦华苑",
                    "building": "5",
                    "unit": "1",
                    "room": "302",
                    "community": self.community,
                }
                hit, response = self._request(client, "create", "POST", URL, json=body)
                number = response.json().get("number", "") if hit.status == 201 else ""
                self.created.append(Created(marker, hit.status, number))
                self._stop.wait(0.3)

    def _browse(self) -> None:
        with httpx.Client(base_url=self.base_url, limits=LIMITS) as client:
            signed_in = False
            etag = ""
            while not self._stop.is_set():
                if not signed_in:
                    signed_in = self._log_in(client, *self.dispatcher, kind="browse") == 302
                    continue
                for path in PAGES:
                    self._request(client, "page", "GET", path)
                headers = {"If-None-Match": etag, "HX-Request": "true"} if etag else {}
                hit, response = self._request(client, "poll", "GET", LANES, headers=headers)
                if hit.status == 200:
                    etag = response.headers.get("etag", "")
                self._stop.wait(0.2)

    def _dispatch(self) -> None:
        """Send a crew to the newest ticket every few seconds: each sends the crew a text."""
        with self._api(self.dispatcher_token) as client:
            while not self._stop.wait(2.0):
                numbers = [created.number for created in self.created if created.number]
                if not numbers:
                    continue
                number = numbers[-1]
                self._request(client, "act", "POST", f"{URL}{number}/verify/", json={})
                body = {"crew": self.crew}
                self._request(client, "act", "POST", f"{URL}{number}/dispatch/", json=body)

    def _sign_in(self) -> None:
        while not self._stop.wait(3.0):
            with httpx.Client(base_url=self.base_url) as client:
                self._log_in(client, *self.agent, kind="signin")

    def _log_in(self, client: httpx.Client, username: str, password: str, *, kind: str) -> int:
        page, response = self._request(client, kind, "GET", LOGIN)
        if page.status != 200:
            self._stop.wait(0.5)
            return page.status
        token = CSRF.search(response.text)
        data = {"username": username, "password": password}
        data["csrfmiddlewaretoken"] = token.group(1) if token else ""
        hit, _ = self._request(client, kind, "POST", LOGIN, data=data)
        return hit.status


def board_poll(base_url: str, dispatcher: tuple[str, str], etag: str = "") -> tuple[int, str]:
    """Sign in as the dispatcher and poll the board once with ``etag``; return the status and
    the ETag it answered with."""
    with httpx.Client(base_url=base_url) as client:
        token = CSRF.search(client.get(LOGIN).text)
        client.post(
            LOGIN,
            data={
                "username": dispatcher[0],
                "password": dispatcher[1],
                "csrfmiddlewaretoken": token.group(1) if token else "",
            },
        )
        headers = {"HX-Request": "true", **({"If-None-Match": etag} if etag else {})}
        response = client.get(LANES, headers=headers)
        return response.status_code, response.headers.get("etag", "")
