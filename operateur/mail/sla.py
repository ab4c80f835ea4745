"""SLA figures and remedies of the mail gateway (MAIL-05, MAIL-06 [003 §1, §9, §10]).

Over the terms' rolling window (7 days) for one customer's inbound mail:

- processed: every message filtered (one filtering log entry per message and recipient group);
- false positives: blocked mail (quarantined or refused) known to be legitimate — released by
  an administrator or a recipient, or reported as legitimate — and not released by its own
  sender through the challenge; excluded: deny-listed sender, corrupted host or domain,
  forwarded mail (MAIL-05);
- false negatives: delivered mail reported as spam; excluded (MAIL-04): allow-listed sender,
  recipient with filtering disabled, forwarded mail;
- viruses delivered: delivered mail reported as carrying a virus, against the ceiling of the
  terms' percentage of mail processed, rounded up to a whole message.

Remedies for a month: 10 × (FP % + FN %) of the worst breached week, and 10 % of the monthly
fee per full 60 minutes of unavailability (both gateways down, ``prober``), each and together
capped at 50 % of the monthly fee (the numbers are the terms'); the credit is handed to
billing once per contract and month as a ``PendingCharge``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

from sqlalchemy import exists, func, select
from sqlalchemy.orm import Session

from operateur.billing.models import LineSource, PendingCharge
from operateur.catalog.terms import MailSla
from operateur.contracts import service as contracts
from operateur.contracts.lifecycle import LIVE
from operateur.contracts.models import Contract
from operateur.db import utcnow
from operateur.domain.calendar import PARIS, add_months, last_day_of_month
from operateur.domain.money import round_money
from operateur.errors import Conflict, InvalidInput
from operateur.i18n import Text
from operateur.mail import licences
from operateur.mail.models import (
    Direction,
    FeedbackChannel,
    FeedbackKind,
    FilterLog,
    MailFeedback,
)
from operateur.mail.prober import unavailable_minutes

PERCENT = Decimal("0.0001")
BLOCKED = ("quarantine", "reject")
DELIVERED = ("deliver", "tag")


@dataclass(frozen=True)
class WindowFigures:
    start: datetime
    end: datetime
    processed: int
    false_positives: int
    false_negatives: int
    fp_percent: Decimal
    fn_percent: Decimal
    viruses_delivered: int
    virus_ceiling: int
    fp_breached: bool
    fn_breached: bool
    virus_breached: bool


def _percent(part: int, whole: int) -> Decimal:
    if whole == 0:
        return Decimal("0")
    return (Decimal(part) * 100 / Decimal(whole)).quantize(PERCENT)


def _reaches(part: int, whole: int, limit: Decimal) -> bool:
    """Is ``part / whole`` at or above ``limit`` percent? Compared exactly, not on the rounded
    display figure (1 in 10 001 is below 0.01 %)."""
    return part > 0 and Decimal(part) * 100 >= limit * whole


def _feedback(kind: FeedbackKind, *channels: FeedbackChannel) -> object:
    condition = (MailFeedback.log_id == FilterLog.id) & (MailFeedback.kind == kind)
    if channels:
        condition = condition & MailFeedback.channel.in_(channels)
    return exists().where(condition)


def window_figures(
    session: Session, customer_id: int, end: datetime, terms: MailSla
) -> WindowFigures:
    """MAIL-05 figures over the ``terms.measurement_days`` days before ``end``."""
    start = end - timedelta(days=terms.measurement_days)
    inbound = (
        (FilterLog.customer_id == customer_id)
        & (FilterLog.direction == Direction.INBOUND)
        & (FilterLog.at >= start)
        & (FilterLog.at < end)
    )

    def count(*conditions: object) -> int:
        return session.scalar(select(func.count()).where(inbound, *conditions)) or 0  # type: ignore[arg-type]

    processed = count()
    legitimate = _feedback(
        FeedbackKind.RELEASE, FeedbackChannel.ADMINISTRATOR, FeedbackChannel.RECIPIENT_DIGEST
    ) | _feedback(FeedbackKind.REPORT_HAM)  # type: ignore[operator]
    false_positives = count(
        FilterLog.action.in_(BLOCKED),
        legitimate,
        ~_feedback(FeedbackKind.RELEASE, FeedbackChannel.SENDER_CHALLENGE),  # type: ignore[operator]
        FilterLog.deny_listed.is_(False),
        FilterLog.corrupted_host.is_(False),
        FilterLog.corrupted_domain.is_(False),
        FilterLog.forwarded.is_(False),
    )
    false_negatives = count(
        FilterLog.action.in_(DELIVERED),
        _feedback(FeedbackKind.REPORT_SPAM),
        FilterLog.allow_listed.is_(False),
        FilterLog.filtering_disabled.is_(False),
        FilterLog.forwarded.is_(False),
    )
    viruses = count(FilterLog.action.in_(DELIVERED), _feedback(FeedbackKind.REPORT_VIRUS))
    ceiling = math.ceil(Decimal(processed) * terms.virus_max_percent / 100)
    fp, fn = _percent(false_positives, processed), _percent(false_negatives, processed)
    return WindowFigures(
        start=start,
        end=end,
        processed=processed,
        false_positives=false_positives,
        false_negatives=false_negatives,
        fp_percent=fp,
        fn_percent=fn,
        viruses_delivered=viruses,
        virus_ceiling=ceiling,
        fp_breached=_reaches(false_positives, processed, terms.false_positive_max_percent),
        fn_breached=_reaches(false_negatives, processed, terms.false_negative_max_percent),
        virus_breached=viruses > ceiling,
    )


def sla_terms(contract: Contract) -> MailSla:
    terms = contracts.terms_of(contract)
    if terms.sla is None or terms.sla.mail is None:
        raise Conflict(
            Text(
                fr="Le contrat {contract} n'a pas de SLA de passerelle email.",
                en="The contract {contract} has no mail gateway SLA.",
            ),
            code="no_mail_sla",
            details={"contract": contract.reference},
        )
    return terms.sla.mail


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=PARIS)


def month_bounds(period: str) -> tuple[date, date]:
    """First and last day of ``YYYY-MM``."""
    try:
        first = date.fromisoformat(f"{period}-01")
    except ValueError:
        raise InvalidInput(
            Text(
                fr="Période invalide (AAAA-MM) : {period}", en="Invalid period (YYYY-MM): {period}"
            ),
            field="period",
            details={"period": period},
        ) from None
    return first, last_day_of_month(first)


def _monthly_fee(session: Session, contract: Contract, first: date, last: date) -> Decimal:
    """The monthly fee the remedies are a percentage of: the subscriptions in force on the
    last day of the month that has any (a renewal recount ends some subscriptions and starts
    their replacements within the month: both are not the fee)."""
    subscriptions = contracts.list_subscriptions(session, contract)
    day = last
    while day >= first:
        active = [
            s
            for s in subscriptions
            if (s.start_date is None or s.start_date <= day)
            and (s.end_date is None or s.end_date >= day)
        ]
        if active:
            return contracts.monthly_total(active)
        day -= timedelta(days=1)
    return Decimal("0")


@dataclass(frozen=True)
class Remedies:
    contract_id: int
    period: str
    worst_week: WindowFigures | None  # the breached week with the highest FP % + FN %
    filtering_percent: Decimal  # MAIL-06 10 × (FP % + FN %), capped
    unavailable_minutes: int
    availability_percent: Decimal
    availability_penalty_percent: Decimal  # MAIL-06 10 % per full hour, capped
    monthly_fee: Decimal
    credit: Decimal  # the deduction, HT, both remedies capped together


def remedies(session: Session, contract: Contract, period: str) -> Remedies:
    """MAIL-06 remedies of one month for one contract."""
    terms = sla_terms(contract)
    first, last = month_bounds(period)
    worst: WindowFigures | None = None
    day = first
    while day <= last:  # each rolling window ending at the end of a day of the month
        figures = window_figures(
            session, contract.customer_id, _midnight(day + timedelta(days=1)), terms
        )
        if (figures.fp_breached or figures.fn_breached) and (
            worst is None
            or figures.fp_percent + figures.fn_percent > worst.fp_percent + worst.fn_percent
        ):
            worst = figures
        day += timedelta(days=1)
    cap = terms.penalty_cap_percent
    filtering = Decimal("0")
    if worst is not None:
        filtering = min(
            cap, terms.filtering_penalty_multiplier * (worst.fp_percent + worst.fn_percent)
        )
    start, end = _midnight(first), _midnight(add_months(first, 1))
    down = unavailable_minutes(session, start, end)
    # UTC difference: a Paris month has one hour less or more when the clocks change
    minutes = Decimal(int((end.astimezone(UTC) - start.astimezone(UTC)).total_seconds() // 60))
    availability = (100 * (minutes - down) / minutes).quantize(PERCENT)
    outage = Decimal("0")
    if availability < terms.availability_min_percent:
        blocks = down // terms.unavailability_block_minutes
        outage = min(cap, terms.unavailability_penalty_percent * blocks)
    fee = _monthly_fee(session, contract, first, last)
    credit = round_money(fee * min(cap, filtering + outage) / 100)
    return Remedies(
        contract_id=contract.id,
        period=period,
        worst_week=worst,
        filtering_percent=filtering.quantize(PERCENT),
        unavailable_minutes=down,
        availability_percent=availability,
        availability_penalty_percent=outage,
        monthly_fee=fee,
        credit=credit,
    )


def credit_key(contract: Contract, period: str) -> str:
    return f"mail-sla:{contract.id}:{period}"


def hand_to_billing(
    session: Session, contract: Contract, period: str, now: datetime | None = None
) -> PendingCharge | None:
    """Put the month's SLA deduction on the contract's next invoice (BIL-16), once: a second
    call for the same month returns the same charge. None when nothing is due. A month not
    over yet (at ``now``, default the current time) is refused: its charge would be frozen."""
    key = credit_key(contract, period)
    existing = session.scalar(select(PendingCharge).where(PendingCharge.idempotency_key == key))
    if existing is not None:
        return existing
    first, _ = month_bounds(period)
    if (now or utcnow()) < _midnight(add_months(first, 1)):
        raise Conflict(
            Text(
                fr="Le mois {period} n'est pas terminé : ses pénalités SLA ne sont pas encore "
                "connues.",
                en="The month {period} is not over: its SLA remedies are not known yet.",
            ),
            code="sla_month_not_over",
            field="period",
            details={"period": period},
        )
    result = remedies(session, contract, period)
    if result.credit <= 0:
        return None
    parts = []
    if result.filtering_percent > 0 and result.worst_week is not None:
        week = result.worst_week
        parts.append(
            f"filtrage {result.filtering_percent.normalize()} % "
            f"(FP {week.fp_percent.normalize()} % + FN {week.fn_percent.normalize()} %)"
        )
    if result.availability_penalty_percent > 0:
        parts.append(
            f"indisponibilité {result.unavailable_minutes} min "
            f"({result.availability_penalty_percent.normalize()} %)"
        )
    charge = PendingCharge(
        customer_id=contract.customer_id,
        contract_id=contract.id,
        source=LineSource.CREDIT,
        code="mail.sla",
        description=f"Pénalités SLA passerelle email {period} : " + ", ".join(parts),
        amount=-result.credit,
        idempotency_key=key,
    )
    session.add(charge)
    session.flush()
    return charge


def credits_due(session: Session, as_of: date) -> list[str]:
    """Scheduler job, on the first day of a month: the previous month's remedies of every
    live mail contract with an SLA, handed to billing (idempotent)."""
    if as_of.day != 1:
        return []
    period = add_months(as_of, -1).strftime("%Y-%m")
    done = []
    for contract in session.scalars(select(Contract).where(Contract.status.in_(LIVE))):
        if not licences.is_mail_contract(contract):
            continue
        terms = contracts.terms_of(contract)
        if terms.sla is None or terms.sla.mail is None:
            continue
        if hand_to_billing(session, contract, period, now=_midnight(as_of)) is not None:
            done.append(contract.reference)
    return done
