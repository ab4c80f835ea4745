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
- A transfer the bank rejects (``pain.002``) or the beneficiary's bank sends back (``camt.054``)
  puts its refund back to pending (:func:`import_returns`) with the date and the reason, and the
  customer is asked for another account. The refund then stays out of the files while the
  customer's IBAN is the one the bank sent it back from, unless staff name it (``refund_ids``).
  Each transfer of a refund has its own end-to-end id (``REFUND-<id>``, then
  ``REFUND-<id>-<attempt>``), so a report about an earlier transfer never undoes a later one.
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
from operateur.domain.money import format_eur
from operateur.errors import Conflict, InvalidInput, NotFound
from operateur.i18n import Text
from operateur.logs import event
from operateur.notifications.service import notify

log = logging.getLogger("operateur.billing")

# RFD-<Paris creation time>-<random>: 25 characters, within the 35 of an ISO 20022 MsgId.
_BATCH_ID = re.compile(r"RFD-(\d{8}-\d{6})-([A-Z0-9]{4}-[A-Z0-9]{4})")
_END_TO_END_ID = re.compile(r"REFUND-(\d{1,18})(?:-(\d{1,6}))?")


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


def _end_to_end_id(refund_id: int, attempt: int) -> str:
    """The end-to-end id of a refund's ``attempt``-th transfer (the first one is unnumbered)."""
    return f"REFUND-{refund_id}" if attempt <= 1 else f"REFUND-{refund_id}-{attempt}"


def _transfer(
    refund: Refund, customer: Customer, invoice: Invoice, *, attempt: int, iban: str | None
) -> CreditTransfer:
    """The ``attempt``-th transfer paying ``refund`` to ``iban``; :class:`InvalidInput` naming
    the customer's field that keeps it out of the file."""
    if not iban:
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
        end_to_end_id=_end_to_end_id(refund.id, attempt),
        creditor_name=customer.name,
        iban=iban,
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


def _build(operator: Operator, transfers: list[CreditTransfer], batch_id: str) -> bytes:
    created_at = _created_at(batch_id)
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
    not pending (already sent or paid, or unknown), and refunds the bank sent back from the
    account still on file, unless ``refund_ids`` names them. Nothing to export: no file,
    nothing changed."""
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
    exportable: list[tuple[Refund, CreditTransfer]] = []
    for refund, customer, invoice in candidates:
        try:
            transfer = _transfer(
                refund,
                customer,
                invoice,
                attempt=refund.transfer_attempts + 1,
                iban=customer.iban,
            )
            if transfer.iban == debtor.iban:
                raise InvalidInput(
                    Text(
                        fr="L'IBAN du client est celui de l'opérateur.",
                        en="The customer's IBAN is the operator's own.",
                    ),
                    field="iban",
                )
            if refund.return_code and transfer.iban == refund.transfer_iban and wanted is None:
                raise _sent_back_from_this_account(refund)
        except InvalidInput as error:
            skipped.append(
                Skipped(refund.id, customer.id, customer.name, error.field, _reason(error))
            )
            event(log, "refund.transfer.skipped", refund=refund.id, customer=customer.id)
            continue
        exportable.append((refund, transfer))
    if not exportable:
        return TransferBatch(None, None, [], Decimal("0.00"), skipped)
    batch_id = _batch_id(created_at)
    xml = _build(operator, [transfer for _, transfer in exportable], batch_id)
    for refund, transfer in exportable:
        refund.status = RefundStatus.SENT
        refund.bank_reference = batch_id
        refund.transfer_attempts += 1
        refund.transfer_iban = transfer.iban
        refund.returned_on = refund.return_code = None
    session.flush()
    total = sum((r.amount for r, _ in exportable), Decimal("0.00"))
    event(log, "refund.transfer.exported", batch=batch_id, refunds=len(exportable))
    return TransferBatch(batch_id, xml, [r for r, _ in exportable], total, skipped)


def _sent_back_from_this_account(refund: Refund) -> InvalidInput:
    reason = sepa.reason_text(refund.return_code or "")
    returned_on = refund.returned_on or date.min
    return InvalidInput(
        Text(
            fr="Virement renvoyé par la banque le {day_fr} ({reason_fr}) depuis cet IBAN : "
            "en attente d'un autre compte du client.",
            en="Transfer sent back by the bank on {day_en} ({reason_en}) from this IBAN: "
            "waiting for another account of the customer.",
        ),
        field="iban",
        details={
            "day_fr": f"{returned_on:%d/%m/%Y}",
            "day_en": returned_on.isoformat(),
            "reason_fr": reason.fr,
            "reason_en": reason.en,
        },
    )


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
        transfers = [
            _transfer(
                refund,
                customer,
                invoice,
                attempt=refund.transfer_attempts,
                iban=refund.transfer_iban or customer.iban,
            )
            for refund, customer, invoice in rows
        ]
        xml = _build(operator, transfers, batch_id)
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


@dataclass(frozen=True)
class IgnoredReturn:
    """A rejected or returned transfer of a bank report that changed no refund, and why."""

    end_to_end_id: str
    reason: Text


@dataclass(frozen=True)
class ReturnsReport:
    """What a bank report did: the refunds put back to pending, and the lines it ignored."""

    returned: list[Refund]
    ignored: list[IgnoredReturn]


_RETURNED = Text(
    fr="Bonjour,\n\nLa banque nous a renvoyé le virement de {amount_fr} remboursant la facture "
    "{invoice} : {reason_fr}.\n\nMerci d'enregistrer les coordonnées d'un autre compte "
    "bancaire (IBAN) dans votre espace client ; nous vous renverrons ce remboursement dès "
    "réception.",
    en="Hello,\n\nThe bank sent back the {amount_en} transfer refunding invoice {invoice}: "
    "{reason_en}.\n\nPlease record another bank account (IBAN) in your customer area; we "
    "will send this refund again as soon as we have it.",
)


def import_returns(
    session: Session, operator_id: int, report: bytes, *, now: datetime
) -> ReturnsReport:
    """Apply a bank report on the operator's refund transfers: a ``pain.002`` rejecting a
    transfer file or some of its transfers, or a ``camt.054`` crediting back transfers the
    beneficiary's bank returned. Each refund concerned goes back to pending (its sent or paid
    record undone) with the date and reason code of the return, and its customer is asked for
    another account. Applying the same report again changes nothing; a line about another
    transfer (an earlier attempt, a direct debit, an unknown refund, an amount that is not the
    refund's) is reported in ``ignored``."""
    today = now.astimezone(PARIS).date()
    try:
        rejects = sepa.parse_transfer_returns(report)
    except Conflict as rejected:
        if rejected.code != "sepa_file_rejected":
            raise
        rejects = _whole_batch(session, operator_id, rejected)
    returned: list[Refund] = []
    ignored: list[IgnoredReturn] = []
    for reject in rejects:
        refund, why = _returned_refund(session, operator_id, reject)
        if refund is None:
            assert why is not None
            ignored.append(IgnoredReturn(reject.end_to_end_id, why))
            continue
        refund.status = RefundStatus.PENDING
        refund.bank_reference = None
        refund.paid_on = None
        refund.returned_on = today
        refund.return_code = reject.reason_code
        returned.append(refund)
        _tell_customer(session, refund, reject)
        event(log, "refund.transfer.returned", refund=refund.id, reason=reject.reason_code)
    session.flush()
    return ReturnsReport(returned, ignored)


def _whole_batch(session: Session, operator_id: int, rejected: Conflict) -> list[sepa.Reject]:
    """A transfer file the bank rejected as a whole: one rejection per refund still sent in
    it. A file that is not one of the operator's refund batches is not ours to apply."""
    details = rejected.details
    batch_id = str(details.get("message_id") or "")
    rows = (
        _rows(
            session,
            operator_id,
            Refund.status == RefundStatus.SENT,
            Refund.bank_reference == batch_id,
        )
        if _BATCH_ID.fullmatch(batch_id)
        else []
    )
    if not rows:
        raise rejected
    code = str(details.get("code") or "NARR")
    return [
        sepa.Reject(
            end_to_end_id=_end_to_end_id(refund.id, refund.transfer_attempts),
            amount=refund.amount,
            reason_code=code,
            reason=sepa.reason_text(code),
        )
        for refund, _, _ in rows
    ]


def _returned_refund(
    session: Session, operator_id: int, reject: sepa.Reject
) -> tuple[Refund | None, Text | None]:
    """The refund whose current transfer ``reject`` is about, or why there is none."""
    match = _END_TO_END_ID.fullmatch(reject.end_to_end_id)
    if match is None:
        return None, Text(fr="Pas un virement de remboursement.", en="Not a refund transfer.")
    refund_id, attempt = int(match.group(1)), int(match.group(2) or 1)
    refund = session.scalar(
        select(Refund)
        .join(Customer, Customer.id == Refund.customer_id)
        .where(Refund.id == refund_id, Customer.operator_id == operator_id)
        .with_for_update(of=Refund)
    )
    if refund is None:
        return None, Text(
            fr=f"Remboursement {refund_id} introuvable.", en=f"Refund {refund_id} not found."
        )
    if attempt != refund.transfer_attempts:
        return None, Text(
            fr=f"Virement n° {attempt} de ce remboursement, qui en est au n° "
            f"{refund.transfer_attempts}.",
            en=f"Transfer no. {attempt} of this refund, which is at no. "
            f"{refund.transfer_attempts}.",
        )
    if refund.status is RefundStatus.PENDING:
        return None, Text(fr="Retour déjà enregistré.", en="Return already recorded.")
    if reject.amount != refund.amount:
        return None, Text(
            fr=f"Montant {reject.amount} différent du remboursement ({refund.amount}).",
            en=f"Amount {reject.amount} is not the refund's ({refund.amount}).",
        )
    return refund, None


def _tell_customer(session: Session, refund: Refund, reject: sepa.Reject) -> None:
    invoice = session.get(Invoice, refund.invoice_id)
    assert invoice is not None
    notify(
        session,
        refund.customer_id,
        event="refund.transfer_returned",
        subject=Text(
            fr="Remboursement de la facture {invoice} : virement renvoyé par la banque",
            en="Refund of invoice {invoice}: transfer sent back by the bank",
        ),
        body=_RETURNED,
        data={
            "key": f"refund-return:{refund.id}:{refund.transfer_attempts}",
            "refund_id": refund.id,
            "invoice": invoice.number,
            "amount_fr": format_eur(refund.amount, "fr"),
            "amount_en": format_eur(refund.amount, "en"),
            "reason_code": reject.reason_code,
            "reason_fr": reject.reason.fr,
            "reason_en": reject.reason.en,
        },
        contacts="billing",
    )
