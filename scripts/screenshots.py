"""Take the documentation's screenshots from a running demo system.

Start the demo first (``DEMO_MODE=1 bash scripts/run.sh``), then run::

    .venv/bin/python scripts/screenshots.py [--base-url http://127.0.0.1:8000]

It signs in as the demo users through the sign-in form, the way a person would, and saves
PNG files to docs/screenshots/: Chinese pages at 1366×768 (the centre's desktop), the crew's
pages on a 390×844 phone, and one page in English. It starts no server and changes nothing
but the tickets form it submits with errors (which saves nothing). It drives Debian's
Chromium (``--chromium``); Playwright never downloads a browser for it.
"""

import argparse
import sys
from collections.abc import Callable
from pathlib import Path

from playwright.sync_api import Browser, Page, sync_playwright

ROOT = Path(__file__).resolve().parent.parent
DEMO_PASSWORD = "demo-pass-2026"  # noqa: S105 - the published password of the demo users
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-background-networking",
    "--disable-gpu",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
DESKTOP = {"width": 1366, "height": 768}
PHONE = {"width": 390, "height": 844}


class Shooter:
    def __init__(self, browser: Browser, base_url: str, out_dir: Path, password: str) -> None:
        self.browser = browser
        self.base_url = base_url.rstrip("/")
        self.out_dir = out_dir
        self.password = password
        self.saved: list[Path] = []

    def page(self, *, phone: bool = False) -> Page:
        """A new browser (no cookies) set up like the centre's PCs, or like a crew's phone."""
        options = {"viewport": PHONE, "is_mobile": True, "has_touch": True} if phone else {}
        context = self.browser.new_context(
            base_url=self.base_url,
            locale="zh-CN",
            timezone_id="Asia/Shanghai",
            viewport=options.pop("viewport", DESKTOP),
            **options,
        )
        context.set_default_timeout(15_000)
        return context.new_page()

    def sign_in(self, page: Page, username: str) -> None:
        page.goto("/accounts/login/")
        page.locator("#id_username").fill(username)
        page.locator("#id_password").fill(self.password)
        with page.expect_navigation():
            page.locator("main form button[type=submit]").click()
        if page.url.rstrip("/").endswith("/accounts/login"):
            raise SystemExit(f"could not sign in as {username}: is the demo data loaded?")

    def save(self, page: Page, name: str, *, full_page: bool = True) -> None:
        # Let web fonts and htmx settle, and keep the caret out of the picture.
        page.wait_for_load_state("networkidle")
        path = self.out_dir / f"{name}.png"
        page.screenshot(path=str(path), full_page=full_page, caret="hide")
        self.saved.append(path)
        print(f"  {path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}")

    def close(self, page: Page) -> None:
        page.context.close()

    # One method per screenshot; each starts from a fresh browser.

    def login(self) -> None:
        page = self.page()
        page.goto("/accounts/login/")
        self.save(page, "01-login")
        self.close(page)

    def agent_home(self) -> None:
        page = self.page()
        self.sign_in(page, "agent1")
        self.save(page, "02-agent-home")
        self.close(page)

    def new_ticket_with_errors(self) -> None:
        """An agent forgets the building and unit of a household repair."""
        page = self.page()
        self.sign_in(page, "agent1")
        page.goto("/tickets/new/")
        page.locator("#id_caller_phone").fill("138 1234 5678")
        page.locator("#id_caller_name").fill("张先生")
        page.locator("#id_fault_type").select_option(label="单户漏水")
        page.locator("#id_address").fill("锦华苑")
        page.locator("#id_description").fill("厨房水管接头漏水，水已流到客厅")
        with page.expect_navigation():
            page.locator("main form button[type=submit]").click()
        page.locator("#id_building").focus()
        self.save(page, "03-new-ticket-errors")
        self.close(page)

    def ticket_list(self) -> None:
        page = self.page()
        self.sign_in(page, "dispatcher")
        page.goto("/tickets/")
        self.save(page, "04-ticket-list", full_page=False)
        self.close(page)

    def _open_busy_ticket(self, page: Page) -> None:
        """Open the ticket with the most to show: an emergency on site, else any open one."""
        for query in ("?state=on_site&grade=emergency", "?state=on_site", "?state=verified", ""):
            page.goto(f"/tickets/{query}")
            first = page.locator("#ticket-rows a").first
            if first.count():
                with page.expect_navigation():
                    first.click()
                return
        raise SystemExit("no tickets to show: is the demo data loaded?")

    def ticket_detail(self) -> None:
        page = self.page()
        self.sign_in(page, "dispatcher")
        self._open_busy_ticket(page)
        # Open the first action, to show what its form asks for.
        summary = page.locator("details.action > summary").first
        if summary.count():
            summary.click()
        self.save(page, "05-ticket-detail-dispatcher")
        self.close(page)

    def crew_home_phone(self) -> None:
        page = self.page(phone=True)
        self.sign_in(page, "crew_east1")
        self.save(page, "06-crew-leader-home-phone")
        # A ticket the crew has something to do on: just dispatched, accepted or on site.
        for state in ("dispatched", "accepted", "on_site", "mitigated", None):
            row = page.locator("#ticket-rows tr")
            if state:
                row = row.filter(has=page.locator(f".state-{state}"))
            if row.count():
                with page.expect_navigation():
                    row.first.locator("a").first.tap()
                self.save(page, "07-crew-leader-ticket-phone")
                break
        self.close(page)

    def english(self) -> None:
        """The same ticket page after switching the language in the header."""
        page = self.page()
        self.sign_in(page, "dispatcher")
        with page.expect_navigation():
            page.locator("select#language-select").select_option("en")
        self._open_busy_ticket(page)
        self.save(page, "08-ticket-detail-en")
        page.goto("/tickets/")
        self.save(page, "09-ticket-list-en", full_page=False)
        self.close(page)

    def callbacks(self) -> None:
        """The agent's callback queue, the first callback with its form, and the register."""
        page = self.page()
        self.sign_in(page, "agent1")
        page.goto("/callbacks/")
        self.save(page, "10-callback-queue", full_page=False)
        page.goto("/callbacks/next/")
        self.save(page, "11-callback-form")
        self.close(page)
        page = self.page()
        self.sign_in(page, "leader_day")
        page.goto("/callbacks/register/")
        self.save(page, "12-callback-register", full_page=False)
        page.goto("/callbacks/complaints/")
        self.save(page, "13-complaint-replies", full_page=False)
        self.close(page)

    def alerts(self) -> None:
        """The dispatcher's alerts with the count in the top bar, a breach's cause form with
        an error, and the supervisor's alarms."""
        page = self.page()
        self.sign_in(page, "dispatcher")
        page.goto("/alerts/")
        page.locator(".alert-bell .badge-alert").wait_for()
        self.save(page, "14-alerts-dispatcher", full_page=False)
        cause = page.locator("a[href$='/cause/']").first
        if cause.count():
            cause.click()
            page.locator("#id_cause_1").check()
            page.locator("main form button[type=submit]").click()
            self.save(page, "15-delay-cause-error", full_page=False)
        self.close(page)
        page = self.page()
        self.sign_in(page, "supervisor")
        page.goto("/alerts/?show=all")
        self.save(page, "16-alerts-supervisor", full_page=False)
        self.close(page)

    def reports(self) -> None:
        """The shift reports, one shift's report as the shift leader submits it, and the
        morning meeting's daily report."""
        page = self.page()
        self.sign_in(page, "leader_day")
        page.goto("/reports/")
        self.save(page, "17-shift-reports", full_page=False)
        page.locator("table.tickets tbody a").first.click()
        self.save(page, "18-shift-report")
        self.close(page)
        page = self.page()
        self.sign_in(page, "supervisor")
        page.goto("/reports/?kind=daily")
        page.locator("table.tickets tbody a").first.click()
        self.save(page, "19-morning-meeting")
        self.close(page)

    def dashboard(self) -> None:
        """The supervisor's dashboard, today and this month."""
        page = self.page()
        self.sign_in(page, "supervisor")
        page.goto("/reports/dashboard/")
        self.save(page, "20-dashboard-today")
        page.goto("/reports/dashboard/?period=month")
        self.save(page, "21-dashboard-month")
        self.close(page)

    def quality_reports(self) -> None:
        """The weekly report, the monthly quality report with its review, a target out of
        range refused, and an export of the ticket list on its way."""
        page = self.page()
        self.sign_in(page, "supervisor")
        page.goto("/reports/?kind=weekly")
        page.locator("table.tickets tbody a").first.click()
        self.save(page, "22-weekly-report")
        page.goto("/reports/?kind=monthly")
        page.locator("table.tickets tbody a").first.click()
        self.save(page, "23-monthly-report")
        page.locator("#id_sla").fill("120")
        page.locator("#review ~ form.card button[type=submit]").first.click()
        page.locator("#id_sla").scroll_into_view_if_needed()
        self.save(page, "24-monthly-target-error", full_page=False)
        page.goto("/tickets/?grade=emergency")
        page.locator("form.export-form button[type=submit]").click()
        self.save(page, "25-my-exports", full_page=False)
        self.close(page)

    def staffing(self) -> None:
        """The agent's seat and status in the console, the shift leader's wallboard with a
        floating seat switched on, the roster and the staffing plan."""
        page = self.page()
        self.sign_in(page, "agent4")
        page.goto("/console/")
        page.locator("#my-status select, #my-status .status-buttons").first.wait_for()
        self.save(page, "26-console-seat", full_page=False)
        self.close(page)
        page = self.page()
        self.sign_in(page, "leader_day")
        page.goto("/staffing/wallboard/")
        self.save(page, "27-wallboard")
        page.locator(".seat-off form button").first.click()
        page.locator(".message-success").first.wait_for()
        self.save(page, "28-wallboard-floating-on")
        page.goto("/staffing/roster/")
        self.save(page, "29-roster")
        page.goto("/staffing/planning/")
        self.save(page, "30-staffing-plan")
        self.close(page)

    def all(self) -> list[Callable[[], None]]:
        return [
            self.login,
            self.agent_home,
            self.new_ticket_with_errors,
            self.ticket_list,
            self.ticket_detail,
            self.crew_home_phone,
            self.english,
            self.callbacks,
            self.alerts,
            self.reports,
            self.dashboard,
            self.quality_reports,
            self.staffing,
        ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base-url", default="http://127.0.0.1:8000")
    parser.add_argument("--out-dir", type=Path, default=ROOT / "docs" / "screenshots")
    parser.add_argument("--chromium", default="/usr/bin/chromium")
    parser.add_argument("--password", default=DEMO_PASSWORD)
    parser.add_argument(
        "--only", nargs="*", metavar="NAME", help="take only these (method names, e.g. login)"
    )
    args = parser.parse_args(argv)

    args.out_dir.mkdir(parents=True, exist_ok=True)
    print(f"Screenshots of {args.base_url} to {args.out_dir}:")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=args.chromium, headless=True, args=CHROMIUM_ARGS
        )
        try:
            shooter = Shooter(browser, args.base_url, args.out_dir, args.password)
            for take in shooter.all():
                if args.only and take.__name__ not in args.only:
                    continue
                take()
        finally:
            browser.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
