"""Tacit renewal on its own at term end (CTR-03) and licence-count changes at renewal, handed to
billing (CTR-04)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from operateur import scheduler
from operateur.billing import payments
from operateur.billing.models import Invoice
from operateur.contracts import lifecycle, renewal
from operateur.contracts import service as contracts
from operateur.contracts.models import Subscription
from operateur.errors import Conflict
from tests.integration.conftest import Builder


# SPEC: CTR-04
def test_licence_changes_before_the_20th_apply_at_the_next_renewal(
    build: Builder, session: Session, session_factory: sessionmaker[Session]
) -> None:
    customer = build.customer()
    contract = build.contract(
        customer,
        "crm-voip",
        date(2026, 3, 10),
        [("crm.licence", 2)],
        overrides={"inactivity": None},  # no calls in this test (CTR-08 aside)
    )
    [sub] = contracts.list_subscriptions(session, contract)
    # [000 §5] one-month terms from 10 March: renewals on 10 April, 10 May...
    # asked on 19 March (before the 20th): at the next renewal, 10 April
    first = renewal.request_change(session, contract, sub, 5, date(2026, 3, 19))
    assert first.effective_on == date(2026, 4, 10)
    # asked on 20 March: not before the 20th, so at the renewal after, 10 May
    second = renewal.request_change(session, contract, sub, 6, date(2026, 3, 20))
    assert second.effective_on == date(2026, 5, 10)
    session.commit()
    # applied on 31 March, before that day's run bills April in advance
    assert renewal.application_day(date(2026, 4, 10)) == date(2026, 3, 31)
    scheduler.run_once(session_factory, date(2026, 3, 31))
    session.expire_all()
    invoice = session.scalars(
        select(Invoice).where(Invoice.contract_id == contract.id, Invoice.period == "2026-03")
    ).one()
    billed = sorted(
        (line.quantity, line.description.split(" — ")[1])
        for line in invoice.lines
        if line.code == "crm.licence" and "04/2026" in line.description
    )
    assert billed == [
        (Decimal(2), "01/04/2026 – 09/04/2026"),
        (Decimal(5), "10/04/2026 – 30/04/2026"),
    ]
    payments.record_payment(
        session,
        customer.id,
        amount=invoice.total_gross,
        method="transfer",
        received_on=date(2026, 4, 2),
        reference="VIR-MARS",
    )
    session.commit()
    scheduler.run_once(session_factory, date(2026, 4, 30))
    session.expire_all()
    subs = session.scalars(
        select(Subscription)
        .where(Subscription.contract_id == contract.id)
        .order_by(Subscription.id)
    ).all()
    assert [(s.quantity, s.start_date, s.end_date) for s in subs] == [
        (2, date(2026, 3, 10), date(2026, 4, 9)),
        (5, date(2026, 4, 10), date(2026, 5, 9)),
        (6, date(2026, 5, 10), None),
    ]


# SPEC: CTR-04, CTR-03
def test_recounted_contracts_and_contracts_that_do_not_renew(
    build: Builder, session: Session
) -> None:
    customer = build.customer()
    mail = build.contract(customer, "mail-security", date(2026, 1, 5), [("mail_in.mailbox", 10)])
    [sub] = contracts.list_subscriptions(session, mail)
    # [003 §3.1] the mail offer recounts the mailboxes in service at each renewal
    with pytest.raises(Conflict) as refused:
        renewal.request_change(session, mail, sub, 12, date(2026, 3, 1))
    assert refused.value.code == "recounted_at_renewal"
    fixed = build.contract(
        customer,
        "centrex",
        date(2026, 1, 5),
        [("centrex.line", 2)],
        overrides={"commitment": {"tacit_renewal": False, "renewal_term_months": None}},
    )
    [line_sub] = contracts.list_subscriptions(session, fixed)
    with pytest.raises(Conflict) as no_renewal:
        renewal.request_change(session, fixed, line_sub, 3, date(2026, 3, 1))
    assert no_renewal.value.code == "no_renewal"


# SPEC: CTR-03
def test_tacit_renewal_happens_on_its_own_once(
    build: Builder, session: Session, session_factory: sessionmaker[Session]
) -> None:
    customer = build.customer()
    contract = build.contract(customer, "mail-security", date(2026, 2, 1), [])
    session.commit()
    # [003 §3.3] 12 months from 1 February 2026: renewed on 1 February 2027 for 12 months
    assert scheduler.run_once(session_factory, date(2027, 1, 31))
    assert [e.transition for e in lifecycle.history(session, contract.id)][-1] == "activate"
    scheduler.run_once(session_factory, date(2027, 2, 1))
    scheduler.run_once(session_factory, date(2027, 2, 2))
    renewals = [e for e in lifecycle.history(session, contract.id) if e.transition == "renew"]
    assert [e.details for e in renewals] == [{"term_start": "2027-02-01", "term_end": "2028-01-31"}]
