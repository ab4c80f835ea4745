"""Use cases of the number inventory (VOX-14). Each takes a session and commits nothing."""

from __future__ import annotations

import secrets
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from operateur.accounts.models import Customer
from operateur.contracts import service as contracts
from operateur.db import utcnow
from operateur.domain.numbering import NumberInfo, NumberKind, classify
from operateur.errors import Conflict, InvalidInput, NotFound
from operateur.i18n import Text
from operateur.numbers.models import NumberStatus, NumberTier, PhoneNumber

ASSIGNABLE_KINDS = frozenset(
    {
        NumberKind.GEOGRAPHIC,
        NumberKind.MOBILE,
        NumberKind.NON_GEOGRAPHIC,
        NumberKind.SPECIAL,
        NumberKind.SHORT,
    }
)


def classify_number(raw: str) -> NumberInfo:
    return classify(raw)


def add_to_stock(session: Session, numbers: list[str], tier: NumberTier) -> list[PhoneNumber]:
    """Add numbers to the stock, all or none: one bad number refuses the whole batch."""
    rows: list[PhoneNumber] = []
    seen: set[str] = set()
    for index, raw in enumerate(numbers):
        info = classify(raw)
        field = f"numbers.{index}"
        if info.e164 is None or info.kind not in ASSIGNABLE_KINDS:
            raise InvalidInput(
                Text(
                    fr="{raw} ne peut pas entrer dans le stock ({kind}).",
                    en="{raw} cannot enter the stock ({kind}).",
                ),
                field=field,
                details={"raw": raw, "kind": info.kind.value},
            )
        if info.e164 in seen or session.scalar(
            select(PhoneNumber.id).where(PhoneNumber.e164 == info.e164)
        ):
            raise Conflict(
                Text(fr="{number} est déjà dans le stock.", en="{number} is already in stock."),
                code="number_exists",
                field=field,
                details={"number": info.e164},
            )
        seen.add(info.e164)
        rows.append(PhoneNumber(e164=info.e164, kind=info.kind.value, tier=tier))
    session.add_all(rows)
    session.flush()
    return rows


def list_stock(
    session: Session,
    *,
    status: NumberStatus | None = None,
    kind: str | None = None,
    tier: NumberTier | None = None,
    limit: int = 500,
) -> list[PhoneNumber]:
    stmt = select(PhoneNumber).order_by(PhoneNumber.e164).limit(limit)
    if status is not None:
        stmt = stmt.where(PhoneNumber.status == status)
    if kind is not None:
        stmt = stmt.where(PhoneNumber.kind == kind)
    if tier is not None:
        stmt = stmt.where(PhoneNumber.tier == tier)
    return list(session.scalars(stmt))


def list_customer_numbers(session: Session, customer_id: int) -> list[PhoneNumber]:
    return list(
        session.scalars(
            select(PhoneNumber)
            .where(PhoneNumber.customer_id == customer_id)
            .order_by(PhoneNumber.e164)
        )
    )


def get_customer_number(session: Session, customer_id: int, number_id: int) -> PhoneNumber:
    number = session.scalar(
        select(PhoneNumber).where(
            PhoneNumber.id == number_id, PhoneNumber.customer_id == customer_id
        )
    )
    if number is None:
        raise NotFound(
            Text(fr="Numéro {id} introuvable.", en="Number {id} not found."),
            code="number_not_found",
            details={"id": number_id},
        )
    return number


def is_metropolitan_france(customer: Customer) -> bool:
    """Metropolitan France: country FR and a postal code outside the overseas 97x/98x ranges."""
    return customer.country == "FR" and not customer.postal_code.strip().startswith(("97", "98"))


def assign_random(
    session: Session,
    customer: Customer,
    *,
    kind: str,
    tier: NumberTier,
    line_id: int | None,
) -> PhoneNumber:
    """Assign a free number of the requested kind and tier, chosen at random (VOX-14)."""
    try:
        wanted = NumberKind(kind)
    except ValueError:
        wanted = None
    if wanted is None or wanted not in ASSIGNABLE_KINDS:
        raise InvalidInput(
            Text(fr="Type de numéro inconnu : {kind}.", en="Unknown number kind: {kind}."),
            field="kind",
            details={"kind": kind},
        )
    if not is_metropolitan_france(customer):
        # VOX-14: French numbers only for residents of metropolitan France [001 §9]
        raise Conflict(
            Text(
                fr="Les numéros français sont réservés aux clients établis en France "
                "métropolitaine.",
                en="French numbers are reserved to customers established in metropolitan France.",
            ),
            code="number_residency",
            field="kind",
        )
    if line_id is not None:
        contracts.get_line(session, customer.id, line_id)
    candidates = list(
        session.scalars(
            select(PhoneNumber)
            .where(
                PhoneNumber.status == NumberStatus.FREE,
                PhoneNumber.kind == wanted.value,
                PhoneNumber.tier == tier,
            )
            .limit(200)
            .with_for_update(skip_locked=True)
        )
    )
    if not candidates:
        raise Conflict(
            Text(
                fr="Aucun numéro libre de type {kind} ({tier}).",
                en="No free number of kind {kind} ({tier}).",
            ),
            code="no_free_number",
            field="kind",
            details={"kind": wanted.value, "tier": tier.value},
        )
    number = secrets.choice(candidates)
    number.status = NumberStatus.ASSIGNED
    number.customer_id = customer.id
    number.line_id = line_id
    number.assigned_at = utcnow()
    session.flush()
    return number


def release(session: Session, number: PhoneNumber, quarantine_days: int) -> PhoneNumber:
    """Take a number back: quarantined before it can be reassigned (VOX-14)."""
    number.status = NumberStatus.QUARANTINED
    number.customer_id = None
    number.line_id = None
    number.quarantined_until = utcnow() + timedelta(days=quarantine_days)
    session.flush()
    return number


def free_quarantined(session: Session) -> int:
    """Return numbers whose quarantine has ended to the free stock; returns how many."""
    now = utcnow()
    rows = list(
        session.scalars(
            select(PhoneNumber).where(
                PhoneNumber.status == NumberStatus.QUARANTINED,
                PhoneNumber.quarantined_until <= now,
            )
        )
    )
    for number in rows:
        number.status = NumberStatus.FREE
        number.quarantined_until = None
    session.flush()
    return len(rows)
