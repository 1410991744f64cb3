from django.db import models
from django.utils.translation import gettext_lazy as _


class Grade(models.TextChoices):
    """Urgency grade of the fault grading standard (故障分级标准)."""

    EMERGENCY = "emergency", _("Emergency")
    GENERAL = "general", _("General")
    CONSULT = "consult", _("Consult")


class Category(models.TextChoices):
    REPAIR = "repair", _("Repair")
    COMPLAINT = "complaint", _("Complaint")
    CONSULT = "consult", _("Consult")
    SUGGESTION = "suggestion", _("Suggestion")
    # A new connection or a transfer of the account (接水、过户), called back when finished.
    APPLICATION = "application", _("Connection or transfer")


class Channel(models.TextChoices):
    HOTLINE = "hotline", _("Hotline")
    WECHAT = "wechat", _("WeChat")
    APP = "app", _("Mobile app")
    WEB = "web", _("Web form")
    GOV_12345 = "gov_12345", _("12345 hotline transfer")
    MAYOR_MAILBOX = "mayor_mailbox", _("Mayor's mailbox")
    MEDIA = "media", _("Media")
    WALK_IN = "walk_in", _("Walk-in")
    # Opened from a callback whose customer was not satisfied.
    CALLBACK = "callback", _("Callback")


# The channels a person logs a call from; a callback's complaint is opened by the product.
INTAKE_CHANNELS = [(value, label) for value, label in Channel.choices if value != Channel.CALLBACK]


class State(models.TextChoices):
    NEW = "new", _("New")
    VERIFIED = "verified", _("Verified")
    DISPATCHED = "dispatched", _("Dispatched")
    ACCEPTED = "accepted", _("Accepted")
    ON_SITE = "on_site", _("On site")
    MITIGATED = "mitigated", _("Water stopped")
    REFERRED = "referred", _("Referred")
    RESOLVED = "resolved", _("Resolved")
    CLOSED = "closed", _("Closed")
    CANCELLED = "cancelled", _("Cancelled")
    MERGED = "merged", _("Merged")


# States in which a ticket still needs work; cancel is allowed from any of them.
OPEN_STATES = [
    State.NEW,
    State.VERIFIED,
    State.DISPATCHED,
    State.ACCEPTED,
    State.ON_SITE,
    State.MITIGATED,
    State.REFERRED,
    State.RESOLVED,
]
FINAL_STATES = [State.CLOSED, State.CANCELLED, State.MERGED]
WITH_CREW_STATES = [State.DISPATCHED, State.ACCEPTED, State.ON_SITE, State.MITIGATED]
# Before the crew has finished, the grade may still change.
RECLASSIFIABLE_STATES = [State.NEW, State.VERIFIED, *WITH_CREW_STATES]

# Names for groups of states, accepted wherever a state is: ?state=open.
STATE_GROUPS = {
    "open": (_("Any open state"), OPEN_STATES),
    "with_crew": (_("With a crew"), WITH_CREW_STATES),
    # What the reports count as requests: every ticket neither cancelled nor merged.
    "valid": (_("Valid requests"), [*OPEN_STATES, State.CLOSED]),
}


class Milestone(models.TextChoices):
    DISPATCH = "dispatch", _("Dispatch")
    ACCEPT = "accept", _("Accept")
    ARRIVE = "arrive", _("Arrive on site")
    MITIGATE = "mitigate", _("Stop the water")
    RESOLVE = "resolve", _("Resolve")
    CLOSE = "close", _("Close")


class Returned(models.TextChoices):
    DECLINED = "declined", _("Declined by the crew")
    NOT_ACCEPTED = "not_accepted", _("Not accepted in time")


class ExtensionCause(models.TextChoices):
    OBJECTIVE = "objective", _("Objective cause (materials short, traffic control, …)")
    HUMAN = "human", _("Human cause (someone delayed it)")


class ExtensionState(models.TextChoices):
    PENDING = "pending", _("Pending")
    APPROVED = "approved", _("Approved")
    REFUSED = "refused", _("Refused")


class AlertMilestone(models.TextChoices):
    """Every deadline the overdue sweep watches: a ticket's milestones and its follow-ups."""

    DISPATCH = "dispatch", _("Dispatch")
    ACCEPT = "accept", _("Accept")
    ARRIVE = "arrive", _("Arrive on site")
    MITIGATE = "mitigate", _("Stop the water")
    RESOLVE = "resolve", _("Resolve")
    CLOSE = "close", _("Close")
    CALLBACK = "callback", _("Callback")
    COMPLAINT_FIRST_REPLY = "complaint_first_reply", _("First reply to the complaint")
    COMPLAINT_FINAL_REPLY = "complaint_final_reply", _("Final reply to the complaint")


# The milestones of the repair itself, whose alerts go to the dispatcher first; the others
# are the follow-up desk's (shift leaders first).
TICKET_ALERT_MILESTONES = [AlertMilestone(milestone.value) for milestone in Milestone]
# The milestones a crew works towards: their alerts go to the crew leader too.
CREW_ALERT_MILESTONES = [
    AlertMilestone.ACCEPT,
    AlertMilestone.ARRIVE,
    AlertMilestone.MITIGATE,
    AlertMilestone.RESOLVE,
]


class AlertLevel(models.TextChoices):
    # In the order they come: a share of the time gone, the deadline passed, then further up.
    WARNING = "warning", _("Warning")
    BREACH = "breach", _("Overdue")
    ESCALATED = "escalated", _("Escalated")
    ALARM = "alarm", _("Overdue alarm")
