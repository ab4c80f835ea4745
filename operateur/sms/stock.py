"""The monthly SMS stock of a customer's fleet (SMS-08).

Every part of every message a customer enqueues counts against the stock of the month (Paris
time) it is planned for; a message that ends without being sent (rejected, cancelled,
unsubscribed) gives its parts back. The stock is the contract terms' default
(``limits.sms_monthly_stock``, 1000 in the 004 offer) until the operator's staff set it for the
customer, up to the terms' maximum (``limits.sms_monthly_stock_max``, 100 000). A send or a
campaign larger than what is left is refused before anything is sent.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from operateur.catalog.terms import UsageLimits
from operateur.db import utcnow
from operateur.domain.calendar import PARIS
from operateur.errors import Conflict, InvalidInput
from operateur.i18n import Text
from operateur.sms.models import SmsStock, SmsStockUse


def month_of(moment: datetime) -> str:
    """The stock month (``YYYY-MM``, Paris time) of an instant."""
    local = moment.astimezone(PARIS)
    return f"{local.year:04d}-{local.month:02d}"


@dataclass(frozen=True)
class StockView:
    customer_id: int
    month: str
    monthly_limit: int | None  # None: the offer sets no stock
    maximum: int | None
    used: int

    @property
    def remaining(self) -> int | None:
        return None if self.monthly_limit is None else max(self.monthly_limit - self.used, 0)


def limit_of(session: Session, customer_id: int, limits: UsageLimits) -> int | None:
    """The customer's monthly stock: the operator's setting, else the terms' default."""
    if limits.sms_monthly_stock is None:
        return None
    own = session.scalar(select(SmsStock.monthly_limit).where(SmsStock.customer_id == customer_id))
    return limits.sms_monthly_stock if own is None else own


def used_in(session: Session, customer_id: int, month: str) -> int:
    used = session.scalar(
        select(SmsStockUse.parts).where(
            SmsStockUse.customer_id == customer_id, SmsStockUse.month == month
        )
    )
    return used or 0


def view(session: Session, customer_id: int, limits: UsageLimits, month: str) -> StockView:
    return StockView(
        customer_id,
        month,
        limit_of(session, customer_id, limits),
        limits.sms_monthly_stock_max,
        used_in(session, customer_id, month),
    )


def _locked_use(session: Session, customer_id: int, month: str) -> SmsStockUse:
    """The month's counter, created if needed, locked until the end of the transaction."""
    query = (
        select(SmsStockUse)
        .where(SmsStockUse.customer_id == customer_id, SmsStockUse.month == month)
        .with_for_update()
    )
    row = session.scalars(query).one_or_none()
    if row is not None:
        return row
    try:
        with session.begin_nested():
            session.add(SmsStockUse(customer_id=customer_id, month=month, parts=0))
    except IntegrityError:
        pass  # created by a concurrent transaction meanwhile
    return session.scalars(query).one()


def take(session: Session, customer_id: int, limits: UsageLimits, month: str, parts: int) -> None:
    """Count ``parts`` against the month's stock, or refuse them all (SMS-08)."""
    limit = limit_of(session, customer_id, limits)
    row = _locked_use(session, customer_id, month)
    if limit is not None and row.parts + parts > limit:
        raise Conflict(
            Text(
                fr="Stock de SMS insuffisant pour {month} (SMS-08) : {asked} SMS demandés, "
                "{remaining} restants sur {limit}.",
                en="Not enough SMS stock for {month} (SMS-08): {asked} SMS asked for, "
                "{remaining} left out of {limit}.",
            ),
            code="sms_stock_exhausted",
            details={
                "month": month,
                "asked": parts,
                "remaining": max(limit - row.parts, 0),
                "limit": limit,
            },
        )
    row.parts += parts
    session.flush()


def give_back(session: Session, customer_id: int, month: str, parts: int) -> None:
    """Return the parts of a message that was never sent."""
    session.execute(
        update(SmsStockUse)
        .where(SmsStockUse.customer_id == customer_id, SmsStockUse.month == month)
        .values(parts=SmsStockUse.parts - parts)
    )


def set_limit(
    session: Session, customer_id: int, limits: UsageLimits, monthly_limit: int, reason: str
) -> SmsStock:
    """The operator sets the customer's monthly stock, up to the terms' maximum (SMS-08)."""
    maximum = limits.sms_monthly_stock_max
    if limits.sms_monthly_stock is None or maximum is None:
        raise InvalidInput(
            Text(
                fr="Le contrat ne prévoit pas de stock de SMS.",
                en="The contract provides no SMS stock.",
            ),
            code="sms_no_stock",
            field="monthly_limit",
        )
    if monthly_limit < 0 or monthly_limit > maximum:
        raise InvalidInput(
            Text(
                fr="Le stock mensuel doit être compris entre 0 et {maximum} SMS (SMS-08).",
                en="The monthly stock must be between 0 and {maximum} SMS (SMS-08).",
            ),
            code="sms_stock_above_maximum",
            field="monthly_limit",
            details={"maximum": maximum, "asked": monthly_limit},
        )
    row = session.scalar(select(SmsStock).where(SmsStock.customer_id == customer_id))
    if row is None:
        row = SmsStock(customer_id=customer_id, monthly_limit=monthly_limit, reason=reason)
        session.add(row)
    else:
        row.monthly_limit = monthly_limit
        row.reason = reason
        row.updated_at = utcnow()
    session.flush()
    return row
