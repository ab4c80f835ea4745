"""Credit-covered durations of prepaid calls (BIL-10) on the rating arithmetic (BIL-09)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from operateur.billing.rating import Rate
from operateur.voice.credit import covered_seconds, first_step_cost, hold_for

MOBILE = Rate("336", "France mobile", Decimal("0.05"), Decimal("0.01"), 30, 6, 0)
MINUTES = Rate("33", "France fixe", Decimal("0.012"), Decimal("0"), 60, 60, 0)
MINIMUM = Rate("44", "UK", Decimal("0.06"), Decimal("0"), 1, 1, 60)


# SPEC: BIL-10, BIL-09
@pytest.mark.parametrize(
    ("rate", "amount", "cap", "seconds"),
    [
        (MOBILE, "1.00", 7200, 1188),  # 0.01 + 0.05 × 1188 / 60 = 1.00
        (MOBILE, "0.999999", 7200, 1182),  # one 6-second step less
        (MOBILE, "0.035", 7200, 30),  # exactly the first step
        (MOBILE, "0.034999", 7200, 0),  # not even the first step
        (MOBILE, "100", 3600, 3600),  # the terms' cap comes first (VOX-03)
        (MINUTES, "0.03", 7200, 120),  # 0.012 per started minute: 2 minutes
        (MINIMUM, "0.06", 7200, 60),  # 60 s minimum billed: 0.06 pays up to 60 s
        (MINIMUM, "0.061", 7200, 61),
    ],
)
def test_covered_seconds_is_the_longest_call_the_amount_pays(
    rate: Rate, amount: str, cap: int, seconds: int
) -> None:
    assert covered_seconds(rate, Decimal(amount), cap) == seconds


# SPEC: BIL-10
def test_a_call_holds_what_its_cap_costs_or_the_whole_balance() -> None:
    assert first_step_cost(MOBILE) == Decimal("0.035")
    assert hold_for(MOBILE, Decimal("50"), 3600) == Decimal("3.01")
    assert hold_for(MOBILE, Decimal("1.00"), 3600) == Decimal("1.00")
