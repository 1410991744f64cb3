"""Which outages cover an address, and who lives in an outage's area."""

from dataclasses import dataclass, field
from datetime import datetime

from django.db import connection
from django.db.models import Q, QuerySet

from callcentre.models import Call, Caller, CallerAddress
from dispatch.models import Community
from outages.models import Outage, OutageBuilding, OutageChange


@dataclass
class Coverage:
    """The outages in force, indexed by what they cover: a look-up per address is two dict
    reads, whatever the number of outages."""

    by_community: dict[int, list[Outage]] = field(default_factory=dict)
    by_building: dict[tuple[int, str], list[Outage]] = field(default_factory=dict)

    def covering(
        self, *, community_id: int | None, building: str = "", now: datetime | None = None
    ) -> list[Outage]:
        """The outages covering an address (those started by ``now``, if given), the latest
        to start first."""
        if community_id is None:
            return []
        found = [
            *self.by_community.get(community_id, []),
            *self.by_building.get((community_id, _building_key(building)), []),
        ]
        unique = {
            outage.pk: outage for outage in found if now is None or outage.starts_at <= now
        }.values()
        return sorted(unique, key=lambda outage: (outage.starts_at, outage.pk), reverse=True)


def _building_key(building: str) -> str:
    """Buildings as agents type them: "5", "5栋", " 5 号楼" are one."""
    return building.strip().removesuffix("号楼").removesuffix("栋").removesuffix("幢").strip()


def outages_published() -> QuerySet[Outage]:
    """Outages in force or still to come (published, supply not yet restored), the soonest
    first, with their areas."""
    return (
        Outage.objects.filter(state=Outage.State.PUBLISHED)
        .prefetch_related("districts", "communities__district", "buildings__community__district")
        .order_by("starts_at", "id")
    )


def coverage_of(outages) -> Coverage:
    """Index ``outages`` by the communities and buildings they cover (four queries)."""
    outages = list(outages)
    coverage = Coverage()
    if not outages:
        return coverage
    by_pk = {outage.pk: outage for outage in outages}
    districts: dict[int, list[Outage]] = {}
    for outage_id, district_id in Outage.districts.through.objects.filter(
        outage_id__in=by_pk
    ).values_list("outage_id", "district_id"):
        districts.setdefault(district_id, []).append(by_pk[outage_id])
    if districts:
        for community_id, district_id in Community.objects.filter(
            district_id__in=districts
        ).values_list("id", "district_id"):
            coverage.by_community.setdefault(community_id, []).extend(districts[district_id])
    for outage_id, community_id in Outage.communities.through.objects.filter(
        outage_id__in=by_pk
    ).values_list("outage_id", "community_id"):
        coverage.by_community.setdefault(community_id, []).append(by_pk[outage_id])
    for outage_id, community_id, building in OutageBuilding.objects.filter(
        outage_id__in=by_pk
    ).values_list("outage_id", "community_id", "building"):
        key = (community_id, _building_key(building))
        coverage.by_building.setdefault(key, []).append(by_pk[outage_id])
    return coverage


# Each process keeps the published outages' coverage while no outage changes: every change
# (publishing, a new ETA, restoring, cancelling) writes an ``OutageChange``, so the newest
# one's id tells whether the copy is current, in one index read.
_kept: tuple[int, Coverage] | None = None


def coverage_current(*, version: int | None = None) -> Coverage:
    """The coverage of every published outage, started or not (``covering(now=…)`` keeps
    those in force), rebuilt only after a change; ``version`` is the newest change's id
    when the caller has read it already."""
    global _kept
    if version is None:
        version = OutageChange.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    if _kept is None or _kept[0] != version:
        # No change ever: no outage either, nothing to read.
        published = Outage.objects.filter(state=Outage.State.PUBLISHED) if version else []
        _kept = (version, coverage_of(published))
    return _kept[1]


def outages_covering(*, community_id: int | None, building: str, now: datetime) -> list[Outage]:
    """The outages in force at this address, the latest to start first."""
    return coverage_current().covering(community_id=community_id, building=building, now=now)


def _area_filter(outage: Outage) -> Q:
    """Addresses in ``outage``'s area, as a filter of ``CallerAddress``."""
    area = Q(community__district__in=outage.districts.all()) | Q(
        community__in=outage.communities.all()
    )
    for community_id, building in outage.buildings.values_list("community_id", "building"):
        area |= Q(community_id=community_id, building__in=_building_spellings(building))
    return area


def _building_spellings(building: str) -> list[str]:
    key = _building_key(building)
    return [key, f"{key}栋", f"{key}号楼", f"{key}幢"]


def customers_in_area(outage: Outage) -> QuerySet[Caller]:
    """Callers with a known service address in ``outage``'s area, each once."""
    addresses = CallerAddress.objects.filter(_area_filter(outage))
    return Caller.objects.filter(pk__in=addresses.values("caller_id"))


def accounts_to_call(outage: Outage) -> list[Caller]:
    """Key and special accounts in the area: a person calls each of them."""
    return list(
        customers_in_area(outage)
        .filter(customer_type__in=[Caller.CustomerType.KEY_ACCOUNT, Caller.CustomerType.SPECIAL])
        .order_by("customer_type", "name")
    )


# The switch's question in one round trip: the caller's addresses, newest first, each with
# the newest change's id (whether this process's coverage is current). Plain SQL: it is
# asked before every call is queued.
_ADDRESSES_SQL = """
SELECT a.community_id, a.building, (SELECT max(id) FROM outages_outagechange)
FROM callcentre_calleraddress a JOIN callcentre_caller c ON c.id = a.caller_id
WHERE c.phone = %s AND a.community_id IS NOT NULL
ORDER BY a.last_used_at DESC
"""


def outage_for_number(*, phone: str, now: datetime) -> Outage | None:
    """The outage in force over any known address of the caller with ``phone`` (E.164),
    the latest to start; None if none covers them or the number is new."""
    with connection.cursor() as cursor:
        cursor.execute(_ADDRESSES_SQL, [phone])
        addresses = cursor.fetchall()
    if not addresses:
        return None
    coverage = coverage_current(version=addresses[0][2] or 0)
    for community_id, building, _version in addresses:
        covering = coverage.covering(community_id=community_id, building=building, now=now)
        if covering:
            return covering[0]
    return None
    coverage = coverage_current()
    for community_id, building in addresses:
        covering = coverage.covering(community_id=community_id, building=building, now=now)
        if covering:
            return covering[0]
    return None


def outages_by_district(outages) -> list[tuple]:
    """``outages`` grouped under each district they touch (whole, by a community or by a
    building), the districts in their order; an outage over two districts is under both."""
    districts: dict[int, tuple] = {}
    for outage in outages:
        touched = [
            *outage.districts.all(),
            *(community.district for community in outage.communities.all()),
            *(building.community.district for building in outage.buildings.all()),
        ]
        for district in touched:
            listed = districts.setdefault(district.pk, (district, []))[1]
            if outage not in listed:
                listed.append(outage)
    return sorted(districts.values(), key=lambda entry: entry[0].code)


def linked_calls(outage: Outage) -> QuerySet[Call]:
    """The calls linked to an incident: to its ticket, or to a ticket merged into it."""
    return Call.objects.filter(
        Q(ticket_id=outage.ticket_id) | Q(ticket__parent_id=outage.ticket_id),
        outcome=Call.Outcome.LINKED,
    )


@dataclass(frozen=True)
class OutageFigures:
    """What an outage brought: calls, how the switch's message served, texts sent, and the
    restoration against the ETA first given."""

    calls: int  # heard the switch's message, or linked by an agent (each call once)
    linked: int
    played: int
    hung_up_after_message: int  # answered by the recorded message
    waited_for_agent: int
    messages: int
    messages_sent: int  # accepted by the SMS gateway
    eta_changes: int
    first_eta: datetime | None
    late_minutes: int | None  # restored after the first ETA (negative: early)


def outage_figures(outage: Outage) -> OutageFigures:
    from dispatch.models import OutboundMessage

    played = Call.objects.filter(pk__in=outage.plays.values("call_id"))
    linked = linked_calls(outage) if outage.ticket_id else Call.objects.none()
    # Every change's keys start so (see ``outages.services``).
    texts = OutboundMessage.objects.filter(dedupe_key__startswith=f"outage:{outage.pk}:change:")
    changes = list(outage.changes.order_by("at", "id"))
    first_eta = outage.expected_end_at
    for change in changes:
        if "expected_end_at" in change.data:
            first_eta = datetime.fromisoformat(change.data["expected_end_at"][0])
            break
    late = None
    if outage.restored_at is not None:
        late = round((outage.restored_at - first_eta).total_seconds() / 60)
    return OutageFigures(
        calls=(played | linked).distinct().count(),
        linked=linked.count(),
        played=played.count(),
        hung_up_after_message=played.filter(answered_at__isnull=True, abandoned=True).count(),
        waited_for_agent=played.filter(answered_at__isnull=False).count(),
        messages=texts.count(),
        messages_sent=texts.filter(status=OutboundMessage.Status.SENT).count(),
        eta_changes=sum(1 for change in changes if "expected_end_at" in change.data),
        first_eta=first_eta,
        late_minutes=late,
    )


def outage_rows(*, start: datetime, end: datetime) -> list[dict]:
    """The outages in force at some time in ``[start, end)``, each with its figures, as the
    reports keep them (plain values)."""
    outages = Outage.objects.filter(
        starts_at__lt=end, state__in=[Outage.State.PUBLISHED, Outage.State.RESTORED]
    ).filter(Q(restored_at__isnull=True) | Q(restored_at__gte=start))
    rows = []
    for outage in outages.order_by("starts_at", "id"):
        figures = outage_figures(outage)
        rows.append(
            {
                "id": outage.pk,
                "kind": outage.kind,
                "title": outage.title,
                "starts_at": outage.starts_at.isoformat(),
                "first_eta": figures.first_eta.isoformat(),
                "restored_at": outage.restored_at.isoformat() if outage.restored_at else None,
                "late_minutes": figures.late_minutes,
                "is_late": outage.is_late,
                "calls": figures.calls,
                "linked": figures.linked,
                "played": figures.played,
                "hung_up_after_message": figures.hung_up_after_message,
                "messages": figures.messages,
                "messages_sent": figures.messages_sent,
            }
        )
    return rows
