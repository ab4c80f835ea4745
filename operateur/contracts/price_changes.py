"""CTR-13 price changes announced to a customer: checked against the contract's change terms
(``operateur.billing.revisions.price_change_notice``), stored with their effective date and the
customer's rights, and sent. When prices rise and the terms allow it, the customer may
terminate without penalty until the terms' deadline [004 §9.6.1], or with the unused months of
a period paid in advance refunded pro rata [003 §3.2]."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from operateur.billing.invoicing import price_excl_vat
from operateur.billing.revisions import PriceChangeMode, price_change_notice
from operateur.catalog.terms import BillingTiming
from operateur.contracts import charges, notices, termination
from operateur.contracts.models import Contract, ContractNotice, NoticeKind, Subscription
from operateur.contracts.service import contract_schedule, terms_of
from operateur.domain.calendar import add_months
from operateur.domain.money import round_money
from operateur.errors import Conflict, InvalidInput
from operateur.i18n import Text


def announce(
    session: Session,
    contract: Contract,
    *,
    notified_on: date,
    effective_on: date,
    rises: bool,
    summary: str,
) -> ContractNotice:
    """Record and send a price change of the contract; refused when its terms forbid it or the
    notice is too short."""
    terms = terms_of(contract)
    plan = contract_schedule(contract, notified_on)
    renewal = plan.term_end + timedelta(days=1) if plan and plan.term_end != date.max else None
    decision = price_change_notice(
        terms.changes, notified_on, effective_on, rises, next_renewal=renewal
    )
    if decision.mode is PriceChangeMode.NOT_ALLOWED:
        raise Conflict(decision.explanation, code="price_change_not_allowed")
    if not decision.notice_sufficient or decision.applies_on is None:
        raise InvalidInput(decision.explanation, field="effective_on")
    notice = termination.record_notice(
        session,
        contract,
        NoticeKind.PRICE_CHANGE,
        started_on=decision.applies_on,
        notified_on=notified_on,
        opens_on=notified_on if decision.termination_without_penalty else None,
        closes_on=decision.termination_until,
        summary=summary,
        by_operator=True,
        details={
            "rises": rises,
            "objection_until": decision.objection_until.isoformat()
            if decision.objection_until
            else None,
            "prorata_refund": decision.prorata_refund,
            "continued_use_is_acceptance": decision.continued_use_is_acceptance,
        },
    )
    notices.send(
        session,
        contract,
        "contract.price_change",
        subject=Text(
            fr=f"Évolution des prix — contrat {contract.reference}",
            en=f"Price change — contract {contract.reference}",
        ),
        body=notices.join(
            Text(
                fr=f"À compter du {notices.fr(decision.applies_on)} : {summary}.",
                en=f"From {notices.en(decision.applies_on)}: {summary}.",
            ),
            decision.explanation,
        ),
        key=f"price_change:{notice.id}",
        data={
            "effective_on": decision.applies_on,
            "summary": summary,
            "rises": rises,
            "termination_without_penalty": decision.termination_without_penalty,
            "termination_until": decision.termination_until,
            "objection_until": decision.objection_until,
        },
    )
    return notice


def unused_refund(session: Session, contract: Contract, on: date) -> Decimal:
    """CTR-13 [003 §3.2]: the unused part, after ``on``, of the period billed in advance."""
    billing = terms_of(contract).billing
    if billing.subscriptions_billed is not BillingTiming.IN_ADVANCE:
        return Decimal("0.00")
    months = billing.subscription_period_months
    total = Decimal(0)
    for sub in session.scalars(select(Subscription).where(Subscription.contract_id == contract.id)):
        if sub.start_date is None or sub.start_date > on:
            continue
        if sub.end_date is not None and sub.end_date <= on:
            continue  # ended: nothing of it is left unused after ``on``
        k = 0
        while add_months(sub.start_date, months * (k + 1)) <= on:
            k += 1
        period_end = add_months(sub.start_date, months * (k + 1))  # excluded
        if sub.end_date is not None:
            period_end = min(period_end, sub.end_date + timedelta(days=1))  # billed to its end
        left = termination.months_between(on + timedelta(days=1), period_end, sub.start_date)
        total += price_excl_vat(sub.unit_price_mrc, billing.price_basis) * sub.quantity * left
    return round_money(total)


def terminate_for_price_rise(
    session: Session, contract: Contract, notice: ContractNotice, *, on: date
) -> ContractNotice:
    """The customer terminates under the right a price rise opened; the unused months are
    refunded when the terms say so."""
    refund = unused_refund(session, contract, on) if notice.details.get("prorata_refund") else None
    termination.terminate_with_right(session, contract, notice, on=on, reason=notice.summary)
    if refund:
        charges.credit_now(
            session,
            contract,
            description=f"Remboursement au prorata des mois non consommés après le "
            f"{notices.fr(on)} (résiliation sur hausse de prix)",
            amount_ht=refund,
            on=on,
            purpose=f"price_rise_refund:{contract.id}",
        )
    return notice
