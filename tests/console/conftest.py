"""Fixtures of the console tests: one Chromium for the browser tests (Debian's, by its path), a live dataspace per module.

Browser tests are skipped, saying why, where no Chromium is installed (CI installs Debian's ``chromium``: .ci/run);
set ``CONNECTOR_TEST_CHROMIUM`` to use another binary. Screenshots go to tests/e2e/screenshots/ (git-ignored).
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine

from connector.storage.db import create_schema, make_engine, normalize_url
from tests.conftest import BACKENDS, PG_URL, _require_backend

from .live import LiveDataspace

SCREENSHOTS = Path(__file__).resolve().parents[1] / "e2e" / "screenshots"


def chromium_path() -> str | None:
    wanted = os.environ.get("CONNECTOR_TEST_CHROMIUM")
    if wanted:
        return wanted if Path(wanted).exists() else None
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    return None


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Module-scoped, not session: the sync API keeps an event loop on the main thread while it runs, which the
    asyncio tests of other modules cannot share. Every browser test lives in test_browser.py: one launch."""
    executable = chromium_path()
    if executable is None:
        pytest.skip(
            "no Chromium installed (apt-get install chromium fonts-noto-cjk; .ci/run does): browser tests skipped"
        )
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.skip("playwright is not installed (pip install -e '.[test]'): browser tests skipped")
    with sync_playwright() as pw:
        instance = pw.chromium.launch(executable_path=executable, args=["--no-sandbox", "--disable-gpu"])
        yield instance
        instance.close()


REFUSALS = tuple(f"the server responded with a status of {code}" for code in (401, 403, 422))
"""A refused form is answered 401/403/422 with its page on purpose: Chromium logs those as failed loads."""


def _an_error(message: Any) -> bool:
    return message.type == "error" and not any(r in message.text for r in REFUSALS)


@pytest.fixture
def new_page(browser: Any) -> Iterator[Callable[..., Any]]:
    """Pages in fresh browser contexts (own cookies), English unless ``locale`` says otherwise. A page that logs an
    error (a script error, a resource the Content-Security-Policy refused) fails the test."""
    contexts: list[Any] = []
    errors: list[str] = []

    def make(locale: str = "en-US") -> Any:
        context = browser.new_context(locale=locale, accept_downloads=True, viewport={"width": 1280, "height": 900})
        context.set_default_timeout(15_000)
        contexts.append(context)
        page = context.new_page()
        page.on("dialog", lambda dialog: dialog.accept())
        page.on("console", lambda message: errors.append(message.text) if _an_error(message) else None)
        page.on("pageerror", lambda error: errors.append(str(error)))
        return page

    yield make
    for context in contexts:
        context.close()
    assert errors == [], errors


def screenshot(page: Any, name: str, *, full_page: bool = True) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=full_page)


def log_in(page: Any, space: LiveDataspace, company_id: str, role: str = "editor", path: str = "/") -> None:
    login, password = space.login(company_id, role)
    page.goto(space.url(company_id, path))
    page.locator("#f-login").fill(login)
    page.locator("#f-password").fill(password)
    page.locator("#f-password").press("Enter")
    page.wait_for_url(lambda url: "/login" not in url)


@pytest.fixture(scope="module", params=BACKENDS)
def module_db(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Callable[[], Engine]]:
    """``make_db`` for a whole module: one live dataspace serves every browser test of the module."""
    _require_backend(request.param)
    made: list[tuple[Engine, str | None]] = []

    def factory() -> Engine:
        schema = None
        if request.param == "sqlite":
            engine = make_engine(f"sqlite:///{tmp_path_factory.mktemp('db') / 'node.sqlite'}")
        else:
            from sqlmodel import create_engine

            schema = "t_" + uuid.uuid4().hex[:16]
            admin = make_engine(PG_URL)
            with admin.begin() as conn:
                conn.execute(text(f'CREATE SCHEMA "{schema}"'))
            admin.dispose()
            engine = create_engine(normalize_url(PG_URL), connect_args={"options": f"-csearch_path={schema}"})
        create_schema(engine)
        made.append((engine, schema))
        return engine

    yield factory
    for engine, schema in made:
        engine.dispose()
        if schema:
            admin = make_engine(PG_URL)
            with admin.begin() as conn:
                conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
            admin.dispose()
