from django import template
from django.utils import timezone

from outages.selectors import outages_covering

register = template.Library()


@register.inclusion_tag("outages/_at_address.html")
def outages_at(ticket) -> dict:
    """The outages in force at a ticket's address, for the public status page."""
    return {
        "outages": outages_covering(
            community_id=ticket.community_id, building=ticket.building, now=timezone.now()
        )
    }
