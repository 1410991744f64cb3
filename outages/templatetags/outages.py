from django import template
from django.utils import timezone

from outages.models import Outage
from outages.selectors import outages_covering
from outages.services import incident_may_declare
from tickets.choices import FINAL_STATES
from tickets.models import Ticket

register = template.Library()


@register.inclusion_tag("outages/_at_address.html")
def outages_at(ticket) -> dict:
    """The outages in force at a ticket's address, for the public status page."""
    return {
        "outages": outages_covering(
            community_id=ticket.community_id, building=ticket.building, now=timezone.now()
        )
    }


@register.inclusion_tag("outages/_incident_of.html")
def incident_of(ticket, user) -> dict:
    """The incident declared from a ticket, or the button to declare one where the user may."""
    incident = ticket.outages.filter(kind=Outage.Kind.INCIDENT).order_by("-id").first()
    may_declare = ticket.state not in FINAL_STATES and incident_may_declare(
        actor=user, ticket=ticket
    )
    return {"ticket": ticket, "incident": incident, "may_declare": may_declare}


@register.inclusion_tag("outages/_banner.html")
def outages_banner(community, building: str = "") -> dict:
    """The console's banner: the outages in force at the address the caller gives, the
    script to read, and for an incident still open the key that links the call to it."""
    if community is None:
        return {"outages": []}
    covering = outages_covering(
        community_id=community.pk, building=building or "", now=timezone.now()
    )
    # The incidents' tickets as they stand now: the outages themselves are kept per process.
    open_numbers = dict(
        Ticket.objects.filter(pk__in=[outage.ticket_id for outage in covering if outage.ticket_id])
        .exclude(state__in=FINAL_STATES)
        .values_list("pk", "number")
    )
    return {"outages": [(outage, open_numbers.get(outage.ticket_id)) for outage in covering]}
