"""What an agent records, for the follow-up tests."""

from followups.models import Callback
from followups.services import CallbackReport

REPAIR_ANSWERS = {
    "department_contacted": "yes",
    "came_on_site": "yes",
    "polite": "yes",
    "on_time": "yes",
    "listened": "yes",
    "explained": "yes",
    "no_improper_demands": "yes",
    "site_tidy": "yes",
    "water_quality_ok": "na",
    "pressure_ok": "yes",
}


def satisfied(**changes) -> CallbackReport:
    values = {
        "reached": True,
        "answers": REPAIR_ANSWERS,
        "process": "当天上门更换接头",
        "result": "已修好",
        "satisfaction": Callback.Satisfaction.SATISFIED,
        **changes,
    }
    return CallbackReport(**values)


def unsatisfied(**changes) -> CallbackReport:
    values = {
        "satisfaction": Callback.Satisfaction.UNSATISFIED,
        "comments": "维修后仍然漏水，师傅态度差",
        **changes,
    }
    return satisfied(**values)


NO_ANSWER = CallbackReport(reached=False, note="无人接听")
