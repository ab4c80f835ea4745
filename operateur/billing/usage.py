"""Usage records and the rate decks that price them (BIL-09).

A rate deck is published per offer, or per customer to override the offer's; a published deck
never changes (importing a new one replaces it), so rated records keep the prices they were
rated at. Usage is stored once per (source, call id): sending a record again returns the stored
one. A record that cannot be rated is kept as ``rejected`` with its reason, never dropped.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from operateur.billing import rating
from operateur.billing.models import (
    RateDeck,
    RateEntry,
    UsageKind,
    UsageRecord,
    UsageStatus,
)
from operateur.contracts.models import Contract, Line
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


def _period(moment: datetime) -> str:
    local = moment.astimezone(PARIS)
    return f"{local.year:04d}-{local.month:02d}"


def record_call(session: Session, call: CallData) -> UsageRecord:
    """Store and rate one call, once. The account is the line's SIP user name."""
    existing = session.scalar(
        select(UsageRecord).where(
            UsageRecord.source == call.source, UsageRecord.external_id == call.call_id
        )
    )
    if existing is not None:
        return existing
    line = session.scalar(select(Line).where(Line.sip_username == call.account))
    contract = session.get(Contract, line.contract_id) if line else None
    usage = UsageRecord(
        source=call.source,
        external_id=call.call_id,
        kind=UsageKind.VOICE,
        customer_id=line.customer_id if line else None,
        contract_id=contract.id if contract else None,
        line_id=line.id if line else None,
        account=call.account,
        caller=call.caller,
        callee=call.callee,
        started_at=call.start,
        answered_at=call.answer,
        ended_at=call.end,
        disposition=call.disposition,
        period=_period(call.start),
        status=UsageStatus.REJECTED,
        surcharge=call.surcharge,
    )
    reason = _rate_into(session, usage, contract, call)
    usage.reject_reason = reason
    usage.status = UsageStatus.REJECTED if reason else UsageStatus.RATED
    session.add(usage)
    session.flush()
    return usage


def _rate_into(
    session: Session, usage: UsageRecord, contract: Contract | None, call: CallData
) -> str | None:
    """Rate the call into ``usage``; the reason it cannot be rated, or None."""
    if contract is None:
        return "unknown_account"
    deck_id = active_deck_id(session, contract)
    if deck_id is None:
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
    outcome = rating.rate_call(load_deck(session, deck_id), record)
    if isinstance(outcome, rating.Rejection):
        return outcome.reason
    usage.billable_seconds = outcome.billable_seconds
    usage.billed_seconds = outcome.billed_seconds
    usage.cost = outcome.cost
    usage.prefix = outcome.rate.prefix if outcome.rate else None
    usage.destination = outcome.rate.destination if outcome.rate else None
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
