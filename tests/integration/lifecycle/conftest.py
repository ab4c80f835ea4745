"""Helpers for lifecycle tests: contacts, running the scheduler day by day, reading mail."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, timedelta
from email.message import EmailMessage
from pathlib import Path

import pytest
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from operateur import scheduler
from operateur.accounts import audit
from operateur.accounts import service as accounts
from operateur.accounts.models import Customer
from operateur.accounts.permissions import system_actor
from operateur.accounts.schemas import ContactIn
from operateur.cli import app
from operateur.db import make_engine, make_session_factory, transaction
from operateur.notifications.service import deliver_due
from tests.integration.conftest import Builder


@contextmanager
def cli_database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Builder]:
    """The database the CLI uses in this test (``db upgrade`` of a SQLite file under
    ``tmp_path``, messages in English): a builder on it, committed when the block ends."""
    monkeypatch.setenv("OPERATEUR_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("OPERATEUR_LANG", "en")
    monkeypatch.delenv("OPERATEUR_DATABASE_URL", raising=False)
    monkeypatch.delenv("OPERATEUR_SMTP_URL", raising=False)
    assert CliRunner().invoke(app, ["db", "upgrade"]).exit_code == 0
    engine = make_engine(f"sqlite:///{tmp_path / 'operateur.db'}")
    try:
        with transaction(make_session_factory(engine)) as session:
            audit.set_actor(session, system_actor("test"))
            yield Builder(session)
    finally:
        engine.dispose()


def contacts(session: Session, customer: Customer, lang: str = "fr") -> None:
    """An administrative and a billing contact, in ``lang``."""
    accounts.add_contact(
        session, customer, ContactIn(name="Admin", email="admin@client.fr", lang=lang)
    )
    accounts.add_contact(
        session,
        customer,
        ContactIn(name="Compta", email="compta@client.fr", role="billing", lang=lang),
    )


def run_days(factory: sessionmaker[Session], first: date, last: date) -> dict[date, list[str]]:
    """Run the scheduler for every day from ``first`` to ``last`` and deliver what is due;
    the jobs executed each day (those with something to report)."""
    executed: dict[date, list[str]] = {}
    day = first
    while day <= last:
        executed[day] = scheduler.run_once(factory, day)
        deliver_due(factory)
        day += timedelta(days=1)
    return executed


def subjects(messages: list[EmailMessage]) -> list[str]:
    return [str(m["Subject"]) for m in messages]


def body(message: EmailMessage) -> str:
    content = message.get_content()
    assert isinstance(content, str)
    return content
