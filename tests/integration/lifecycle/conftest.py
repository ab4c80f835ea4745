"""Helpers for lifecycle tests: contacts, running the scheduler day by day, reading mail."""

from __future__ import annotations

from datetime import date, timedelta
from email.message import EmailMessage

from sqlalchemy.orm import Session, sessionmaker

from operateur import scheduler
from operateur.accounts import service as accounts
from operateur.accounts.models import Customer
from operateur.accounts.schemas import ContactIn
from operateur.notifications.service import deliver_due


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
