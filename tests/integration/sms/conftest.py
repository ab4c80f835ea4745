"""Builders for SMS tests: a customer with a live SMS contract (004 "telecom" by default) and
queued messages put straight into the outbox for the transport-side tests."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

import pytest
from sqlalchemy.orm import Session

from operateur.accounts.models import Customer
from operateur.catalog.terms import OutsideWindow, PaymentMethod
from operateur.contracts.models import Contract
from operateur.domain.calendar import PARIS
from operateur.sms.encoding import SmsEncoding
from operateur.sms.models import SmsMessage, SmsStatus
from operateur.sms.stock import month_of
from tests.integration.conftest import Builder

# A Tuesday, inside the 004 window (Monday–Saturday 08:00–22:00 Paris).
TUESDAY_10H = datetime(2026, 3, 10, 10, 0, tzinfo=PARIS)


@dataclass
class SmsCustomer:
    customer: Customer
    contract: Contract

    @property
    def id(self) -> int:
        return self.customer.id


@pytest.fixture
def sms_customer(build: Builder) -> SmsCustomer:
    customer = build.customer(payment_method=PaymentMethod.SEPA_DIRECT_DEBIT, name="Boulangerie")
    contract = build.contract(customer, "telecom", date(2026, 1, 5), [])
    return SmsCustomer(customer, contract)


def make_customer(
    build: Builder,
    offer: str = "telecom",
    *,
    name: str = "Client SMS",
    payment_method: PaymentMethod = PaymentMethod.SEPA_DIRECT_DEBIT,
    overrides: dict[str, object] | None = None,
) -> SmsCustomer:
    customer = build.customer(payment_method=payment_method, name=name)
    contract = build.contract(customer, offer, date(2026, 1, 5), [], overrides)
    return SmsCustomer(customer, contract)


def queued(
    session: Session,
    owner: SmsCustomer,
    recipient: str = "+33612345678",
    *,
    text: str = "Bonjour",
    parts: int = 1,
    not_before: datetime = TUESDAY_10H,
    sender: str = "38100",
    route: str = "default",
    status: SmsStatus = SmsStatus.QUEUED,
    outside_window: OutsideWindow = OutsideWindow.QUEUE,
    callback_url: str | None = None,
) -> SmsMessage:
    """A message put straight into the outbox, as the enqueue of a send would leave it."""
    message = SmsMessage(
        customer_id=owner.id,
        contract_id=owner.contract.id,
        sender=sender,
        recipient=recipient,
        text=text,
        encoding=SmsEncoding.GSM7,
        parts=parts,
        status=status,
        not_before=not_before,
        route=route,
        outside_window=outside_window,
        destination="FR mobile",
        cost=Decimal("0.06") * parts,
        stock_month=month_of(not_before),
        callback_url=callback_url,
    )
    session.add(message)
    session.flush()
    return message
