"""What each kind of callback asks the customer, and how an answer is checked.

The answers are kept as one JSON object per callback, keyed by the question's code, so a
questionnaire can grow a question without a migration; reports read them by key.
"""

from dataclasses import dataclass

from django.db import models
from django.utils.translation import gettext_lazy as _

from followups.models import Questionnaire


class Kind(models.TextChoices):
    YES_NO = "yes_no", _("yes or no")
    # Water quality and pressure are asked only where they matter.
    YES_NO_NA = "yes_no_na", _("yes, no or not relevant")
    TEXT = "text", _("free text")


class Answer(models.TextChoices):
    YES = "yes", _("Yes")
    NO = "no", _("No")
    NOT_RELEVANT = "na", _("Not relevant")


@dataclass(frozen=True)
class Question:
    code: str
    label: str
    kind: Kind = Kind.YES_NO
    group: str = ""

    def choices(self) -> list[tuple[str, str]]:
        if self.kind == Kind.YES_NO:
            return [(Answer.YES, Answer.YES.label), (Answer.NO, Answer.NO.label)]
        return list(Answer.choices)


_CONDUCT = _("Conduct of the staff")
# Staff conduct, asked after every callback about work done (DOMAIN: polite, on time,
# listened, clear, no bribes or unofficial fees).
CONDUCT = [
    Question("polite", _("Were they polite?"), group=_CONDUCT),
    Question("on_time", _("Did they come on time?"), group=_CONDUCT),
    Question("listened", _("Did they listen to you?"), group=_CONDUCT),
    Question("explained", _("Did they explain clearly?"), group=_CONDUCT),
    Question(
        "no_improper_demands",
        _("No gifts, favours or unofficial fees asked for (吃拿卡要)?"),
        group=_CONDUCT,
    ),
]
_SUPPLY = _("Supply")

QUESTIONS: dict[str, list[Question]] = {
    Questionnaire.REPAIR: [
        Question("department_contacted", _("Did the department contact you?")),
        Question("came_on_site", _("Did they come on site?")),
        *CONDUCT,
        Question("site_tidy", _("Was the site left tidy?"), Kind.YES_NO_NA),
        Question(
            "water_quality_ok", _("Is the water quality normal now?"), Kind.YES_NO_NA, _SUPPLY
        ),
        Question("pressure_ok", _("Is the water pressure normal now?"), Kind.YES_NO_NA, _SUPPLY),
    ],
    # The five aspects of a finished connection or transfer.
    Questionnaire.APPLICATION: [
        Question("date_kept", _("Was the connection date kept?")),
        Question("progress_ok", _("Were you kept informed of the progress?")),
        Question("workmanship_ok", _("Are you satisfied with the workmanship?")),
        Question("site_tidy", _("Was the site left tidy?")),
        Question("attitude_ok", _("Were the staff helpful and polite?")),
        Question(
            "no_improper_demands",
            _("No gifts, favours or unofficial fees asked for (吃拿卡要)?"),
            group=_CONDUCT,
        ),
    ],
    Questionnaire.ACCOUNT: [
        Question("needs", _("Needs the customer raised"), Kind.TEXT),
        Question("questions", _("Questions asked and answers given"), Kind.TEXT),
        Question("policy_explained", _("Were current policies and prices explained?")),
        Question("billing_accurate", _("Are the bills accurate?"), Kind.YES_NO_NA),
        Question("water_quality_ok", _("Is the water quality normal?"), Kind.YES_NO_NA, _SUPPLY),
        Question("pressure_ok", _("Is the water pressure normal?"), Kind.YES_NO_NA, _SUPPLY),
    ],
}


def answers_check(questionnaire: str, answers: dict) -> tuple[dict[str, str], dict[str, str]]:
    """Return the answers kept (only the questionnaire's own) and the errors by question."""
    kept, errors = {}, {}
    for question in QUESTIONS[questionnaire]:
        value = answers.get(question.code, "")
        value = value.strip() if isinstance(value, str) else value
        if question.kind == Kind.TEXT:
            if not isinstance(value, str) or len(value) > 1000:
                errors[question.code] = _("Write at most 1,000 characters.")
            elif value:
                kept[question.code] = value
        elif value in dict(question.choices()):
            kept[question.code] = value
        else:
            errors[question.code] = _("Choose one of the answers.")
    return kept, errors


# What the agent says first, by questionnaire (the caller's name, the ticket, its fault).
SCRIPTS = {
    Questionnaire.REPAIR: _(
        "Hello %(name)s, this is the customer service hotline calling back about what you "
        "reported on %(date)s (%(fault)s, ticket %(number)s). May I take a minute to ask "
        "how it went? Did our staff contact you and come on site, and is it fixed now?"
    ),
    Questionnaire.APPLICATION: _(
        "Hello %(name)s, this is the customer service hotline calling about your connection "
        "or transfer (ticket %(number)s, finished on %(date)s). May I ask five short "
        "questions about the date, the progress, the work, the site and our staff?"
    ),
    Questionnaire.ACCOUNT: _(
        "Hello %(name)s, this is your account's customer service calling for our regular "
        "half-yearly follow-up. Is there anything you need from us, any question on your "
        "supply or bills, or anything we should know about your plans?"
    ),
}
SECOND_SCRIPT = _(
    "Hello %(name)s, this is the customer service hotline again about ticket %(number)s. "
    "You told us you were not satisfied; here is what we have done since: …"
)
