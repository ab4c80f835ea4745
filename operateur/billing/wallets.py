"""Prepaid accounts (BIL-10): top-ups credited when funds are received, net of fees; money
reserved for a session (a call, a campaign), committed at its actual cost, the rest released.

The wallet row is locked (``SELECT … FOR UPDATE``) for every change, so concurrent sessions on
PostgreSQL never take the balance below zero: ``available = balance - reserved`` is checked and
``reserved`` raised under the same lock. Every call is idempotent by its reference, unique per
customer (two customers' banks may give the same one).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from operateur.billing.models import (
    Reservation,
    ReservationStatus,
    Wallet,
    WalletEntry,
    WalletEntryKind,
)
from operateur.db import utcnow
from operateur.errors import Conflict, InvalidInput, NotFound
from operateur.i18n import Text

ZERO = Decimal("0")


@dataclass(frozen=True)
class WalletView:
    customer_id: int
    balance: Decimal
    reserved: Decimal

    @property
    def available(self) -> Decimal:
        return self.balance - self.reserved


def _view(wallet: Wallet) -> WalletView:
    return WalletView(wallet.customer_id, wallet.balance, wallet.reserved)


def _locked(session: Session, customer_id: int) -> Wallet:
    wallet = session.scalars(
        select(Wallet).where(Wallet.customer_id == customer_id).with_for_update()
    ).one_or_none()
    if wallet is None:
        raise NotFound(
            Text(
                fr="Le client {id} n'a pas de compte prépayé.",
                en="Customer {id} has no prepaid account.",
            ),
            code="wallet_not_found",
            details={"id": customer_id},
        )
    return wallet


def open_wallet(session: Session, customer_id: int) -> WalletView:
    existing = session.scalar(select(Wallet).where(Wallet.customer_id == customer_id))
    if existing is not None:
        return _view(existing)
    wallet = Wallet(customer_id=customer_id, balance=ZERO, reserved=ZERO)
    session.add(wallet)
    session.flush()
    return _view(wallet)


def get_wallet(session: Session, customer_id: int) -> WalletView:
    wallet = session.scalar(select(Wallet).where(Wallet.customer_id == customer_id))
    if wallet is None:
        raise NotFound(
            Text(
                fr="Le client {id} n'a pas de compte prépayé.",
                en="Customer {id} has no prepaid account.",
            ),
            code="wallet_not_found",
            details={"id": customer_id},
        )
    return _view(wallet)


def _positive(amount: Decimal, field: str) -> None:
    if amount <= 0:
        raise InvalidInput(
            Text(fr="Le montant doit être positif.", en="The amount must be positive."),
            field=field,
            details={"amount": str(amount)},
        )


def _entry(
    session: Session, wallet: Wallet, kind: WalletEntryKind, amount: Decimal, reference: str
) -> None:
    session.add(
        WalletEntry(
            wallet_id=wallet.id,
            customer_id=wallet.customer_id,
            kind=kind,
            amount=amount,
            reference=reference,
        )
    )
    wallet.balance += amount


def top_up(
    session: Session, customer_id: int, *, received: Decimal, bank_fees: Decimal, reference: str
) -> WalletView:
    """Credit funds actually received, net of bank fees (BIL-10 [002 §12.7]); once per
    reference."""
    _positive(received, "received")
    if bank_fees < 0 or bank_fees >= received:
        raise InvalidInput(
            Text(
                fr="Les frais bancaires doivent être positifs et inférieurs au montant reçu.",
                en="Bank fees must be non-negative and below the amount received.",
            ),
            field="bank_fees",
        )
    wallet = _locked(session, customer_id)
    credited = received - bank_fees
    existing = session.scalar(
        select(WalletEntry).where(
            WalletEntry.customer_id == customer_id, WalletEntry.reference == reference
        )
    )
    if existing is not None:
        # a retry of the same top-up changes nothing; another transfer under a reference
        # already used is refused rather than silently not credited
        if (existing.wallet_id, existing.kind, existing.amount) != (
            wallet.id,
            WalletEntryKind.TOP_UP,
            credited,
        ):
            raise Conflict(
                Text(
                    fr="La référence {reference} désigne déjà un autre mouvement.",
                    en="Reference {reference} already names another entry.",
                ),
                code="wallet_reference_taken",
                field="reference",
                details={"reference": reference},
            )
        return _view(wallet)
    _entry(session, wallet, WalletEntryKind.TOP_UP, credited, reference)
    session.flush()
    return _view(wallet)


def reserve(
    session: Session, customer_id: int, session_ref: str, amount: Decimal, ttl: timedelta
) -> Reservation:
    """Hold ``amount`` for a session; refused when the available balance cannot cover it."""
    _positive(amount, "amount")
    wallet = _locked(session, customer_id)
    existing = session.scalar(select(Reservation).where(Reservation.session_ref == session_ref))
    if existing is not None:
        return existing
    available = wallet.balance - wallet.reserved
    if available < amount:
        raise Conflict(
            Text(
                fr="Crédit prépayé insuffisant : {available} € disponibles, {amount} € requis.",
                en="Insufficient prepaid credit: {available} € available, {amount} € needed.",
            ),
            code="insufficient_credit",
            details={"available": str(available), "amount": str(amount)},
        )
    now = utcnow()
    reservation = Reservation(
        wallet_id=wallet.id,
        customer_id=customer_id,
        session_ref=session_ref,
        amount=amount,
        status=ReservationStatus.OPEN,
        created_at=now,
        expires_at=now + ttl,
    )
    wallet.reserved += amount
    session.add(reservation)
    session.flush()
    return reservation


def _open_reservation(session: Session, session_ref: str) -> tuple[Reservation, Wallet] | None:
    reservation = session.scalar(select(Reservation).where(Reservation.session_ref == session_ref))
    if reservation is None:
        raise NotFound(
            Text(fr="Réservation {ref} inconnue.", en="Unknown reservation {ref}."),
            code="reservation_not_found",
            details={"ref": session_ref},
        )
    wallet = _locked(session, reservation.customer_id)
    session.refresh(reservation)
    if reservation.status is not ReservationStatus.OPEN:
        return None
    return reservation, wallet


def commit(session: Session, session_ref: str, actual_cost: Decimal) -> Reservation:
    """Debit the actual cost (never more than was reserved) and release the rest; a second
    commit of the same session changes nothing."""
    if actual_cost < 0:
        raise InvalidInput(Text(fr="Coût négatif.", en="Negative cost."), field="actual_cost")
    found = _open_reservation(session, session_ref)
    if found is None:
        return session.scalars(
            select(Reservation).where(Reservation.session_ref == session_ref)
        ).one()
    reservation, wallet = found
    charged = min(actual_cost, reservation.amount)
    wallet.reserved -= reservation.amount
    if charged:
        _entry(session, wallet, WalletEntryKind.USAGE, -charged, f"usage:{session_ref}")
    reservation.status = ReservationStatus.COMMITTED
    reservation.committed_amount = charged
    reservation.closed_at = utcnow()
    session.flush()
    return reservation


def commit_many(
    session: Session, costs: Mapping[str, Decimal], now: datetime | None = None
) -> list[str]:
    """``commit`` for many sessions at once (an SMS batch accepted by the SMSC): each wallet
    locked once, one ledger entry per session, one flush. Returns the session refs without an
    open reservation (expired, already closed, unknown), left to the caller."""
    if not costs:
        return []
    refs = list(costs)
    wallet_ids = sorted(
        set(session.scalars(select(Reservation.wallet_id).where(Reservation.session_ref.in_(refs))))
    )
    locked = {
        wallet.id: wallet
        for wallet in session.scalars(
            select(Wallet)
            .where(Wallet.id.in_(wallet_ids))
            .order_by(Wallet.id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
    }
    # a reservation only changes with its wallet locked: read them now
    reservations = {
        reservation.session_ref: reservation
        for reservation in session.scalars(
            select(Reservation)
            .where(Reservation.session_ref.in_(refs))
            .execution_options(populate_existing=True)
        )
    }
    closed_at = now or utcnow()
    left: list[str] = []
    for ref, cost in costs.items():
        reservation = reservations.get(ref)
        if reservation is None or reservation.status is not ReservationStatus.OPEN:
            left.append(ref)
            continue
        wallet = locked[reservation.wallet_id]
        charged = min(cost, reservation.amount)
        wallet.reserved -= reservation.amount
        if charged:
            _entry(session, wallet, WalletEntryKind.USAGE, -charged, f"usage:{ref}")
        reservation.status = ReservationStatus.COMMITTED
        reservation.committed_amount = charged
        reservation.closed_at = closed_at
    session.flush()
    return left


def release(session: Session, session_ref: str) -> Reservation:
    """Give a reservation back whole (the session never started)."""
    found = _open_reservation(session, session_ref)
    if found is None:
        return session.scalars(
            select(Reservation).where(Reservation.session_ref == session_ref)
        ).one()
    reservation, wallet = found
    wallet.reserved -= reservation.amount
    reservation.status = ReservationStatus.RELEASED
    reservation.committed_amount = ZERO
    reservation.closed_at = utcnow()
    session.flush()
    return reservation


def release_expired(session: Session, now: datetime | None = None) -> int:
    """Release reservations whose session never ended (a crashed proxy): nothing leaks."""
    now = now or utcnow()
    refs = list(
        session.scalars(
            select(Reservation.session_ref).where(
                Reservation.status == ReservationStatus.OPEN, Reservation.expires_at <= now
            )
        )
    )
    for ref in refs:
        release(session, ref)
    return len(refs)


def forfeit(session: Session, customer_id: int, reference: str) -> Decimal:
    """CTR-08: the remaining balance is forfeited when the terms say so on inactivity."""
    wallet = _locked(session, customer_id)
    if session.scalar(
        select(WalletEntry.id).where(
            WalletEntry.customer_id == customer_id, WalletEntry.reference == reference
        )
    ):
        return ZERO
    amount = wallet.balance - wallet.reserved
    if amount > 0:
        _entry(session, wallet, WalletEntryKind.FORFEIT, -amount, reference)
        session.flush()
    return max(amount, ZERO)
