"""The fraud detectors on hand-made calls (no database)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from operateur.catalog.terms import PrefixBurst
from operateur.fraud import detectors
from operateur.fraud.detectors import Call
from operateur.fraud.models import AlertKind

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def _call(usage_id: int, callee: str, minutes: float = 0, seconds: int = 60) -> Call:
    return Call(usage_id, 7, callee, T0 + timedelta(minutes=minutes), seconds)


# SPEC: VOX-06
def test_distinct_numbers_beyond_the_limit() -> None:
    calls = [
        _call(1, "+33140000001", 0),
        _call(2, "+33140000002", 1),
        _call(3, "+33140000003", 2),
        _call(4, "+33140000001", 3),  # a number already called: within the limit
        _call(5, "+33140000004", 4),  # the 4th different number: beyond a limit of 3
        _call(6, "+33140000005", 5),
        _call(7, "+33140000004", 6),  # again the 4th: still beyond
    ]
    finding = detectors.distinct_numbers(calls, 3)
    assert finding is not None and finding.kind is AlertKind.DISTINCT_NUMBERS
    assert finding.evidence["distinct_numbers"] == 5 and finding.evidence["limit"] == 3
    assert finding.beyond == (5, 6, 7)
    assert finding.evidence["limit_passed_at"] == "2026-03-02T09:04:00+00:00"
    assert finding.subject == "line:7"
    assert detectors.distinct_numbers(calls, 5) is None  # 5 numbers is not more than 5


# SPEC: VOX-06
def test_long_calls_are_those_over_the_limit() -> None:
    calls = [
        _call(1, "+33140000001", 0, seconds=120 * 60),  # exactly 120 minutes: not more
        _call(2, "+33140000002", 200, seconds=120 * 60 + 1),
        _call(3, "+33140000003", 400, seconds=30),
    ]
    finding = detectors.long_calls(calls, 120)
    assert finding is not None and finding.beyond == (2,)
    assert finding.evidence["calls"][0]["seconds"] == 7201
    assert detectors.long_calls(calls[:1], 120) is None


# SPEC: VOX-06
def test_a_burst_is_counted_on_a_sliding_window() -> None:
    burst = PrefixBurst(calls=3, window_minutes=10, prefix_digits=7)
    inside = [
        _call(1, "+442071234501", 0),
        _call(2, "+442071234502", 4),
        _call(3, "+442071234503", 9.99),  # 9 min 59.4 s after the first: same window
        _call(4, "+33140000001", 5),  # another prefix
    ]
    [finding] = detectors.prefix_bursts(inside, burst)
    assert finding.kind is AlertKind.PREFIX_BURST
    assert finding.evidence["prefix"] == "4420712"
    assert finding.evidence["calls_in_window"] == 3
    assert finding.evidence["from"] == "2026-03-02T09:00:00+00:00"
    # the third call exactly 10 minutes after the first leaves it out of the window
    spread = [_call(1, "+442071234501", 0), _call(2, "+442071234502", 5)]
    spread.append(_call(3, "+442071234503", 10))
    assert detectors.prefix_bursts(spread, burst) == []
    # yet a fourth call a minute later makes three within ten minutes (05, 10, 11)
    spread.append(_call(4, "+442071234504", 11))
    [late] = detectors.prefix_bursts(spread, burst)
    assert late.evidence["from"] == "2026-03-02T09:05:00+00:00"


# SPEC: BIL-13
def test_out_of_plan_above_the_threshold_only() -> None:
    assert detectors.out_of_plan(Decimal("150.00"), Decimal("150.00"), contract_id=1) is None
    finding = detectors.out_of_plan(Decimal("150.01"), Decimal("150.00"), contract_id=1)
    assert finding is not None and finding.evidence == {
        "out_of_plan_excl_vat": "150.01",
        "threshold": "150.00",
    }
