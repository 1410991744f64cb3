"""The roles of the centre and what each may do, as Django groups with permissions."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    # Listed in order of precedence: a user in two groups lands on the first one's home.
    ADMIN = "admin", _("Administrator")
    SUPERVISOR = "supervisor", _("Supervisor")
    SHIFT_LEADER = "shift_leader", _("Shift leader")
    DISPATCHER = "dispatcher", _("Dispatcher")
    AGENT = "agent", _("Seat agent")
    CREW_MEMBER = "crew_member", _("Crew member")
    DEPARTMENT = "department", _("Department staff")


_CONFIGURATION_MODELS = [
    "tickets.slapolicy",
    "tickets.faulttype",
    "tickets.skill",
    "dispatch.district",
    "dispatch.community",
    "dispatch.crew",
    "dispatch.crewmembership",
    "dispatch.department",
    "callcentre.faqentry",
    "callcentre.caller",
    "outages.planstep",
    "followups.workingdayoverride",
    "followups.callbackrule",
    "followups.callbacksampling",
    "tickets.alertsmsrule",
    "staffing.seat",
    "staffing.shifttemplate",
    "staffing.rosterentry",
    "staffing.wallboardthreshold",
    "staffing.staffingsettings",
]


def _manage(models_: list[str]) -> list[str]:
    perms = []
    for model in models_:
        app_label, name = model.split(".")
        perms += [f"{app_label}.{verb}_{name}" for verb in ("view", "add", "change", "delete")]
    return perms


# Who publishes outage notices and keeps them current; everyone at the desk reads them.
_OUTAGE_DESK = ["outages.add_outage", "outages.change_outage"]
_FRONT_DESK = [
    "outages.view_outage",
    "tickets.view_all_tickets",
    "tickets.add_ticket",
    "tickets.refer_on_intake",
    "tickets.merge_ticket",
    "callcentre.view_faqentry",
    "followups.record_callback",
]
# Who runs the floor: watches the wallboard, switches floating seats on, plans the roster.
_FLOOR_LEAD = ["staffing.view_wallboard", "staffing.switch_seat", "staffing.plan_staffing"]
# Who decides what is done about an unsatisfied customer, and reads the daily lists.
_FOLLOW_UP_LEAD = ["followups.decide_unsatisfied", "followups.view_callback_lists"]

ROLE_PERMISSIONS: dict[Role, list[str]] = {
    Role.AGENT: _FRONT_DESK,
    Role.SHIFT_LEADER: [
        *_FRONT_DESK,
        "tickets.review_ticket",
        "callcentre.view_specialevent",
        "callcentre.add_specialevent",
        "tickets.verify_ticket",
        "tickets.reclassify_ticket",
        "tickets.cancel_ticket",
        "tickets.reopen_ticket",
        "tickets.approve_extension",
        *_FOLLOW_UP_LEAD,
        "tickets.receive_escalations",
        "reports.view_reports",
        "reports.submit_shift_report",
        "reports.export_tickets",
        *_FLOOR_LEAD,
    ],
    Role.DISPATCHER: [
        *_FRONT_DESK,
        "tickets.verify_ticket",
        "tickets.dispatch_ticket",
        "tickets.refer_ticket",
        "tickets.answer_ticket",
        "tickets.close_ticket",
        "tickets.reclassify_ticket",
        "tickets.cancel_ticket",
        "tickets.reopen_ticket",
        "tickets.request_extension",
        "tickets.approve_extension",
        "tickets.receive_ticket_alerts",
        "tickets.record_delay_cause",
        *_OUTAGE_DESK,
    ],
    Role.SUPERVISOR: [
        *_FRONT_DESK,
        "tickets.review_ticket",
        "callcentre.view_specialevent",
        "callcentre.add_specialevent",
        "tickets.verify_ticket",
        "tickets.dispatch_ticket",
        "tickets.refer_ticket",
        "tickets.answer_ticket",
        "tickets.close_ticket",
        "tickets.reclassify_ticket",
        "tickets.cancel_ticket",
        "tickets.reopen_ticket",
        "tickets.request_extension",
        "tickets.approve_extension",
        "tickets.approve_human_extension",
        *_manage(_CONFIGURATION_MODELS),
        # The records dispatch writes, read in the admin: messages, assignments, plans.
        "dispatch.view_outboundmessage",
        "dispatch.view_smsrecord",
        "dispatch.view_assignment",
        "dispatch.view_unclosedplan",
        *_FOLLOW_UP_LEAD,
        # Callbacks and complaints read in the admin; accountability records corrected there.
        "followups.view_callback",
        "followups.view_complaint",
        "followups.view_accountability",
        "followups.change_accountability",
        # The overdue alarms, and the delays someone caused (the dispatcher records them).
        "tickets.receive_alarms",
        "tickets.view_delays",
        "tickets.view_alert",
        "reports.view_reports",
        "reports.approve_report",
        "reports.export_tickets",
        "reports.export_full_phones",
        *_FLOOR_LEAD,
        # The seats' sessions and the agents' status history, read in the admin.
        "staffing.view_seatsession",
        "staffing.view_statusspell",
        "staffing.view_forecastaccuracy",
        *_OUTAGE_DESK,
        "outages.publish_late_outage",
        "outages.declare_incident",
    ],
    Role.CREW_MEMBER: [
        "tickets.view_crew_tickets",
        "tickets.accept_ticket",
        "tickets.decline_ticket",
        "tickets.arrive_ticket",
        "tickets.mitigate_ticket",
        "tickets.resolve_ticket",
        "tickets.request_extension",
        # Checked again per ticket: only the leader of the ticket's crew signs an extension.
        "tickets.approve_extension",
    ],
    Role.DEPARTMENT: ["tickets.view_department_tickets", "tickets.answer_ticket"],
}
# The administrator may do everything a supervisor may, and manage users and schedules.
ROLE_PERMISSIONS[Role.ADMIN] = [
    *ROLE_PERMISSIONS[Role.SUPERVISOR],
    *_manage(["staffing.user", "auth.group"]),
    # The audit log: read by the administrator alone, and by nobody ever changed.
    "audit.view_auditentry",
    *_manage(
        [
            "django_celery_beat.periodictask",
            "django_celery_beat.crontabschedule",
            "django_celery_beat.intervalschedule",
        ]
    ),
]

# Roles whose members use the Django admin for configuration data.
STAFF_ROLES = {Role.ADMIN, Role.SUPERVISOR}
