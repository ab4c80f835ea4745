"""Suspension in the order CTR-06 sets: for a cause the terms do not list as urgent, a formal
notice first, then suspension once the notice has stayed unanswered for the terms' delay
(calendar or business days, French public holidays skipped); the urgent causes of the terms
(fraud, prepaid exhausted, credential loss, authority order...) suspend at once.

A formal notice is one of:
- a CTR-06 notice announcing a suspension for that cause (``formal_notice``), not cured;
- for non-payment, the dunning formal notice of an invoice of the contract still unpaid;
- for a breach of the contract, a CTR-07 formal notice for a breach, not cured.

Staff suspensions (API, back office, CLI) go through :func:`suspend_in_order`; the engines
that suspend under their own notice rules (dunning, VOX-16 reports, MAIL-08 abuse) call
``lifecycle.suspend`` directly.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from operateur.billing import payments
from operateur.billing.models import Invoice
from operateur.catalog.terms import SuspensionCause
from operateur.contracts import lifecycle, notices
from operateur.contracts.dunning import DunningStep
from operateur.contracts.models import (
    Contract,
    ContractNotice,
    NoticeKind,
    Suspension,
    SuspensionScope,
)
from operateur.contracts.service import terms_of
from operateur.contracts.termination import record_notice
from operateur.errors import Conflict
from operateur.i18n import Text


def formal_notice(
    session: Session, contract: Contract, *, cause: SuspensionCause, notified_on: date, summary: str
) -> ContractNotice:
    """CTR-06 a formal notice announcing a suspension for ``cause``: the contract may be
    suspended once the terms' delay has run without a cure (the notice's ``opens_on``)."""
    delay = terms_of(contract).suspension.notice_delay
    opens_on = delay.after(notified_on)
    notice = record_notice(
        session,
        contract,
        NoticeKind.SUSPENSION,
        started_on=notified_on,
        notified_on=notified_on,
        opens_on=opens_on,
        closes_on=None,
        summary=summary,
        by_operator=True,
        details={"cause": cause.value},
    )
    what = notices.CAUSES[cause]
    notices.send(
        session,
        contract,
        "contract.suspension_notice",
        subject=Text(
            fr=f"Mise en demeure avant suspension — contrat {contract.reference}",
            en=f"Formal notice before suspension — contract {contract.reference}",
        ),
        body=Text(
            fr=f"Mise en demeure du {notices.fr(notified_on)} pour {what.fr} : {summary}. Sans "
            f"remède, le service pourra être suspendu à compter du {notices.fr(opens_on)}.",
            en=f"Formal notice of {notices.en(notified_on)} for {what.en}: {summary}. Unless "
            f"cured, the service may be suspended from {notices.en(opens_on)}.",
        ),
        key=f"suspension_notice:{notice.id}",
        data={"cause": cause.value, "notified_on": notified_on, "suspend_from": opens_on},
    )
    return notice


def _formal_notices(session: Session, contract: Contract, cause: SuspensionCause) -> list[date]:
    """The days the formal notices for ``cause`` still uncured were sent."""
    kinds = [NoticeKind.SUSPENSION]
    if cause is SuspensionCause.CONTRACT_BREACH:
        kinds.append(NoticeKind.BREACH)
    sent = [
        n.notified_on
        for n in session.scalars(
            select(ContractNotice).where(
                ContractNotice.contract_id == contract.id,
                ContractNotice.kind.in_(kinds),
                ContractNotice.by_operator.is_(True),
                ContractNotice.ended_on.is_(None),
            )
        )
        if n.kind is NoticeKind.BREACH or n.details.get("cause") == cause.value
    ]
    if cause is SuspensionCause.NON_PAYMENT:
        for step, invoice in session.execute(
            select(DunningStep, Invoice)
            .join(Invoice, Invoice.id == DunningStep.invoice_id)
            .where(Invoice.contract_id == contract.id, DunningStep.step == "formal_notice")
        ).all():
            if payments.outstanding(invoice) > 0:
                sent.append(step.on)
    return sent


def require_order(session: Session, contract: Contract, cause: SuspensionCause, on: date) -> None:
    """Refuse a suspension on ``on`` that CTR-06's order does not allow yet: a cause that is
    not urgent under the terms needs a formal notice whose delay has run."""
    terms = terms_of(contract).suspension
    if cause in terms.urgent_causes or not terms.formal_notice_required:
        return
    sent = _formal_notices(session, contract, cause)
    if not sent:
        raise Conflict(
            Text(
                fr="Suspension refusée : la cause « {cause} » n'est pas une urgence prévue par "
                "les conditions du contrat {ref}, une mise en demeure doit d'abord être envoyée.",
                en="Suspension refused: the cause '{cause}' is not an urgency under the terms "
                "of contract {ref}; a formal notice must be sent first.",
            ),
            code="formal_notice_required",
            details={"cause": cause.value, "ref": contract.reference},
        )
    allowed_from = min(terms.notice_delay.after(day) for day in sent)
    if allowed_from > on:
        delay = notices.delay(terms.notice_delay)
        raise Conflict(
            Text(
                fr="Suspension refusée : la mise en demeure laisse " + delay.fr + " pour y "
                "remédier ; la suspension est possible à compter du {from_fr}.",
                en="Suspension refused: the formal notice leaves " + delay.en + " to cure; "
                "suspension is possible from {from_en}.",
            ),
            code="cure_delay_running",
            details={
                "cause": cause.value,
                "from_fr": notices.fr(allowed_from),
                "from_en": notices.en(allowed_from),
                "allowed_from": allowed_from.isoformat(),
            },
        )


def suspend_in_order(
    session: Session,
    contract: Contract,
    *,
    cause: SuspensionCause,
    reason: str,
    scope: SuspensionScope = SuspensionScope.FULL,
    on: date | None = None,
) -> Suspension:
    """A staff suspension: checked against CTR-06's order, then made (``lifecycle.suspend``)."""
    day = on or lifecycle.today()
    require_order(session, contract, cause, day)
    return lifecycle.suspend(session, contract, cause=cause, reason=reason, scope=scope, on=day)
