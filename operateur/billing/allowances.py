"""Calls included in subscriptions, and the abuse of "unlimited" plans (BIL-15).

Included calls are pooled over the contract: each subscription whose price-list item has an
allowance adds its minutes (times its quantity) for its destinations, or makes them unlimited.
On the invoice, the covered usage stays on its lines at metered prices and one line deducts
what the plans include. When the fraud rules flag an unlimited plan as abused for a period, the
deduction of unlimited plans is void for that period — the usage is billed at metered prices —
and the terms' fee per line is added (BIL-15 [004 §7.1.2]).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

from operateur.billing.models import UnlimitedPlanAbuse
from operateur.catalog.terms import PriceItem
from operateur.contracts.models import Contract
from operateur.domain.calendar import add_months
from operateur.errors import InvalidInput
from operateur.i18n import Text

ZERO = Decimal("0")


@dataclass(frozen=True)
class Pool:
    """What the contract's plans include for the month."""

    seconds: int  # finite allowances, summed
    unlimited: bool
    prefixes: tuple[str, ...]

    def covers(self, prefix: str | None) -> bool:
        return prefix is not None and prefix.startswith(self.prefixes)


class Subscribed(Protocol):
    """What ``pools`` reads of a subscription: an ORM ``Subscription``, or the columns a
    billing run reads as rows (``invoicing.SubscriptionRow``)."""

    @property
    def item_code(self) -> str: ...
    @property
    def quantity(self) -> int: ...
    @property
    def start_date(self) -> date | None: ...
    @property
    def end_date(self) -> date | None: ...


def pools(
    subscriptions: Sequence[Subscribed], prices: dict[str, PriceItem], period_start: date
) -> list[Pool]:
    """The allowances of the subscriptions running during the month, one pool per set of
    destinations."""
    period_end = add_months(period_start, 1)
    found: dict[tuple[str, ...], Pool] = {}
    for sub in subscriptions:
        item = prices.get(sub.item_code)
        if item is None or item.allowance is None or sub.start_date is None:
            continue
        if sub.start_date >= period_end or (sub.end_date and sub.end_date < period_start):
            continue
        allowance = item.allowance
        key = tuple(sorted(allowance.prefixes))
        pool = found.get(key, Pool(0, False, key))
        if allowance.minutes is None:
            pool = Pool(pool.seconds, True, key)
        else:
            pool = Pool(pool.seconds + allowance.minutes * 60 * sub.quantity, pool.unlimited, key)
        found[key] = pool
    return list(found.values())


def included_cost(
    pool: Pool, covered_seconds: int, covered_cost: Decimal, *, unlimited_void: bool
) -> Decimal:
    """The part of the covered usage a pool includes: all of it for an unlimited plan (unless
    voided for abuse), else the included seconds at the covered calls' average price."""
    if covered_seconds <= 0 or covered_cost <= 0:
        return ZERO
    if pool.unlimited and not unlimited_void:
        return covered_cost
    if pool.seconds <= 0:
        return ZERO
    share = min(Decimal(1), Decimal(pool.seconds) / Decimal(covered_seconds))
    return covered_cost * share


def flag_unlimited_abuse(
    session: Session, contract: Contract, period: str, *, lines: int, evidence: str
) -> UnlimitedPlanAbuse:
    """Record that an unlimited plan was abused during ``period`` (once per period)."""
    if lines < 1:
        raise InvalidInput(Text(fr="Au moins une ligne.", en="At least one line."), field="lines")
    existing = session.scalar(
        select(UnlimitedPlanAbuse).where(
            UnlimitedPlanAbuse.contract_id == contract.id, UnlimitedPlanAbuse.period == period
        )
    )
    if existing is not None:
        return existing
    abuse = UnlimitedPlanAbuse(
        customer_id=contract.customer_id,
        contract_id=contract.id,
        period=period,
        lines=lines,
        evidence=evidence,
    )
    session.add(abuse)
    session.flush()
    return abuse
