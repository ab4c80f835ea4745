"""Credits larger than an invoice: the invoice never turns negative and what it cannot take is
carried to the next invoice of the contract, to the cent, so no credit is lost."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from operateur.billing import invoicing
from operateur.billing.models import Invoice, LineSource, PendingCharge
from operateur.catalog.terms import PaymentMethod, SuspensionCause
from operateur.contracts import lifecycle, suspension
from operateur.contracts import service as contracts
from operateur.contracts.models import Contract
from operateur.contracts.schemas import SubscriptionIn
from tests.integration.conftest import Builder

STOP_BILLING: dict[str, object] = {"suspension": {"billing_continues": False}}


def _invoices(session: Session, customer_id: int) -> list[Invoice]:
    session.expire_all()
    return list(
        session.scalars(
            select(Invoice).where(Invoice.customer_id == customer_id).order_by(Invoice.id)
        )
    )


def _lines(invoice: Invoice) -> list[tuple[str, str, str]]:
    return [
        (line.source.value, line.code, str(line.net_amount.quantize(Decimal("0.01"))))
        for line in invoice.lines
    ]


def _pending(session: Session, contract: Contract) -> list[tuple[str, Decimal]]:
    session.expire_all()
    return [
        (charge.code, charge.amount)
        for charge in session.scalars(
            select(PendingCharge)
            .where(PendingCharge.contract_id == contract.id, PendingCharge.invoice_id.is_(None))
            .order_by(PendingCharge.id)
        )
    ]


def _add_line(
    session: Session,
    contract: Contract,
    quantity: int,
    start_date: date | None = None,
    end_date: date | None = None,
) -> None:
    contracts.add_subscription(
        session,
        contract,
        SubscriptionIn(
            item_code="centrex.line", quantity=quantity, start_date=start_date, end_date=end_date
        ),
    )


def _suspend_february(session: Session, contract: Contract) -> None:
    """Fraud is urgent under the Centrex terms: suspended at once on 1 February, restored on
    1 March -> the whole of February suspended."""
    suspension.suspend_in_order(
        session, contract, cause=SuspensionCause.FRAUD, reason="fraude", on=date(2026, 2, 1)
    )
    lifecycle.restore(session, contract, reason="sécurisé", on=date(2026, 3, 1))
    session.commit()


# SPEC: CTR-06, BIL-06, BIL-16
def test_a_suspension_credit_larger_than_its_invoice_is_carried_to_the_next_invoices(
    build: Builder, session: Session, session_factory: sessionmaker[Session]
) -> None:
    customer = build.customer(payment_method=PaymentMethod.SEPA_DIRECT_DEBIT)
    contract = build.contract(customer, "centrex", date(2026, 1, 1), [], overrides=STOP_BILLING)
    # two lines ending with February, one line going on
    _add_line(session, contract, 2, end_date=date(2026, 2, 28))
    _add_line(session, contract, 1)
    session.commit()
    invoicing.run_period(session_factory, build.operator_id, "2026-01")
    # Centrex lines 29.90 TTC -> 24.916667 HT a month, in advance [001 §11.1, §11.2]:
    # January and February, 24.9167 x 2 = 49.83 and 24.9167 x 1 = 24.92
    [january] = _invoices(session, customer.id)
    assert january.total_net == Decimal("149.50")

    _suspend_february(session, contract)
    invoicing.run_period(session_factory, build.operator_id, "2026-02")
    february = _invoices(session, customer.id)[1]
    # March in advance for the remaining line: 24.92. February wholly suspended: 49.83 + 24.92
    # = 74.75 to credit; the invoice takes 24.92 of it (first credit, partly) and goes to zero
    assert _lines(february) == [
        ("subscription", "centrex.line", "24.92"),
        ("credit", "centrex.line", "-24.92"),
    ]
    assert february.total_net == Decimal("0.00")
    assert february.total_gross == Decimal("0.00")
    # the rest, 74.75 - 24.92 = 49.83, waits for the next invoice
    assert _pending(session, contract) == [("suspension", Decimal("-49.83"))]

    # a rerun of February changes nothing and carries nothing twice
    again = invoicing.run_period(session_factory, build.operator_id, "2026-02")
    assert again.issued == []
    assert _pending(session, contract) == [("suspension", Decimal("-49.83"))]

    invoicing.run_period(session_factory, build.operator_id, "2026-03")
    march = _invoices(session, customer.id)[2]
    # April 24.92; of the 49.83 carried, 24.92 fit; 24.91 go on
    assert _lines(march) == [
        ("subscription", "centrex.line", "24.92"),
        ("credit", "suspension", "-24.92"),
    ]
    assert march.total_net == Decimal("0.00")
    assert _pending(session, contract) == [("suspension", Decimal("-24.91"))]

    invoicing.run_period(session_factory, build.operator_id, "2026-04")
    april = _invoices(session, customer.id)[3]
    assert _lines(april) == [
        ("subscription", "centrex.line", "24.92"),
        ("credit", "suspension", "-24.91"),
    ]
    assert april.total_net == Decimal("0.01")
    assert _pending(session, contract) == []
    # every cent of the February credit was deducted: 24.92 + 24.92 + 24.91 = 74.75
    credited = sum(
        (
            -line.net_amount
            for invoice in (february, march, april)
            for line in invoice.lines
            if line.source is LineSource.CREDIT
        ),
        Decimal("0"),
    )
    assert credited == Decimal("74.75")


# SPEC: CTR-06, BIL-06, BIL-16
def test_a_suspension_credit_with_no_invoice_to_take_it_waits_for_the_next_one(
    build: Builder, session: Session, session_factory: sessionmaker[Session]
) -> None:
    customer = build.customer(payment_method=PaymentMethod.SEPA_DIRECT_DEBIT)
    contract = build.contract(customer, "centrex", date(2026, 1, 1), [], overrides=STOP_BILLING)
    _add_line(session, contract, 2, end_date=date(2026, 2, 28))
    # a new line from April: not yet billed by the February invoice (in advance for March)
    _add_line(session, contract, 3, start_date=date(2026, 4, 1))
    session.commit()
    invoicing.run_period(session_factory, build.operator_id, "2026-01")
    _suspend_february(session, contract)

    # nothing to bill for February: no invoice, but February's 49.83 already billed in
    # January is kept as a pending credit, once however often the period is run
    for _ in range(2):
        report = invoicing.run_period(session_factory, build.operator_id, "2026-02")
        assert report.issued == []
        assert len(_invoices(session, customer.id)) == 1
        assert _pending(session, contract) == [("suspension", Decimal("-49.83"))]

    invoicing.run_period(session_factory, build.operator_id, "2026-03")
    march = _invoices(session, customer.id)[1]
    # April in advance for the new lines, 24.9167 x 3 = 74.75, less the 49.83 carried
    assert _lines(march) == [
        ("subscription", "centrex.line", "74.75"),
        ("credit", "suspension", "-49.83"),
    ]
    assert march.total_net == Decimal("24.92")
    assert _pending(session, contract) == []


# SPEC: BIL-16
def test_a_pending_credit_larger_than_the_invoice_leaves_its_rest_for_the_next_one(
    build: Builder, session: Session, session_factory: sessionmaker[Session]
) -> None:
    customer = build.customer()
    contract = build.contract(customer, "crm-voip", date(2026, 6, 1), [("crm.licence", 1)])
    session.add(
        PendingCharge(
            customer_id=customer.id,
            contract_id=contract.id,
            source=LineSource.CREDIT,
            code="sla.credit",
            description="Avoir SLA mai",
            amount=Decimal("-100.00"),
            idempotency_key="sla:big",
        )
    )
    session.commit()
    invoicing.run_period(session_factory, build.operator_id, "2026-06")
    [june] = _invoices(session, customer.id)
    # June and July licences 39.00 each = 78.00: 78.00 of the 100.00 credit fit
    assert _lines(june) == [
        ("subscription", "crm.licence", "39.00"),
        ("subscription", "crm.licence", "39.00"),
        ("credit", "sla.credit", "-78.00"),
    ]
    assert june.total_gross == Decimal("0.00")
    assert _pending(session, contract) == [("sla.credit", Decimal("-22.00"))]
    invoicing.run_period(session_factory, build.operator_id, "2026-07")
    july = _invoices(session, customer.id)[1]
    # August 39.00 less the 22.00 left
    assert _lines(july) == [
        ("subscription", "crm.licence", "39.00"),
        ("credit", "sla.credit", "-22.00"),
    ]
    assert july.total_net == Decimal("17.00")
    assert july.total_gross == Decimal("20.40")
    assert _pending(session, contract) == []
