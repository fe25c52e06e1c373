"""A real Chromium (Debian's package), driven by Playwright's sync API, against pytest-django's live server."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
# No downloads on these machines: Playwright drives the system browser, never one of its own.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture
def chromium(monkeypatch) -> Iterator[object]:
    """A headless Chromium for one test; fail (never skip) where it is missing, so CI cannot go green without it."""
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: `make system-packages` installs it", pytrace=False)
    from django.db import connections
    from playwright.sync_api import sync_playwright

    # Playwright's sync API keeps an asyncio loop running on this thread, so Django would refuse
    # the test's own ORM calls between browser steps. Only for this test: the rest keep the check.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()
        # While that loop runs, Django keeps this thread's connections apart from its usual ones:
        # close them here, or the test database cannot be dropped at the end of the run.
        connections.close_all()
