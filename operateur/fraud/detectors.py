"""The fraud detectors: pure functions over a line's calls of one billing period (VOX-06).

Each returns a :class:`Finding` (or none) with its evidence and, for the limits of VOX-06
[001 §8] ("facturer les appels passés au-delà de ces limites"), the calls beyond the limit. The
limits come from the contract's terms; nothing here reads the database.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from operateur.catalog.terms import PrefixBurst
from operateur.fraud.models import AlertKind


@dataclass(frozen=True)
class Call:
    """What the detectors read of a usage record."""

    usage_id: int
    line_id: int | None
    callee: str  # E.164 with "+", or the digits of a short number
    started_at: datetime
    seconds: int  # billable (answered) seconds; 0 when not answered


@dataclass(frozen=True)
class Finding:
    kind: AlertKind
    subject: str  # what the alert is about, unique within a contract and period
    line_id: int | None
    evidence: dict[str, Any]
    beyond: tuple[int, ...] = field(default=())  # usage ids of the calls beyond the limit


def answered_seconds(answered: datetime | None, ended: datetime | None) -> int:
    """How long a call was answered, in whole seconds rounded up (rated or not)."""
    if answered is None or ended is None or ended <= answered:
        return 0
    return math.ceil((ended - answered).total_seconds())


def _digits(number: str) -> str:
    return number.lstrip("+")


def distinct_numbers(calls: Sequence[Call], limit: int) -> Finding | None:
    """VOX-06: more than ``limit`` different numbers called from one line in one period. The
    calls beyond the limit are the calls to every number after the ``limit``-th new one."""
    ordered = sorted(calls, key=lambda c: (c.started_at, c.usage_id))
    allowed: set[str] = set()
    beyond: list[int] = []
    first_beyond: Call | None = None
    numbers: set[str] = set()
    for call in ordered:
        numbers.add(call.callee)
        if call.callee in allowed:
            continue
        if len(allowed) < limit:
            allowed.add(call.callee)
            continue
        beyond.append(call.usage_id)
        first_beyond = first_beyond or call
    if len(numbers) <= limit or first_beyond is None:
        return None
    return Finding(
        kind=AlertKind.DISTINCT_NUMBERS,
        subject=f"line:{first_beyond.line_id}",
        line_id=first_beyond.line_id,
        evidence={
            "distinct_numbers": len(numbers),
            "limit": limit,
            "calls": len(ordered),
            "calls_beyond_limit": len(beyond),
            "limit_passed_at": first_beyond.started_at.isoformat(),
        },
        beyond=tuple(beyond),
    )


def long_calls(calls: Sequence[Call], limit_minutes: int) -> Finding | None:
    """VOX-06: calls of one line lasting more than ``limit_minutes``."""
    limit = limit_minutes * 60
    found = sorted((c for c in calls if c.seconds > limit), key=lambda c: c.started_at)
    if not found:
        return None
    return Finding(
        kind=AlertKind.LONG_CALLS,
        subject=f"line:{found[0].line_id}",
        line_id=found[0].line_id,
        evidence={
            "limit_minutes": limit_minutes,
            "calls": [
                {
                    "usage_id": c.usage_id,
                    "started_at": c.started_at.isoformat(),
                    "seconds": c.seconds,
                    "destination_prefix": _digits(c.callee)[:4],
                }
                for c in found
            ],
        },
        beyond=tuple(c.usage_id for c in found),
    )


def prefix_bursts(calls: Sequence[Call], burst: PrefixBurst) -> list[Finding]:
    """Call attempts of one line to numbers sharing their first ``prefix_digits`` digits:
    ``calls`` or more within any ``window_minutes`` (a sliding window, not clock slots). One
    finding per prefix, with its busiest window."""
    window = timedelta(minutes=burst.window_minutes)
    by_prefix: dict[str, list[Call]] = defaultdict(list)
    for call in calls:
        digits = _digits(call.callee)
        if len(digits) >= burst.prefix_digits:
            by_prefix[digits[: burst.prefix_digits]].append(call)
    findings: list[Finding] = []
    for prefix in sorted(by_prefix):
        ordered = sorted(by_prefix[prefix], key=lambda c: c.started_at)
        best = (0, 0, 0)  # count, first index, last index
        first = 0
        for last, call in enumerate(ordered):
            while call.started_at - ordered[first].started_at >= window:
                first += 1
            if last - first + 1 > best[0]:
                best = (last - first + 1, first, last)
        count, start, end = best
        if count < burst.calls:
            continue
        findings.append(
            Finding(
                kind=AlertKind.PREFIX_BURST,
                subject=f"line:{ordered[0].line_id}:{prefix}",
                line_id=ordered[0].line_id,
                evidence={
                    "prefix": prefix,
                    "calls_in_window": count,
                    "limit": burst.calls,
                    "window_minutes": burst.window_minutes,
                    "from": ordered[start].started_at.isoformat(),
                    "to": ordered[end].started_at.isoformat(),
                },
            )
        )
    return findings


def out_of_plan(amount: Decimal, threshold: Decimal, *, contract_id: int) -> Finding | None:
    """BIL-13: the contract's usage not covered by its plans, not yet invoiced, passes the
    terms' threshold."""
    if amount <= threshold:
        return None
    return Finding(
        kind=AlertKind.OUT_OF_PLAN,
        subject=f"contract:{contract_id}",
        line_id=None,
        evidence={"out_of_plan_excl_vat": str(amount), "threshold": str(threshold)},
    )


def by_line(calls: Iterable[Call]) -> dict[int | None, list[Call]]:
    grouped: dict[int | None, list[Call]] = defaultdict(list)
    for call in calls:
        grouped[call.line_id].append(call)
    return grouped
