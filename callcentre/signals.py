"""Keep every process's FAQ index in step with the manual the supervisor edits."""

from uuid import uuid4

from django.core.cache import cache
from django.db.models.signals import post_delete, post_save

from callcentre.search import FAQ_VERSION_KEY
from tickets.hooks import ticket_closed


def _faq_changed(**kwargs) -> None:
    cache.set(FAQ_VERSION_KEY, uuid4().hex, timeout=None)


def _ticket_closed(ticket, **kwargs) -> None:
    from callcentre.services import incident_calls_close

    incident_calls_close(ticket=ticket)


def connect() -> None:
    from callcentre.models import FaqEntry

    for signal in (post_save, post_delete):
        signal.connect(_faq_changed, sender=FaqEntry, dispatch_uid=f"faq-index-{signal}")
    ticket_closed.connect(_ticket_closed, dispatch_uid="callcentre-incident-closed")
