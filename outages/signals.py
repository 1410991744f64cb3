"""What outages hear from the other apps: the switch playing a notice to a call."""

from django.utils.translation import gettext as _

from callcentre.hooks import call_event
from callcentre.models import CtiEvent
from outages.models import Outage, OutagePlay
from tickets.errors import invalid


def _call_event(call, event, at, payload=None, **kwargs) -> None:
    if event != CtiEvent.Kind.NOTICE_PLAYED:
        return
    outage = Outage.objects.filter(pk=(payload or {}).get("outage")).first()
    if outage is None:
        raise invalid({"outage": _("No outage with this id.")})
    OutagePlay.objects.get_or_create(outage=outage, call=call, defaults={"played_at": at})


def connect() -> None:
    call_event.connect(_call_event, dispatch_uid="outages-notice-played")
