"""Consumer reports on value-added numbers and what follows them (VOX-16, BIL-14).

Staff record each report (a 33700 / infosva ticket, a consumer complaint, a judicial
requisition, a regulator's finding) once, by its reference. When the contract's penalty table
prices that kind of report ([002 §27]: 200 € per ticket, complaint or requisition, 10 000 € per
regulator breach), the penalty goes on the next invoice. The table shown to staff also lists
the 100 € per support ticket the customer caused, which the support desk bills when it closes
such a ticket (SUP-03).

Under terms with the abnormal-reports rule ([000 §4.4]), a customer whose consumer reports
(33700 / infosva tickets) are above the average of all customers of value-added numbers
for the terms' number of consecutive months is given notice (48 h by default) and then
suspended, unless staff withdraw the notice.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from operateur.billing.models import LineSource, PendingCharge
from operateur.catalog.service import get_offer
from operateur.catalog.terms import ContractTerms, Service, SuspensionCause
from operateur.contracts import lifecycle
from operateur.contracts import service as contracts
from operateur.contracts.models import Contract, Line
from operateur.db import utcnow
from operateur.domain.calendar import PARIS, add_months
from operateur.domain.money import round_money
from operateur.domain.numbering import parse_number
from operateur.errors import Conflict, InvalidInput, NotFound
from operateur.i18n import Text
from operateur.logs import event
from operateur.notifications.service import notify
from operateur.numbers.models import PhoneNumber
from operateur.quality.models import (
    AbnormalReportsNotice,
    ConsumerReport,
    NoticeStatus,
    ReportKind,
)

log = logging.getLogger("operateur.quality")

# The reports that count for the abnormal-reports rule: [000 §4.4] "signalements ... recueillis
# sur les plateformes « infosva.org » et « 33700 »" (a REPORT_33700 is a ticket of either
# platform); complaints the operator handles are priced apart ([002 §27]) and do not count.
CONSUMER_KINDS = (ReportKind.REPORT_33700,)

LABELS = {
    ReportKind.REPORT_33700: "Signalement 33700",
    ReportKind.CONSUMER_COMPLAINT: "Plainte consommateur",
    ReportKind.JUDICIAL_REQUISITION: "Réquisition judiciaire",
    ReportKind.REGULATOR_BREACH: "Manquement aux décisions du régulateur",
}


def month_of(day: date) -> str:
    return f"{day.year:04d}-{day.month:02d}"


def report_penalties(terms: ContractTerms) -> dict[ReportKind, Decimal | None]:
    """The amount (HT) each kind of report costs under these terms; None: not billed."""
    table = terms.penalties
    return {
        ReportKind.REPORT_33700: table.report_33700 if table else None,
        ReportKind.CONSUMER_COMPLAINT: table.consumer_complaint if table else None,
        ReportKind.JUDICIAL_REQUISITION: table.judicial_requisition if table else None,
        ReportKind.REGULATOR_BREACH: table.regulator_breach if table else None,
    }


def penalty_table(terms: ContractTerms) -> dict[str, Decimal | None]:
    """VOX-16 [002 §27] the penalty table of a contract as staff see it: each kind of report,
    the unauthorised caller ID (VOX-09) and the support ticket the customer caused (SUP-03)."""
    table = terms.penalties
    amounts: dict[str, Decimal | None] = {k.value: v for k, v in report_penalties(terms).items()}
    amounts["unauthorised_cli"] = table.unauthorised_cli if table else None
    amounts["support_ticket"] = terms.support.wrong_ticket_fee
    return amounts


def _covers_special_numbers(contract: Contract) -> bool:
    return Service.SPECIAL_NUMBERS in get_offer(contract.offer_id).services


def _contract_of(session: Session, number: PhoneNumber) -> Contract:
    """The contract a number is served under: its line's, else the customer's live contract
    that includes value-added numbers."""
    if number.line_id is not None:
        line = session.get(Line, number.line_id)
        assert line is not None
        contract = session.get(Contract, line.contract_id)
        assert contract is not None
        return contract
    assert number.customer_id is not None
    for contract in contracts.list_contracts(session, number.customer_id):
        if contract.status in lifecycle.LIVE and _covers_special_numbers(contract):
            return contract
    raise InvalidInput(
        Text(
            fr="Aucun contrat en cours ne porte le numéro {number}.",
            en="No live contract carries the number {number}.",
        ),
        field="number",
        details={"number": number.e164},
    )


def record_report(
    session: Session,
    customer_id: int,
    *,
    number: str,
    kind: ReportKind,
    reference: str,
    received_on: date,
    details: str = "",
) -> ConsumerReport:
    """Record a report on one of the customer's numbers, once per (kind, reference), with its
    penalty from the contract's table (VOX-16 [002 §27])."""
    e164 = parse_number(number)
    reference = reference.strip()
    if not reference:
        raise InvalidInput(
            Text(fr="Référence obligatoire.", en="A reference is required."), field="reference"
        )
    existing = session.scalar(
        select(ConsumerReport).where(
            ConsumerReport.kind == kind, ConsumerReport.reference == reference
        )
    )
    if existing is not None:
        if existing.customer_id != customer_id or existing.number != e164:
            raise Conflict(
                Text(
                    fr="La référence {reference} est déjà enregistrée pour un autre numéro.",
                    en="Reference {reference} is already recorded for another number.",
                ),
                code="report_exists",
                field="reference",
                details={"reference": reference},
            )
        return existing
    phone = session.scalar(
        select(PhoneNumber).where(PhoneNumber.e164 == e164, PhoneNumber.customer_id == customer_id)
    )
    if phone is None:
        raise NotFound(
            Text(
                fr="Le numéro {number} n'est pas attribué à ce client.",
                en="The number {number} is not assigned to this customer.",
            ),
            code="number_not_found",
            field="number",
            details={"number": e164},
        )
    contract = _contract_of(session, phone)
    report = ConsumerReport(
        customer_id=customer_id,
        contract_id=contract.id,
        number=e164,
        kind=kind,
        reference=reference,
        received_on=received_on,
        month=month_of(received_on),
        details=details,
    )
    session.add(report)
    session.flush()
    amount = report_penalties(contracts.terms_of(contract))[kind]
    if amount:
        report.charge_key = f"vox16:{report.id}"
        session.add(
            PendingCharge(
                customer_id=customer_id,
                contract_id=contract.id,
                source=LineSource.PENALTY,
                code=f"penalty.{kind.value}",
                description=f"{LABELS[kind]} {reference} ({e164})",
                amount=round_money(amount),
                idempotency_key=report.charge_key,
            )
        )
        session.flush()
    event(log, "report.recorded", report=report.id, kind=kind.value, customer=customer_id)
    return report


def list_reports(session: Session, customer_id: int) -> list[ConsumerReport]:
    return list(
        session.scalars(
            select(ConsumerReport)
            .where(ConsumerReport.customer_id == customer_id)
            .order_by(ConsumerReport.received_on, ConsumerReport.id)
        )
    )


# --- the abnormal-reports rule [000 §4.4] --------------------------------------------------------


@dataclass(frozen=True)
class MonthFigures:
    month: str
    counts: dict[int, int]  # customer id -> consumer reports
    customers: int  # customers of value-added numbers (the average's denominator)

    @property
    def average(self) -> Decimal:
        if not self.customers:
            return Decimal("0")
        return Decimal(sum(self.counts.values())) / self.customers


def month_figures(session: Session, month: str, population: set[int]) -> MonthFigures:
    counts = dict(
        session.execute(
            select(ConsumerReport.customer_id, func.count(ConsumerReport.id))
            .where(ConsumerReport.month == month, ConsumerReport.kind.in_(CONSUMER_KINDS))
            .group_by(ConsumerReport.customer_id)
        ).all()
    )
    return MonthFigures(
        month,
        {c: int(n) for c, n in counts.items() if c in population},
        len(population),
    )


def _months_back(month: str, count: int) -> list[str]:
    first = date(int(month[:4]), int(month[5:7]), 1)
    return [month_of(add_months(first, -back)) for back in range(count - 1, -1, -1)]


def evaluate(session: Session, month: str, now: datetime) -> list[AbnormalReportsNotice]:
    """Give notice to every customer above the average for the terms' consecutive months
    ending with ``month`` (once per contract and month)."""
    live = [
        c
        for c in session.scalars(select(Contract).where(Contract.status.in_(lifecycle.LIVE)))
        if _covers_special_numbers(c)
    ]
    population = {c.customer_id for c in live}
    figures: dict[str, MonthFigures] = {}
    notices: list[AbnormalReportsNotice] = []
    for contract in live:
        table = contracts.terms_of(contract).penalties
        if table is None or table.abnormal_reports_months is None:
            continue
        assert table.abnormal_reports_notice_hours is not None
        months = _months_back(month, table.abnormal_reports_months)
        for m in months:
            if m not in figures:
                figures[m] = month_figures(session, m, population)
        evidence = [
            {
                "month": m,
                "reports": figures[m].counts.get(contract.customer_id, 0),
                "average": str(figures[m].average.quantize(Decimal("0.01"))),
            }
            for m in months
        ]
        if not all(
            figures[m].counts.get(contract.customer_id, 0) > figures[m].average for m in months
        ):
            continue
        if session.scalar(
            select(AbnormalReportsNotice.id).where(
                AbnormalReportsNotice.contract_id == contract.id,
                AbnormalReportsNotice.month == month,
            )
        ):
            continue
        notice = AbnormalReportsNotice(
            customer_id=contract.customer_id,
            contract_id=contract.id,
            month=month,
            evidence=evidence,
            notified_at=now,
            suspend_at=now + timedelta(hours=table.abnormal_reports_notice_hours),
            status=NoticeStatus.NOTIFIED,
        )
        session.add(notice)
        session.flush()
        notify(
            session,
            contract.customer_id,
            event="numbers.abnormal_reports",
            subject=Text(
                fr="Signalements anormaux sur vos numéros : préavis de suspension",
                en="Abnormal reports on your numbers: notice of suspension",
            ),
            body=Text(
                fr="Vos numéros à valeur ajoutée ont reçu plus de signalements de consommateurs "
                "que la moyenne de nos clients pendant {months} mois consécutifs (jusqu'à "
                "{month}). Sans régularisation, le service sera suspendu le {suspend_at}.",
                en="Your value-added numbers received more consumer reports than the average "
                "of our customers for {months} consecutive months (up to {month}). Unless "
                "this is remedied, the service will be suspended on {suspend_at}.",
            ),
            data={
                "key": f"vox16:notice:{notice.id}",
                "months": len(months),
                "month": month,
                "suspend_at": notice.suspend_at.isoformat(timespec="minutes"),
            },
        )
        notices.append(notice)
        event(log, "report.notice", notice=notice.id, contract=contract.reference)
    return notices


def suspend_due(session: Session, now: datetime) -> list[AbnormalReportsNotice]:
    """Suspend the contracts whose notice has run out (VOX-16 [000 §4.4])."""
    done: list[AbnormalReportsNotice] = []
    for notice in session.scalars(
        select(AbnormalReportsNotice).where(
            AbnormalReportsNotice.status == NoticeStatus.NOTIFIED,
            AbnormalReportsNotice.suspend_at <= now,
        )
    ):
        contract = session.get(Contract, notice.contract_id)
        assert contract is not None
        if contract.status not in lifecycle.TRANSITIONS["suspend"]:
            notice.status = NoticeStatus.WITHDRAWN
            continue
        suspension = lifecycle.suspend(
            session,
            contract,
            cause=SuspensionCause.ABUSE,
            reason=f"VOX-16 abnormal consumer reports up to {notice.month} (notice {notice.id})",
        )
        notice.status = NoticeStatus.SUSPENDED
        notice.suspension_id = suspension.id
        done.append(notice)
    session.flush()
    return done


def withdraw(session: Session, notice: AbnormalReportsNotice) -> AbnormalReportsNotice:
    if notice.status is not NoticeStatus.NOTIFIED:
        raise Conflict(
            Text(
                fr="Le préavis {id} n'est plus en cours.",
                en="Notice {id} is no longer pending.",
            ),
            code="notice_not_pending",
            details={"id": notice.id},
        )
    notice.status = NoticeStatus.WITHDRAWN
    session.flush()
    return notice


def list_notices(session: Session, customer_id: int) -> list[AbnormalReportsNotice]:
    return list(
        session.scalars(
            select(AbnormalReportsNotice)
            .where(AbnormalReportsNotice.customer_id == customer_id)
            .order_by(AbnormalReportsNotice.id)
        )
    )


def get_notice(session: Session, customer_id: int, notice_id: int) -> AbnormalReportsNotice:
    notice = session.scalar(
        select(AbnormalReportsNotice).where(
            AbnormalReportsNotice.id == notice_id,
            AbnormalReportsNotice.customer_id == customer_id,
        )
    )
    if notice is None:
        raise NotFound(
            Text(fr="Préavis {id} introuvable.", en="Notice {id} not found."),
            code="notice_not_found",
            details={"id": notice_id},
        )
    return notice


def _start_of(day: date) -> datetime:
    return datetime.combine(day, datetime.min.time(), tzinfo=PARIS)


def monthly_evaluation(session: Session, as_of: date) -> None:
    """The scheduler's job on the 1st: the month just ended is evaluated (VOX-16). The notice
    runs from now, when the customer is notified ([000 §4.4] "notifiant ... avec un préavis de
    quarante-huit heures"), even when the scheduler replays the 1st late."""
    evaluate(session, month_of(add_months(as_of, -1)), utcnow())


def daily_suspensions(session: Session, as_of: date) -> None:
    """The scheduler's daily job: notices run out by now are enforced; a day replayed late
    enforces only those run out by its end."""
    suspend_due(session, min(utcnow(), _start_of(as_of + timedelta(days=1))))
