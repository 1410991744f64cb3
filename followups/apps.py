from datetime import date

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class FollowupsConfig(AppConfig):
    name = "followups"
    verbose_name = _("Follow-up callbacks")

    def ready(self) -> None:
        from callcentre.hooks import holidays_register
        from followups import signals, watches

        signals.connect()
        watches.register()
        holidays_register(official_holidays)


def official_holidays(start: date, end: date) -> set[date]:
    """Return the official holidays from ``start`` to ``end`` (both included).

    A holiday is a day off of the State Council's notice, as the calendar package lists it
    (the weekend days inside a holiday's break included; neither an ordinary weekend nor a
    swapped working day), with the centre's overrides winning: one entered as a day off is a
    holiday (next year's notice, a local holiday), one entered as a working day is not. A
    year that neither knows has none: the forecast then reads it by its weekdays.
    """
    import chinese_calendar

    from followups.models import WorkingDayOverride
    from followups.workdays import official_year_known

    holidays: set[date] = set()
    for year in range(start.year, end.year + 1):
        if official_year_known(year):
            first, last = max(start, date(year, 1, 1)), min(end, date(year, 12, 31))
            holidays.update(chinese_calendar.get_holidays(first, last, include_weekends=False))
    overrides = WorkingDayOverride.objects.filter(day__range=(start, end)).values_list(
        "day", "is_working_day"
    )
    for day, is_working_day in overrides:
        if is_working_day:
            holidays.discard(day)
        else:
            holidays.add(day)
    return holidays
