"""Builders for billing tests: an operator and customers with signed, active contracts."""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable
from datetime import date, datetime, time
from decimal import Decimal

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session
from stdnum import luhn

from operateur.accounts import service as accounts
from operateur.accounts.models import Customer
from operateur.accounts.schemas import CustomerIn, OperatorIn
from operateur.catalog.terms import PaymentMethod
from operateur.contracts import service as contracts
from operateur.contracts.models import Contract
from operateur.contracts.schemas import SubscriptionIn
from operateur.domain.calendar import PARIS

_sirens = itertools.count(1)


def new_siren() -> str:
    base = f"9{next(_sirens):07d}"
    return base + luhn.calc_check_digit(base)


class Builder:
    def __init__(self, session: Session) -> None:
        self.session = session
        self.operator_id = accounts.create_operator(
            session,
            OperatorIn(
                name="Opérateur Test",
                legal_form="SAS",
                siren="732829320",
                address_line="1 place du Test",
                postal_code="69001",
                city="Lyon",
                email="contact@operateur-test.fr",
            ),
        ).id

    def customer(
        self,
        *,
        country: str = "FR",
        vat_number: str | None = None,
        payment_method: PaymentMethod = PaymentMethod.TRANSFER,
        name: str = "Client",
    ) -> Customer:
        return accounts.create_customer(
            self.session,
            self.operator_id,
            CustomerIn(
                name=name,
                legal_form="SARL",
                siren=new_siren() if country == "FR" else None,
                vat_number=vat_number,
                address_line="1 rue du Client",
                postal_code="75001" if country == "FR" else "1000",
                city="Paris" if country == "FR" else "Bruxelles",
                country=country,
                email="compta@client-test.fr",
                payment_method=payment_method,
                iban="FR7630006000011234567890189"
                if payment_method is PaymentMethod.SEPA_DIRECT_DEBIT
                else None,
            ),
        )

    def contract(
        self,
        customer: Customer,
        offer: str,
        activated: date,
        items: list[tuple[str, int]],
        overrides: dict[str, object] | None = None,
    ) -> Contract:
        contract = contracts.create_contract(self.session, customer, offer, overrides or {})
        contracts.sign(
            self.session,
            contract,
            "Signataire",
            datetime.combine(activated, time(9), tzinfo=PARIS),
        )
        contracts.activate(self.session, contract, activated)
        for code, quantity in items:
            contracts.add_subscription(
                self.session, contract, SubscriptionIn(item_code=code, quantity=quantity)
            )
        self.session.flush()
        return contract


@pytest.fixture
def build(session: Session) -> Builder:
    return Builder(session)


def money(value: str) -> Decimal:
    return Decimal(value)


def commit_while_waited_for(first: Session, second: Callable[[], None]) -> None:
    """Run ``second`` (another transaction) against ``first``'s open one, then commit ``first``.
    PostgreSQL: ``second`` runs in a thread and ``first`` commits once ``second`` waits for its
    lock, so ``second`` meets ``first``'s uncommitted writes. SQLite runs one write transaction
    at a time: ``first`` commits, then ``second`` runs."""
    bind = first.get_bind()
    assert isinstance(bind, Engine)
    if bind.dialect.name != "postgresql":
        first.commit()
        second()
        return
    other = threading.Thread(target=second)
    other.start()
    _wait_for_a_lock_wait(bind)
    first.commit()
    other.join()


def _wait_for_a_lock_wait(bind: Engine) -> None:
    """Until a PostgreSQL session of ``bind``'s database waits for a lock (at most 30 s)."""
    for _ in range(600):
        with bind.connect() as conn:
            waiting = conn.scalar(
                text(
                    "SELECT count(*) FROM pg_stat_activity "
                    "WHERE datname = current_database() AND wait_event_type = 'Lock'"
                )
            )
        if waiting:
            return
        threading.Event().wait(0.05)
