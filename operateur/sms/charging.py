"""What an SMS costs and how it is charged (SMS-03, BIL-10).

Each part (segment) is billed at the contract's price-list item named by the terms
(``sms.segment_price_code``). When the SMSC accepts a message, a usage record with its segments
is stored once for the billing run. A prepaid customer's message holds its cost on the prepaid
account from enqueue (reservation ``sms:<message id>``): committed when the SMSC accepts it,
released when the message ends without being sent.

The SMSC's acceptances are settled a window at a time (:func:`settle_many`): the usage records
in one bulk insert, counted in the running usage totals by one ``usage_totals.add`` call, and
the prepaid reservations committed in one pass per batch.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any, NamedTuple

from sqlalchemy import select
from sqlalchemy.orm import Session

from operateur.billing import usage_totals, wallets
from operateur.billing.models import (
    Reservation,
    ReservationStatus,
    UsageKind,
    UsageRecord,
    UsageStatus,
)
from operateur.catalog.terms import ContractTerms
from operateur.contracts.models import Contract
from operateur.contracts.service import price_item
from operateur.errors import Conflict
from operateur.sms import bulk
from operateur.sms.models import SmsMessage
from operateur.sms.stock import month_of

log = logging.getLogger("operateur.sms")

ZERO = Decimal("0")
USAGE_SOURCE = "sms"

# A prepaid reservation outlives the message's wait for its time by this margin, so that the
# daily release of expired reservations (crashed sessions) never frees one still in the outbox
# while the SMSC link is down for a while. Not a contract term: a safety margin of the platform.
RESERVATION_MARGIN = timedelta(days=7)


def part_price(contract: Contract, terms: ContractTerms) -> Decimal:
    """The price of one part under the contract's frozen price list (zero if none is named)."""
    code = terms.sms.segment_price_code if terms.sms is not None else None
    item = price_item(contract, code) if code is not None else None
    return item.unit_price if item is not None else ZERO


def reservation_ref(message_id: int) -> str:
    return f"sms:{message_id}"


def reserve(session: Session, message: SmsMessage, now: datetime) -> None:
    """Hold the message's cost on the prepaid account (BIL-10); refused when the available
    balance cannot cover it (``Conflict`` insufficient_credit)."""
    if not message.prepaid or message.cost <= 0:
        return
    ttl = message.not_before - now + RESERVATION_MARGIN
    wallets.reserve(session, message.customer_id, reservation_ref(message.id), message.cost, ttl)


def release(session: Session, message: SmsMessage) -> None:
    """Give the held cost back: the message ends without being sent."""
    if message.prepaid and message.cost > 0:
        wallets.release(session, reservation_ref(message.id))


class Accepted(NamedTuple):  # a named tuple: one per message on the hot path
    """A message the SMSC accepted, as billing needs it."""

    message_id: int
    customer_id: int
    contract_id: int
    sender: str
    recipient: str
    parts: int
    destination: str
    cost: Decimal
    prepaid: bool


def _commit_prepaid(session: Session, message: Accepted) -> None:
    """One message's reservation, through the wallet's own API: the path of the reservations
    the batch pass does not settle (expired, already closed, or missing)."""
    ref = reservation_ref(message.message_id)
    status = session.scalar(select(Reservation.status).where(Reservation.session_ref == ref))
    if status is ReservationStatus.RELEASED:
        # The reservation expired while the message waited: debit it now if credit allows.
        late = f"{ref}:late"
        try:
            with session.begin_nested():
                wallets.reserve(
                    session, message.customer_id, late, message.cost, RESERVATION_MARGIN
                )
                wallets.commit(session, late, message.cost)
        except Conflict:
            log.warning(
                "sms prepaid debit short customer=%s message=%s cost=%s",
                message.customer_id,
                message.message_id,
                message.cost,
            )
        return
    wallets.commit(session, ref, message.cost)


def _commit_prepaid_many(session: Session, messages: Sequence[Accepted], now: datetime) -> None:
    """Commit the open reservations of these messages in one pass (``wallets.commit_many``);
    the others go through :func:`_commit_prepaid`."""
    by_ref = {reservation_ref(message.message_id): message for message in messages}
    left = wallets.commit_many(session, {ref: m.cost for ref, m in by_ref.items()}, now)
    for ref in left:
        _commit_prepaid(session, by_ref[ref])


def usage_row(message: Accepted, submitted_at: datetime, period: str) -> dict[str, Any]:
    """The usage record of an accepted message (``UsageRecord`` columns): its segments at the
    message's cost, once per message — ``(source, external_id)`` is unique."""
    return {
        "source": USAGE_SOURCE,
        "external_id": str(message.message_id),
        "kind": UsageKind.SMS,
        "customer_id": message.customer_id,
        "contract_id": message.contract_id,
        "account": message.sender,
        "caller": message.sender,
        "callee": message.recipient,
        "started_at": submitted_at,
        "disposition": "SUBMITTED",
        "sms_segments": message.parts,
        "period": period,
        "status": UsageStatus.RATED,
        "destination": f"SMS {message.destination}",
        "cost": message.cost,
        "created_at": submitted_at,
    }


def settle_many(session: Session, messages: Sequence[Accepted], submitted_at: datetime) -> None:
    """The SMSC accepted these messages: their usage records in one bulk insert, added to the
    running usage totals by one ``usage_totals.add`` call (a bulk insert bypasses the mapper
    events that count ORM-written records), and the prepaid ones debited in one pass."""
    if not messages:
        return
    period = month_of(submitted_at)
    rows = [usage_row(message, submitted_at, period) for message in messages]
    connection = session.connection()
    bulk.insert_rows(connection, UsageRecord, rows)
    usage_totals.add(connection, rows)
    _commit_prepaid_many(session, [m for m in messages if m.prepaid and m.cost > 0], submitted_at)
