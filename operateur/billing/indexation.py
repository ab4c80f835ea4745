"""Annual index revision of subscription prices (CTR-13 [004 §9.6.3]): on each anniversary of
the contract, every monthly price becomes P = P0 × S1 / S0, where P0 is the price at the start,
S0 the index in force when the contract was made ("en vigueur à la date où le présent Contrat a
été établi": the latest by its signature) and S1 the latest index by the anniversary. Index
values are entered by the operator with their source. A contract under notice is still served,
so still revised, until it ends."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from operateur.billing.models import IndexValue, PriceRevision
from operateur.billing.revisions import revised_price
from operateur.contracts import service as contracts
from operateur.contracts.models import Contract, ContractStatus
from operateur.domain.calendar import PARIS, add_months
from operateur.errors import InvalidInput
from operateur.i18n import Text


def record_index(
    session: Session, index: str, month: str, value: Decimal, source: str
) -> IndexValue:
    if value <= 0:
        raise InvalidInput(
            Text(fr="Un indice est positif.", en="An index is positive."), field="value"
        )
    existing = session.scalar(
        select(IndexValue).where(IndexValue.index == index, IndexValue.month == month)
    )
    if existing is not None:
        if existing.value != value:
            raise InvalidInput(
                Text(
                    fr="L'indice {index} de {month} est déjà enregistré ({value}).",
                    en="Index {index} for {month} is already recorded ({value}).",
                ),
                field="month",
                details={"index": index, "month": month, "value": str(existing.value)},
            )
        return existing
    row = IndexValue(index=index, month=month, value=value, source=source)
    session.add(row)
    session.flush()
    return row


def _latest(session: Session, index: str, by_month: str) -> IndexValue | None:
    return session.scalars(
        select(IndexValue)
        .where(IndexValue.index == index, IndexValue.month <= by_month)
        .order_by(IndexValue.month.desc())
    ).first()


def _anniversaries(activated: date, as_of: date) -> list[date]:
    found: list[date] = []
    years = 1
    while (day := add_months(activated, 12 * years)) <= as_of:
        found.append(day)
        years += 1
    return found


def apply_revisions(session: Session, as_of: date) -> list[PriceRevision]:
    """Revise the prices of every indexed contract whose anniversary has come, once each."""
    done: list[PriceRevision] = []
    indexed = session.scalars(
        select(Contract).where(
            Contract.status.in_(
                (ContractStatus.ACTIVE, ContractStatus.SUSPENDED, ContractStatus.NOTICE_GIVEN)
            ),
            Contract.activated_on.is_not(None),
        )
    )
    for contract in indexed:
        index = contracts.terms_of(contract).changes.annual_index_revision
        if index is None or contract.activated_on is None:
            continue
        made_on = (
            contract.signed_at.astimezone(PARIS).date()
            if contract.signed_at is not None
            else contract.activated_on
        )
        base_month = made_on.strftime("%Y-%m")
        base = _latest(session, index.value, base_month)
        s0 = base.value if base is not None else None
        for anniversary in _anniversaries(contract.activated_on, as_of):
            latest = _latest(session, index.value, anniversary.strftime("%Y-%m"))
            if s0 is None or latest is None:
                raise InvalidInput(
                    Text(
                        fr="Indice {index} manquant pour réviser le contrat {reference} "
                        "(base {month}).",
                        en="Index {index} missing to revise contract {reference} (base {month}).",
                    ),
                    field="index",
                    details={
                        "index": index.value,
                        "reference": contract.reference,
                        "month": base_month,
                    },
                )
            for sub in contracts.list_subscriptions(session, contract):
                if sub.unit_price_mrc == 0 or session.scalar(
                    select(PriceRevision.id).where(
                        PriceRevision.subscription_id == sub.id,
                        PriceRevision.effective_on == anniversary,
                    )
                ):
                    continue
                first = session.scalars(
                    select(PriceRevision)
                    .where(PriceRevision.subscription_id == sub.id)
                    .order_by(PriceRevision.effective_on)
                ).first()
                p0 = first.p0 if first else sub.unit_price_mrc
                price = revised_price(p0, s0, latest.value)
                revision = PriceRevision(
                    customer_id=contract.customer_id,
                    subscription_id=sub.id,
                    effective_on=anniversary,
                    p0=p0,
                    s0=s0,
                    s1=latest.value,
                    new_price=price,
                )
                session.add(revision)
                contracts.reprice_subscription(session, sub, price)
                done.append(revision)
    session.flush()
    return done
