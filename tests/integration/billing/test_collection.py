"""Disputes and late-payment penalty invoices on stored invoices."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from operateur.billing import collection, invoicing, payments
from operateur.billing.models import DisputeStatus, Invoice, InvoiceStatus
from operateur.catalog.terms import PaymentMethod
from tests.integration.conftest import Builder

ALL_REFERENCES = {"invoice_date", "invoice_number", "amount", "reason", "evidence"}


def _first_invoice(
    build: Builder,
    session: Session,
    factory: sessionmaker[Session],
    offer: str,
    items: list[tuple[str, int]],
) -> tuple[int, Invoice]:
    customer = build.customer(payment_method=PaymentMethod.SEPA_DIRECT_DEBIT)
    build.contract(customer, offer, date(2026, 1, 1), items)
    session.commit()
    invoicing.run_period(factory, build.operator_id, "2026-01")
    session.expire_all()
    invoice = session.scalars(select(Invoice).where(Invoice.customer_id == customer.id)).one()
    return customer.id, invoice


# SPEC: BIL-06
def test_flat_ten_percent_penalty_after_seven_days_invoiced_once(
    build: Builder, session: Session, session_factory: sessionmaker[Session]
) -> None:
    customer_id, invoice = _first_invoice(
        build, session, session_factory, "crm-voip", [("crm.licence", 2)]
    )
    # 2 licences x 39.00 for January and February: 156.00 HT, 187.20 TTC, due 7 Feb [000 §6]
    assert (invoice.total_gross, invoice.due_date) == (Decimal("187.20"), date(2026, 2, 7))
    # 7 days late: not yet the 10 %, but the 40.00 recovery indemnity is due from the first day
    [indemnity] = collection.issue_penalty_invoices(session, customer_id, date(2026, 2, 14))
    assert [(line.code, line.net_amount) for line in indemnity.lines] == [
        ("recovery_indemnity", Decimal("40.00")),
    ]
    [penalty] = collection.issue_penalty_invoices(session, customer_id, date(2026, 2, 20))
    # 13 days late > 7: 10 % of 187.20 = 18.72; the indemnity was already claimed; no VAT
    assert [(line.code, line.net_amount) for line in penalty.lines] == [
        ("late_interest", Decimal("18.72")),
    ]
    assert penalty.total_vat == Decimal("0") and penalty.total_gross == Decimal("18.72")
    assert collection.issue_penalty_invoices(session, customer_id, date(2026, 2, 20)) == []
    assert collection.issue_penalty_invoices(session, customer_id, date(2026, 3, 20)) == []


# SPEC: BIL-06, BIL-08
def test_ecb_plus_ten_points_from_the_due_date(
    build: Builder, session: Session, session_factory: sessionmaker[Session]
) -> None:
    customer_id, invoice = _first_invoice(
        build, session, session_factory, "cpaas", [("option.caps.monthly", 1)]
    )
    # January 150 + February 150 + shortfall 50 under the 200 minimum = 350 HT, 420 TTC
    assert invoice.total_gross == Decimal("420.00")
    assert invoice.due_date == date(2026, 3, 2)  # 30 days from issue
    [penalty] = collection.issue_penalty_invoices(session, customer_id, date(2026, 4, 1))
    # 30 days at ECB 2.15 % (in force on 1 Jan 2026) + 10 = 12.15 %:
    # 420 x 12.15 % x 30 / 365 = 4.1942 -> 4.19; plus 40.00
    assert penalty.total_gross == Decimal("44.19")


# SPEC: BIL-07
def test_admissible_dispute_holds_the_amount_then_a_credit_note_settles_it(
    build: Builder, session: Session, session_factory: sessionmaker[Session]
) -> None:
    customer_id, invoice = _first_invoice(
        build, session, session_factory, "cpaas", [("option.caps.monthly", 1)]
    )
    payments.record_payment(
        session,
        customer_id,
        amount=Decimal("300.00"),
        method="transfer",
        received_on=date(2026, 2, 9),
        reference="VIR-300",
    )
    dispute = collection.file_dispute(
        session,
        customer_id,
        invoice.id,
        filed_on=date(2026, 2, 10),
        channel="email",
        contested_amount=Decimal("120.00"),
        reason="minimum facturé à tort",
        references=ALL_REFERENCES,
    )
    assert dispute.status is DisputeStatus.OPEN
    assert invoice.amount_disputed == Decimal("120.00")
    assert payments.outstanding(invoice) == Decimal("0")
    # nothing is late while the contested part is held
    assert collection.late_invoices(session, customer_id, date(2026, 4, 1)) == []
    collection.resolve_dispute(session, dispute, upheld=True, resolved_on=date(2026, 3, 1))
    assert dispute.status is DisputeStatus.UPHELD
    assert invoice.amount_credited == Decimal("120.00")  # credit note of 100.00 HT
    assert invoice.status is InvoiceStatus.PAID


# SPEC: BIL-07
def test_a_dispute_outside_the_terms_is_refused_with_every_reason(
    build: Builder, session: Session, session_factory: sessionmaker[Session]
) -> None:
    customer_id, invoice = _first_invoice(
        build, session, session_factory, "cpaas", [("option.caps.monthly", 1)]
    )
    dispute = collection.file_dispute(
        session,
        customer_id,
        invoice.id,
        filed_on=date(2026, 4, 15),
        channel="phone",
        contested_amount=Decimal("50.00"),
        reason="trop cher",
        references={"reason"},
    )
    assert dispute.status is DisputeStatus.REFUSED
    # 60 days from issue by e-mail with the invoice references, uncontested part paid [002 §12.6]
    assert {"out_of_time", "wrong_channel", "missing_references", "uncontested_part_unpaid"} <= set(
        dispute.refusal_reasons
    )
    assert invoice.amount_disputed == Decimal("0")
