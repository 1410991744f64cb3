"""Alerts that go out by text message: to the crew leader, the department or the role they
concern, as the alert rules say."""

from collections import defaultdict

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.db.models import Q
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from dispatch.models import CrewMembership, OutboundMessage
from dispatch.services.messages import messages_enqueue
from dispatch.services.notifications import when
from tickets.choices import CREW_ALERT_MILESTONES, TICKET_ALERT_MILESTONES, AlertLevel
from tickets.choices import AlertMilestone as Milestone
from tickets.models import Alert, AlertSmsRule

_TEXTS = {
    AlertLevel.WARNING: gettext_noop(
        "[Warning] Ticket %(number)s (%(grade)s, %(address)s): %(milestone)s is due at %(time)s.",
    ),
    AlertLevel.BREACH: gettext_noop(
        "[Overdue] Ticket %(number)s (%(grade)s, %(address)s): %(milestone)s was due at %(time)s.",
    ),
    AlertLevel.ESCALATED: gettext_noop(
        "[Escalated] Ticket %(number)s (%(grade)s, %(address)s): "
        "%(milestone)s is still not done; it was due at %(time)s.",
    ),
    AlertLevel.ALARM: gettext_noop(
        "[Overdue alarm] Ticket %(number)s (%(grade)s, %(address)s) is past its "
        "time limit and not closed; it was due at %(time)s."
    ),
}


def alerts_notify(*, alert_ids: list[int]) -> int:
    """Queue a text message for each alert that a rule sends by SMS; return how many."""
    rules = list(AlertSmsRule.objects.filter(is_active=True))
    alerts = [
        alert
        for alert in Alert.objects.filter(pk__in=alert_ids).select_related(
            "ticket", "ticket__community", "ticket__fault_type"
        )
        if any(
            rule.matches(level=alert.level, milestone=alert.milestone, grade=alert.ticket.grade)
            for rule in rules
        )
    ]
    if not alerts:
        return 0
    recipients = _Recipients(alerts)
    messages = []
    with translation.override(settings.LANGUAGE_CODE):
        for alert in alerts:
            text = _(_TEXTS[AlertLevel(alert.level)]) % {
                "number": alert.ticket.number,
                "grade": alert.ticket.get_grade_display(),
                "address": alert.ticket.address_line(),
                "milestone": Milestone(alert.milestone).label,
                "time": when(alert.due_at),
            }
            messages += [
                OutboundMessage(
                    to_phone=phone,
                    body=text,
                    kind=f"alert_{alert.level}",
                    dedupe_key=f"alert:{alert.pk}:{phone}",
                )
                for phone in recipients.of(alert)
            ]
    return messages_enqueue(messages)


class _Recipients:
    """Who is texted about each alert, read in a few queries for a whole batch."""

    def __init__(self, alerts: list[Alert]) -> None:
        crews = {alert.ticket.crew_id for alert in alerts} - {None}
        self.leaders = {
            crew_id: phone.as_e164
            for crew_id, phone in CrewMembership.objects.filter(
                crew__in=crews, is_leader=True
            ).values_list("crew_id", "user__phone")
            if phone
        }
        departments = {alert.ticket.department_id for alert in alerts} - {None}
        self.departments = defaultdict(list)
        User = get_user_model()
        for department_id, phone in User.objects.filter(
            is_active=True, departments__in=departments
        ).values_list("departments", "phone"):
            if phone:
                self.departments[department_id].append(phone.as_e164)
        self._roles: dict[str, list[str]] = {}

    def of(self, alert: Alert) -> list[str]:
        ticket_deadline = alert.milestone in TICKET_ALERT_MILESTONES
        if alert.level == AlertLevel.ALARM or (
            alert.level == AlertLevel.ESCALATED and not ticket_deadline
        ):
            return self._role("receive_alarms")
        if alert.level == AlertLevel.ESCALATED or not ticket_deadline:
            return self._role("receive_escalations")
        # A warning or a breach of a ticket's deadline: whoever works towards it. The
        # dispatcher watches the board and is not texted.
        if alert.milestone in CREW_ALERT_MILESTONES and alert.ticket.crew_id in self.leaders:
            return [self.leaders[alert.ticket.crew_id]]
        if alert.milestone == Milestone.RESOLVE and alert.ticket.department_id:
            return self.departments[alert.ticket.department_id]
        return []

    def _role(self, codename: str) -> list[str]:
        if codename not in self._roles:
            permission = Permission.objects.get(
                content_type__app_label="tickets", codename=codename
            )
            people = get_user_model().objects.filter(
                Q(groups__permissions=permission) | Q(user_permissions=permission),
                is_active=True,
            )
            self._roles[codename] = sorted(
                {phone.as_e164 for phone in people.values_list("phone", flat=True) if phone}
            )
        return self._roles[codename]
