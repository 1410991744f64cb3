"""What the browser tests do again and again: sign in, read a message as a page shows it."""

from django.utils import translation
from playwright.sync_api import BrowserContext, Page

# The password tests.staffing.factories.user_with_role gives every user.
PASSWORD = "pw-for-tests-1"
DESKTOP = {"width": 1366, "height": 768}
PHONE = {"width": 390, "height": 844}


# Told to the console by every page (Playwright's init script, which no policy governs): a
# violation the page's own code could catch and hide is reported all the same.
_REPORT_VIOLATIONS = """
document.addEventListener("securitypolicyviolation", (event) => {
  console.error(
    `Content Security Policy violation: ${event.effectiveDirective} refused ` +
    `${event.blockedURI || "inline"} at ${event.sourceFile || event.documentURI}:` +
    `${event.lineNumber}`,
  );
});
"""


def watch_content_security_policy(context: BrowserContext, refused: list[str]) -> None:
    """Collect in ``refused`` whatever the Content-Security-Policy refuses in ``context``."""
    context.add_init_script(_REPORT_VIOLATIONS)

    def read(message) -> None:
        if "Content Security Policy" in message.text:
            refused.append(f"{message.page.url if message.page else '?'}: {message.text}")

    context.on("console", read)


def sign_in(page: Page, username: str, password: str = PASSWORD) -> None:
    """Sign in through the real form, as a person would, and wait for the next page."""
    page.goto("/accounts/login/")
    page.locator("#id_username").fill(username)
    page.locator("#id_password").fill(password)
    with page.expect_navigation():
        page.locator("main form button[type=submit]").click()


def zh(text) -> str:
    """``text`` (a message id or lazy label) the way the Chinese pages show it."""
    with translation.override("zh-hans"):
        return str(translation.gettext(text) if isinstance(text, str) else text)


def en(text) -> str:
    with translation.override("en"):
        return str(translation.gettext(text) if isinstance(text, str) else text)


def no_horizontal_scroll(page: Page) -> bool:
    return page.evaluate("document.scrollingElement.scrollWidth <= window.innerWidth")


def tab_to(page: Page, selector: str, *, limit: int = 60) -> None:
    """Press Tab until the element ``selector`` has the focus, as a keyboard user would."""
    target = page.locator(selector)
    for _ in range(limit):
        if target.evaluate("element => element === document.activeElement"):
            return
        page.keyboard.press("Tab")
    raise AssertionError(f"{limit} presses of Tab never reached {selector}")


def choose_with_keys(page: Page, selector: str, label: str, *, limit: int = 30) -> None:
    """In the focused select ``selector``, press the arrow keys until ``label`` is chosen."""
    select = page.locator(selector)
    assert select.evaluate("element => element === document.activeElement"), selector
    read = "element => element.selectedOptions[0] ? element.selectedOptions[0].text.trim() : ''"
    for key in ("Home", *["ArrowDown"] * limit):
        page.keyboard.press(key)
        if select.evaluate(read) == label:
            return
    raise AssertionError(f"{label!r} is not an option of {selector}")
