"""Licences (MAIL-07, CTR-04 [003 §3.1]): at renewal the mailboxes and domains really used
become the quantities of the new period, handed to billing as subscriptions."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from operateur.accounts import audit
from operateur.accounts.permissions import system_actor
from operateur.contracts import service as contracts
from operateur.errors import Conflict
from operateur.mail import licences
from operateur.mail import service as mail
from operateur.mail.models import LicenceRecount
from tests.integration.conftest import Builder, commit_while_waited_for


# SPEC: MAIL-07, CTR-04
def test_the_renewal_recounts_mailboxes_and_domains_once(build: Builder, session: Session) -> None:
    customer = build.customer(name="Acme")
    contract = build.contract(
        customer, "mail-security", date(2025, 11, 1), [("mail_in.mailbox", 5), ("mail.domain", 2)]
    )
    mail.add_domain(session, customer.id, "acme.fr", date(2025, 11, 2))
    for n in range(6):  # one more than licensed: within the free fifth
        mail.add_mailbox(session, customer.id, f"user{n}@acme.fr", date(2025, 11, 2))

    assert licences.recount_due(session, date(2026, 10, 31)) == []  # still the first term
    assert licences.recount_due(session, date(2026, 11, 3)) == [contract.reference]
    assert licences.recount_due(session, date(2026, 11, 4)) == []  # once per term

    subscriptions = [
        (s.item_code, s.quantity, s.start_date, s.end_date, s.unit_price_mrc)
        for s in contracts.list_subscriptions(session, contract)
    ]
    assert subscriptions == [
        ("mail_in.mailbox", 5, date(2025, 11, 1), date(2026, 10, 31), Decimal("1.2000")),
        ("mail.domain", 2, date(2025, 11, 1), date(2026, 10, 31), Decimal("2.0000")),
        ("mail_in.mailbox", 6, date(2026, 11, 1), None, Decimal("1.2000")),
        ("mail.domain", 1, date(2026, 11, 1), None, Decimal("2.0000")),
    ]
    [recount] = session.scalars(select(LicenceRecount)).all()
    assert (recount.term_start, recount.mailboxes, recount.domains) == (date(2026, 11, 1), 6, 1)
    counts = {c.unit: c for c in licences.counts(session, customer.id, date(2026, 11, 5))}
    assert (counts["mailbox"].licensed, counts["mailbox"].allowed) == (6, 7)


# SPEC: MAIL-07
def test_two_mailboxes_added_at_once_cannot_pass_the_licence(
    committed_factory: sessionmaker[Session],
) -> None:
    """5 mailboxes licensed, 6 allowed with the tolerance, 5 used: of two administrators adding
    one at the same moment, one is refused."""
    with committed_factory() as setup:
        audit.set_actor(setup, system_actor("test"))
        build = Builder(setup)
        customer = build.customer(name="Acme")
        build.contract(
            customer,
            "mail-security",
            date(2025, 11, 1),
            [("mail_in.mailbox", 5), ("mail.domain", 1)],
        )
        mail.add_domain(setup, customer.id, "acme.fr", date(2025, 11, 2))
        for n in range(5):
            mail.add_mailbox(setup, customer.id, f"user{n}@acme.fr", date(2025, 11, 2))
        setup.commit()
        customer_id = customer.id
    outcome: list[str] = []

    def add_another() -> None:
        with committed_factory() as second:
            audit.set_actor(second, system_actor("test"))
            try:
                mail.add_mailbox(second, customer_id, "late@acme.fr", date(2025, 11, 3))
                second.commit()
                outcome.append("added")
            except Conflict as refused:
                outcome.append(refused.code)

    first = committed_factory()
    audit.set_actor(first, system_actor("test"))
    try:
        mail.add_mailbox(first, customer_id, "sixth@acme.fr", date(2025, 11, 3))
        commit_while_waited_for(first, add_another)
    finally:
        first.close()
    assert outcome == ["licence_exceeded"]
