from django import forms
from django.utils.translation import gettext_lazy as _

from followups.models import Callback, CallbackRule
from followups.questions import QUESTIONS, Kind
from followups.services import CallbackReport

_REACHED = [("yes", _("Yes, they answered")), ("no", _("No answer"))]


class CallbackForm(forms.Form):
    """What the agent records on a callback: the questions its rule asks, then the verdict."""

    reached = forms.TypedChoiceField(
        label=_("Did the customer answer?"),
        choices=_REACHED,
        coerce=lambda value: value == "yes",
        widget=forms.RadioSelect,
    )
    method = forms.ChoiceField(
        label=_("How"),
        choices=Callback.Method.choices,
        initial=Callback.Method.PHONE,
        widget=forms.RadioSelect,
    )
    note = forms.CharField(
        label=_("Note on this try"),
        max_length=200,
        required=False,
        help_text=_("For example: line busy, asked to call after 18:00."),
    )
    process = forms.CharField(
        label=_("How the work went"),
        max_length=2000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    result = forms.CharField(
        label=_("Result"), max_length=2000, required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    satisfaction = forms.ChoiceField(
        label=_("Satisfaction"),
        choices=Callback.Satisfaction.choices,
        required=False,
        widget=forms.RadioSelect,
    )
    comments = forms.CharField(
        label=_("Comments"),
        max_length=2000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("In the customer's words; needed when they are not satisfied."),
    )
    responsible_person = forms.CharField(
        label=_("Person responsible"),
        max_length=60,
        required=False,
        help_text=_("If the customer names someone; the crew or department is recorded too."),
    )
    unsatisfied_action = forms.ChoiceField(
        label=_("When not satisfied"), choices=CallbackRule.Unsatisfied.choices, required=False
    )
    # The number of tries the page was drawn with: a second submission of the same page is
    # refused, not counted as another try.
    attempt = forms.IntegerField(min_value=0, widget=forms.HiddenInput)

    def __init__(self, *args, callback: Callback, may_decide: bool, **kwargs) -> None:
        kwargs.setdefault("initial", {})
        kwargs["initial"].setdefault("attempt", callback.attempts)
        kwargs["initial"].setdefault("unsatisfied_action", callback.rule.on_unsatisfied)
        super().__init__(*args, **kwargs)
        self.questions = QUESTIONS[callback.rule.questionnaire]
        for question in self.questions:
            if question.kind == Kind.TEXT:
                field = forms.CharField(
                    label=question.label,
                    max_length=1000,
                    required=False,
                    widget=forms.Textarea(attrs={"rows": 2}),
                )
            else:
                field = forms.ChoiceField(
                    label=question.label,
                    choices=question.choices(),
                    required=False,
                    widget=forms.RadioSelect,
                )
            self.fields[question.code] = field
        if not may_decide:
            del self.fields["unsatisfied_action"]

    def question_fields(self) -> list[tuple[str, list[forms.BoundField]]]:
        """Return the question fields in their groups, in the questionnaire's order."""
        groups: list[tuple[str, list[forms.BoundField]]] = []
        for question in self.questions:
            if not groups or groups[-1][0] != question.group:
                groups.append((question.group, []))
            groups[-1][1].append(self[question.code])
        return groups

    def report(self) -> CallbackReport:
        data = self.cleaned_data
        return CallbackReport(
            reached=data["reached"],
            method=data["method"],
            answers={question.code: data.get(question.code, "") for question in self.questions},
            process=data["process"],
            result=data["result"],
            satisfaction=data["satisfaction"],
            comments=data["comments"],
            unsatisfied_action=data.get("unsatisfied_action", "")
            if data["satisfaction"] == Callback.Satisfaction.UNSATISFIED
            else "",
            responsible_person=data["responsible_person"],
            note=data["note"],
            attempt=data["attempt"],
        )


class FirstReplyForm(forms.Form):
    text = forms.CharField(
        label=_("What the customer was told"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class DayForm(forms.Form):
    day = forms.DateField(
        label=_("Day"), widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )
