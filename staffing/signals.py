"""What the staffing app hears from the others, and what it registers with them."""

from django.contrib.auth.models import Group
from django.db.models.signals import m2m_changed, post_delete, post_save

from callcentre.hooks import call_event, seat_agent_register
from staffing.backends import permissions_forget
from staffing.models import RosterEntry, ShiftTemplate, User, WallboardThreshold
from tickets.shifts import shift_changes_register


def _changed(**kwargs) -> None:
    # Forget remembered permissions whenever a role's or a person's grants change.
    if kwargs.get("action", "post_").startswith("post_"):
        permissions_forget()


def _call_event(call, event, at, agent, **kwargs) -> None:
    from staffing.services import status_follow_call

    status_follow_call(call=call, event=event, at=at, agent=agent)


def connect() -> None:
    from staffing.selectors import seat_agent
    from staffing.shifts import handover_times, handovers_forget
    from staffing.wallboard import roster_entry_changed, thresholds_forget

    for relation in (User.groups.through, User.user_permissions.through, Group.permissions.through):
        m2m_changed.connect(_changed, sender=relation, dispatch_uid=f"forget-{relation.__name__}")
    post_delete.connect(_changed, sender=Group, dispatch_uid="forget-group-delete")

    # The shift templates are the centre's shift changes, for the reports and follow-ups.
    shift_changes_register(handover_times)
    for signal in (post_save, post_delete):
        signal.connect(handovers_forget, sender=ShiftTemplate, dispatch_uid=f"shifts-{signal}")
        signal.connect(
            thresholds_forget, sender=WallboardThreshold, dispatch_uid=f"thresholds-{signal}"
        )
        signal.connect(roster_entry_changed, sender=RosterEntry, dispatch_uid=f"roster-{signal}")

    # The switch names extensions: the agent at one is whoever is signed into its seat.
    seat_agent_register(seat_agent)
    call_event.connect(_call_event, dispatch_uid="staffing-status-from-cti")
