"""The Jinja2 environment of the few partials rendered with Jinja2 (see ``TEMPLATES``)."""

from jinja2 import Environment, StrictUndefined


def environment(**options) -> Environment:
    options.pop("autoescape", None)  # always on, whatever the settings say
    # A misspelt name is an error, not an empty string on two hundred cards.
    options["undefined"] = StrictUndefined
    return Environment(autoescape=True, **options)
