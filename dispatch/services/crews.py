"""A crew's own state: on duty or not, and where it was last."""

from decimal import Decimal

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from dispatch.board import board_changed
from dispatch.models import Crew
from tickets.errors import ApplicationError, invalid


def _require_crew_or_dispatcher(actor, crew: Crew) -> None:
    if actor.has_perm("tickets.dispatch_ticket"):
        return
    if not crew.memberships.filter(user=actor).exists():
        raise ApplicationError(
            _("Only the crew itself or a dispatcher may do this."), code="forbidden"
        )


@transaction.atomic
def crew_duty_set(*, actor, crew: Crew, on_duty: bool) -> Crew:
    """Start or end the crew's shift: only crews on duty are recommended for new work."""
    _require_crew_or_dispatcher(actor, crew)
    if crew.is_on_duty != on_duty:
        crew.is_on_duty = on_duty
        crew.duty_changed_at = timezone.now()
        crew.save(update_fields=["is_on_duty", "duty_changed_at"])
        board_changed()
    return crew


@transaction.atomic
def crew_position_report(*, actor, crew: Crew, latitude: Decimal, longitude: Decimal) -> Crew:
    """Record where the crew's phone is now, for the distance in recommendations."""
    if not crew.memberships.filter(user=actor).exists():
        raise ApplicationError(_("Only the crew itself reports its position."), code="forbidden")
    errors = {}
    if not -90 <= latitude <= 90:
        errors["latitude"] = _("A latitude is between -90 and 90.")
    if not -180 <= longitude <= 180:
        errors["longitude"] = _("A longitude is between -180 and 180.")
    if errors:
        raise invalid(errors)
    crew.last_latitude = round(latitude, 6)
    crew.last_longitude = round(longitude, 6)
    crew.last_position_at = timezone.now()
    crew.save(update_fields=["last_latitude", "last_longitude", "last_position_at"])
    return crew
