"""Traffic quality of customers' calls (VOX-08): hourly indicators from usage records, and the
penalties of the hours below target as charges on the next invoice (idempotent)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from operateur.billing.models import LineSource, PendingCharge, UsageKind, UsageRecord
from operateur.catalog.terms import QualityThresholds
from operateur.contracts import service as contracts
from operateur.contracts.models import Contract
from operateur.domain.calendar import PARIS
from operateur.domain.money import round_money
from operateur.errors import InvalidInput
from operateur.i18n import Text
from operateur.quality.kpis import Attempt, WindowKpis, hourly

KPI_LABELS = {"asr": "ASR", "acd": "ACD", "short_calls": "appels courts"}


@dataclass(frozen=True)
class ContractQuality:
    contract: Contract
    thresholds: QualityThresholds
    windows: list[WindowKpis]


def _check_span(start: datetime, end: datetime) -> None:
    if start.tzinfo is None or end.tzinfo is None:
        raise InvalidInput(
            Text(fr="Heure sans fuseau horaire.", en="Time without a time zone."), field="from"
        )
    if end <= start:
        raise InvalidInput(
            Text(fr="La fin précède le début.", en="The end precedes the start."), field="to"
        )


def attempts(session: Session, contract_id: int, start: datetime, end: datetime) -> list[Attempt]:
    """The contract's call attempts started in ``[start, end)``."""
    rows = session.execute(
        select(
            UsageRecord.started_at,
            UsageRecord.disposition,
            UsageRecord.answered_at,
            UsageRecord.ended_at,
        ).where(
            UsageRecord.contract_id == contract_id,
            UsageRecord.kind == UsageKind.VOICE,
            UsageRecord.direction == "outbound",  # calls placed (received ones are not)
            UsageRecord.started_at >= start,
            UsageRecord.started_at < end,
        )
    )
    return [
        Attempt(r.started_at, r.disposition, _answered_seconds(r.answered_at, r.ended_at))
        for r in rows
    ]


def _answered_seconds(answered: datetime | None, ended: datetime | None) -> Decimal:
    """The exact answered duration: [002 §26.3.1] compares "la durée répondue" with 8 s, so
    a 7.4 s call is short even though billing rounds it up to 8 s."""
    if answered is None or ended is None or ended <= answered:
        return Decimal(0)
    delta = ended - answered
    return Decimal(delta.days * 86_400 + delta.seconds) + Decimal(delta.microseconds) / 1_000_000


def customer_quality(
    session: Session, customer_id: int, start: datetime, end: datetime
) -> list[ContractQuality]:
    """Hourly indicators of each of the customer's contracts whose terms set quality targets.
    The hour before ``start`` is read too, for the sliding short-call ratio."""
    _check_span(start, end)
    found: list[ContractQuality] = []
    for contract in contracts.list_contracts(session, customer_id):
        thresholds = contracts.terms_of(contract).quality
        if thresholds is None:
            continue
        span = timedelta(minutes=thresholds.window_minutes)
        rows = attempts(session, contract.id, start - span, end)
        windows = [w for w in hourly(rows, thresholds) if start <= w.start < end]
        found.append(ContractQuality(contract, thresholds, windows))
    return found


def day_bounds(day: date) -> tuple[datetime, datetime]:
    """A Paris calendar day as an instant range."""
    start = datetime.combine(day, time(0), tzinfo=PARIS)
    return start, datetime.combine(day + timedelta(days=1), time(0), tzinfo=PARIS)


def apply_penalties(session: Session, day: date) -> list[PendingCharge]:
    """The penalties of every hour of ``day`` below target, one charge per contract, hour and
    indicator, put on the contract's next invoice (BIL-16). Running it twice adds nothing."""
    start, end = day_bounds(day)
    added: list[PendingCharge] = []
    customer_ids = session.scalars(
        select(UsageRecord.customer_id)
        .where(
            UsageRecord.kind == UsageKind.VOICE,
            UsageRecord.direction == "outbound",  # calls placed (received ones are not)
            UsageRecord.started_at >= start,
            UsageRecord.started_at < end,
            UsageRecord.customer_id.is_not(None),
        )
        .distinct()
    )
    for customer_id in list(customer_ids):
        assert customer_id is not None
        for quality in customer_quality(session, customer_id, start, end):
            for window in quality.windows:
                added.extend(_charges(session, quality.contract, window))
    session.flush()
    return added


def _charges(session: Session, contract: Contract, window: WindowKpis) -> list[PendingCharge]:
    charges: list[PendingCharge] = []
    hour = window.start.astimezone(PARIS)
    for breach in window.breaches:
        key = f"vox08:{contract.id}:{window.start.isoformat()}:{breach.kpi}"
        if session.scalar(select(PendingCharge.id).where(PendingCharge.idempotency_key == key)):
            continue
        amount = round_money(breach.penalty)
        if amount <= 0:
            continue
        charge = PendingCharge(
            customer_id=contract.customer_id,
            contract_id=contract.id,
            source=LineSource.PENALTY,
            code=f"quality.{breach.kpi}",
            description=(
                f"Qualité de trafic : {KPI_LABELS[breach.kpi]} {breach.value} "
                f"(cible {breach.target}) le {hour:%d/%m/%Y} de {hour:%H:%M} — "
                f"{breach.calls} appel(s)"
            ),
            amount=amount,
            idempotency_key=key,
        )
        session.add(charge)
        charges.append(charge)
    return charges


def daily_penalties(session: Session, as_of: date) -> None:
    """The scheduler's daily job: the penalties of yesterday's hours (VOX-08)."""
    apply_penalties(session, as_of - timedelta(days=1))
