"""What Open311 clients read: the services and their attributes, the requests filed through
Open311 and how each one stands. Names, phones and e-mail addresses are never among it."""

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import QuerySet
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from callcentre.models import Open311Partner, Open311Request, Open311Service
from callcentre.promises import ticket_promise
from tickets.choices import FINAL_STATES, Category, Grade, State

# A GET of requests without dates covers this many days before now, and at most this many.
DEFAULT_DAYS = 90
MAX_REQUESTS = 1000
# The pipe sizes a caller may pick (DN, millimetres), as the crews' skills name them.
PIPE_SIZES = (15, 20, 25, 32, 40, 50, 65, 80, 100, 150, 200, 300, 400, 500, 600)


@dataclass(frozen=True)
class Attribute:
    """One field of a service's definition, as GeoReport v2 describes it."""

    code: str
    datatype: str  # string, number, datetime, text, singlevaluelist or multivaluelist
    required: bool
    description: str
    datatype_description: str
    order: int
    values: tuple[tuple[str, str], ...] = ()

    def as_dict(self) -> dict:
        return {
            "variable": True,
            "code": self.code,
            "datatype": self.datatype,
            "required": self.required,
            "datatype_description": self.datatype_description,
            "order": self.order,
            "description": self.description,
            "values": [{"key": key, "name": name} for key, name in self.values],
        }


def key_hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def partner_for_key(key: str) -> Open311Partner | None:
    """Return the active partner whose API key this is, if any."""
    if not key:
        return None
    return (
        Open311Partner.objects.select_related("user")
        .filter(key_hash=key_hash(key), is_active=True)
        .first()
    )


def services_offered() -> QuerySet[Open311Service]:
    return Open311Service.objects.filter(is_active=True, fault_type__is_active=True).select_related(
        "fault_type"
    )


def service_attributes(service: Open311Service) -> list[Attribute]:
    """Return the fields a request of ``service`` takes beside the standard ones: a repair
    is found by building and unit (a burst main on a road need not have them), and the crew
    wants to know the pipe's size and whether the water is off."""
    fault_type = service.fault_type
    if fault_type.category != Category.REPAIR:
        return []
    by_building = fault_type.default_grade != Grade.EMERGENCY
    return [
        Attribute(
            "building",
            "string",
            by_building,
            _("Building number"),
            _("As written on the building, e.g. 5"),
            1,
        ),
        Attribute("unit", "string", by_building, _("Unit (entrance)"), _("e.g. 1"), 2),
        Attribute("room", "string", False, _("Room"), _("e.g. 302"), 3),
        Attribute(
            "water_cut",
            "singlevaluelist",
            True,
            _("Is the water off?"),
            _("Whether the supply at the address has stopped"),
            4,
            (("yes", _("Yes, no water")), ("no", _("No, water still runs"))),
        ),
        Attribute(
            "pipe_diameter",
            "singlevaluelist",
            False,
            _("Pipe size (DN)"),
            _("Where it is known"),
            5,
            tuple((str(size), f"DN{size}") for size in PIPE_SIZES),
        ),
    ]


def moment(value: datetime | None) -> str | None:
    """ISO 8601 in the centre's time, with its offset: 2026-12-03T09:30:00+08:00."""
    return None if value is None else timezone.localtime(value).isoformat(timespec="seconds")


def requests_matching(
    *,
    numbers: list[str] | None = None,
    service_code: str = "",
    start: datetime | None = None,
    end: datetime | None = None,
    statuses: list[str] | None = None,
    now: datetime,
) -> list[Open311Request]:
    """Return the requests filed through Open311 that the filters ask for, newest first (at
    most ``MAX_REQUESTS``). ``numbers`` alone wins over every other filter, as the spec has
    it; with no dates, the last ``DEFAULT_DAYS`` days."""
    requests = Open311Request.objects.select_related(
        "service", "ticket", "ticket__crew", "ticket__department"
    )
    if numbers:
        return list(requests.filter(ticket__number__in=numbers)[:MAX_REQUESTS])
    if start is None and end is None:
        start = now - timedelta(days=DEFAULT_DAYS)
    if start is not None:
        requests = requests.filter(requested_at__gte=start)
    if end is not None:
        requests = requests.filter(requested_at__lte=end)
    if service_code:
        requests = requests.filter(service__code=service_code)
    if statuses and set(statuses) != {"open", "closed"}:
        if statuses == ["closed"]:
            requests = requests.filter(ticket__state__in=FINAL_STATES)
        else:
            requests = requests.exclude(ticket__state__in=FINAL_STATES)
    return list(requests[:MAX_REQUESTS])


def request_as_dict(request: Open311Request) -> dict:
    """Return how a request stands, in GeoReport v2's fields."""
    ticket = request.ticket
    closed = ticket.state in FINAL_STATES
    return {
        "service_request_id": ticket.number,
        "status": "closed" if closed else "open",
        "status_notes": _status_notes(request),
        "service_name": request.service.name,
        "service_code": request.service.code,
        "description": ticket.description,
        "agency_responsible": _agency(request),
        "service_notice": ticket_promise(ticket=ticket, language=_language()),
        "requested_datetime": moment(request.requested_at),
        "updated_datetime": moment(ticket.updated_at),
        "expected_datetime": None if closed else moment(ticket.resolve_due or ticket.close_due),
        "address": ticket.address,
        "address_id": request.address_id or None,
        "zipcode": None,
        "lat": float(request.lat) if request.lat is not None else None,
        "long": float(request.long) if request.long is not None else None,
        "media_url": request.media_url or None,
    }


def _language() -> str:
    return translation.get_language() or "zh-hans"


def _status_notes(request: Open311Request) -> str:
    ticket = request.ticket
    if ticket.state == State.CLOSED:
        done = ticket.resolution or ticket.repair_measures
        return done or _("The repair is done and the ticket is closed.")
    if ticket.state == State.MERGED:
        return _("Handled together with another report of the same fault.")
    if ticket.state == State.CANCELLED:
        return _("Cancelled.")
    return _("In progress: %(state)s.") % {"state": ticket.get_state_display()}


def _agency(request: Open311Request) -> str:
    ticket = request.ticket
    if ticket.crew is not None:
        return str(ticket.crew)
    if ticket.department is not None:
        return str(ticket.department)
    return _("The repair call centre")
