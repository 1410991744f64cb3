"""What the agent reads to the caller once the ticket is logged, with the promised time."""

import functools

from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from tickets.choices import Category, Grade
from tickets.models import Ticket


def spoken_duration(minutes: int) -> str:
    """Return a time limit the way it is said on the phone: 30 minutes, 1 hour, 2 hours."""
    if minutes >= 60 and minutes % 60 == 0:
        hours = minutes // 60
        return ngettext("%(count)d hour", "%(count)d hours", hours) % {"count": hours}
    return ngettext("%(count)d minute", "%(count)d minutes", minutes) % {"count": minutes}


def ticket_promise(*, ticket: Ticket, language: str) -> str:
    """Return the sentence to read to the caller, in ``language``, from the ticket's SLA."""
    minutes = round((ticket.dispatch_due - ticket.received_at).total_seconds() / 60)
    template = promise_template(
        category=ticket.category, grade=ticket.grade, minutes=minutes, language=language
    )
    return template % {"number": ticket.number}


@functools.lru_cache(maxsize=256)
def promise_template(*, category: str, grade: str, minutes: int, language: str) -> str:
    """Return the promise for tickets of this kind with ``%(number)s`` for the ticket's
    number: the same few sentences serve every ticket of a list."""
    with translation.override(language):
        within = spoken_duration(minutes)
        if category == Category.COMPLAINT:
            promise = _("We will give you a first answer within %(within)s.")
        elif grade == Grade.CONSULT or category != Category.REPAIR:
            promise = _("The responsible department will answer you within %(within)s.")
        else:
            promise = _("We will send a repair worker to contact you within %(within)s.")
        number = _("Your ticket number is %(number)s.")
        return f"{promise % {'within': within}} {number}"
