"""The Jinja2 partials: the few lists drawn hundreds of times a minute (see ``TEMPLATES``),
and the renderer that draws every form through Jinja2."""

from django.forms.renderers import BaseRenderer, DjangoTemplates, Jinja2
from django.template import TemplateDoesNotExist, engines
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


class FormRenderer(BaseRenderer):
    """Draw forms with Django's Jinja2 copies of its form and widget templates: the same
    HTML at a third of the cost (the console's form is most of a screen pop). A widget that
    ships only a Django template (the admin's, auth's password hash) is drawn by that."""

    def __init__(self) -> None:
        self._jinja2, self._django = Jinja2(), DjangoTemplates()
        self._django_only: set[str] = set()  # names found to have no Jinja2 template

    def get_template(self, template_name: str):
        if template_name not in self._django_only:
            try:
                return self._jinja2.get_template(template_name)
            except TemplateDoesNotExist:
                self._django_only.add(template_name)
        return self._django.get_template(template_name)
