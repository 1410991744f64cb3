from django import template
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from tickets.selectors import deadline_level, ticket_milestone_rows, ticket_next_deadline
from tickets.status import phone_masked

register = template.Library()


@register.filter
def masked(phone) -> str:
    """Show a phone with its middle hidden, where the reader has no call to make."""
    return phone_masked(phone)


@register.filter
def duration(minutes: int) -> str:
    """Render a number of minutes the way a dispatcher reads it: 1 h 05 min, 2 d 3 h."""
    return duration_text(minutes)


def duration_text(minutes: int, *, translate=_) -> str:
    """Return ``minutes`` as ``duration`` shows them, translated by ``translate``."""
    minutes = abs(int(minutes))
    days, rest = divmod(minutes, 24 * 60)
    hours, mins = divmod(rest, 60)
    if days:
        return translate(gettext_noop("%(d)d d %(h)d h")) % {"d": days, "h": hours}
    if hours:
        return translate(gettext_noop("%(h)d h %(m)02d min")) % {"h": hours, "m": mins}
    return translate(gettext_noop("%(m)d min")) % {"m": mins}


@register.inclusion_tag("tickets/_next_deadline.html")
def next_deadline(ticket) -> dict:
    """Show the ticket's next deadline, coloured by the share of its time that is left."""
    upcoming = ticket_next_deadline(ticket)
    if upcoming is None:
        return {"upcoming": None}
    milestone, due = upcoming
    now = timezone.now()
    left = (due - now).total_seconds()
    return {
        "upcoming": True,
        "milestone": milestone,
        "due": due,
        "level": deadline_level(start=ticket.sla_started_at, due=due, now=now),
        "minutes": int(abs(left) // 60),
    }


@register.simple_tag
def milestone_rows(ticket) -> list[dict]:
    return ticket_milestone_rows(ticket=ticket, now=timezone.now())


@register.filter
def get_item(mapping: dict, key: str):
    return mapping.get(key)
