"""Browser tests: Playwright driving Debian's chromium against pytest-django's live server.

Playwright cannot download its own browser here, so it is pointed at /usr/bin/chromium. Where
no chromium is installed the tests skip, except when E2E_REQUIRED is set (CI sets it), where
they fail: CI must never pass without running them.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

# The live server runs in a thread of this process; Playwright's sync API runs an event loop in
# the test's thread, so ORM calls from the test need this (see shared/FACTS.md).
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"

# axe-core from npm, vendored by `.ci/run` (npm install into this git-ignored folder), never a
# CDN. Without it the walk checks everything but accessibility, except in CI (E2E_REQUIRED).
AXE = (
    Path(__file__).resolve().parents[2]
    / "test-artifacts"
    / "vendor"
    / "node_modules"
    / "axe-core"
    / "axe.min.js"
)
AXE_IMPACTS = ("serious", "critical")


def axe_violations(page: Any) -> list[str]:
    """axe-core's serious and critical violations on the page, one line each."""
    page.add_script_tag(path=str(AXE))
    result = page.evaluate(
        "async () => { const r = await axe.run(document, {resultTypes: ['violations']});"
        " return r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,"
        " nodes: v.nodes.slice(0, 3).map(n => n.target.join(' '))})); }"
    )
    return [
        f"{v['impact']} {v['id']}: {v['help']} at {', '.join(v['nodes'])}"
        for v in result
        if v["impact"] in AXE_IMPACTS
    ]


@pytest.fixture(scope="session", autouse=True)
def _axe_in_ci() -> None:
    if os.environ.get("E2E_REQUIRED") and not AXE.exists():
        pytest.fail(f"axe-core is not vendored at {AXE}: run the npm step of .ci/run")


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    if not Path(CHROMIUM).exists():
        message = f"no chromium at {CHROMIUM}: apt-get install chromium"
        if os.environ.get("E2E_REQUIRED"):
            pytest.fail(message)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright  # noqa: PLC0415  (only when there is a browser)

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--no-first-run",
            ],
        )
        yield browser
        browser.close()


@pytest.fixture
def page(browser, live_server) -> Iterator[object]:
    context = browser.new_context(base_url=live_server.url, viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page
    context.close()


@pytest.fixture
def shot(page) -> object:
    """`shot("name")` saves a full-page screenshot under test-artifacts/screenshots/."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)

    def take(name: str) -> Path:
        path = ARTIFACTS / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return take
