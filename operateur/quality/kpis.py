"""Traffic-quality indicators hour by hour (VOX-08 [002 §26, §27]), pure functions.

For each window of the terms (an hour) of a customer's call attempts:

- ASR (answer-seizure ratio) = answered attempts / attempts, in percent;
- NER (network effectiveness ratio) = attempts that reached the called party's side (answered,
  busy or not answered; not failed) / attempts, in percent;
- ACD (average call duration) = answered seconds / answered calls;
- short calls = answered calls shorter than the terms' seconds / answered calls, in percent,
  over the clock hour and over a sliding hour (the worst of the hours ending at each answered
  call of the window, [002 §26.3.1] "par heure glissante").

A window is in breach of a target when its value is not strictly on the right side of it: the
clauses ask for an ASR "supérieure à 60 %", an ACD "supérieure à 15 secondes" and short calls
"inférieur à 10 %", so a value equal to the target misses it. Values are compared exactly, before
the rounding they are shown with; durations are the exact answered seconds (a call answered
7.4 s is short, [002 §26.3.1] "durée répondue inférieure à 8 secondes"). Each breach costs the
terms' penalty per attempt of the window ([002 §27] "0,02 € / appel par heure en dessous du taux
visé").
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

from operateur.catalog.terms import QualityThresholds

HUNDRED = Decimal(100)
TWO_PLACES = Decimal("0.01")
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class Attempt:
    started_at: datetime
    disposition: str  # ANSWERED, NO ANSWER, BUSY, FAILED
    seconds: Decimal  # answered seconds, exact (not rounded up as billing does)

    @property
    def answered(self) -> bool:
        return self.disposition == "ANSWERED"


@dataclass(frozen=True)
class Breach:
    kpi: str  # asr, acd, short_calls
    value: Decimal
    target: Decimal
    calls: int
    penalty: Decimal  # calls x the terms' penalty per call


@dataclass(frozen=True)
class WindowKpis:
    start: datetime
    end: datetime
    calls: int
    answered: int
    asr: Decimal
    ner: Decimal
    acd: Decimal | None  # None without an answered call
    short_calls: int
    short_call_ratio: Decimal | None
    short_call_ratio_sliding: Decimal | None
    breaches: tuple[Breach, ...]

    @property
    def penalty(self) -> Decimal:
        return sum((b.penalty for b in self.breaches), Decimal("0"))


def _ratio(part: int, whole: int) -> Decimal:
    """``part`` in percent of ``whole``, unrounded (compared with the targets)."""
    return Decimal(part) * HUNDRED / Decimal(whole)


def _shown(value: Decimal) -> Decimal:
    return value.quantize(TWO_PLACES, ROUND_HALF_UP)


def _percent(part: int, whole: int) -> Decimal:
    return _shown(_ratio(part, whole))


def window_start(moment: datetime, minutes: int) -> datetime:
    """The start of the window of ``minutes`` holding ``moment`` (windows aligned on the
    epoch: whole hours for 60 minutes, in UTC and in Paris alike)."""
    size = minutes * 60
    seconds = int((moment - EPOCH).total_seconds())
    return EPOCH + timedelta(seconds=seconds - seconds % size)


def _sliding_short_ratio(
    answered: Sequence[Attempt], in_window: Sequence[Attempt], terms: QualityThresholds
) -> Decimal | None:
    """The worst short-call ratio, unrounded, over the sliding hours ending at each answered
    call of the window (``answered``: every answered call, sorted, including the hour
    before)."""
    if not in_window:
        return None
    span = timedelta(minutes=terms.window_minutes)
    starts = [a.started_at for a in answered]
    short_before = [0]
    for attempt in answered:
        short_before.append(short_before[-1] + (attempt.seconds < terms.short_call_seconds))
    worst: Decimal | None = None
    for attempt in in_window:
        last = bisect_right(starts, attempt.started_at)
        first = bisect_right(starts, attempt.started_at - span)
        ratio = _ratio(short_before[last] - short_before[first], last - first)
        worst = ratio if worst is None or ratio > worst else worst
    return worst


def hourly(attempts: Sequence[Attempt], terms: QualityThresholds) -> list[WindowKpis]:
    """The indicators of every window holding at least one attempt, in time order."""
    span = timedelta(minutes=terms.window_minutes)
    ordered = sorted(attempts, key=lambda a: a.started_at)
    answered_all = [a for a in ordered if a.answered]
    windows: dict[datetime, list[Attempt]] = {}
    for attempt in ordered:
        windows.setdefault(window_start(attempt.started_at, terms.window_minutes), []).append(
            attempt
        )
    result: list[WindowKpis] = []
    for start, items in windows.items():
        calls = len(items)
        answered = [a for a in items if a.answered]
        reached = sum(1 for a in items if a.disposition != "FAILED")
        short = sum(1 for a in answered if a.seconds < terms.short_call_seconds)
        asr_exact = _ratio(len(answered), calls)
        asr = _shown(asr_exact)
        acd_exact = (
            sum((a.seconds for a in answered), Decimal(0)) / len(answered) if answered else None
        )
        acd = _shown(acd_exact) if acd_exact is not None else None
        sliding_exact = _sliding_short_ratio(answered_all, answered, terms)
        sliding = _shown(sliding_exact) if sliding_exact is not None else None
        breaches: list[Breach] = []
        # VOX-08 [002 §26.1.1] "supérieure à 60 %": 60 % itself misses the target
        if asr_exact <= terms.asr_min_percent:
            breaches.append(
                Breach("asr", asr, terms.asr_min_percent, calls, calls * terms.asr_penalty_per_call)
            )
        # VOX-08 [002 §26.2.1] "supérieure à 15 secondes"
        if acd_exact is not None and acd_exact <= terms.acd_min_seconds:
            breaches.append(
                Breach(
                    "acd",
                    _shown(acd_exact),
                    Decimal(terms.acd_min_seconds),
                    calls,
                    calls * terms.acd_penalty_per_call,
                )
            )
        # VOX-08 [002 §26.3.1] "à un taux inférieur à 10 %"
        if sliding_exact is not None and sliding_exact >= terms.short_call_max_percent:
            breaches.append(
                Breach(
                    "short_calls",
                    _shown(sliding_exact),
                    terms.short_call_max_percent,
                    calls,
                    calls * terms.short_call_penalty_per_call,
                )
            )
        result.append(
            WindowKpis(
                start=start,
                end=start + span,
                calls=calls,
                answered=len(answered),
                asr=asr,
                ner=_percent(reached, calls),
                acd=acd,
                short_calls=short,
                short_call_ratio=_percent(short, len(answered)) if answered else None,
                short_call_ratio_sliding=sliding,
                breaches=tuple(breaches),
            )
        )
    return result
