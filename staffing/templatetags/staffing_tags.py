from django import template
from django.utils.formats import number_format
from django.utils.translation import gettext as _

register = template.Library()


@register.filter
def seconds(value: float | None) -> str:
    """Show a wait or a handle time: "42 s", "3 min 05 s"; a dash for none."""
    if value is None:
        return "—"
    whole = round(value)
    if whole < 60:
        return _("%(seconds)d s") % {"seconds": whole}
    return _("%(minutes)d min %(seconds)02d s") % {"minutes": whole // 60, "seconds": whole % 60}


@register.filter
def percent(value: float | None) -> str:
    """Show a share already in percent with one decimal: "95.3 %"; a dash for none."""
    if value is None:
        return "—"
    return f"{number_format(value, 1)} %"


@register.filter
def share(value) -> str:
    """Show a share of one as a percentage: 0.953 → "95.3 %"; a dash for none."""
    if value is None:
        return "—"
    return percent(100 * float(value))


@register.filter
def negate(value: float) -> float:
    return -value
