"""Amounts the lifecycle bills or refunds at once, through the billing context's own issuing:
the early-termination amount (CTR-05), equipment not returned (CTR-10) and the refund of
returned provided equipment (CTR-10). Each is one invoice line or credit, dated the day it
becomes due, idempotent by its ``purpose``."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from operateur.accounts.models import Customer
from operateur.billing import invoicing
from operateur.billing.models import Invoice, InvoiceKind, InvoiceStatus, LineSource
from operateur.contracts.models import Contract
from operateur.contracts.service import terms_of
from operateur.domain.money import round_money


def _existing(session: Session, contract: Contract, purpose: str) -> Invoice | None:
    return session.scalar(
        select(Invoice).where(Invoice.contract_id == contract.id, Invoice.purpose == purpose)
    )


def _draft(code: str, description: str, amount_ht: Decimal, source: LineSource) -> invoicing.Draft:
    net = round_money(amount_ht)
    return invoicing.Draft(
        lines=[invoicing.DraftLine(source, code, description, Decimal(1), "C62", net, net)]
    )


def invoice_now(
    session: Session,
    contract: Contract,
    *,
    code: str,
    description: str,
    amount_ht: Decimal,
    on: date,
    purpose: str,
) -> Invoice:
    """Issue an invoice of one line dated ``on``, due after the contract's payment term; the
    same ``purpose`` is invoiced once."""
    found = _existing(session, contract, purpose)
    if found is not None:
        return found
    customer = session.get(Customer, contract.customer_id)
    assert customer is not None
    return invoicing.issue(
        session,
        contract=contract,
        customer=customer,
        draft=_draft(code, description, amount_ht, LineSource.ONE_OFF),
        kind=InvoiceKind.INVOICE,
        purpose=purpose,
        period_start=None,
        issue_date=on,
        due_date=invoicing.due_date_of(terms_of(contract).billing, on),
    )


def credit_now(
    session: Session,
    contract: Contract,
    *,
    description: str,
    amount_ht: Decimal,
    on: date,
    purpose: str,
    against: Invoice | None = None,
) -> Invoice:
    """A credit note of ``amount_ht`` dated ``on``, referring to the invoice ``against`` when
    known (the refund of what it billed); the same ``purpose`` is credited once."""
    found = _existing(session, contract, purpose)
    if found is not None:
        return found
    customer = session.get(Customer, contract.customer_id)
    assert customer is not None
    note = invoicing.issue(
        session,
        contract=contract,
        customer=customer,
        draft=_draft("credit", description, amount_ht, LineSource.CORRECTION),
        kind=InvoiceKind.CREDIT_NOTE,
        purpose=purpose,
        period_start=None,
        issue_date=on,
        due_date=on,
        preceding_invoice_id=against.id if against is not None else None,
    )
    note.status = InvoiceStatus.PAID
    session.flush()
    return note
