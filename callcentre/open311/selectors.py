"""What Open311 clients read: the services and their attributes, the requests filed through
Open311 and how each one stands. Names, phones and e-mail addresses are never among it."""

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo

from django.conf import settings
from django.db import connection, transaction
from django.db.models import F, FloatField, QuerySet
from django.db.models.functions import Cast, Coalesce
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from callcentre.models import Open311Partner, Open311Request, Open311Service
from callcentre.promises import promise_template
from tickets.choices import FINAL_STATES, Category, Grade, State
from tickets.models import SlaPolicy
from tickets.reference import reference_get

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
    """Return the active partner whose API key this is, if any: through the cache, which
    forgets a partner the moment it is switched off or its key renewed."""
    if not key:
        return None
    return reference_get(
        Open311Partner.objects.select_related("user").filter(is_active=True), key_hash(key)
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


def moment(value: datetime | None, zone: tzinfo | None = None) -> str | None:
    """ISO 8601 in the centre's time, with its offset: 2026-12-03T09:30:00+08:00. A list
    passes ``zone``, the current time zone read once."""
    if value is None:
        return None
    return value.astimezone(zone or timezone.get_current_timezone()).isoformat("T", "seconds")


def requests_chosen(
    *,
    numbers: list[str] | None = None,
    service_code: str = "",
    start: datetime | None = None,
    end: datetime | None = None,
    statuses: list[str] | None = None,
    now: datetime,
) -> QuerySet[Open311Request]:
    """Return the requests filed through Open311 that the filters ask for, newest first (at
    most ``MAX_REQUESTS``). ``numbers`` alone wins over every other filter, as the spec has
    it; with no dates, the last ``DEFAULT_DAYS`` days."""
    requests = Open311Request.objects.all()
    if numbers:
        return requests.filter(ticket__number__in=numbers)[:MAX_REQUESTS]
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
    return requests[:MAX_REQUESTS]


# What a request's document is written from: one row each, read as plain values (a
# thousand requests are a thousand rows, and model instances would cost most of the time).
_COLUMNS = {
    "number": F("ticket__number"),
    "state": F("ticket__state"),
    "category": F("ticket__category"),
    "grade": F("ticket__grade"),
    "description": F("ticket__description"),
    "address": F("ticket__address"),
    "resolution": F("ticket__resolution"),
    "repair_measures": F("ticket__repair_measures"),
    "updated_at": F("ticket__updated_at"),
    # The promise names the time to dispatch the grade's policy gave.
    "received_at": F("ticket__received_at"),
    "dispatch_due": F("ticket__dispatch_due"),
    "expected_at": Coalesce("ticket__resolve_due", "ticket__close_due"),
    "latitude": Cast("lat", FloatField()),
    "longitude": Cast("long", FloatField()),
    "crew": F("ticket__crew__name"),
    "department": F("ticket__department__name"),
    "service_name": F("service__name"),
    "service_code": F("service__code"),
}


def _status_notes() -> dict[str, str]:
    """What ``status_notes`` says in each state, in the current language (a closed ticket
    says what was done, when that was written)."""
    notes = {
        state: _("In progress: %(state)s.") % {"state": label} for state, label in State.choices
    }
    notes[State.CLOSED] = _("The repair is done and the ticket is closed.")
    notes[State.MERGED] = _("Handled together with another report of the same fault.")
    notes[State.CANCELLED] = _("Cancelled.")
    return notes


def request_documents(requests: QuerySet[Open311Request]) -> list[dict]:
    """Return how each request stands, in GeoReport v2's fields, in the order given (the
    model's: newest first)."""
    rows = requests.values("requested_at", "address_id", "media_url", **_COLUMNS)
    language = translation.get_language() or settings.LANGUAGE_CODE
    zone = timezone.get_current_timezone()
    notes = _status_notes()
    centre = _("The repair call centre")
    documents = []
    for row in rows:
        closed = row["state"] in FINAL_STATES
        done = row["resolution"] or row["repair_measures"]
        minutes = round((row["dispatch_due"] - row["received_at"]).total_seconds() / 60)
        promise = promise_template(
            category=row["category"], grade=row["grade"], minutes=minutes, language=language
        )
        documents.append(
            {
                "service_request_id": row["number"],
                "status": "closed" if closed else "open",
                "status_notes": done
                if row["state"] == State.CLOSED and done
                else notes[row["state"]],
                "service_name": row["service_name"],
                "service_code": row["service_code"],
                "description": row["description"],
                "agency_responsible": row["crew"] or row["department"] or centre,
                "service_notice": promise % {"number": row["number"]},
                "requested_datetime": moment(row["requested_at"], zone),
                "updated_datetime": moment(row["updated_at"], zone),
                "expected_datetime": None if closed else moment(row["expected_at"], zone),
                "address": row["address"],
                "address_id": row["address_id"] or None,
                "zipcode": None,
                "lat": row["latitude"],
                "long": row["longitude"],
                "media_url": row["media_url"] or None,
            }
        )
    return documents


# The same documents written by PostgreSQL, for the JSON lists: a thousand rows come back as
# one text, with no row parsed or dict built in Python. Each text a document holds is
# worded here, in the request's language, and passed in as a parameter; a test holds the
# two ways to the same documents. A timestamp in JSON is ISO 8601 with the session zone's
# offset, cut to the second as Python's isoformat does.
_FROM_CHOSEN = """
FROM callcentre_open311request r
JOIN tickets_ticket t ON t.id = r.ticket_id
CROSS JOIN LATERAL (
    SELECT t.category || '|' || t.grade || '|'
        || round(extract(epoch FROM t.dispatch_due - t.received_at) / 60)::int AS kind
) AS k
"""
_KINDS_SQL = f"SELECT DISTINCT k.kind {_FROM_CHOSEN} WHERE r.id = ANY(%s)"
# The second column says whether a kind of ticket had no promise passed in.
_DOCUMENTS_SQL = f"""
SELECT COALESCE(json_agg(document), '[]')::text, bool_or(document.service_notice IS NULL) FROM (
    SELECT
        t.number AS service_request_id,
        CASE WHEN t.state = ANY(%(final)s) THEN 'closed' ELSE 'open' END AS status,
        CASE WHEN t.state = 'closed' AND (t.resolution <> '' OR t.repair_measures <> '')
            THEN COALESCE(NULLIF(t.resolution, ''), t.repair_measures)
            ELSE %(notes)s::jsonb ->> t.state END AS status_notes,
        s.name AS service_name,
        s.code AS service_code,
        t.description,
        COALESCE(c.name, d.name, %(centre)s) AS agency_responsible,
        replace(%(promises)s::jsonb ->> k.kind, %(number_mark)s, t.number) AS service_notice,
        date_trunc('second', r.requested_at) AS requested_datetime,
        date_trunc('second', t.updated_at) AS updated_datetime,
        CASE WHEN t.state = ANY(%(final)s) THEN NULL
            ELSE date_trunc('second', COALESCE(t.resolve_due, t.close_due))
            END AS expected_datetime,
        t.address,
        NULLIF(r.address_id, '') AS address_id,
        NULL AS zipcode,
        r.lat::float8 AS lat,
        r.long::float8 AS long,
        NULLIF(r.media_url, '') AS media_url
    {_FROM_CHOSEN}
    JOIN callcentre_open311service s ON s.id = r.service_id
    LEFT JOIN dispatch_crew c ON c.id = t.crew_id
    LEFT JOIN dispatch_department d ON d.id = t.department_id
    WHERE r.id = ANY(%(ids)s)
    ORDER BY r.requested_at DESC, r.id DESC
) AS document
"""  # noqa: S608 - constant pieces of SQL; every value is a parameter


def request_documents_json(requests: QuerySet[Open311Request]) -> str | None:
    """Return the documents of ``requests`` as a JSON array written by PostgreSQL, or None
    on a database that cannot (SQLite: ``request_documents`` serves)."""
    if connection.vendor != "postgresql":
        return None
    ids = list(requests.values_list("id", flat=True))
    language = translation.get_language() or settings.LANGUAGE_CODE
    # The offsets are the centre's: the session's time zone, for this transaction only.
    zone = timezone.get_current_timezone_name()
    nested = connection.in_atomic_block
    parameters = {
        "ids": ids,
        "final": list(FINAL_STATES),
        "notes": json.dumps(_status_notes()),
        "centre": _("The repair call centre"),
        "promises": json.dumps(_promises(_kinds_of_the_policies(), language)),
        "number_mark": "%(number)s",
    }
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT set_config('TimeZone', %s, true)", [zone])
        cursor.execute(_DOCUMENTS_SQL, parameters)
        written, unpromised = cursor.fetchone()
        if unpromised:
            # A ticket whose deadlines no policy of today makes (its grade changed, or a
            # policy since): the kinds the list holds, then the list again.
            cursor.execute(_KINDS_SQL, [ids])
            kinds = [kind for (kind,) in cursor.fetchall()]
            parameters["promises"] = json.dumps(_promises(kinds, language))
            cursor.execute(_DOCUMENTS_SQL, parameters)
            written, _unpromised = cursor.fetchone()
        if nested:  # the zone would stay set for the rest of the outer transaction
            cursor.execute("SELECT set_config('TimeZone', %s, true)", [connection.timezone_name])
    return written


def _kinds_of_the_policies() -> list[str]:
    """Every kind of ticket (category, grade, minutes to dispatch) the SLA policies make."""
    return [
        f"{category}|{grade}|{minutes}"
        for grade, minutes in SlaPolicy.objects.values_list("grade", "dispatch_minutes")
        for category in Category.values
    ]


def _promises(kinds: list[str], language: str) -> dict[str, str]:
    """The promise of each kind, worded once with the number left to fill in."""
    promises = {}
    for kind in kinds:
        category, grade, minutes = kind.split("|")
        promises[kind] = promise_template(
            category=category, grade=grade, minutes=int(minutes), language=language
        )
    return promises
