"""The Content-Security-Policy, held by tests: every answer carries it, and no page needs
what it forbids (inline script, event-handler attributes, inline style).

The scan of the template files fails on a new inline script or style as soon as it is
written; the rendered pages (every page of every role's navigation, and the pages a
template scan cannot read: SVG charts, Python-built markup, the administration) hold what
the templates become. The browser tests (tests/e2e) fail on any violation a page reports.
"""

import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse

from callcentre.middleware import CSP_HEADER
from reports.charts import chart_stylesheet
from tickets.choices import State
from tickets.public import slip_url, status_url

ROOT = Path(__file__).resolve().parents[2]
POLICY_MUST_SAY = (
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "frame-ancestors 'none'",
    "base-uri 'none'",
    "object-src 'none'",
    "form-action 'self'",
)
ENGLISH = {"HTTP_ACCEPT_LANGUAGE": "en"}


def _policy(response) -> dict[str, list[str]]:
    directives = [part.split() for part in response[CSP_HEADER].split(";") if part.strip()]
    return {name: sources for name, *sources in directives}


def assert_strict(response) -> None:
    header = response[CSP_HEADER]
    for directive in POLICY_MUST_SAY:
        assert directive in header, header
    for sources in _policy(response).values():
        assert "'unsafe-inline'" not in sources, header
        assert "'unsafe-eval'" not in sources, header


class _InlineCode(HTMLParser):
    """Collect what a strict policy would refuse in an HTML page."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[str] = []

    def handle_starttag(self, tag, attrs) -> None:
        names = {name.lower(): value for name, value in attrs}
        # Data for a script (json_script) is never run: the policy lets it be.
        data = (names.get("type") or "").lower() == "application/json"
        if tag == "script" and "src" not in names and not data:
            self.found.append(f"inline <script> ({self.getpos()})")
        if tag == "style":
            self.found.append(f"<style> element ({self.getpos()})")
        for name, value in names.items():
            if name.startswith("on"):
                self.found.append(f"<{tag} {name}=…> ({self.getpos()})")
            if name == "style":
                self.found.append(f'<{tag} style="{value}"> ({self.getpos()})')
            if (value or "").strip().lower().startswith("javascript:"):
                self.found.append(f"<{tag} {name}={value!r}> ({self.getpos()})")

    handle_startendtag = handle_starttag


def inline_code(html: str) -> list[str]:
    parser = _InlineCode()
    parser.feed(html)
    parser.close()
    return parser.found


# The header on every kind of answer.


@pytest.mark.django_db
def test_given_any_answer_then_it_carries_the_strict_policy(client, centre):
    client.force_login(centre.supervisor)
    answers = {
        "public page": Client().get("/notices/"),
        "sign-in page": Client().get("/accounts/login/"),
        "signed-in page": client.get("/"),
        "API": client.get("/api/v1/faq/"),
        "API refused": Client().get("/api/v1/tickets/"),
        "not found": client.get("/no-such-page/"),
    }
    for name, response in answers.items():
        assert CSP_HEADER in response, name
        assert_strict(response)
        assert _policy(response)["img-src"] == ["'self'"], name
    assert answers["API refused"].status_code == 401


@pytest.mark.django_db
def test_given_the_administration_then_it_carries_the_policy_and_needs_no_inline_script(
    client, centre
):
    client.force_login(centre.admin)
    index = client.get(reverse("admin:index"))
    changelists = [
        model["admin_url"] for app in index.context["app_list"] for model in app["models"]
    ]
    adds = [
        model["add_url"]
        for app in index.context["app_list"]
        for model in app["models"]
        if model.get("add_url")
    ]
    pages = [
        reverse("admin:index"),
        *changelists,
        *adds,
        reverse("admin:staffing_user_change", args=[centre.agent.pk]),
        reverse("admin:followups_workingdayoverride_calendar"),
    ]
    assert len(changelists) > 10
    for url in pages:
        response = client.get(url)
        assert response.status_code == 200, url
        assert_strict(response)
        assert inline_code(response.content.decode()) == [], url


@pytest.mark.django_db
def test_given_the_api_docs_then_its_script_is_a_file_of_its_own_and_no_style_is_inline(
    client, centre
):
    client.force_login(centre.supervisor)

    page = client.get("/api/docs/")

    assert page.status_code == 200
    assert_strict(page)
    assert _policy(page)["img-src"] == ["'self'", "data:"]  # Swagger UI's icons, here alone
    html = page.content.decode()
    assert inline_code(html) == []
    script = re.search(r'<script src="(/api/docs/\?[^"]*script[^"]*)"', html)
    assert script, "the init script is not served from the page's own address"
    init = client.get(script.group(1).replace("&amp;", "&"))
    assert init.status_code == 200
    assert init["Content-Type"].startswith("application/javascript")
    assert "SwaggerUIBundle(" in init.content.decode()
    assert "no-store" in init["Cache-Control"]  # it carries the signed-in user's CSRF token


# The templates and the static scripts.


def _template_files() -> list[Path]:
    folders = [ROOT / "templates"]
    for app in ROOT.iterdir():
        if app.is_dir() and not app.name.startswith(".") and app.name not in {"var", "tests"}:
            folders += [app / "templates", app / "jinja2"]
    return sorted(path for folder in folders if folder.is_dir() for path in folder.rglob("*.html"))


INLINE_IN_TEMPLATES = {
    "inline <script>": re.compile(r"<script\b(?![^>]*\bsrc=)[^>]*>", re.IGNORECASE),
    "event-handler attribute": re.compile(r"<[a-z][^>]*\son[a-z]+\s*=", re.IGNORECASE),
    "style attribute": re.compile(r"<[a-z][^>]*\sstyle\s*=", re.IGNORECASE),
    "<style> element": re.compile(r"<style\b", re.IGNORECASE),
    "javascript: address": re.compile(r"=\s*[\"']\s*javascript:", re.IGNORECASE),
}


TEMPLATE_COMMENT = re.compile(r"\{#.*?#\}|\{% comment %\}.*?\{% endcomment %\}", re.DOTALL)


def _blank(comment: re.Match) -> str:
    return "\n" * comment.group(0).count("\n")  # the lines after it keep their numbers


def test_given_every_template_then_none_has_inline_script_handler_or_style():
    templates = _template_files()
    assert len(templates) > 50  # the scan reads the project's templates

    found = [
        f"{path.relative_to(ROOT)}:{text[: match.start()].count(chr(10)) + 1}: {kind}"
        for path in templates
        for text in [TEMPLATE_COMMENT.sub(_blank, path.read_text())]
        for kind, pattern in INLINE_IN_TEMPLATES.items()
        for match in pattern.finditer(text)
    ]

    assert found == [], "move these to static/js or static/css:\n" + "\n".join(found)


def test_given_the_static_scripts_then_none_evaluates_code_or_writes_a_style_attribute():
    refused = re.compile(
        r"\beval\(|new Function\(|setAttribute\(\s*[\"']style|\.cssText\s*=|"
        r"set(?:Timeout|Interval)\(\s*[\"'`]"
    )
    scripts = sorted((ROOT / "static" / "js").glob("*.js"))
    assert scripts
    found = [
        f"{path.name}: {match.group(0)}"
        for path in scripts
        for match in refused.finditer(path.read_text())
    ]
    assert found == []


def test_given_the_charts_stylesheet_then_it_is_the_one_pygal_writes_for_the_charts():
    # Regenerate after a change of the charts' style or of pygal:
    # .venv/bin/python manage.py shell --no-imports -c "from reports.charts import
    #   chart_stylesheet; print(chart_stylesheet(), end='')" > static/css/charts.css
    assert (ROOT / "static" / "css" / "charts.css").read_text() == chart_stylesheet()


# Every page of every role, as it is drawn.


def _nav_urls(client) -> list[str]:
    home = client.get("/", follow=True)  # a crew's home is its own page
    assert home.status_code == 200
    return [url for url, _label in home.context["nav_links"]]


@pytest.mark.django_db
def test_given_each_role_when_it_opens_every_page_of_its_menu_then_nothing_is_inline(
    client, centre, make_ticket
):
    # Something on every page: tickets in several states (the board's lanes, the
    # dashboard's charts, the list, the re-check, the crew's list).
    tickets = [
        make_ticket(),
        make_ticket(State.DISPATCHED, fault_type=centre.burst),
        make_ticket(State.RESOLVED),
    ]
    users = [*centre.by_role().values(), centre.admin]
    seen = set()
    for user in users:
        client.force_login(user)
        urls = [*_nav_urls(client), reverse("tickets:detail", args=[tickets[1].number])]
        for url in urls:
            response = client.get(url, **ENGLISH)
            if response.status_code in (302, 403, 404):
                continue  # not this role's page (a ticket it may not see)
            assert response.status_code == 200, (user.username, url)
            html = response.content.decode()
            assert inline_code(html) == [], (user.username, url)
            if "<head>" in html and "/django_htmx/" in html:
                assert '<meta name="htmx-config"' in html, url
                assert '"includeIndicatorStyles": false' in html, url
            seen.add(url)
    assert {"/dispatch/", "/console/", "/reports/dashboard/", "/admin/"} <= seen


@pytest.mark.django_db
def test_given_the_dashboard_with_charts_then_the_charts_carry_no_style_of_their_own(
    client, centre, make_ticket
):
    make_ticket()
    make_ticket(fault_type=centre.burst)
    client.force_login(centre.supervisor)

    page = client.get("/reports/dashboard/").content.decode()

    assert "<svg" in page
    assert inline_code(page) == []
    assert "css/charts.css" in page
    # The colour of a series is an attribute of its group: blocked styles would leave it black.
    assert re.search(r'<g class="series serie-0 color-0" fill="#[0-9a-f]{6}"', page)


@pytest.mark.django_db
def test_given_the_public_pages_then_nothing_is_inline(client, centre, make_ticket):
    ticket = make_ticket(State.CLOSED)
    for url in (
        "/status/",
        status_url(ticket),
        slip_url(ticket),
        "/notices/",
        "/accounts/login/",
    ):
        response = Client().get(url.removeprefix(settings.PUBLIC_BASE_URL))
        assert response.status_code == 200, url
        assert_strict(response)
        assert inline_code(response.content.decode()) == [], url
