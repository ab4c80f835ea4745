"""Usage records and the rate decks that price them (BIL-09).

A rate deck is published per offer, or per customer to override the offer's; a published deck
never changes (importing a new one replaces it), so rated records keep the prices they were
rated at. Usage is stored once per (source, call id): sending a record again returns the stored
one. A record that cannot be rated is kept as ``rejected`` with its reason, never dropped.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import bindparam, insert, or_, select, update
from sqlalchemy.orm import Session

from operateur.billing import rating, usage_totals
from operateur.billing.models import (
    RateDeck,
    RateEntry,
    UsageKind,
    UsageRecord,
    UsageStatus,
)
from operateur.contracts.models import Contract, Line
from operateur.db import utcnow
from operateur.domain.calendar import PARIS
from operateur.errors import InvalidInput
from operateur.i18n import Text

ZERO = Decimal("0")


def publish_deck(
    session: Session,
    text: str,
    *,
    name: str,
    offer_id: str | None = None,
    customer_id: int | None = None,
) -> RateDeck:
    """Parse a deck CSV (all or nothing: every bad row is reported) and publish it for an offer
    or a customer, replacing the deck it had."""
    if (offer_id is None) == (customer_id is None):
        raise InvalidInput(
            Text(
                fr="Une grille est publiée pour une offre ou pour un client.",
                en="A deck is published for an offer or for a customer.",
            ),
            field="offer_id",
        )
    parsed = rating.parse_deck(text)
    session.execute(
        update(RateDeck)
        .where(
            RateDeck.active.is_(True),
            RateDeck.offer_id == offer_id if offer_id else RateDeck.customer_id == customer_id,
        )
        .values(active=False)
    )
    deck = RateDeck(
        name=name,
        offer_id=offer_id,
        customer_id=customer_id,
        active=True,
        entries=[
            RateEntry(
                prefix=rate.prefix,
                destination=rate.destination,
                price_per_minute=rate.price_per_minute,
                connection_fee=rate.connection_fee,
                first_step=rate.first_step,
                next_step=rate.next_step,
                min_seconds=rate.min_seconds,
            )
            for rate in parsed.rates
        ],
    )
    session.add(deck)
    session.flush()
    return deck


def active_deck_id(session: Session, contract: Contract) -> int | None:
    """The customer's own deck, else the offer's."""
    own = session.scalar(
        select(RateDeck.id).where(
            RateDeck.customer_id == contract.customer_id, RateDeck.active.is_(True)
        )
    )
    if own is not None:
        return own
    return session.scalar(
        select(RateDeck.id).where(RateDeck.offer_id == contract.offer_id, RateDeck.active.is_(True))
    )


_DECKS: dict[tuple[int, datetime], rating.RateDeck] = {}


def load_deck(session: Session, deck_id: int) -> rating.RateDeck:
    """A published deck, ready to rate. Published decks never change, so each is read once
    per process (keyed by id and publication time)."""
    published = session.scalar(select(RateDeck.created_at).where(RateDeck.id == deck_id))
    if published is None:
        raise InvalidInput(
            Text(fr="Grille {id} inconnue.", en="Unknown deck {id}."),
            field="deck_id",
            details={"id": deck_id},
        )
    return _published_deck(session, deck_id, published)


def _published_deck(session: Session, deck_id: int, published: datetime) -> rating.RateDeck:
    key = (deck_id, published)
    if key not in _DECKS:
        entries = session.scalars(select(RateEntry).where(RateEntry.deck_id == deck_id))
        if len(_DECKS) >= 32:
            _DECKS.clear()
        _DECKS[key] = rating.RateDeck(
            [
                rating.Rate(
                    prefix=e.prefix,
                    destination=e.destination,
                    price_per_minute=e.price_per_minute,
                    connection_fee=e.connection_fee,
                    first_step=e.first_step,
                    next_step=e.next_step,
                    min_seconds=e.min_seconds,
                )
                for e in entries
            ]
        )
    return _DECKS[key]


@dataclass(frozen=True)
class CallData:
    source: str
    call_id: str
    account: str
    caller: str
    callee: str
    start: datetime
    answer: datetime | None
    end: datetime
    disposition: str  # ANSWERED, NO ANSWER, BUSY, FAILED
    surcharge: Decimal = ZERO  # a third party's surcharge, passed through (BIL-09)
    direction: str = "outbound"  # "inbound": a call received, kept as traffic data, never billed


def _period(moment: datetime) -> str:
    local = moment.astimezone(PARIS)
    return f"{local.year:04d}-{local.month:02d}"


def record_call(session: Session, call: CallData) -> UsageRecord:
    """Store and rate one call, once. The account is the line's SIP user name."""
    record_calls(session, [call])
    stored = session.scalar(
        select(UsageRecord).where(
            UsageRecord.source == call.source, UsageRecord.external_id == call.call_id
        )
    )
    assert stored is not None  # record_calls stored it, or found it stored
    return stored


@dataclass(frozen=True)
class StoredCall:
    """What ``record_calls`` did with a call: its status and cost, and whether it was new."""

    call_id: str
    status: UsageStatus
    cost: Decimal
    new: bool


def record_calls(session: Session, calls: Sequence[CallData]) -> list[StoredCall]:
    """Store and rate many calls at once, each once (a call already stored, or twice in
    ``calls``, is not stored again): a few reads for the whole batch, one bulk insert, one
    ``usage_totals.add`` (a bulk insert bypasses the mapper events that count ORM-written
    records). Results in the order of ``calls``."""
    if not calls:
        return []
    known: dict[tuple[str, str], StoredCall] = {}
    for source in {call.source for call in calls}:
        ids = [call.call_id for call in calls if call.source == source]
        for external_id, status, cost in session.execute(_STORED, {"source": source, "ids": ids}):
            known[(source, external_id)] = StoredCall(external_id, status, cost, new=False)
    fresh = [call for call in calls if (call.source, call.call_id) not in known]
    lines = {
        row.sip_username: row
        for row in session.execute(_LINES, {"accounts": list({call.account for call in fresh})})
    }
    decks = _decks_of(session, list(lines.values()))
    rows: list[dict[str, Any]] = []
    now = utcnow()
    for call in fresh:
        if (call.source, call.call_id) in known:  # twice in this batch
            continue
        line = lines.get(call.account)
        row: dict[str, Any] = {
            "source": call.source,
            "external_id": call.call_id,
            "kind": UsageKind.VOICE,
            "customer_id": line.customer_id if line else None,
            "contract_id": line.contract_id if line else None,
            "line_id": line.id if line else None,
            "account": call.account,
            "caller": call.caller,
            "callee": call.callee,
            "started_at": call.start,
            "answered_at": call.answer,
            "ended_at": call.end,
            "disposition": call.disposition,
            "period": _period(call.start),
            "surcharge": call.surcharge,
            "direction": call.direction,
            "created_at": now,
        }
        if call.direction == "inbound":
            reason = None if line else "unknown_account"
            row["billable_seconds"] = _talked_seconds(call)
        else:
            reason = _rate_into(row, call, decks.get(line.contract_id) if line else None)
        row["reject_reason"] = reason
        row["status"] = UsageStatus.REJECTED if reason else UsageStatus.RATED
        rows.append(row)
        known[(call.source, call.call_id)] = StoredCall(
            call.call_id, row["status"], row.get("cost", ZERO), new=True
        )
    if rows:
        connection = session.connection()
        connection.execute(insert(UsageRecord), rows)
        usage_totals.add(connection, [row for row in rows if row["direction"] != "inbound"])
    return [known[(call.source, call.call_id)] for call in calls]


# The statements of ``record_calls``, built once (it is on the path of every ended call).
_STORED = select(UsageRecord.external_id, UsageRecord.status, UsageRecord.cost).where(
    UsageRecord.source == bindparam("source"),
    UsageRecord.external_id.in_(bindparam("ids", expanding=True)),
)
_LINES = (
    select(
        Line.sip_username,
        Line.id,
        Line.customer_id,
        Line.contract_id,
        Contract.offer_id,
    )
    .join(Contract, Contract.id == Line.contract_id)
    .where(Line.sip_username.in_(bindparam("accounts", expanding=True)))
)
_ACTIVE_DECKS = select(
    RateDeck.id, RateDeck.customer_id, RateDeck.offer_id, RateDeck.created_at
).where(
    RateDeck.active.is_(True),
    or_(
        RateDeck.customer_id.in_(bindparam("customers", expanding=True)),
        RateDeck.offer_id.in_(bindparam("offers", expanding=True)),
    ),
)


def _decks_of(session: Session, lines: Sequence[Any]) -> dict[int, rating.RateDeck | None]:
    """The rate deck of each line's contract (rows of ``_LINES``): its customer's own, else its
    offer's."""
    if not lines:
        return {}
    own: dict[int, tuple[int, datetime]] = {}
    of_offer: dict[str, tuple[int, datetime]] = {}
    for deck_id, customer_id, offer_id, published in session.execute(
        _ACTIVE_DECKS,
        {
            "customers": list({line.customer_id for line in lines}),
            "offers": list({line.offer_id for line in lines}),
        },
    ):
        if customer_id is not None:
            own[customer_id] = (deck_id, published)
        elif offer_id is not None:
            of_offer[offer_id] = (deck_id, published)
    decks: dict[int, rating.RateDeck | None] = {}
    for line in lines:
        found = own.get(line.customer_id) or of_offer.get(line.offer_id)
        decks[line.contract_id] = _published_deck(session, *found) if found else None
    return decks


def _talked_seconds(call: CallData) -> int:
    if call.answer is None:
        return 0
    return max(0, math.ceil((call.end - call.answer).total_seconds()))


def _rate_into(row: dict[str, Any], call: CallData, deck: rating.RateDeck | None) -> str | None:
    """Rate the call into ``row`` (a usage record's columns, ``deck`` its contract's deck);
    the reason it cannot be rated, or None."""
    if row["contract_id"] is None:
        return "unknown_account"
    if deck is None:
        return "no_rate_deck"
    try:
        disposition = rating.Disposition(call.disposition)
    except ValueError:
        return "unknown_disposition"
    digits = rating.e164_digits(call.callee)
    if digits is None:
        return "bad_callee"
    record = rating.CallRecord(
        line=0,
        call_id=call.call_id,
        account=call.account,
        caller=call.caller,
        callee=digits,
        start=call.start,
        answer=call.answer,
        end=call.end,
        disposition=disposition,
    )
    outcome = rating.rate_call(deck, record)
    if isinstance(outcome, rating.Rejection):
        return outcome.reason
    row["billable_seconds"] = outcome.billable_seconds
    row["billed_seconds"] = outcome.billed_seconds
    row["cost"] = outcome.cost
    row["prefix"] = outcome.rate.prefix if outcome.rate else None
    row["destination"] = outcome.rate.destination if outcome.rate else None
    return None


@dataclass(frozen=True)
class ImportReport:
    stored: int
    duplicates: int
    rejected: list[dict[str, object]]


def import_usage_csv(session: Session, text: str, *, source: str) -> ImportReport:
    """Import a usage CSV (``call_id,account,caller,callee,start,answer,end,disposition``):
    every good row is stored and rated, every bad one reported with its line and reason."""
    parsed = rating.parse_usage(text)
    rejected: list[dict[str, object]] = [r.as_dict() for r in parsed.rejected]
    stored = duplicates = 0
    for record in parsed.records:
        before = session.scalar(
            select(UsageRecord.id).where(
                UsageRecord.source == source, UsageRecord.external_id == record.call_id
            )
        )
        usage = record_call(
            session,
            CallData(
                source=source,
                call_id=record.call_id,
                account=record.account,
                caller=record.caller,
                callee="+" + record.callee,
                start=record.start,
                answer=record.answer,
                end=record.end,
                disposition=record.disposition.value,
            ),
        )
        if before is not None:
            duplicates += 1
            continue
        stored += 1
        if usage.status is UsageStatus.REJECTED:
            rejected.append(
                {"line": record.line, "call_id": record.call_id, "reason": usage.reject_reason}
            )
    return ImportReport(stored=stored, duplicates=duplicates, rejected=rejected)
