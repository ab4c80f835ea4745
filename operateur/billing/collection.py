"""Collection: disputes held out of collection (BIL-07) and late-payment penalty invoices
(BIL-06), on the stored invoices and the contract's frozen terms.

The rules themselves are pure functions in ``disputes.py`` and ``penalties.py``; this module
reads the invoices and payments they need and writes the decisions.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from operateur.accounts.models import Customer
from operateur.billing import invoicing, refunds
from operateur.billing.disputes import SettlementMethod, assess_dispute, overpayment_settlement
from operateur.billing.models import (
    Dispute,
    DisputeStatus,
    Invoice,
    InvoiceKind,
    InvoiceLine,
    LineSource,
    Payment,
    PaymentAllocation,
    PendingCharge,
)
from operateur.billing.payments import (
    get_invoice,
    lock_invoice,
    open_invoices,
    outstanding,
    settle_status,
)
from operateur.billing.penalties import (
    HeldAmount,
    OpenInvoice,
    Penalty,
    accelerated_due_date,
    late_payment_penalty,
)
from operateur.billing.reference_rates import ReferenceTables
from operateur.contracts import service as contracts
from operateur.contracts.models import Contract
from operateur.domain.money import round_money
from operateur.errors import Conflict, InvalidInput, NotFound
from operateur.i18n import Text
from operateur.logs import event

log = logging.getLogger("operateur.billing")

ZERO = Decimal("0")
INTEREST_CODE = "late_interest"
INDEMNITY_CODE = "recovery_indemnity"


def _contract(session: Session, invoice: Invoice) -> Contract:
    contract = session.get(Contract, invoice.contract_id) if invoice.contract_id else None
    if contract is None:
        raise Conflict(
            Text(fr="Facture sans contrat.", en="Invoice without a contract."),
            code="invoice_without_contract",
        )
    return contract


# --- disputes (BIL-07) ------------------------------------------------------------------------


def file_dispute(
    session: Session,
    customer_id: int,
    invoice_id: int,
    *,
    filed_on: date,
    channel: str,
    contested_amount: Decimal,
    reason: str,
    references: set[str],
) -> Dispute:
    """Record a dispute and decide whether the terms admit it. An admissible dispute holds the
    contested amount out of collection; a refused one keeps every reason the terms give."""
    invoice = lock_invoice(session, get_invoice(session, customer_id, invoice_id))
    if invoice.kind is not InvoiceKind.INVOICE:
        raise InvalidInput(
            Text(fr="Seule une facture se conteste.", en="Only an invoice can be disputed."),
            field="invoice_id",
        )
    # what is neither credited nor contested by another open dispute: a part is contested once
    contested_before = session.scalar(
        select(func.sum(Dispute.contested_amount)).where(
            Dispute.invoice_id == invoice.id, Dispute.status == DisputeStatus.OPEN
        )
    )
    contestable = invoice.total_gross - invoice.amount_credited - (contested_before or ZERO)
    if contested_amount <= 0 or contested_amount > contestable:
        raise InvalidInput(
            Text(
                fr="Le montant contesté doit être compris entre 0 et {total} €.",
                en="The contested amount must be between 0 and {total} €.",
            ),
            field="contested_amount",
            details={"total": str(contestable)},
        )
    terms = contracts.terms_of(_contract(session, invoice)).disputes
    earlier_unpaid = any(
        other.id != invoice.id and other.issue_date < invoice.issue_date and outstanding(other) > 0
        for other in open_invoices(session, customer_id)
    )
    uncontested = invoice.total_gross - contested_amount
    assessment = assess_dispute(
        terms,
        invoice_total=invoice.total_gross,
        issue_date=invoice.issue_date,
        received_date=invoice.received_date,
        filed_on=filed_on,
        channel=channel,
        contested_amount=contested_amount,
        references_given=references,
        uncontested_part_paid=invoice.amount_paid + invoice.amount_credited >= uncontested,
        earlier_invoice_unpaid=earlier_unpaid,
    )
    dispute = Dispute(
        customer_id=customer_id,
        invoice_id=invoice.id,
        filed_on=filed_on,
        channel=channel,
        contested_amount=contested_amount,
        reason=reason,
        references=sorted(references),
        status=DisputeStatus.OPEN if assessment.accepted else DisputeStatus.REFUSED,
        refusal_reasons=list(assessment.codes),
        # only what is still unpaid can be held out of collection (BIL-07): a contested
        # amount already paid is settled by the credit note if the dispute is upheld
        held_amount=(
            min(assessment.held_amount, max(outstanding(invoice), ZERO))
            if assessment.accepted
            else ZERO
        ),
    )
    if assessment.accepted:
        invoice.amount_disputed += dispute.held_amount
    session.add(dispute)
    session.flush()
    event(
        log,
        "dispute.filed",
        dispute=dispute.id,
        invoice=invoice.number,
        status=dispute.status.value,
    )
    return dispute


def get_dispute(session: Session, customer_id: int, dispute_id: int) -> Dispute:
    dispute = session.scalar(
        select(Dispute).where(Dispute.id == dispute_id, Dispute.customer_id == customer_id)
    )
    if dispute is None:
        raise NotFound(
            Text(fr="Contestation {id} introuvable.", en="Dispute {id} not found."),
            code="dispute_not_found",
            details={"id": dispute_id},
        )
    return dispute


def resolve_dispute(
    session: Session,
    dispute: Dispute,
    *,
    upheld: bool,
    resolved_on: date,
    credit_net: Decimal | None = None,
) -> Dispute:
    """Close an open dispute. Upheld: a credit note of ``credit_net`` (HT; by default the
    contested amount without VAT), and what the customer overpaid is refunded or credited on the
    next invoice by the terms (BIL-07 [004 §9.4]). Rejected: collection resumes."""
    session.flush()
    session.refresh(dispute, with_for_update=True)  # resolved once, even by two at once
    if dispute.status is not DisputeStatus.OPEN:
        raise Conflict(
            Text(fr="Cette contestation est close.", en="This dispute is closed."),
            code="dispute_closed",
        )
    invoice = lock_invoice(session, get_invoice(session, dispute.customer_id, dispute.invoice_id))
    invoice.amount_disputed -= dispute.held_amount
    dispute.resolved_on = resolved_on
    if not upheld:
        dispute.status = DisputeStatus.REJECTED
        settle_status(invoice)
        session.flush()
        return dispute
    rate = invoicing.invoice_vat(invoice).rate
    net = (
        credit_net
        if credit_net is not None
        else round_money(dispute.contested_amount * 100 / (100 + rate))
    )
    note = invoicing.credit_note(
        session,
        invoice,
        reason=f"contestation {dispute.id}",
        issue_date=resolved_on,
        amount_net=net,
    )
    dispute.status = DisputeStatus.UPHELD
    dispute.credit_note_id = note.id
    overpaid = invoice.amount_paid + invoice.amount_credited - invoice.total_gross
    if overpaid > 0:
        terms = contracts.terms_of(_contract(session, invoice)).disputes
        settlement = overpayment_settlement(
            terms, invoice.total_gross, overpaid, settled_on=resolved_on
        )
        dispute.settlement = settlement.method.value
        if settlement.method is SettlementMethod.REFUND:
            # BIL-07 [004 §9.4] "rembourser les sommes injustement perçues dans un délai de
            # cinq (5) jours à compter de la date de règlement amiable, lorsque cette somme est
            # supérieure à vingt pour cent (20 %) du montant total de la facture": a refund
            # owed to the customer, due by the terms' refund_delay after the settlement
            assert settlement.refund_by is not None  # settled_on was given
            refunds.owe_dispute_refund(
                session,
                dispute,
                invoice,
                amount=settlement.amount,
                due_by=settlement.refund_by,
            )
        else:
            session.add(
                PendingCharge(
                    customer_id=invoice.customer_id,
                    contract_id=_contract(session, invoice).id,
                    source=LineSource.CREDIT,
                    code="dispute.credit",
                    description=f"Trop-perçu sur facture {invoice.number}",
                    amount=-round_money(overpaid * 100 / (100 + rate)),
                    idempotency_key=f"dispute:{dispute.id}:overpayment",
                )
            )
    session.flush()
    return dispute


# --- late-payment penalties (BIL-06) ----------------------------------------------------------


@dataclass(frozen=True)
class LateInvoice:
    invoice: Invoice
    penalty: Penalty
    invoiced_interest: Decimal  # claimed by earlier penalty invoices
    invoiced_indemnity: Decimal

    @property
    def interest_due(self) -> Decimal:
        return max(self.penalty.interest - self.invoiced_interest, ZERO)

    @property
    def indemnity_due(self) -> Decimal:
        return max(self.penalty.indemnity - self.invoiced_indemnity, ZERO)


def _paid(session: Session, invoice: Invoice) -> list[tuple[date, Decimal]]:
    """The dated payments allocated to an invoice (reversed ones excluded)."""
    rows = session.execute(
        select(Payment.received_on, PaymentAllocation.amount)
        .join(Payment, Payment.id == PaymentAllocation.payment_id)
        .where(
            PaymentAllocation.invoice_id == invoice.id,
            PaymentAllocation.reversed_at.is_(None),
        )
    ).all()
    return [(received_on, amount) for received_on, amount in rows]


def _penalties_invoiced(session: Session, invoice: Invoice) -> dict[str, Decimal]:
    """Interest and indemnity already claimed for a late invoice, by line code."""
    rows = session.execute(
        select(InvoiceLine.code, func.sum(InvoiceLine.net_amount))
        .join(Invoice, Invoice.id == InvoiceLine.invoice_id)
        .where(
            Invoice.customer_id == invoice.customer_id,
            Invoice.purpose.like(f"penalty:{invoice.id}:%"),
        )
        .group_by(InvoiceLine.code)
    ).all()
    return {code: Decimal(total or 0) for code, total in rows}


def due_dates(session: Session, customer_id: int, as_of: date) -> dict[int, date]:
    """BIL-06 the day each open invoice of the customer is due on ``as_of``: its own due date,
    or earlier when its terms make every open invoice of its contract due at once because one
    of them is late (déchéance du terme, [000 §6; 004 §9.3, §9.5]). Dunning and penalties both
    read this."""
    invoices = [i for i in open_invoices(session, customer_id) if i.contract_id is not None]
    views = {
        i.id: OpenInvoice(i.number, i.due_date, outstanding(i), issued_on=i.issue_date)
        for i in invoices
    }
    # a contract's clause reads its own sums only: [000 §6] "toute somme due au titre du
    # contrat" makes due "toutes les sommes restantes dues ... au titre du contrat"
    of_contract: dict[int | None, list[OpenInvoice]] = {}
    for i in invoices:
        of_contract.setdefault(i.contract_id, []).append(views[i.id])
    return {
        i.id: accelerated_due_date(
            contracts.terms_of(_contract(session, i)).late_payment,
            views[i.id],
            of_contract[i.contract_id],
            as_of,
        )
        for i in invoices
    }


def _held_free_of_penalties(session: Session, invoice: Invoice) -> list[HeldAmount]:
    """BIL-07 [001 §11.3] what rejected disputes held out of collection, when the terms leave
    the held period free of penalties (``penalties_run_if_rejected`` false): the held amount,
    from the day the dispute was filed to the day it was rejected."""
    if contracts.terms_of(_contract(session, invoice)).disputes.penalties_run_if_rejected:
        return []
    rejected = session.scalars(
        select(Dispute).where(
            Dispute.invoice_id == invoice.id,
            Dispute.status == DisputeStatus.REJECTED,
            Dispute.held_amount > 0,
        )
    )
    return [
        HeldAmount(dispute.filed_on, dispute.resolved_on, dispute.held_amount)
        for dispute in rejected
        if dispute.resolved_on is not None
    ]


def late_invoices(
    session: Session, customer_id: int, as_of: date, tables: ReferenceTables | None = None
) -> list[LateInvoice]:
    """Every open invoice of the customer past its due date (brought forward when one late
    invoice makes every open one due, BIL-06), with its penalty as of a date (``tables``: the
    ECB and legal rates, the packaged ones by default)."""
    found: list[LateInvoice] = []
    due_on = due_dates(session, customer_id, as_of)
    for invoice in open_invoices(session, customer_id):
        due = due_on.get(invoice.id, invoice.due_date)
        if due >= as_of or invoice.purpose.startswith("penalty:") or outstanding(invoice) <= 0:
            continue
        terms = contracts.terms_of(_contract(session, invoice)).late_payment
        # a disputed amount is held out of collection while the dispute is open; once it is
        # rejected it counts again from the due date (BIL-07 [001 §11.3]); a credited amount
        # was never owed. One VAT rate per invoice: its HT share is the same fraction.
        owed = max(invoice.total_gross - invoice.amount_credited - invoice.amount_disputed, ZERO)
        owed_excl_vat = (
            invoice.total_net * owed / invoice.total_gross if invoice.total_gross > 0 else ZERO
        )
        penalty = late_payment_penalty(
            terms,
            invoice_total_incl_vat=owed,
            invoice_total_excl_vat=owed_excl_vat,
            issue_date=invoice.issue_date,
            due_date=due,
            received_date=invoice.received_date,
            as_of=as_of,
            paid=_paid(session, invoice),
            held=_held_free_of_penalties(session, invoice),
            tables=tables,
        )
        if penalty.late:
            claimed = _penalties_invoiced(session, invoice)
            found.append(
                LateInvoice(
                    invoice,
                    penalty,
                    claimed.get(INTEREST_CODE, ZERO),
                    claimed.get(INDEMNITY_CODE, ZERO),
                )
            )
    return found


# Late-payment interest and the recovery indemnity compensate a delay: they are outside the
# scope of VAT (BOI-TVA-BASE-10-10-10 §470; L441-10 code de commerce).
PENALTY_VAT = invoicing.VatTreatment(
    "E",
    Decimal("0"),
    reverse_charge=False,
    exemption_reason="Indemnités de retard, hors du champ de la TVA",
)


def issue_penalty_invoices(
    session: Session, customer_id: int, as_of: date, tables: ReferenceTables | None = None
) -> list[Invoice]:
    """Invoice what the late invoices owe in penalties as of ``as_of`` beyond what earlier
    penalty invoices already claimed; rerunning for the same date issues nothing."""
    issued: list[Invoice] = []
    customer = session.get(Customer, customer_id)
    assert customer is not None
    for late in late_invoices(session, customer_id, as_of, tables):
        if late.interest_due <= 0 and late.indemnity_due <= 0:
            continue
        purpose = f"penalty:{late.invoice.id}:{as_of.isoformat()}"
        # the late invoice's lock makes two runs for the same day issue one penalty invoice
        # (its purpose is not unique in the table: a period-less invoice has a NULL period)
        lock_invoice(session, late.invoice)
        if session.scalar(select(Invoice.id).where(Invoice.purpose == purpose)):
            continue
        contract = _contract(session, late.invoice)
        interest_due, indemnity_due = late.interest_due, late.indemnity_due
        lines = [
            invoicing.DraftLine(
                LineSource.PENALTY,
                INTEREST_CODE,
                f"Pénalités de retard — facture {late.invoice.number} au {as_of:%d/%m/%Y}",
                Decimal(1),
                "C62",
                interest_due,
                interest_due,
            ),
            invoicing.DraftLine(
                LineSource.PENALTY,
                INDEMNITY_CODE,
                f"Indemnité forfaitaire pour frais de recouvrement — facture {late.invoice.number}",
                Decimal(1),
                "C62",
                indemnity_due,
                indemnity_due,
            ),
        ]
        draft = invoicing.Draft(lines=[line for line in lines if line.net_amount > 0])
        billing = contracts.terms_of(contract).billing
        invoice = invoicing.issue(
            session,
            contract=contract,
            customer=customer,
            draft=draft,
            kind=InvoiceKind.INVOICE,
            purpose=purpose,
            period_start=None,
            issue_date=as_of,
            due_date=invoicing.due_date_of(billing, as_of),
            vat=PENALTY_VAT,
        )
        issued.append(invoice)
        event(
            log,
            "penalty.issued",
            invoice=invoice.number,
            late_invoice=late.invoice.number,
            total=invoice.total_gross,
        )
    return issued
