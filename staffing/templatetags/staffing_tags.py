from html import escape

from django import template
from django.urls import reverse
from django.utils.formats import number_format
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _

from staffing.models import AgentStatus

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


def _clock(seconds: float) -> str:
    """Show the time in a status as a clock does: "4:05", "1:02:07" (a switch's clock a little
    ahead shows "0:00")."""
    minutes, second = divmod(max(0, int(seconds)), 60)
    hours, minute = divmod(minutes, 60)
    return f"{hours}:{minute:02}:{second:02}" if hours else f"{minute}:{second:02}"


@register.simple_tag(takes_context=True)
def seat_grid(context, rows, *, can_switch: bool, within: int) -> str:
    """The wallboard's seats, one ``<li>`` each, with the switch of a free floating seat.

    Written out here, each value escaped as it goes in, rather than by a template loop or
    ``format_html``: the board of a large centre has hundreds of seats and is fetched every
    3 seconds, and their cost per value would be most of its time.
    """
    statuses = {status.value: escape(str(status.label)) for status in AgentStatus}
    floating = escape(f" · {_('floating')}")
    free, off = escape(_("No one signed in")), escape(_("Switched off"))
    in_status = escape(_("Time in this status"))
    token = escape(str(context.get("csrf_token", "")))
    # One look-up for every seat: the switch of seat 0, each seat's number put in its place.
    switch_url = escape(reverse("staffing:seat-switch", args=[0])).replace("/0/", "/{}/")
    html = []
    for row in rows:
        label = escape(row.label)
        classes = "seat"
        if row.floating:
            classes += " seat-floating"
        if not row.switched_on:
            classes += " seat-off"
        html.append(
            f'<li class="{classes}" id="seat-{label}"><span class="seat-label">{label}</span>'
            f'<span class="muted">{escape(row.extension)}{floating if row.floating else ""}'
            "</span>"
        )
        if row.agent:
            html.append(f"<span>{escape(row.agent)}</span>")
            if row.status:
                html.append(
                    f'<span class="agent-status status-{escape(row.status)}">'
                    f"{statuses[row.status]}</span>"
                    f'<span class="muted" title="{in_status}">{_clock(row.status_seconds)}</span>'
                )
        else:
            html.append(f'<span class="muted">{free if row.switched_on else off}</span>')
        if can_switch and row.floating and not row.agent:
            url = switch_url.format(int(row.pk))
            if row.switched_on:
                on, button, text = "0", "button", _("Switch %(seat)s off")
            else:
                on, button, text = "1", "button primary", _("Switch %(seat)s on")
            html.append(
                f'<form method="post" action="{url}" hx-post="{url}?within={int(within)}"'
                ' hx-target="#wallboard" hx-swap="outerHTML">'
                f'<input type="hidden" name="csrfmiddlewaretoken" value="{token}">'
                f'<input type="hidden" name="on" value="{on}">'
                f'<button type="submit" class="{button}" id="switch-{label}">'
                f"{escape(text % {'seat': row.label})}</button></form>"
            )
        html.append("</li>")
    return mark_safe("".join(html))  # noqa: S308 - every value above is escaped
