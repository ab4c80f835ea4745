"""Shared fixtures: a database per backend (SQLite always, PostgreSQL when
``OPERATEUR_TEST_POSTGRES=1``), migrated from empty by Alembic, and one rolled-back transaction
per test."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session, sessionmaker

from operateur.accounts import audit
from operateur.accounts.permissions import system_actor
from operateur.app import create_app
from operateur.config import Settings
from operateur.db import make_engine
from operateur.migrations import upgrade_engine
from operateur.testing.postgres import PostgresServer
from operateur.testing.smtp import SmtpSink

BACKENDS = ["sqlite"] + (["postgresql"] if os.environ.get("OPERATEUR_TEST_POSTGRES") == "1" else [])


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """In CI a skipped test is a failure: the suite must run whole."""
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    skipped = reporter.stats.get("skipped", []) if reporter else []
    if os.environ.get("CI") == "true" and skipped:
        print(f"\nCI: {len(skipped)} test(s) skipped — failing the run.")
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    server = PostgresServer()
    url = server.start()
    try:
        yield url
    finally:
        server.stop()


@pytest.fixture(scope="session", params=BACKENDS)
def engine(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Engine]:
    if request.param == "postgresql":
        url = request.getfixturevalue("postgres_url")
        admin = make_engine(url)
        with admin.connect() as conn:
            conn.execution_options(isolation_level="AUTOCOMMIT").execute(
                text("CREATE DATABASE operateur_test")
            )
        admin.dispose()
        url = url.rsplit("/", 1)[0] + "/operateur_test"
    else:
        url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'operateur.db'}"
    eng = make_engine(url)
    upgrade_engine(eng)  # every run proves the migrations from an empty database
    audit.install()
    yield eng
    eng.dispose()


@pytest.fixture
def session_factory(engine: Engine) -> Iterator[sessionmaker[Session]]:
    """Sessions that commit into savepoints of one outer transaction, rolled back at the end."""
    connection = engine.connect()
    outer = connection.begin()
    factory = sessionmaker(
        bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False
    )
    yield factory
    outer.rollback()
    connection.close()


@pytest.fixture
def session(session_factory: sessionmaker[Session]) -> Iterator[Session]:
    with session_factory() as s:
        audit.set_actor(s, system_actor("test"))
        yield s


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path, database_url="sqlite://")


@pytest.fixture
def client(settings: Settings, session_factory: sessionmaker[Session]) -> Iterator[TestClient]:
    app = create_app(settings, session_factory=session_factory)
    with TestClient(app) as test_client:
        yield test_client


@pytest.fixture
def committed_factory(engine: Engine, tmp_path: Path) -> Iterator[sessionmaker[Session]]:
    """A separate, freshly migrated database of the same backend where sessions really commit:
    for tests of concurrent transactions (several connections at once)."""
    if engine.dialect.name == "postgresql":
        name = f"fresh_{uuid.uuid4().hex[:12]}"
        with engine.connect() as conn:
            conn.execution_options(isolation_level="AUTOCOMMIT").execute(
                text(f'CREATE DATABASE "{name}"')
            )
        url = engine.url.set(database=name).render_as_string(hide_password=False)
    else:
        url = f"sqlite:///{tmp_path / 'committed.db'}"
    fresh = make_engine(url)
    upgrade_engine(fresh)
    yield sessionmaker(bind=fresh, expire_on_commit=False)
    fresh.dispose()
    if engine.dialect.name == "postgresql":
        with engine.connect() as conn:
            conn.execution_options(isolation_level="AUTOCOMMIT").execute(
                text(f'DROP DATABASE "{name}"')
            )


@pytest.fixture
def smtp_sink(monkeypatch: pytest.MonkeyPatch) -> Iterator[SmtpSink]:
    """A real SMTP server on loopback collecting what it receives; OPERATEUR_SMTP_URL points
    at it for the test."""
    with SmtpSink() as sink:
        monkeypatch.setenv("OPERATEUR_SMTP_URL", sink.url)
        yield sink
