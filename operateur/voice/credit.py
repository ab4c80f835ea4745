"""BIL-10 prepaid calls: how much credit a call holds and how long that credit lets it last.

A call of ``d`` seconds costs ``rate.cost(rate.billed_seconds(d))`` (BIL-09: connection fee,
first step, next steps, minimum billed); that cost never decreases as ``d`` grows, so the
longest duration an amount pays for is found by bisection, exactly, on the same arithmetic the
usage record will be rated with.
"""

from __future__ import annotations

from decimal import Decimal

from operateur.billing.rating import Rate


def cost_of(rate: Rate, seconds: int) -> Decimal:
    """What an answered call of ``seconds`` costs at ``rate``."""
    return rate.cost(rate.billed_seconds(seconds))


def first_step_cost(rate: Rate) -> Decimal:
    """The least a connected call costs: connection fee plus the first step (or the minimum
    billed) — what a prepaid balance must cover to place a call (BIL-10)."""
    return cost_of(rate, 1)


def covered_seconds(rate: Rate, amount: Decimal, cap: int) -> int:
    """The longest duration, at most ``cap`` seconds, whose cost ``amount`` pays; 0 when
    ``amount`` does not pay the first step."""
    if cap < 1 or cost_of(rate, 1) > amount:
        return 0
    if cost_of(rate, cap) <= amount:
        return cap
    low, high = 1, cap  # cost(low) <= amount < cost(high)
    while high - low > 1:
        middle = (low + high) // 2
        if cost_of(rate, middle) <= amount:
            low = middle
        else:
            high = middle
    return low


def hold_for(rate: Rate, available: Decimal, cap: int) -> Decimal:
    """The amount to reserve for a call: what ``cap`` seconds would cost, or the whole
    available balance when it pays for less."""
    return min(available, cost_of(rate, cap))
