from django import template

from dispatch.selectors import ticket_dispatch_warnings
from tickets.templatetags.ticket_tags import next_deadline

register = template.Library()


@register.simple_tag
def dispatch_warnings(ticket, skills_on_duty) -> list[str]:
    return ticket_dispatch_warnings(ticket=ticket, skills_on_duty=skills_on_duty)


@register.inclusion_tag("dispatch/_countdown.html")
def card_countdown(ticket) -> dict:
    """The card's countdown, with what the board's script needs to keep it running."""
    context = next_deadline(ticket)
    context["start"] = ticket.sla_started_at
    return context
