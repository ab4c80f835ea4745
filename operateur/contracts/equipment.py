"""Equipment after termination (CTR-10).

Delivered equipment must come back within the terms' delay after the end of the contract
(10 days [001 §12.5], 5 calendar days [004 §1.4.1]); equipment still out the day after is
invoiced at its value (the flat or new value the equipment record carries). Provided equipment
(billed once at activation) that comes back is refunded minus the terms' depreciation per
started year of use (20 % [001 §12.5]) once inspected, the operator having the terms' delay to
inspect it (45 days): an inspection finding it damaged refunds nothing; no inspection by then
refunds it as if found good.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from operateur.billing.models import Invoice, SubscriptionCoverage
from operateur.contracts import charges, notices
from operateur.contracts.models import Contract, Equipment, EquipmentMode, EquipmentStatus
from operateur.contracts.service import terms_of
from operateur.domain.calendar import add_months
from operateur.domain.money import round_money
from operateur.errors import Conflict, InvalidInput
from operateur.i18n import Text


def started_years(since: date, until: date) -> int:
    """Years of use begun between two dates: 0 on the first day, 1 the day after, 2 once a
    year has passed..."""
    full = 0
    while add_months(since, 12 * (full + 1)) <= until:
        full += 1
    return full + (1 if add_months(since, 12 * full) < until else 0)


def refund_amount(value: Decimal, percent_per_year: Decimal, years: int) -> Decimal:
    """CTR-10 [001 §12.5]: the value minus the depreciation of each started year, never below 0."""
    kept = max(Decimal(100) - percent_per_year * years, Decimal(0))
    return round_money(value * kept / 100)


def on_termination(session: Session, contract: Contract, on: date) -> Text | None:
    """Set the return deadline of the contract's delivered equipment and say it."""
    terms = terms_of(contract).equipment
    out = list(
        session.scalars(
            select(Equipment).where(
                Equipment.contract_id == contract.id,
                Equipment.status == EquipmentStatus.DELIVERED,
            )
        )
    )
    if terms is None or not out:
        return None
    due = terms.return_within.after(on)
    for item in out:
        item.return_due_on = due
    session.flush()
    listed_fr = ", ".join(f"{e.model} n° {e.serial}" for e in out)
    listed_en = ", ".join(f"{e.model} serial {e.serial}" for e in out)
    value = sum((e.value for e in out), Decimal(0))
    amount, within = notices.eur(value), notices.delay(terms.return_within)
    return Text(
        fr=f"Merci de restituer au plus tard le {notices.fr(due)} ({within.fr} après la fin) : "
        f"{listed_fr}. Passé ce délai, le matériel non restitué sera facturé à sa valeur "
        f"({amount.fr} HT au total).",
        en=f"Please return by {notices.en(due)} ({within.en} after the end): {listed_en}. "
        f"After that, equipment not returned is invoiced at its value ({amount.en} excl. VAT "
        "in total).",
    )


def _provision_invoice(session: Session, equipment: Equipment) -> Invoice | None:
    if equipment.subscription_id is None:
        return None
    invoice_id = session.scalar(
        select(SubscriptionCoverage.nrc_invoice_id).where(
            SubscriptionCoverage.subscription_id == equipment.subscription_id
        )
    )
    return session.get(Invoice, invoice_id) if invoice_id else None


def record_return(session: Session, equipment: Equipment, returned_on: date) -> Equipment:
    """The equipment came back: provided equipment then awaits its inspection."""
    if equipment.status is not EquipmentStatus.DELIVERED:
        raise Conflict(
            Text(
                fr="Équipement {serial} : restitution impossible (état {status}).",
                en="Equipment {serial}: cannot be returned (status {status}).",
            ),
            code="equipment_not_out",
            details={"serial": equipment.serial, "status": equipment.status.value},
        )
    if equipment.delivered_on and returned_on < equipment.delivered_on:
        raise InvalidInput(
            Text(fr="Restitution avant livraison.", en="Returned before delivery."),
            field="returned_on",
        )
    contract = session.get(Contract, equipment.contract_id)
    assert contract is not None
    terms = terms_of(contract).equipment
    equipment.status = EquipmentStatus.RETURNED
    equipment.returned_on = returned_on
    if (
        equipment.mode is EquipmentMode.PROVISION
        and terms is not None
        and terms.inspection_days is not None
        and equipment.settlement_invoice_id is None
    ):
        equipment.inspection_due_on = returned_on + timedelta(days=terms.inspection_days)
    session.flush()
    return equipment


def inspect(
    session: Session, equipment: Equipment, *, inspected_on: date, good_condition: bool
) -> Invoice | None:
    """CTR-10 the inspection of returned provided equipment: in good condition it is refunded
    (credit note) minus the depreciation; damaged, nothing is refunded."""
    if equipment.inspection_due_on is None or equipment.settled_on is not None:
        raise Conflict(
            Text(
                fr="Équipement {serial} : aucune vérification en attente.",
                en="Equipment {serial}: no inspection pending.",
            ),
            code="no_inspection_pending",
            details={"serial": equipment.serial},
        )
    equipment.settled_on = inspected_on
    if not good_condition:
        equipment.notes = (equipment.notes + "\n" if equipment.notes else "") + (
            f"inspected {inspected_on.isoformat()}: damaged, no refund"
        )
        session.flush()
        return None
    return _refund(session, equipment, inspected_on)


def _refund(session: Session, equipment: Equipment, on: date) -> Invoice:
    contract = session.get(Contract, equipment.contract_id)
    assert contract is not None and equipment.returned_on is not None
    terms = terms_of(contract).equipment
    assert terms is not None and terms.depreciation_percent_per_year is not None
    since = equipment.delivered_on or contract.activated_on or equipment.returned_on
    years = started_years(since, equipment.returned_on)
    amount = refund_amount(equipment.value, terms.depreciation_percent_per_year, years)
    note = charges.credit_now(
        session,
        contract,
        description=f"Remboursement du matériel {equipment.model} n° {equipment.serial} "
        f"restitué le {notices.fr(equipment.returned_on)} ({years} an(s) de décote à "
        f"{terms.depreciation_percent_per_year} %)",
        amount_ht=amount,
        on=on,
        purpose=f"equipment-refund:{equipment.id}",
        against=_provision_invoice(session, equipment),
    )
    equipment.settled_on = on
    equipment.settlement_invoice_id = note.id
    session.flush()
    notices.send(
        session,
        contract,
        "equipment.refunded",
        subject=Text(
            fr=f"Remboursement du matériel {equipment.serial}",
            en=f"Refund of equipment {equipment.serial}",
        ),
        body=Text(
            fr=f"Le matériel {equipment.model} n° {equipment.serial}, restitué le "
            f"{notices.fr(equipment.returned_on)}, est remboursé {notices.eur(amount).fr} HT "
            f"(avoir {note.number}) après {years} an(s) de décote.",
            en=f"Equipment {equipment.model} serial {equipment.serial}, returned on "
            f"{notices.en(equipment.returned_on)}, is refunded {notices.eur(amount).en} excl. "
            f"VAT (credit note {note.number}) after {years} year(s) of depreciation.",
        ),
        key=f"equipment-refund:{equipment.id}",
        data={"serial": equipment.serial, "amount": amount, "credit_note": note.number},
        contacts="billing",
    )
    return note


def settle_due(session: Session, as_of: date) -> list[str]:
    """Invoice equipment not returned in time; refund provided equipment whose inspection
    delay ran out without a finding."""
    done: list[str] = []
    for item in list(
        session.scalars(
            select(Equipment).where(
                Equipment.status == EquipmentStatus.DELIVERED,
                Equipment.return_due_on.is_not(None),
                Equipment.return_due_on < as_of,
            )
        )
    ):
        contract = session.get(Contract, item.contract_id)
        assert contract is not None and item.return_due_on is not None
        invoice = charges.invoice_now(
            session,
            contract,
            code="equipment.not_returned",
            description=f"Matériel non restitué : {item.model} n° {item.serial} "
            f"(à restituer au plus tard le {notices.fr(item.return_due_on)})",
            amount_ht=item.value,
            on=as_of,
            purpose=f"equipment-not-returned:{item.id}",
        )
        item.status = EquipmentStatus.LOST
        item.settled_on = as_of
        item.settlement_invoice_id = invoice.id
        notices.send(
            session,
            contract,
            "equipment.invoiced",
            subject=Text(
                fr=f"Matériel {item.serial} non restitué",
                en=f"Equipment {item.serial} not returned",
            ),
            body=Text(
                fr=f"Le matériel {item.model} n° {item.serial} devait être restitué au plus "
                f"tard le {notices.fr(item.return_due_on)}. Il vous est facturé "
                f"{notices.eur(item.value).fr} HT (facture {invoice.number}).",
                en=f"Equipment {item.model} serial {item.serial} was due back by "
                f"{notices.en(item.return_due_on)}. It is invoiced {notices.eur(item.value).en} "
                f"excl. VAT (invoice {invoice.number}).",
            ),
            key=f"equipment-invoiced:{item.id}",
            data={"serial": item.serial, "amount": item.value, "invoice": invoice.number},
            contacts="billing",
        )
        done.append(f"equipment_invoiced:{item.serial}")
    for item in list(
        session.scalars(
            select(Equipment).where(
                Equipment.status == EquipmentStatus.RETURNED,
                Equipment.inspection_due_on.is_not(None),
                Equipment.inspection_due_on < as_of,
                Equipment.settled_on.is_(None),
            )
        )
    ):
        _refund(session, item, as_of)
        done.append(f"equipment_refunded:{item.serial}")
    session.flush()
    return done
