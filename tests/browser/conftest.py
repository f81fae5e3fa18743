"""Playwright driving Debian's Chromium against pytest-django's live server.

Browser tests are skipped where Chromium is not installed, except in CI (CI=true),
where a missing browser is a failure.
"""

import os
from pathlib import Path

import pytest

CHROMIUM = os.environ.get("TUOKE_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1366, "height": 900}


def pytest_collection_modifyitems(items):
    for item in items:
        if "tests/browser/" in str(item.fspath).replace(os.sep, "/"):
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session")
def live_server(request):
    """pytest-django's live server, started with plain-HTTP settings.

    Django's SecurityMiddleware reads SECURE_SSL_REDIRECT once, when the server thread
    builds its handler, so the per-test settings overrides come too late for it.
    """
    from django.test.utils import override_settings
    from pytest_django.live_server_helper import LiveServer

    with override_settings(SECURE_SSL_REDIRECT=False, SECURE_HSTS_SECONDS=0):
        server = LiveServer(os.getenv("DJANGO_LIVE_TEST_SERVER_ADDRESS") or "localhost")
    yield server
    server.stop()


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists():
        if os.environ.get("CI"):
            pytest.fail(f"Chromium is required in CI but {CHROMIUM} is missing")
        pytest.skip(f"Chromium is not installed at {CHROMIUM}")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        yield browser
        browser.close()


class Console:
    """Errors a page printed to its console or threw, collected for assertions."""

    def __init__(self, page):
        self.errors: list[str] = []
        page.on("console", self._on_console)
        page.on("pageerror", lambda exc: self.errors.append(f"pageerror: {exc}"))

    def _on_console(self, message):
        if message.type == "error":
            self.errors.append(f"{message.text} @ {message.location.get('url', '')}")


@pytest.fixture
def open_page(browser, live_server):
    """open_page(viewport, locale) → (page, console); closed at the end of the test."""
    contexts = []

    def _open(viewport=DESKTOP, locale="en-US"):
        context = browser.new_context(
            viewport=viewport, locale=locale, base_url=live_server.url, is_mobile=viewport == PHONE
        )
        context.set_default_timeout(15_000)
        contexts.append(context)
        page = context.new_page()
        return page, Console(page)

    yield _open
    for context in contexts:
        context.close()


def screenshot(page, name: str) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def log_in(page, username: str, password: str = "tuoke-demo") -> None:
    page.goto("/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click("button[type=submit]")
    page.wait_for_url(lambda url: "/login/" not in url)
