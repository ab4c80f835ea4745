"""Prepaid accounts: top-ups net of fees, reservations, commits, releases (BIL-10)."""

from __future__ import annotations

import threading
from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from operateur.accounts.audit import set_actor
from operateur.accounts.permissions import system_actor
from operateur.billing import wallets
from operateur.billing.models import Reservation, WalletEntry
from operateur.catalog.terms import PaymentMethod
from operateur.errors import Conflict, InvalidInput
from tests.integration.conftest import Builder

MINUTE = timedelta(minutes=5)


def _prepaid(build: Builder) -> int:
    customer = build.customer(payment_method=PaymentMethod.PREPAID)
    wallets.open_wallet(build.session, customer.id)
    return customer.id


# SPEC: BIL-10
def test_top_up_is_credited_net_of_bank_fees_once(build: Builder, session: Session) -> None:
    customer_id = _prepaid(build)
    wallets.top_up(
        session, customer_id, received=Decimal("100.00"), bank_fees=Decimal("1.50"), reference="V1"
    )
    view = wallets.top_up(
        session, customer_id, received=Decimal("100.00"), bank_fees=Decimal("1.50"), reference="V1"
    )
    assert view.balance == Decimal("98.50")
    with pytest.raises(InvalidInput) as error:
        wallets.top_up(
            session, customer_id, received=Decimal("5"), bank_fees=Decimal("6"), reference="V2"
        )
    assert error.value.field == "bank_fees"


# SPEC: BIL-10
def test_reserve_commit_release_and_refusal_when_exhausted(
    build: Builder, session: Session
) -> None:
    customer_id = _prepaid(build)
    wallets.top_up(
        session, customer_id, received=Decimal("10.00"), bank_fees=Decimal("0"), reference="T"
    )
    wallets.reserve(session, customer_id, "call-1", Decimal("6.00"), MINUTE)
    assert wallets.get_wallet(session, customer_id).available == Decimal("4.00")
    with pytest.raises(Conflict) as error:
        wallets.reserve(session, customer_id, "call-2", Decimal("4.01"), MINUTE)
    assert error.value.code == "insufficient_credit"
    committed = wallets.commit(session, "call-1", Decimal("2.345600"))
    assert committed.committed_amount == Decimal("2.345600")
    wallets.commit(session, "call-1", Decimal("5"))  # a repeated commit changes nothing
    view = wallets.get_wallet(session, customer_id)
    assert (view.balance, view.reserved) == (Decimal("7.654400"), Decimal("0"))
    wallets.reserve(session, customer_id, "call-3", Decimal("7.654400"), MINUTE)
    assert wallets.get_wallet(session, customer_id).available == Decimal("0")
    wallets.release(session, "call-3")
    assert wallets.get_wallet(session, customer_id).available == Decimal("7.654400")


# SPEC: BIL-10
def test_a_commit_never_takes_more_than_was_reserved(build: Builder, session: Session) -> None:
    customer_id = _prepaid(build)
    wallets.top_up(
        session, customer_id, received=Decimal("1"), bank_fees=Decimal("0"), reference="T"
    )
    wallets.reserve(session, customer_id, "call", Decimal("0.50"), MINUTE)
    wallets.commit(session, "call", Decimal("0.80"))
    assert wallets.get_wallet(session, customer_id).balance == Decimal("0.50")


# SPEC: BIL-10
def test_expired_reservations_are_released(build: Builder, session: Session) -> None:
    customer_id = _prepaid(build)
    wallets.top_up(
        session, customer_id, received=Decimal("3"), bank_fees=Decimal("0"), reference="T"
    )
    wallets.reserve(session, customer_id, "lost-call", Decimal("3"), timedelta(seconds=-1))
    assert wallets.release_expired(session) == 1
    assert wallets.get_wallet(session, customer_id).available == Decimal("3")


# SPEC: CTR-08
def test_forfeit_on_inactivity(build: Builder, session: Session) -> None:
    customer_id = _prepaid(build)
    wallets.top_up(
        session, customer_id, received=Decimal("12"), bank_fees=Decimal("0"), reference="T"
    )
    assert wallets.forfeit(session, customer_id, "forfeit:1") == Decimal("12")
    assert wallets.get_wallet(session, customer_id).balance == Decimal("0")


# SPEC: BIL-10
def test_concurrent_reservations_never_overdraw(
    committed_factory: sessionmaker[Session],
) -> None:
    """Twenty workers, each on its own connection, race for 1.00 € slices of a 7.00 € balance
    with a 0.05 € connection fee on top: exactly seven succeed and the balance stays >= 0."""
    with committed_factory() as session:
        set_actor(session, system_actor("test"))
        build = Builder(session)
        customer_id = _prepaid(build)
        wallets.top_up(
            session, customer_id, received=Decimal("7.35"), bank_fees=Decimal("0"), reference="T"
        )
        session.commit()
    outcomes: list[str] = []
    barrier = threading.Barrier(20)

    def worker(n: int) -> None:
        barrier.wait()
        with committed_factory() as s:
            try:
                wallets.reserve(s, customer_id, f"call-{n}", Decimal("1.05"), MINUTE)
                s.commit()
                outcomes.append("ok")
            except Conflict:
                s.rollback()
                outcomes.append("refused")

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert outcomes.count("ok") == 7 and outcomes.count("refused") == 13
    with committed_factory() as session:
        view = wallets.get_wallet(session, customer_id)
        assert view.reserved == Decimal("7.35") and view.available == Decimal("0")
        assert len(list(session.scalars(select(Reservation)))) == 7
        assert len(list(session.scalars(select(WalletEntry)))) == 1


# SPEC: BIL-10
def test_top_up_references_are_unique_per_customer_and_a_retry_is_recognised(
    build: Builder, session: Session
) -> None:
    first, second = _prepaid(build), _prepaid(build)
    wallets.top_up(
        session, first, received=Decimal("100.00"), bank_fees=Decimal("0"), reference="VIR-77"
    )
    # another customer's bank gave the same reference: its own transfer, credited to it
    wallets.top_up(
        session, second, received=Decimal("50.00"), bank_fees=Decimal("0"), reference="VIR-77"
    )
    # the first customer's retry of the same top-up changes nothing
    wallets.top_up(
        session, first, received=Decimal("100.00"), bank_fees=Decimal("0"), reference="VIR-77"
    )
    # the same customer, another amount under the same reference: not a retry, refused
    with pytest.raises(Conflict) as refused:
        wallets.top_up(
            session, first, received=Decimal("60.00"), bank_fees=Decimal("0"), reference="VIR-77"
        )
    assert refused.value.field == "reference"
    assert (
        wallets.get_wallet(session, first).balance,
        wallets.get_wallet(session, second).balance,
    ) == (
        Decimal("100.00"),
        Decimal("50.00"),
    )
