"""The dashboard's charts: SVG drawn on the server by pygal, in the product's colours.

A chart is inline SVG and needs nothing from outside the page: pygal's tooltip script
(which it would fetch from a CDN) is left out, and with it the inline script of its
settings and the comments that name its web site; a bar's tooltip is the SVG's own
``<title>``. Nor does a chart carry a style of its own, which the Content-Security-Policy
would refuse: pygal's stylesheet, the same for every chart but for the colours, is the
static file ``css/charts.css`` (``chart_stylesheet()`` writes it), and the colours and line
styles are put on the series as SVG attributes.

Each chart is an image to assistive technology, labelled with what it shows; the page gives
its figures as a table with the same links, so a keyboard reaches them there (the chart's
own links are for the mouse and stay out of the tab order).
"""

import re
import unicodedata
from collections.abc import Iterable

import pygal
from django.utils import formats, timezone
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _
from pygal.style import Style

from followups.models import Callback
from reports.dashboard import TODAY, Calls, ComplianceRow, Dashboard, FaultRow, Span
from tickets.choices import Grade

# The colours of static/css/app.css.
INK, MUTED, LINE, BRAND = "#1f2933", "#616e7c", "#d9dee4", "#0b5cab"
OK, WARN, BAD, CONSULT = "#1e7b34", "#a15c00", "#b42318", "#6b4fa8"
GRADE_COLOURS = {Grade.EMERGENCY: BAD, Grade.GENERAL: BRAND, Grade.CONSULT: CONSULT}
FONT = '"PingFang SC", "Microsoft YaHei", "Noto Sans CJK SC", "Noto Sans SC", system-ui, sans-serif'
# The width a chart is drawn for: a half of the page at 1366 px. It scales with its box.
WIDTH = 620
# A chart of fault types shows the busiest this many; its table has them all.
FAULTS_CHARTED = 10
LABEL_SIZE = 13
MARGIN = 8

_PYGAL_EXTRAS = [
    re.compile(r"<!--.*?-->", re.DOTALL),
    # Namespaces an SVG inside HTML does not need.
    re.compile(r' xmlns(?::xlink)?="[^"]*"'),
]
# A series' colour: pygal gives the series, and its legend's box, the class color-<index>.
_COLOUR_CLASS = re.compile(r"(?:^|\s)color-(\d+)(?:\s|$)")
_CSS_RULE = re.compile(r"([^{}]+)\{([^{}]*)\}")
# The rules of pygal's stylesheet that differ from chart to chart, drawn as attributes.
_PER_CHART_RULE = re.compile(r"\.(?:color|serie)-\d")


def _style(colours: Iterable[str]) -> Style:
    return Style(
        background="transparent",
        plot_background="#ffffff",
        foreground=INK,
        foreground_strong=INK,
        foreground_subtle=MUTED,
        guide_stroke_color=LINE,
        major_guide_stroke_color=LINE,
        colors=tuple(colours),
        font_family=FONT,
        label_font_size=LABEL_SIZE,
        major_label_font_size=LABEL_SIZE,
        value_font_size=12,
        value_label_font_size=12,
        legend_font_size=13,
        tooltip_font_size=13,
        opacity="0.9",
        opacity_hover="1",
        transition="0ms",
    )


def _config(colours: Iterable[str], *, height: int, width: int = WIDTH, **options) -> dict:
    return {
        "style": _style(colours),
        "width": width,
        "height": height,
        # No script from pygal's CDN (nor from anywhere): a tooltip is the SVG's <title>.
        "js": [],
        "disable_xml_declaration": True,
        "legend_at_bottom": True,
        "legend_box_size": 12,
        "truncate_label": -1,
        "truncate_legend": -1,
        "margin": MARGIN,
        "spacing": 8,
        **options,
    }


def _room_for(labels: Iterable[str]) -> int:
    """Return the left margin that fits ``labels`` beside a horizontal chart.

    pygal sizes labels at 0.6 em a character; a Chinese character takes a whole em, so the
    rest is added here.
    """
    wide = max(
        (sum(unicodedata.east_asian_width(char) in "WF" for char in label) for label in labels),
        default=0,
    )
    return MARGIN + round(0.4 * LABEL_SIZE * wide)


def _inline_style_drawn_as_attributes(chart):
    """Return a pygal filter that leaves no style in the SVG tree, nor script.

    pygal's stylesheet goes (the page has it as ``css/charts.css``) with its script
    settings; what a ``style`` attribute says, and the colour and line style of each series,
    become SVG presentation attributes, which a Content-Security-Policy does not govern.
    """

    def draw(root):
        for defs in root.iter("defs"):
            for node in [node for node in defs if node.tag in ("style", "script")]:
                defs.remove(node)
        colours = chart.style.colors
        strokes = {serie.index: serie.stroke_style or {} for serie in chart.series}
        for node in root.iter():
            for declaration in node.attrib.pop("style", "").split(";"):
                name, _colon, value = declaration.partition(":")
                if value.strip():
                    node.set(name.strip(), value.strip())
            classes = node.get("class", "")
            coloured = _COLOUR_CLASS.search(classes)
            if not coloured:
                continue
            index = int(coloured.group(1))
            colour = colours[index % len(colours)]
            node.attrib.setdefault("fill", colour)
            node.attrib.setdefault("stroke", colour)
            if "series" in classes.split():
                for key, value in strokes.get(index, {}).items():
                    node.set(f"stroke-{key}", str(value))
        return root

    return draw


def chart_stylesheet() -> str:
    """Return pygal's stylesheet of the charts, as ``static/css/charts.css`` holds it.

    Every chart here has the same style but for its colours, so pygal's rules (scoped to
    the chart's id) apply to all of them scoped to its class; the colours and line styles,
    which differ, are left out. A test holds the file to this.
    """
    chart = pygal.Line(**_config([INK], height=100))
    chart.add("", [1])
    root = chart.render_tree()
    css = root.find("defs/style").text.replace(f"#{root.get('id')}", ".pygal-chart")
    rules = [
        f"{selectors.strip()}{{{body}}}"
        for selectors, body in _CSS_RULE.findall(css)
        if not _PER_CHART_RULE.search(selectors)
    ]
    head = "/* pygal's stylesheet of the dashboard's charts: reports.charts.chart_stylesheet() */"
    return "\n".join([head, *rules]) + "\n"


def _svg(chart, label: str) -> SafeString:
    """Return ``chart`` as inline SVG: an image labelled ``label``, nothing fetched."""
    chart.add_xml_filter(_inline_style_drawn_as_attributes(chart))
    svg = chart.render(is_unicode=True)
    for pattern in _PYGAL_EXTRAS:
        svg = pattern.sub("", svg)
    svg = svg.replace("<svg ", f'<svg role="img" aria-label="{escape(label)}" ', 1)
    return mark_safe(svg)  # noqa: S308 - pygal escapes what it writes (ElementTree)


def _link(url: str | None) -> dict:
    return {"href": url, "target": "_top", "tabindex": "-1"} if url else {}


def _point(value, *, tooltip: str, url: str | None = None, **extra) -> dict:
    point = {"value": value, "tooltip": tooltip, **extra}
    if url:
        point["xlink"] = _link(url)
    return point


def _slot_label(span: Span, at) -> str:
    local = timezone.localtime(at)
    return f"{local:%H}" if span.slot_kind == "hour" else str(local.day)


def calls_chart(calls: Calls, *, span: Span, label: str) -> SafeString:
    """Inbound calls per hour (or day) against the baseline forecast."""
    chart = pygal.Line(
        **_config(
            [BRAND, MUTED],
            height=280,
            include_x_axis=True,
            show_minor_x_labels=span.slot_kind == "hour",
            x_labels_major_every=None if span.slot_kind == "hour" else 5,
            show_y_guides=True,
            show_x_guides=False,
            dots_size=3,
            allow_interruptions=True,
        )
    )
    chart.x_labels = [_slot_label(span, slot.start) for slot in calls.slots]
    chart.add(
        _("Calls"),
        [
            None
            if slot.calls is None
            else _point(
                slot.calls,
                tooltip=_("%(slot)s: %(calls)s calls") % _slot_words(span, slot, slot.calls),
                url=slot.tickets_url,
            )
            for slot in calls.slots
        ],
        stroke_style={"width": 3},
    )
    if calls.has_forecast:
        chart.add(
            _("Forecast: the staffing plan's"),
            [
                None
                if slot.forecast is None
                else _point(
                    slot.forecast,
                    tooltip=_("%(slot)s: %(calls)s calls forecast")
                    % _slot_words(span, slot, formats.number_format(slot.forecast, 1)),
                )
                for slot in calls.slots
            ],
            dots_size=2,
            stroke_style={"width": 2, "dasharray": "6, 4"},
        )
    return _svg(chart, label)


def _slot_words(span: Span, slot, calls) -> dict:
    local = timezone.localtime(slot.start)
    when = f"{local:%H}:00" if span.slot_kind == "hour" else formats.date_format(local, "m-d")
    return {"slot": when, "calls": calls}


def faults_chart(faults: list[FaultRow], *, label: str) -> SafeString:
    """Valid requests of the busiest fault types, each bar split by grade."""
    charted = faults[:FAULTS_CHARTED][::-1]  # drawn from the bottom up: the busiest on top
    grades = [grade for grade in Grade if any(grade.value in row.by_grade for row in charted)]
    chart = pygal.HorizontalStackedBar(
        **_config(
            [GRADE_COLOURS[grade] for grade in grades],
            height=90 + 30 * len(charted),
            margin_left=_room_for(row.name for row in charted),
            show_x_guides=True,
            show_y_guides=False,
            print_values=False,
        )
    )
    chart.x_labels = [row.name for row in charted]
    for grade in grades:
        values = []
        for row in charted:
            figure = row.by_grade.get(grade.value)
            values.append(
                None
                if figure is None
                else _point(
                    figure.count,
                    tooltip=f"{row.name} · {grade.label}: {figure.count}",
                    url=figure.url,
                )
            )
        chart.add(str(grade.label), values)
    return _svg(chart, label)


def _level_colour(share: float) -> str:
    """The colours of the morning meeting's compliance table: under 90 %, under 98 %."""
    return BAD if share < 90 else WARN if share < 98 else OK


def compliance_chart(rows: list[ComplianceRow], *, label: str) -> SafeString:
    """The share of each milestone's deadlines met."""
    charted = rows[::-1]  # the first milestone on top
    chart = pygal.HorizontalBar(
        **_config(
            [BRAND],
            height=50 + 36 * len(charted),
            margin_left=_room_for(str(row.milestone.label) for row in charted),
            range=(0, 100),
            show_legend=False,
            show_y_guides=False,
            value_formatter=lambda share: f"{share:.0f}%",
            margin_right=MARGIN * 3,
        )
    )
    chart.x_labels = [str(row.milestone.label) for row in charted]
    chart.add(
        _("Met"),
        [
            _point(
                row.share,
                tooltip=_("%(milestone)s: %(met)s of %(counted)s met, %(missed)s missed")
                % {
                    "milestone": row.milestone.label,
                    "met": row.met,
                    "counted": row.counted,
                    "missed": row.missed.count,
                },
                url=row.missed.url if row.missed.count else None,
                color=_level_colour(row.share),
            )
            for row in charted
        ],
    )
    return _svg(chart, label)


def satisfaction_chart(satisfaction: dict, *, label: str, url: str | None) -> SafeString:
    """The callbacks' answers: satisfied, basically satisfied, not satisfied."""
    answers = [
        (Callback.Satisfaction.SATISFIED, OK),
        (Callback.Satisfaction.BASICALLY, WARN),
        (Callback.Satisfaction.UNSATISFIED, BAD),
    ]
    chart = pygal.Pie(
        **_config(
            [colour for _answer, colour in answers],
            width=300,
            height=230,
            inner_radius=0.55,
            legend_at_bottom=False,
            show_legend=False,
        )
    )
    for answer, _colour in answers:
        count = satisfaction[answer.value]
        chart.add(
            str(answer.label),
            [_point(count, tooltip=f"{answer.label}: {count}", url=url)] if count else [],
        )
    return _svg(chart, label)


def dashboard_charts(dashboard: Dashboard) -> dict[str, SafeString]:
    """Return the dashboard's charts by name; a chart with nothing to draw is left out."""
    span, charts = dashboard.span, {}
    if dashboard.calls.received or dashboard.calls.has_forecast:
        label = (
            _("Inbound calls per hour today, against the forecast")
            if span.key == TODAY
            else _("Inbound calls per day this month, against the forecast")
        )
        charts["calls"] = calls_chart(dashboard.calls, span=span, label=label)
    if dashboard.faults:
        charts["faults"] = faults_chart(
            dashboard.faults, label=_("Valid requests by fault type and grade")
        )
    if dashboard.compliance:
        charts["compliance"] = compliance_chart(
            dashboard.compliance, label=_("Share of the deadlines met, by milestone")
        )
    if dashboard.satisfaction["done"]:
        charts["satisfaction"] = satisfaction_chart(
            dashboard.satisfaction,
            label=_("Satisfaction of the callbacks done"),
            url=dashboard.register_url,
        )
    return charts
