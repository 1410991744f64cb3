"""The Jinja2 partials: the few lists drawn hundreds of times a minute (see ``TEMPLATES``)."""

from django.template import engines
from django.utils.safestring import SafeString, mark_safe
from jinja2 import Environment, StrictUndefined


def environment(**options) -> Environment:
    options.pop("autoescape", None)  # always on, whatever the settings say
    # A misspelt name is an error, not an empty string on two hundred cards.
    options["undefined"] = StrictUndefined
    return Environment(autoescape=True, **options)


def render_partial(name: str, context: dict) -> SafeString:
    """Return the Jinja2 template ``name`` drawn with ``context``, to put in a Django page."""
    html = engines["jinja2"].get_template(name).render(context)
    return mark_safe(html)  # noqa: S308 - Jinja2 escaped every value it put in


def partial_text(html: str) -> SafeString:
    """Mark drawn partial HTML (kept in a cache, say) safe to put in a page again."""
    return mark_safe(html)  # noqa: S308 - drawn by render_partial, escaped there
