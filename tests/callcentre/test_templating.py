import re

import pytest
from django.forms.renderers import DjangoTemplates
from django.template.backends.django import Template as DjangoTemplate
from django.template.backends.jinja2 import Template as Jinja2Template
from django.utils import translation

from callcentre.forms import ConsoleForm
from callcentre.templating import FormRenderer


def _spaces_squeezed(html: str) -> str:
    # Jinja2 writes an apostrophe as &#39;, Django as &#x27;: the same character.
    html = html.replace("&#39;", "&#x27;")
    return re.sub(r">\s+<", "><", re.sub(r"\s+", " ", html)).strip()


@pytest.mark.django_db
@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_a_form_draws_the_same_html_as_with_django_templates(language):
    data = {"caller_phone": "not a number", "description": "<b>水管</b>"}
    with translation.override(language):
        ours = ConsoleForm(data=data, renderer=FormRenderer()).render()
        django = ConsoleForm(data=data, renderer=DjangoTemplates()).render()
    assert "not a number" in ours
    assert "&lt;b&gt;水管&lt;/b&gt;" in ours
    assert _spaces_squeezed(ours) == _spaces_squeezed(django)


def test_forms_draw_through_jinja2_and_a_django_only_widget_through_django():
    renderer = FormRenderer()
    assert isinstance(renderer.get_template("django/forms/div.html"), Jinja2Template)
    for _ in range(2):  # the second look-up goes straight to Django's templates
        template = renderer.get_template("auth/widgets/read_only_password_hash.html")
        assert isinstance(template, DjangoTemplate)
