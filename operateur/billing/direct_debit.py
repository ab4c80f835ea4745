"""SEPA direct debit on stored invoices (BIL-05): mandates, the batch of due invoices as a
pain.008 file, and the bank's reject reports turned back into open invoices and fees.

A debit in an exported file counts as paid on its collection date (a payment allocated to its
invoice); a reject reverses that payment, reopens the invoice and adds the rejection fee of the
terms to the next invoice. Importing the same report twice changes nothing.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from operateur.accounts.models import Customer, Operator
from operateur.billing import payments, sepa
from operateur.billing.models import (
    DirectDebit,
    DirectDebitStatus,
    Invoice,
    InvoiceKind,
    LineSource,
    Mandate,
    MandateScheme,
    Payment,
    PendingCharge,
)
from operateur.catalog.terms import PaymentMethod
from operateur.contracts import service as contracts
from operateur.contracts.models import Contract
from operateur.domain.identifiers import new_reference, validate_bic, validate_iban
from operateur.errors import Conflict, InvalidInput, NotFound
from operateur.i18n import Text
from operateur.logs import event

log = logging.getLogger("operateur.billing")


def create_mandate(
    session: Session,
    customer_id: int,
    *,
    signed_on: date,
    scheme: MandateScheme = MandateScheme.CORE,
    iban: str | None = None,
    bic: str | None = None,
    reference: str | None = None,
) -> Mandate:
    """Record a signed mandate (RUM); the IBAN defaults to the customer's."""
    customer = session.get(Customer, customer_id)
    if customer is None:
        raise NotFound(
            Text(fr="Client {id} introuvable.", en="Customer {id} not found."),
            code="customer_not_found",
            details={"id": customer_id},
        )
    account = iban or customer.iban
    if not account:
        raise InvalidInput(
            Text(fr="Aucun IBAN pour ce mandat.", en="No IBAN for this mandate."), field="iban"
        )
    mandate = Mandate(
        customer_id=customer_id,
        reference=reference or new_reference("RUM"),
        signed_on=signed_on,
        scheme=scheme,
        iban=validate_iban(account, field="iban"),
        bic=validate_bic(bic, field="bic") if bic else customer.bic,
        collected_once=False,
    )
    session.add(mandate)
    session.flush()
    return mandate


def active_mandate(session: Session, customer_id: int, scheme: MandateScheme) -> Mandate | None:
    return session.scalars(
        select(Mandate)
        .where(
            Mandate.customer_id == customer_id,
            Mandate.scheme == scheme,
            Mandate.revoked_on.is_(None),
        )
        .order_by(Mandate.signed_on.desc(), Mandate.id.desc())
    ).first()


def _creditor(operator: Operator) -> sepa.Creditor:
    if not (operator.iban and operator.bic and operator.sepa_creditor_id):
        raise Conflict(
            Text(
                fr="L'opérateur n'a pas d'IBAN, de BIC ou d'identifiant créancier SEPA (ICS).",
                en="The operator has no IBAN, BIC or SEPA creditor identifier.",
            ),
            code="creditor_incomplete",
        )
    return sepa.Creditor(
        name=operator.name,
        iban=operator.iban,
        bic=operator.bic,
        creditor_id=operator.sepa_creditor_id,
    )


@dataclass(frozen=True)
class Batch:
    message_id: str
    xml: bytes
    debits: list[DirectDebit]


def export_batch(
    session: Session,
    operator_id: int,
    *,
    collection_date: date,
    created_at: datetime,
    scheme: MandateScheme = MandateScheme.CORE,
) -> Batch | None:
    """One pain.008 file with every invoice due by ``collection_date`` of the customers who pay
    by direct debit under a mandate of ``scheme``; None when nothing is due."""
    operator = session.get(Operator, operator_id)
    assert operator is not None
    creditor = _creditor(operator)
    already = select(DirectDebit.invoice_id).where(DirectDebit.status == DirectDebitStatus.EXPORTED)
    candidates = session.execute(
        select(Invoice, Customer)
        .join(Customer, Customer.id == Invoice.customer_id)
        .where(
            Customer.operator_id == operator_id,
            Customer.payment_method == PaymentMethod.SEPA_DIRECT_DEBIT,
            Invoice.kind == InvoiceKind.INVOICE,
            Invoice.status.in_(payments.OPEN_STATUSES),
            Invoice.due_date <= collection_date,
            Invoice.id.not_in(already),
        )
        .order_by(Invoice.id)
    ).all()
    message_id = new_reference("SDD")
    rows: list[tuple[DirectDebit, Invoice, Mandate]] = []
    files: list[sepa.DirectDebit] = []
    collected: set[int] = set()
    for invoice, customer in candidates:
        amount = payments.outstanding(invoice)
        mandate = active_mandate(session, customer.id, scheme)
        if amount <= 0 or mandate is None:
            continue
        sequence = sepa.next_sequence_type(
            _sepa_mandate(mandate, customer, sepa.SequenceType.RECURRENT),
            previously_collected=mandate.collected_once or mandate.id in collected,
        )
        collected.add(mandate.id)
        end_to_end = new_reference("E2E")
        files.append(
            sepa.DirectDebit(
                end_to_end_id=end_to_end,
                invoice_number=invoice.number,
                amount=amount,
                mandate=_sepa_mandate(mandate, customer, sequence),
                collection_date=collection_date,
            )
        )
        rows.append(
            (
                DirectDebit(
                    customer_id=customer.id,
                    invoice_id=invoice.id,
                    mandate_id=mandate.id,
                    end_to_end_id=end_to_end,
                    batch_id=message_id,
                    amount=amount,
                    collection_date=collection_date,
                    sequence_type=sequence.value,
                    status=DirectDebitStatus.EXPORTED,
                ),
                invoice,
                mandate,
            )
        )
    if not files:
        return None
    xml = sepa.build_pain008(creditor, files, message_id=message_id, created_at=created_at)
    for debit, invoice, mandate in rows:
        payment = payments.record_payment(
            session,
            invoice.customer_id,
            amount=debit.amount,
            method="sepa_direct_debit",
            received_on=collection_date,
            reference=debit.end_to_end_id,
            allocations=[payments.Allocation(invoice.id, debit.amount)],
        )
        debit.payment_id = payment.id
        mandate.collected_once = True
        session.add(debit)
    session.flush()
    event(log, "sepa.batch.exported", batch=message_id, debits=len(rows))
    return Batch(message_id, xml, [debit for debit, _, _ in rows])


def _sepa_mandate(
    mandate: Mandate, customer: Customer, sequence: sepa.SequenceType
) -> sepa.Mandate:
    return sepa.Mandate(
        reference=mandate.reference,
        signature_date=mandate.signed_on,
        scheme=sepa.Scheme(mandate.scheme.value),
        sequence_type=sequence,
        debtor_name=customer.name,
        iban=mandate.iban,
        bic=mandate.bic,
    )


def import_rejects(session: Session, report: bytes) -> list[DirectDebit]:
    """Apply a bank's reject report (pain.002 or camt.054): each rejected debit reopens its
    invoice and adds the terms' rejection fee to the next invoice (BIL-05)."""
    rejected: list[DirectDebit] = []
    for reject in sepa.parse_rejects(report):
        debit = session.scalar(
            select(DirectDebit).where(DirectDebit.end_to_end_id == reject.end_to_end_id)
        )
        if debit is None or debit.status is DirectDebitStatus.REJECTED:
            continue
        debit.status = DirectDebitStatus.REJECTED
        debit.reject_reason = reject.reason_code
        if debit.payment_id is not None:
            payment = session.get(Payment, debit.payment_id)
            assert payment is not None
            payments.reverse_payment(session, payment)
        invoice = session.get(Invoice, debit.invoice_id)
        assert invoice is not None
        contract = session.get(Contract, invoice.contract_id) if invoice.contract_id else None
        fee = contracts.terms_of(contract).billing.direct_debit_rejection_fee if contract else None
        if contract is not None and fee:
            session.add(
                PendingCharge(
                    customer_id=invoice.customer_id,
                    contract_id=contract.id,
                    source=LineSource.REJECTION_FEE,
                    code="sdd_rejection_fee",
                    description=f"Frais de rejet de prélèvement — facture {invoice.number} "
                    f"({reject.reason_code})",
                    amount=fee,
                    idempotency_key=f"sdd-reject:{debit.end_to_end_id}",
                )
            )
        rejected.append(debit)
        event(log, "sepa.debit.rejected", invoice=invoice.number, reason=reject.reason_code)
    session.flush()
    return rejected
