"""Browser tests: one shared headless Chromium, a fresh browser context for every test.

The tests drive Debian's Chromium (``/usr/bin/chromium``, or ``E2E_CHROMIUM``) through
Playwright's sync API against pytest-django's ``live_server``. Playwright never downloads
a browser here; without Chromium the tests are skipped with the reason.

Playwright's sync API marks its asyncio loop as running in the main thread between calls,
and Django refuses ORM calls when a loop is running. So the loop is only marked while an
e2e test runs (where ``DJANGO_ALLOW_ASYNC_UNSAFE`` is set for the test alone), and the other
tests that share the worker with the browser see no running loop.
"""

import asyncio
import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from django.db import DEFAULT_DB_ALIAS, connections
from playwright.sync_api import Browser, BrowserContext, Page, Playwright, expect, sync_playwright

from tests.e2e.helpers import DESKTOP, PHONE, watch_content_security_policy

CHROMIUM = os.environ.get("E2E_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-background-networking",
    "--disable-gpu",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
TIMEOUT_MS = 8_000

expect.set_options(timeout=TIMEOUT_MS)


def pytest_configure(config) -> None:
    # pytest-xdist registers this marker; register it too for runs with ``-p no:xdist``.
    config.addinivalue_line("markers", "xdist_group(name): run the group in one xdist worker")


class _SharedBrowser:
    """The session's browser and the loop Playwright runs it on."""

    def __init__(self, playwright: Playwright, browser: Browser) -> None:
        self.playwright = playwright
        self.browser = browser
        self.loop = asyncio.get_running_loop()
        self.suspend()

    def resume(self) -> None:
        asyncio._set_running_loop(self.loop)

    def suspend(self) -> None:
        asyncio._set_running_loop(None)

    def close(self) -> None:
        self.resume()
        try:
            self.browser.close()
        finally:
            self.playwright.stop()
            self.suspend()


@pytest.fixture(scope="session")
def shared_browser() -> Iterator[_SharedBrowser]:
    if not Path(CHROMIUM).exists():
        pytest.skip(f"no Chromium at {CHROMIUM}; apt-get install chromium, or set E2E_CHROMIUM")
    playwright = sync_playwright().start()
    try:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
    except BaseException:
        playwright.stop()
        raise
    shared = _SharedBrowser(playwright, browser)
    yield shared
    shared.close()


@pytest.fixture
def _e2e_environment(monkeypatch, settings) -> None:
    """Let the live server work as the browser needs it, for one test."""
    # The ORM calls of an e2e test run beside Playwright's loop; allow them for this test.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    # The live server speaks plain HTTP: secure cookies would never come back to it.
    settings.SESSION_COOKIE_SECURE = False
    settings.CSRF_COOKIE_SECURE = False
    settings.SECURE_SSL_REDIRECT = False
    # The browser keeps its connections alive, and with them the live server's request
    # threads and their database connections; close those after every request, so that
    # nothing holds the test database open when it is dropped.
    monkeypatch.setitem(connections.settings[DEFAULT_DB_ALIAS], "CONN_MAX_AGE", 0)


@pytest.fixture
def browser(shared_browser: _SharedBrowser, _e2e_environment) -> Iterator[Browser]:
    """The shared browser, usable for the length of one test."""
    shared_browser.resume()
    try:
        yield shared_browser.browser
    finally:
        # While a loop runs, Django keeps the database connections of the test's own ORM
        # calls apart from the thread's usual ones; close them before the loop stops.
        connections.close_all()
        shared_browser.suspend()


@pytest.fixture
def new_context(browser: Browser, live_server) -> Iterator[Callable[..., BrowserContext]]:
    """Open browser contexts on the live server (1366×768, Chinese by default).

    Every page of every context is watched for what the Content-Security-Policy refused;
    a test whose pages were refused anything fails when it ends.
    """
    contexts: list[BrowserContext] = []
    refused: list[str] = []

    def make(**options) -> BrowserContext:
        options.setdefault("viewport", DESKTOP)
        options.setdefault("locale", "zh-CN")
        context = browser.new_context(base_url=live_server.url, **options)
        context.set_default_timeout(TIMEOUT_MS)
        watch_content_security_policy(context, refused)
        contexts.append(context)
        return context

    yield make
    for context in contexts:
        context.close()
    assert not refused, "the Content-Security-Policy refused:\n" + "\n".join(refused)


@pytest.fixture
def page(new_context) -> Page:
    return new_context().new_page()


@pytest.fixture
def phone_page(new_context) -> Page:
    return new_context(viewport=PHONE, is_mobile=True, has_touch=True).new_page()
