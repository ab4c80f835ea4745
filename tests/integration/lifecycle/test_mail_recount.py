"""CTR-04/MAIL-07 through the scheduler: the mail offer's free +20 % mailboxes during a term,
and the recount at the tacit renewal handed to billing."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from operateur import scheduler
from operateur.billing import invoicing, payments
from operateur.billing.models import Invoice
from operateur.contracts import service as contracts
from operateur.errors import Conflict
from operateur.mail import service as mail
from tests.integration.conftest import Builder


def _invoices(session: Session, customer_id: int) -> list[Invoice]:
    session.expire_all()
    return list(
        session.scalars(
            select(Invoice).where(Invoice.customer_id == customer_id).order_by(Invoice.id)
        )
    )


# SPEC: CTR-04, CTR-03, MAIL-07
def test_the_renewal_run_by_the_scheduler_recounts_the_mailboxes_and_bills_them(
    build: Builder, session: Session, session_factory: sessionmaker[Session]
) -> None:
    customer = build.customer()
    contract = build.contract(
        customer, "mail-security", date(2025, 11, 1), [("mail_in.mailbox", 5), ("mail.domain", 1)]
    )
    mail.add_domain(session, customer.id, "acme.fr", date(2025, 11, 2))
    # [003 §3.1] up to a fifth more mailboxes than licensed, free: 5 + 1
    for n in range(6):
        mail.add_mailbox(session, customer.id, f"user{n}@acme.fr", date(2025, 11, 2))
    with pytest.raises(Conflict) as beyond:
        mail.add_mailbox(session, customer.id, "user6@acme.fr", date(2025, 11, 2))
    assert beyond.value.code == "licence_exceeded"
    session.commit()
    invoicing.run_period(session_factory, build.operator_id, "2025-11")
    [first] = _invoices(session, customer.id)
    # [003 §6.2] annual in advance: 5 x 1.20 x 12 = 72.00; 1 domain x 2.00 x 12 = 24.00
    assert first.total_net == Decimal("96.00")
    payments.record_payment(
        session,
        customer.id,
        amount=first.total_gross,
        method="transfer",
        received_on=date(2025, 12, 10),
        reference="VIR-2025",
    )
    session.commit()

    # the scheduler runs on the renewal day [003 §3.3] (12-month tacit renewal from 1 November)
    executed = scheduler.run_once(session_factory, date(2026, 11, 1))
    assert "renewals:2026-11-01" in executed
    assert "mail_licence_recount:2026-11-01" in executed
    session.expire_all()
    assert [
        (s.item_code, s.quantity, s.start_date, s.end_date)
        for s in contracts.list_subscriptions(session, contract)
    ] == [
        ("mail_in.mailbox", 5, date(2025, 11, 1), date(2026, 10, 31)),
        ("mail.domain", 1, date(2025, 11, 1), None),  # one domain in service: unchanged
        ("mail_in.mailbox", 6, date(2026, 11, 1), None),
    ]
    # run again the same day: nothing recounted twice
    assert "mail_licence_recount:2026-11-01" not in scheduler.run_once(
        session_factory, date(2026, 11, 1)
    )
    invoicing.run_period(session_factory, build.operator_id, "2026-11")
    renewal_invoice = _invoices(session, customer.id)[1]
    # the recounted 6 mailboxes: 6 x 1.20 x 12 = 86.40; the domain 24.00
    assert sorted((line.code, line.net_amount) for line in renewal_invoice.lines) == [
        ("mail.domain", Decimal("24.00")),
        ("mail_in.mailbox", Decimal("86.40")),
    ]
