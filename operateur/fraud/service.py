"""Fraud use cases: run the detectors over a period's usage, record one alert per suspicion and
period, carry out what the contract's terms provide, and let staff resolve alerts.

What an alert does is read from the contract's terms (``voice.fraud_suspicion_actions``,
VOX-06 [001 §8]; BIL-13; BIL-15):

- ``restrict_service``: the contract is suspended for outbound calls (international calls only
  when the burst goes abroad; the whole service when the terms allow no partial suspension);
- ``request_interim_payment`` (and every out-of-plan alert, BIL-13): an interim invoice of the
  usage not yet invoiced, when it passes the terms' threshold;
- ``bill_beyond_limits``: calls beyond the limits that an unlimited plan would have included
  are charged on the next invoice at their metered price (a pending charge);
- ``void_unlimited_plan``: the period's unlimited plans are voided, all usage billed at metered
  prices plus the terms' fee per line (BIL-15);
- ``report_to_authorities``: left to staff, shown on the alert as to do.

Each service function takes a session and commits nothing.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Collection
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from operateur.billing import allowances, invoicing
from operateur.billing.models import LineSource, PendingCharge, UsageKind, UsageRecord, UsageStatus
from operateur.catalog.terms import ContractTerms, FraudAction, SuspensionCause
from operateur.contracts import lifecycle
from operateur.contracts import service as contracts
from operateur.contracts.models import Contract, Subscription, Suspension, SuspensionScope
from operateur.db import utcnow
from operateur.domain.calendar import PARIS
from operateur.domain.money import round_money
from operateur.errors import Conflict, NotFound
from operateur.fraud import detectors
from operateur.fraud.detectors import Call, Finding
from operateur.fraud.models import AlertKind, AlertStatus, FraudAlert
from operateur.i18n import Text
from operateur.logs import event
from operateur.notifications.service import notify

log = logging.getLogger("operateur.fraud")

ZERO = Decimal("0")


def period_of(day: date) -> str:
    return f"{day.year:04d}-{day.month:02d}"


def periods_to_scan(as_of: date) -> list[str]:
    """The billing periods holding yesterday's and today's calls (two on the 1st)."""
    periods = [period_of(as_of - timedelta(days=1)), period_of(as_of)]
    return sorted(set(periods))


# --- running the detectors ---------------------------------------------------------------------


def late_periods(session: Session, as_of: date, scanned: Collection[str]) -> dict[str, set[int]]:
    """The other billing periods of the calls stored since the start of the day before
    ``as_of`` (Paris) — call records imported late, e.g. on the 2nd for calls of the 30th —
    each with the contracts those calls belong to. A period is the call's own (its start, in
    Paris), never the import's. The window overlaps the previous day's run, so a record stored
    while that run was going is not missed; the alerts are deduplicated per period."""
    since = datetime.combine(as_of - timedelta(days=1), time(0), tzinfo=PARIS)
    rows = session.execute(
        select(UsageRecord.period, UsageRecord.contract_id)
        .where(
            UsageRecord.created_at >= since,
            UsageRecord.kind == UsageKind.VOICE,
            UsageRecord.direction == "outbound",
            UsageRecord.contract_id.is_not(None),
            UsageRecord.period.not_in(list(scanned)),
        )
        .distinct()
    )
    late: dict[str, set[int]] = defaultdict(set)
    for period, contract_id in rows:
        if contract_id is not None:
            late[period].add(contract_id)
    return dict(late)


def run(session: Session, as_of: date) -> list[FraudAlert]:
    """Run every detector on the periods of ``as_of`` (the scheduler's daily job), and on the
    periods of calls imported late, for the contracts they belong to; the alerts raised or
    updated."""
    alerts: list[FraudAlert] = []
    scanned = periods_to_scan(as_of)
    for period in scanned:
        alerts.extend(scan_period(session, period, as_of))
    for period, contract_ids in sorted(late_periods(session, as_of, scanned).items()):
        event(log, "fraud.late_usage", period=period, contracts=len(contract_ids))
        alerts.extend(scan_period(session, period, as_of, contract_ids=contract_ids))
    return alerts


def scan_period(
    session: Session,
    period: str,
    as_of: date,
    *,
    contract_ids: Collection[int] | None = None,
) -> list[FraudAlert]:
    """Detect on each live contract's calls of ``period`` (only ``contract_ids``' when
    given); record what is found."""
    alerts: list[FraudAlert] = []
    query = select(Contract).where(Contract.status.in_(lifecycle.LIVE)).order_by(Contract.id)
    if contract_ids is not None:
        query = query.where(Contract.id.in_(list(contract_ids)))
    for contract in session.scalars(query):
        terms = contracts.terms_of(contract)
        for finding in findings_for(session, contract, terms, period, as_of):
            alerts.append(record(session, contract, terms, finding, period, as_of))
    return alerts


def _calls(session: Session, contract_id: int, period: str) -> list[Call]:
    rows = session.execute(
        select(
            UsageRecord.id,
            UsageRecord.line_id,
            UsageRecord.callee,
            UsageRecord.started_at,
            UsageRecord.answered_at,
            UsageRecord.ended_at,
        ).where(
            UsageRecord.contract_id == contract_id,
            UsageRecord.period == period,
            UsageRecord.kind == UsageKind.VOICE,
            UsageRecord.direction == "outbound",  # calls placed (received ones are not)
        )
    )
    return [
        Call(
            r.id,
            r.line_id,
            r.callee,
            r.started_at,
            detectors.answered_seconds(r.answered_at, r.ended_at),
        )
        for r in rows
    ]


def findings_for(
    session: Session, contract: Contract, terms: ContractTerms, period: str, as_of: date
) -> list[Finding]:
    """What the detectors of the contract's terms find in ``period``."""
    limits = terms.limits
    found: list[Finding] = []
    if terms.voice is not None and (
        limits.distinct_numbers_per_line_per_period
        or limits.long_call_minutes
        or limits.prefix_burst
    ):
        for line_calls in detectors.by_line(_calls(session, contract.id, period)).values():
            if limits.distinct_numbers_per_line_per_period:
                hit = detectors.distinct_numbers(
                    line_calls, limits.distinct_numbers_per_line_per_period
                )
                found.extend([hit] if hit else [])
            if limits.long_call_minutes:
                hit = detectors.long_calls(line_calls, limits.long_call_minutes)
                found.extend([hit] if hit else [])
            if limits.prefix_burst:
                found.extend(detectors.prefix_bursts(line_calls, limits.prefix_burst))
    threshold = terms.billing.early_invoicing_threshold
    if threshold is not None and period == period_of(as_of):
        amount = out_of_plan_amount(session, contract, terms, as_of.replace(day=1))
        hit = detectors.out_of_plan(amount, threshold, contract_id=contract.id)
        found.extend([hit] if hit else [])
    return found


def out_of_plan_amount(
    session: Session, contract: Contract, terms: ContractTerms, period_start: date
) -> Decimal:
    """The usage not yet invoiced, less what the plans include, excluding VAT — the amount an
    interim invoice would bill (BIL-13), line by line as the invoice rounds it."""
    loaded = invoicing.load_inputs(session, [contract.id], period_start)
    if not loaded:
        return ZERO
    inputs = loaded[0]
    basis = terms.billing.price_basis
    per_line: dict[tuple[str, str | None], Decimal] = defaultdict(lambda: ZERO)
    surcharges = ZERO
    for total in inputs.usage:
        per_line[(total.kind, total.destination)] += total.cost
        surcharges += total.surcharge
    amount = sum(
        (round_money(invoicing.price_excl_vat(cost, basis)) for cost in per_line.values()), ZERO
    )
    if surcharges:
        amount += round_money(invoicing.price_excl_vat(surcharges, basis))
    prices = {item.code: item for item in contracts.prices_of(contract)}
    for pool in allowances.pools(inputs.subscriptions, prices, period_start):
        covered = [u for u in inputs.usage if u.kind == UsageKind.VOICE and pool.covers(u.prefix)]
        included = allowances.included_cost(
            pool,
            sum(u.seconds for u in covered),
            sum((u.cost for u in covered), ZERO),
            unlimited_void=inputs.unlimited_void,
        )
        amount -= round_money(invoicing.price_excl_vat(included, basis))
    return amount


# --- recording an alert and acting on it --------------------------------------------------------


def _rule(kind: AlertKind) -> str:
    return "BIL-13" if kind is AlertKind.OUT_OF_PLAN else "VOX-06"


KIND_TEXT: dict[AlertKind, Text] = {
    AlertKind.DISTINCT_NUMBERS: Text(
        fr="trop de numéros différents appelés depuis une ligne",
        en="too many different numbers called from one line",
    ),
    AlertKind.LONG_CALLS: Text(
        fr="appels d'une durée anormalement longue", en="abnormally long calls"
    ),
    AlertKind.PREFIX_BURST: Text(
        fr="rafale d'appels vers un même préfixe", en="burst of calls to one prefix"
    ),
    AlertKind.OUT_OF_PLAN: Text(
        fr="consommations hors forfait au-delà du seuil",
        en="out-of-plan usage above the threshold",
    ),
}


def record(
    session: Session,
    contract: Contract,
    terms: ContractTerms,
    finding: Finding,
    period: str,
    as_of: date,
) -> FraudAlert:
    """Raise the alert of ``finding`` once per period and act on it; on later runs, update its
    evidence and bill the new calls beyond the limits while it is open."""
    key = f"{finding.kind.value}:{contract.id}:{finding.subject}:{period}"
    alert = session.scalar(select(FraudAlert).where(FraudAlert.dedup_key == key))
    if alert is None:
        alert = FraudAlert(
            customer_id=contract.customer_id,
            contract_id=contract.id,
            line_id=finding.line_id,
            kind=finding.kind,
            period=period,
            dedup_key=key,
            rule=_rule(finding.kind),
            evidence=finding.evidence,
            actions=[],
            billed_usage_ids=[],
            status=AlertStatus.OPEN,
        )
        session.add(alert)
        session.flush()
        alert.actions = _act(session, contract, terms, alert, period, as_of)
        _notify(session, alert)
        event(
            log,
            "fraud.alert",
            alert=alert.id,
            kind=alert.kind.value,
            customer=alert.customer_id,
            contract=contract.reference,
            period=period,
        )
    else:
        if alert.evidence != finding.evidence:
            alert.evidence = finding.evidence
            alert.updated_at = utcnow()
        if finding.kind is AlertKind.OUT_OF_PLAN:
            # BIL-13 again within the period: the usage since the last interim invoice
            invoice = invoicing.interim_invoice(session, contract, as_of)
            if invoice is not None:
                alert.actions = [
                    *alert.actions,
                    {
                        "action": FraudAction.REQUEST_INTERIM_PAYMENT.value,
                        "done": True,
                        "detail": invoice.number,
                    },
                ]
    actions = _actions(terms, finding.kind)
    if (
        alert.status is AlertStatus.OPEN
        and FraudAction.BILL_BEYOND_LIMITS in actions
        and finding.beyond
    ):
        _bill_beyond_limits(session, contract, terms, alert, finding.beyond, period)
    session.flush()
    return alert


def _actions(terms: ContractTerms, kind: AlertKind) -> tuple[FraudAction, ...]:
    if kind is AlertKind.OUT_OF_PLAN:
        return (FraudAction.REQUEST_INTERIM_PAYMENT,)  # BIL-13 [001 §11.2]
    return terms.voice.fraud_suspicion_actions if terms.voice else ()


def _act(
    session: Session,
    contract: Contract,
    terms: ContractTerms,
    alert: FraudAlert,
    period: str,
    as_of: date,
) -> list[dict[str, Any]]:
    done: list[dict[str, Any]] = []
    for action in _actions(terms, alert.kind):
        if action is FraudAction.RESTRICT_SERVICE:
            done.append(_restrict(session, contract, terms, alert))
        elif action is FraudAction.REQUEST_INTERIM_PAYMENT:
            invoice = invoicing.interim_invoice(session, contract, as_of)
            done.append(
                {
                    "action": action.value,
                    "done": invoice is not None,
                    "detail": invoice.number if invoice else "below the interim threshold",
                }
            )
        elif action is FraudAction.VOID_UNLIMITED_PLAN:
            done.append(_void_unlimited(session, contract, alert, period))
        elif action is FraudAction.BILL_BEYOND_LIMITS:
            done.append(
                {"action": action.value, "done": True, "detail": "calls beyond the limits billed"}
            )
        elif action is FraudAction.REPORT_TO_AUTHORITIES:
            done.append({"action": action.value, "done": False, "detail": "to do by staff"})
    return done


def _restrict(
    session: Session, contract: Contract, terms: ContractTerms, alert: FraudAlert
) -> dict[str, Any]:
    """Suspend outbound calls (or only international calls for a burst abroad), or the whole
    service when the terms allow no partial suspension (CTR-06)."""
    scope = SuspensionScope.OUTBOUND_CALLS
    prefix = str(alert.evidence.get("prefix", ""))
    if alert.kind is AlertKind.PREFIX_BURST and prefix and not prefix.startswith("33"):
        scope = SuspensionScope.INTERNATIONAL_CALLS
    if not terms.suspension.partial_allowed:
        scope = SuspensionScope.FULL
    action = FraudAction.RESTRICT_SERVICE.value
    if contract.status not in lifecycle.TRANSITIONS["suspend"]:
        return {"action": action, "done": False, "detail": f"contract {contract.status.value}"}
    for open_one in lifecycle.open_suspensions(session, contract.id):
        if open_one.scope in (scope, SuspensionScope.FULL):
            return {
                "action": action,
                "done": True,
                "detail": f"already suspended ({open_one.scope.value})",
                "suspension_id": open_one.id,
            }
    suspension = lifecycle.suspend(
        session,
        contract,
        cause=SuspensionCause.FRAUD,
        reason=f"{alert.rule} {alert.kind.value} (alert {alert.id})",
        scope=scope,
    )
    return {
        "action": action,
        "done": True,
        "detail": scope.value,
        "suspension_id": suspension.id,
    }


def _unlimited_subscriptions(
    session: Session, contract: Contract, period: str
) -> list[allowances.Pool]:
    period_start = invoicing.parse_period(period)
    subscriptions = list(
        session.scalars(select(Subscription).where(Subscription.contract_id == contract.id))
    )
    prices = {item.code: item for item in contracts.prices_of(contract)}
    return [p for p in allowances.pools(subscriptions, prices, period_start) if p.unlimited]


def _void_unlimited(
    session: Session, contract: Contract, alert: FraudAlert, period: str
) -> dict[str, Any]:
    """BIL-15: the period's unlimited plans are void; the fee per line counts every line of
    the contract with a VOX-06 alert this period."""
    action = FraudAction.VOID_UNLIMITED_PLAN.value
    if not _unlimited_subscriptions(session, contract, period):
        return {"action": action, "done": False, "detail": "no unlimited plan"}
    lines = {
        line_id
        for line_id in session.scalars(
            select(FraudAlert.line_id).where(
                FraudAlert.contract_id == contract.id,
                FraudAlert.period == period,
                FraudAlert.kind != AlertKind.OUT_OF_PLAN,
            )
        )
    }
    count = max(1, len(lines))
    abuse = allowances.flag_unlimited_abuse(
        session,
        contract,
        period,
        lines=count,
        evidence=f"{alert.rule} alert {alert.id}: {alert.kind.value}",
    )
    if abuse.lines < count:
        abuse.lines = count
    return {"action": action, "done": True, "detail": f"{abuse.lines} line(s)"}


def _bill_beyond_limits(
    session: Session,
    contract: Contract,
    terms: ContractTerms,
    alert: FraudAlert,
    beyond: tuple[int, ...],
    period: str,
) -> None:
    """VOX-06 [001 §8]: the calls beyond the limits that an unlimited plan includes are billed
    at their metered price, on the next invoice; each call once."""
    billed = set(alert.billed_usage_ids or [])
    todo = [usage_id for usage_id in beyond if usage_id not in billed]
    if not todo:
        return
    pools = _unlimited_subscriptions(session, contract, period)
    if not pools:
        return
    cost = ZERO
    charged: list[int] = []
    for start in range(0, len(todo), 500):
        for usage_id, prefix, call_cost in session.execute(
            select(UsageRecord.id, UsageRecord.prefix, UsageRecord.cost).where(
                UsageRecord.id.in_(todo[start : start + 500]),
                UsageRecord.status == UsageStatus.RATED,
            )
        ):
            if any(pool.covers(prefix) for pool in pools):
                cost += call_cost
                charged.append(usage_id)
    amount = round_money(invoicing.price_excl_vat(cost, terms.billing.price_basis))
    if charged and amount > 0:
        session.add(
            PendingCharge(
                customer_id=contract.customer_id,
                contract_id=contract.id,
                source=LineSource.USAGE,
                code="fraud.beyond_limits",
                description=(
                    f"Appels au-delà des limites d'usage ({alert.rule}, {period}) — "
                    f"{len(charged)} appel(s)"
                ),
                amount=amount,
                idempotency_key=f"vox06:{alert.id}:{max(charged)}:{len(billed) + len(charged)}",
            )
        )
    alert.billed_usage_ids = sorted(billed | set(todo))


def _notify(session: Session, alert: FraudAlert) -> None:
    kind = KIND_TEXT[alert.kind]
    notify(
        session,
        alert.customer_id,
        event="fraud.alert",
        subject=Text(
            fr="Alerte d'usage anormal sur votre service ({period})",
            en="Abnormal usage alert on your service ({period})",
        ),
        body=Text(
            fr=f"Nous avons détecté : {kind.fr}. Référence : alerte {{alert}} ({{rule}}). "
            "Les mesures prévues par votre contrat peuvent s'appliquer ; contactez-nous.",
            en=f"We detected: {kind.en}. Reference: alert {{alert}} ({{rule}}). "
            "The measures your contract provides may apply; please contact us.",
        ),
        data={
            "key": f"fraud:{alert.id}",
            "alert": alert.id,
            "rule": alert.rule,
            "kind": alert.kind.value,
            "period": alert.period,
        },
    )


# --- staff ---------------------------------------------------------------------------------------


def list_alerts(
    session: Session,
    *,
    status: AlertStatus | None = None,
    customer_id: int | None = None,
    kind: AlertKind | None = None,
    limit: int = 500,
) -> list[FraudAlert]:
    stmt = select(FraudAlert).order_by(FraudAlert.id.desc()).limit(limit)
    if status is not None:
        stmt = stmt.where(FraudAlert.status == status)
    if customer_id is not None:
        stmt = stmt.where(FraudAlert.customer_id == customer_id)
    if kind is not None:
        stmt = stmt.where(FraudAlert.kind == kind)
    return list(session.scalars(stmt))


def get_alert(session: Session, alert_id: int) -> FraudAlert:
    alert = session.get(FraudAlert, alert_id)
    if alert is None:
        raise NotFound(
            Text(fr="Alerte {id} introuvable.", en="Alert {id} not found."),
            code="fraud_alert_not_found",
            details={"id": alert_id},
        )
    return alert


def resolve(
    session: Session,
    alert: FraudAlert,
    *,
    by: str,
    resolution: str,
    lift_restriction: bool = False,
    reported: bool = False,
) -> FraudAlert:
    """Close an alert with staff's conclusion. ``lift_restriction`` restores the contract when
    every open suspension of it comes from fraud alerts now closed; ``reported`` records that
    the report to the authorities was made."""
    if alert.status is AlertStatus.RESOLVED:
        raise Conflict(
            Text(fr="L'alerte {id} est déjà close.", en="Alert {id} is already resolved."),
            code="fraud_alert_resolved",
            details={"id": alert.id},
        )
    contract = session.get(Contract, alert.contract_id)
    assert contract is not None
    alert.status = AlertStatus.RESOLVED
    alert.resolved_at = utcnow()
    alert.resolved_by = by
    alert.resolution = resolution
    if reported:
        alert.actions = [
            {**a, "done": True, "detail": f"reported by {by}"}
            if a.get("action") == FraudAction.REPORT_TO_AUTHORITIES.value
            else a
            for a in alert.actions
        ]
    session.flush()
    if lift_restriction:
        _lift(session, contract, alert)
    return alert


def _lift(session: Session, contract: Contract, alert: FraudAlert) -> None:
    suspensions: list[Suspension] = lifecycle.open_suspensions(session, contract.id)
    if not suspensions:
        return
    # Only an open alert that restricted the service holds the restriction (an out-of-plan
    # alert, BIL-13, invoices early and restricts nothing).
    still_open = [
        other
        for other in session.scalars(
            select(FraudAlert).where(
                FraudAlert.contract_id == contract.id,
                FraudAlert.status == AlertStatus.OPEN,
                FraudAlert.id != alert.id,
            )
        )
        if any(
            a.get("action") == FraudAction.RESTRICT_SERVICE.value and a.get("suspension_id")
            for a in other.actions
        )
    ]
    others = [s for s in suspensions if s.cause != SuspensionCause.FRAUD.value]
    if others or still_open:
        raise Conflict(
            Text(
                fr="Le contrat reste suspendu pour une autre cause ou une autre alerte ouverte.",
                en="The contract stays suspended for another cause or another open alert.",
            ),
            code="restriction_kept",
            details={"contract": contract.reference},
        )
    lifecycle.restore(session, contract, reason=f"fraud alert {alert.id} resolved")


def daily_job(session: Session, as_of: date) -> None:
    """The scheduler's daily run of the detectors."""
    run(session, as_of)
