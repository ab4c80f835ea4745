"""Paying the refunds the operator owes by one SEPA credit-transfer file (BIL-07 [004 §9.4]).

"NETWORTH s'engage à rembourser les sommes injustement perçues dans un délai de cinq (5) jours"
[004 §9.4]: the pending refunds (all, those due by a date, or a list of ids) go into one pain.001
file the treasury uploads to the bank — one transfer per refund to the customer's IBAN on file,
its end-to-end id and remittance text naming the refund and the invoice.

- A refund whose customer has no usable account (no IBAN, an invalid one, outside SEPA, no BIC
  for a bank outside the EEA, a name SEPA cannot carry) is reported with the reason and left
  pending; the others are exported.
- Exported refunds become ``sent`` with the batch id (the file's message id) as their
  ``bank_reference``: a second export never pays them again, and :func:`transfer_file` gives
  the same file again for that batch (a file lost on the way). The batch id carries the file's
  creation time, so nothing else needs storing.
- Marking a refund paid stays a separate step (:func:`refunds.mark_refund_paid`, once the bank's
  statement shows the transfer).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Collection
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import ColumnElement, select
from sqlalchemy.orm import Session

from operateur.accounts.models import Customer, Operator
from operateur.billing import sepa
from operateur.billing.models import Invoice, Refund, RefundStatus
from operateur.billing.sepa_transfer import CreditTransfer, Debtor, build_pain001
from operateur.domain.calendar import PARIS
from operateur.domain.identifiers import new_reference
from operateur.errors import Conflict, InvalidInput, NotFound
from operateur.i18n import Text
from operateur.logs import event

log = logging.getLogger("operateur.billing")

# RFD-<Paris creation time>-<random>: 25 characters, within the 35 of an ISO 20022 MsgId.
_BATCH_ID = re.compile(r"RFD-(\d{8}-\d{6})-([A-Z0-9]{4}-[A-Z0-9]{4})")


@dataclass(frozen=True)
class Skipped:
    """A refund left out of the file, and why (``reason`` in French and English)."""

    refund_id: int
    customer_id: int | None
    customer_name: str | None
    field: str | None
    reason: Text


@dataclass(frozen=True)
class TransferBatch:
    """What an export did: the file (``None`` when nothing was exported), its batch id, the
    refunds it pays, their total, and the refunds left out with their reasons."""

    batch_id: str | None
    xml: bytes | None
    refunds: list[Refund]
    total: Decimal
    skipped: list[Skipped]


def _debtor(operator: Operator) -> Debtor:
    if not (operator.iban and operator.bic):
        raise Conflict(
            Text(
                fr="L'opérateur n'a pas d'IBAN ou de BIC : impossible d'émettre des virements.",
                en="The operator has no IBAN or BIC: no transfer can be issued.",
            ),
            code="debtor_incomplete",
        )
    return Debtor(
        name=operator.name,
        iban=operator.iban,
        bic=operator.bic,
        address=sepa.DebtorAddress(
            country=operator.country,
            lines=(operator.address_line, f"{operator.postal_code} {operator.city}"),
        ),
    )


def _transfer(refund: Refund, customer: Customer, invoice: Invoice) -> CreditTransfer:
    """The transfer paying ``refund``; :class:`InvalidInput` naming the customer's field that
    keeps it out of the file."""
    if not customer.iban:
        raise InvalidInput(
            Text(
                fr="Aucun IBAN enregistré pour ce client.",
                en="No IBAN on file for this customer.",
            ),
            field="iban",
        )
    remittance = Text(
        fr="Remboursement {refund} facture {invoice}", en="Refund {refund} invoice {invoice}"
    ).render(customer.lang, refund=refund.id, invoice=invoice.number)
    return CreditTransfer(
        end_to_end_id=f"REFUND-{refund.id}",
        creditor_name=customer.name,
        iban=customer.iban,
        bic=customer.bic or None,
        amount=refund.amount,
        remittance=remittance,
    )


def _batch_id(created_at: datetime) -> str:
    stamp = created_at.astimezone(PARIS).strftime("%Y%m%d-%H%M%S")
    return f"RFD-{stamp}-{new_reference('R', length=8).removeprefix('R-')}"


def _created_at(batch_id: str) -> datetime:
    """The creation time a batch id carries (Paris time), to rebuild its file identically."""
    match = _BATCH_ID.fullmatch(batch_id)
    if match is None:
        raise NotFound(
            Text(fr="Lot de virements {id} introuvable.", en="Transfer batch {id} not found."),
            code="transfer_batch_not_found",
            details={"id": batch_id},
        )
    return datetime.strptime(match.group(1), "%Y%m%d-%H%M%S").replace(tzinfo=PARIS)


def _build(
    operator: Operator, rows: list[tuple[Refund, Customer, Invoice]], batch_id: str
) -> bytes:
    created_at = _created_at(batch_id)
    transfers = [_transfer(refund, customer, invoice) for refund, customer, invoice in rows]
    # Requested execution date: the file's day — the bank executes it on its next business day.
    return build_pain001(
        _debtor(operator),
        transfers,
        message_id=batch_id,
        created_at=created_at,
        execution_date=created_at.date(),
    )


def _rows(
    session: Session, operator_id: int, *conditions: ColumnElement[bool]
) -> list[tuple[Refund, Customer, Invoice]]:
    """Refunds of the operator's customers matching ``conditions``, the earliest due first,
    locked so that two exports at once cannot both take one."""
    result = session.execute(
        select(Refund, Customer, Invoice)
        .join(Customer, Customer.id == Refund.customer_id)
        .join(Invoice, Invoice.id == Refund.invoice_id)
        .where(Customer.operator_id == operator_id, *conditions)
        .order_by(Refund.due_by, Refund.id)
        .with_for_update(of=Refund)
    )
    return [(r, c, i) for r, c, i in result]


def export_refunds(
    session: Session,
    operator_id: int,
    *,
    created_at: datetime,
    due_by: date | None = None,
    refund_ids: Collection[int] | None = None,
) -> TransferBatch:
    """Put the operator's pending refunds (those due by ``due_by``, or only ``refund_ids``)
    into one pain.001 file and mark them sent in that batch. Refunds whose customer's account
    cannot be paid are reported in ``skipped`` and stay pending; so are requested ids that are
    not pending (already sent or paid, or unknown). Nothing to export: no file, nothing
    changed."""
    operator = session.get(Operator, operator_id)
    if operator is None:
        raise NotFound(
            Text(fr="Opérateur {id} introuvable.", en="Operator {id} not found."),
            code="operator_not_found",
            details={"id": operator_id},
        )
    debtor = _debtor(operator)  # checked before anything else: a configuration error
    conditions: list[ColumnElement[bool]] = [Refund.status == RefundStatus.PENDING]
    if due_by is not None:
        conditions.append(Refund.due_by <= due_by)
    wanted = sorted(set(refund_ids)) if refund_ids is not None else None
    if wanted is not None:
        conditions.append(Refund.id.in_(wanted))
    candidates = _rows(session, operator_id, *conditions)
    skipped = _not_pending(session, operator_id, wanted, {r.id for r, _, _ in candidates})
    exportable: list[tuple[Refund, Customer, Invoice]] = []
    for refund, customer, invoice in candidates:
        try:
            transfer = _transfer(refund, customer, invoice)
            if transfer.iban == debtor.iban:
                raise InvalidInput(
                    Text(
                        fr="L'IBAN du client est celui de l'opérateur.",
                        en="The customer's IBAN is the operator's own.",
                    ),
                    field="iban",
                )
        except InvalidInput as error:
            skipped.append(
                Skipped(refund.id, customer.id, customer.name, error.field, _reason(error))
            )
            event(log, "refund.transfer.skipped", refund=refund.id, customer=customer.id)
            continue
        exportable.append((refund, customer, invoice))
    if not exportable:
        return TransferBatch(None, None, [], Decimal("0.00"), skipped)
    batch_id = _batch_id(created_at)
    xml = _build(operator, exportable, batch_id)
    for refund, _, _ in exportable:
        refund.status = RefundStatus.SENT
        refund.bank_reference = batch_id
    session.flush()
    total = sum((r.amount for r, _, _ in exportable), Decimal("0.00"))
    event(log, "refund.transfer.exported", batch=batch_id, refunds=len(exportable))
    return TransferBatch(batch_id, xml, [r for r, _, _ in exportable], total, skipped)


def _reason(error: InvalidInput) -> Text:
    """The error's text with its details filled in, in both languages."""
    return Text(fr=error.render("fr"), en=error.render("en"))


def _not_pending(
    session: Session, operator_id: int, wanted: list[int] | None, found: set[int]
) -> list[Skipped]:
    """Each requested id that is not a pending refund of the operator, and what it is."""
    if wanted is None:
        return []
    missing = [i for i in wanted if i not in found]
    known = {
        refund.id: (refund, customer)
        for refund, customer in session.execute(
            select(Refund, Customer)
            .join(Customer, Customer.id == Refund.customer_id)
            .where(Customer.operator_id == operator_id, Refund.id.in_(missing))
        )
    }
    skipped: list[Skipped] = []
    for refund_id in missing:
        if refund_id not in known:
            skipped.append(
                Skipped(
                    refund_id,
                    None,
                    None,
                    "refund_ids",
                    Text(
                        fr=f"Remboursement {refund_id} introuvable.",
                        en=f"Refund {refund_id} not found.",
                    ),
                )
            )
            continue
        refund, customer = known[refund_id]
        if refund.status is RefundStatus.SENT:
            reason = Text(
                fr=f"Déjà envoyé dans le lot de virements {refund.bank_reference}.",
                en=f"Already sent in transfer batch {refund.bank_reference}.",
            )
        elif refund.status is RefundStatus.PAID:
            reason = Text(
                fr=f"Déjà payé (virement {refund.bank_reference}).",
                en=f"Already paid (transfer {refund.bank_reference}).",
            )
        else:  # pending but not due by the date asked
            reason = Text(
                fr=f"Pas encore dû à cette date (échéance {refund.due_by:%d/%m/%Y}).",
                en=f"Not due by that date (due {refund.due_by:%Y-%m-%d}).",
            )
        skipped.append(Skipped(refund_id, customer.id, customer.name, "refund_ids", reason))
    return skipped


def transfer_file(session: Session, operator_id: int, batch_id: str) -> TransferBatch:
    """The file of batch ``batch_id`` again, identical for its refunds still ``sent`` (a refund
    already recorded paid has left the batch: the bank executed the file)."""
    operator = session.get(Operator, operator_id)
    _created_at(batch_id)  # an id that is not a batch id is not found
    rows = (
        _rows(
            session,
            operator_id,
            Refund.status == RefundStatus.SENT,
            Refund.bank_reference == batch_id,
        )
        if operator is not None
        else []
    )
    if operator is None or not rows:
        raise NotFound(
            Text(fr="Lot de virements {id} introuvable.", en="Transfer batch {id} not found."),
            code="transfer_batch_not_found",
            details={"id": batch_id},
        )
    try:
        xml = _build(operator, rows, batch_id)
    except InvalidInput as error:
        raise Conflict(
            Text(
                fr="Le lot {id} ne peut plus être reconstruit : {reason_fr}",
                en="Batch {id} can no longer be rebuilt: {reason_en}",
            ),
            code="transfer_batch_changed",
            field=error.field,
            details={
                "id": batch_id,
                "reason_fr": error.render("fr"),
                "reason_en": error.render("en"),
            },
        ) from None
    total = sum((r.amount for r, _, _ in rows), Decimal("0.00"))
    return TransferBatch(batch_id, xml, [r for r, _, _ in rows], total, [])
