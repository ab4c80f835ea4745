"""The portal in a real browser: Debian's Chromium driven by Playwright (no browser download),
against the platform served by uvicorn on a free loopback port, over a throwaway SQLite
database holding the demo-like world of ``world.py`` (built once, copied for each test)."""

from __future__ import annotations

import shutil
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import pytest
import uvicorn
from fastapi import FastAPI
from playwright.sync_api import Browser, BrowserContext, Page, Playwright, sync_playwright
from sqlalchemy.orm import Session, sessionmaker

from operateur.accounts import audit
from operateur.app import create_app
from operateur.config import Settings
from operateur.db import make_engine, make_session_factory
from operateur.migrations import upgrade_engine
from operateur.testing.ports import free_port
from tests.e2e.world import World, build

CHROMIUM = "/usr/bin/chromium"
# /work/shared/NOTES.md "Browser tests": without the background-networking flags Chromium keeps
# trying hosts that are closed here.
CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@dataclass
class Portal:
    url: str
    app: FastAPI
    world: World
    factory: sessionmaker[Session]

    def freeze(self, moment: datetime) -> None:
        """Set the platform's clock (SLA pages show business time left at this moment)."""
        self.app.state.clock = lambda: moment


@pytest.fixture(scope="session")
def world_template(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, World]:
    """A migrated database with the world, built once for the session."""
    folder = tmp_path_factory.mktemp("portal-template")
    engine = make_engine(f"sqlite:///{folder / 'operateur.db'}")
    upgrade_engine(engine)
    audit.install()
    world = build(make_session_factory(engine), activity=True)
    engine.dispose()
    return folder / "operateur.db", world


@pytest.fixture
def portal(world_template: tuple[Path, World], tmp_path: Path) -> Iterator[Portal]:
    """The platform on loopback over a fresh copy of the world's database."""
    template, world = world_template
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    for suffix in ("", "-wal", "-shm"):
        source = template.with_name(template.name + suffix)
        if source.exists():
            shutil.copy(source, data_dir / f"operateur.db{suffix}")
    url = f"sqlite:///{data_dir / 'operateur.db'}"
    engine = make_engine(url)
    factory = make_session_factory(engine)
    app = create_app(Settings(data_dir=data_dir, database_url=url), session_factory=factory)
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    ready = threading.Event()
    for _ in range(200):
        if server.started:
            ready.set()
            break
        ready.wait(0.05)
    assert server.started, "uvicorn did not start"
    try:
        yield Portal(f"http://127.0.0.1:{port}", app, world, factory)
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        engine.dispose()


@pytest.fixture(scope="package")
def playwright_instance() -> Iterator[Playwright]:
    # Package scope, not session: while Playwright's sync API is open its event loop counts as
    # running in the main thread, and every later asyncio.run() (the mail CLI) would be refused.
    with sync_playwright() as instance:
        yield instance


@pytest.fixture(scope="package")
def browser(playwright_instance: Playwright) -> Iterator[Browser]:
    browser = playwright_instance.chromium.launch(
        executable_path=CHROMIUM, headless=True, args=CHROMIUM_FLAGS
    )
    yield browser
    browser.close()


@pytest.fixture
def context(browser: Browser) -> Iterator[BrowserContext]:
    context = browser.new_context(accept_downloads=True, viewport={"width": 1280, "height": 900})
    yield context
    context.close()


@pytest.fixture
def page(context: BrowserContext, tmp_path: Path) -> Iterator[Page]:
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page
    page.screenshot(path=str(tmp_path / "final.png"), full_page=True)


@pytest.fixture
def login(portal: Portal) -> Callable[[Page, str, str], None]:
    """Log in through the form, by its labels, as a person would."""

    def do(page: Page, email: str, password: str) -> None:
        page.goto(f"{portal.url}/login")
        page.get_by_label("Identifiant (adresse e-mail)").fill(email)
        page.get_by_label("Mot de passe").fill(password)
        page.get_by_role("button", name="Se connecter").click()
        page.wait_for_load_state()

    return do
