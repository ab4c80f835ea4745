"""Use cases of the contracts context. Each takes a session and commits nothing."""

from __future__ import annotations

import logging
import secrets
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from operateur.accounts.audit import actor_of
from operateur.accounts.models import Customer, CustomerStatus
from operateur.catalog import service as catalog
from operateur.catalog.terms import ContractTerms, PriceItem, PriceKind
from operateur.contracts.commitment import Schedule, commitment_start, schedule
from operateur.contracts.models import (
    SERVED,
    Contract,
    ContractEvent,
    ContractStatus,
    Equipment,
    EquipmentStatus,
    Line,
    Subscription,
)
from operateur.contracts.schemas import EquipmentIn, LineIn, SubscriptionIn
from operateur.db import utcnow
from operateur.domain.identifiers import new_reference
from operateur.errors import Conflict, InvalidInput, NotFound
from operateur.i18n import Text
from operateur.logs import event
from operateur.sms.eligibility import check_signable

log = logging.getLogger("operateur.contracts")

# --- contracts and their terms ---------------------------------------------------------------


def terms_of(contract: Contract) -> ContractTerms:
    """The contract's own terms: the frozen copy, never the current template (CTR-01)."""
    return ContractTerms.model_validate(contract.terms)


def prices_of(contract: Contract) -> list[PriceItem]:
    """The contract's own price list, frozen at signature."""
    return [PriceItem.model_validate(item) for item in contract.prices]


def price_item(contract: Contract, code: str) -> PriceItem | None:
    return next((item for item in prices_of(contract) if item.code == code), None)


def _refresh_from_offer(contract: Contract, overrides: dict[str, Any]) -> None:
    """Copy the offer's current terms (with the overrides) and price list into the contract."""
    offer = catalog.get_offer(contract.offer_id)
    contract.terms = catalog.apply_overrides(offer.terms, overrides).model_dump(mode="json")
    contract.prices = [item.model_dump(mode="json") for item in offer.prices]
    contract.overrides = overrides


def create_contract(
    session: Session, customer: Customer, offer_id: str, overrides: dict[str, Any]
) -> Contract:
    contract = Contract(
        reference=new_reference("CT"),
        customer_id=customer.id,
        offer_id=offer_id,
        status=ContractStatus.DRAFT,
    )
    _refresh_from_offer(contract, overrides)
    session.add(contract)
    session.flush()
    return contract


def _not_found(contract_id: int) -> NotFound:
    return NotFound(
        Text(fr="Contrat {id} introuvable.", en="Contract {id} not found."),
        code="contract_not_found",
        details={"id": contract_id},
    )


def get_contract(session: Session, customer_id: int, contract_id: int) -> Contract:
    contract = session.scalar(
        select(Contract).where(Contract.id == contract_id, Contract.customer_id == customer_id)
    )
    if contract is None:
        raise _not_found(contract_id)
    return contract


def find_contract_by_reference(session: Session, reference: str) -> Contract | None:
    return session.scalar(select(Contract).where(Contract.reference == reference))


def list_contracts(session: Session, customer_id: int) -> list[Contract]:
    return list(
        session.scalars(
            select(Contract).where(Contract.customer_id == customer_id).order_by(Contract.id)
        )
    )


OPEN_STATES = tuple(
    s for s in ContractStatus if s not in (ContractStatus.TERMINATED, ContractStatus.PURGED)
)


def require_state(contract: Contract, action: str, allowed: tuple[ContractStatus, ...]) -> None:
    """Refuse ``action`` unless the contract stands in one of the ``allowed`` states."""
    if contract.status not in allowed:
        raise Conflict(
            Text(
                fr="Action « {action} » impossible depuis l'état « {status} » "
                "(possible depuis : {allowed}).",
                en="'{action}' is not possible from state '{status}' (possible from: {allowed}).",
            ),
            code="illegal_transition",
            details={
                "action": action,
                "reference": contract.reference,
                "status": contract.status.value,
                "allowed": ", ".join(s.value for s in allowed),
            },
        )


def record_transition(
    session: Session,
    contract: Contract,
    transition: str,
    allowed: tuple[ContractStatus, ...],
    target: ContractStatus,
    reason: str,
    details: dict[str, Any] | None = None,
) -> ContractEvent:
    """Move a contract to ``target`` if it stands in one of the ``allowed`` states, recording
    who, when and why; an illegal move is refused with the states named."""
    require_state(contract, transition, allowed)
    if not reason.strip():
        raise InvalidInput(Text(fr="Indiquez le motif.", en="Give the reason."), field="reason")
    record = ContractEvent(
        contract_id=contract.id,
        customer_id=contract.customer_id,
        actor=actor_of(session).label,
        transition=transition,
        from_status=contract.status.value,
        to_status=target.value,
        reason=reason,
        details=details or {},
    )
    contract.status = target
    session.add(record)
    session.flush()
    event(
        log,
        f"contract.{transition}",
        contract=contract.reference,
        customer=contract.customer_id,
        status=target.value,
    )
    return record


def set_overrides(session: Session, contract: Contract, overrides: dict[str, Any]) -> Contract:
    """Negotiate terms while the contract is a draft; a signed contract's terms never move."""
    require_state(contract, "renegotiate", (ContractStatus.DRAFT,))
    _refresh_from_offer(contract, overrides)
    session.flush()
    return contract


def sign(
    session: Session, contract: Contract, signed_by: str, signed_at: datetime | None = None
) -> Contract:
    """Freeze the terms: a last recomputation from the template, then never again (CTR-01).
    Terms keeping the SMS service are signed only by a customer eligible to it (SMS-10)."""
    require_state(contract, "sign", (ContractStatus.DRAFT, ContractStatus.TRIAL))
    _refresh_from_offer(contract, contract.overrides)
    customer = session.get(Customer, contract.customer_id)
    assert customer is not None
    check_signable(customer, terms_of(contract))
    record_transition(
        session,
        contract,
        "sign",
        (ContractStatus.DRAFT, ContractStatus.TRIAL),
        ContractStatus.SIGNED,
        f"signed by {signed_by}",
    )
    contract.signed_at = signed_at or utcnow()
    contract.signed_by = signed_by
    session.flush()
    from operateur.contracts import after_end  # after_end builds on this module

    after_end.on_new_contract(session, contract.customer_id, contract.signed_at)
    return contract


def activate(session: Session, contract: Contract, activated_on: date) -> Contract:
    require_state(contract, "activate", (ContractStatus.SIGNED,))
    if contract.signed_at is not None and activated_on < contract.signed_at.date():
        raise InvalidInput(
            Text(
                fr="La mise en service ne peut précéder la signature ({signed}).",
                en="Activation cannot precede signature ({signed}).",
            ),
            field="activated_on",
            details={"signed": contract.signed_at.date().isoformat()},
        )
    record_transition(
        session,
        contract,
        "activate",
        (ContractStatus.SIGNED,),
        ContractStatus.ACTIVE,
        f"service activated on {activated_on.isoformat()}",
    )
    contract.activated_on = activated_on
    for sub in list_subscriptions(session, contract):  # ordered before activation
        if sub.start_date is None:
            sub.start_date = activated_on
    customer = session.get(Customer, contract.customer_id)
    if customer is not None and customer.status == CustomerStatus.PROSPECT:
        customer.status = CustomerStatus.ACTIVE
    session.flush()
    return contract


def contract_schedule(contract: Contract, as_of: date) -> Schedule | None:
    """The contract's current term, notice deadline and renewal (CTR-02/03), or None while
    the event that starts its commitment has not happened."""
    terms = terms_of(contract).commitment
    start = commitment_start(
        terms,
        signed_on=contract.signed_at.date() if contract.signed_at else None,
        activated_on=contract.activated_on,
    )
    return None if start is None else schedule(terms, start, as_of)


def served_terms(session: Session, customer_id: int) -> list[ContractTerms]:
    """The terms of the customer's served contracts (``SERVED``), oldest contract first."""
    return [
        terms_of(c)
        for c in session.scalars(
            select(Contract)
            .where(Contract.customer_id == customer_id, Contract.status.in_(SERVED))
            .order_by(Contract.id)
        )
    ]


def single_session_required(session: Session, customer_id: int) -> bool:
    """SEC-01: one connection at a time per identifier when any served contract says so."""
    return any(terms.security.single_session for terms in served_terms(session, customer_id))


def max_admin_accounts(session: Session, customer_id: int) -> int | None:
    """SEC-01 [003 §4]: how many administrator accounts the customer may have — the largest
    number its served contracts allow; None: as many as needed (a contract saying so, or none)."""
    limits = [terms.security.max_admin_accounts for terms in served_terms(session, customer_id)]
    if not limits or None in limits:
        return None
    return max(limit for limit in limits if limit is not None)


# --- subscriptions ---------------------------------------------------------------------------


def add_subscription(session: Session, contract: Contract, data: SubscriptionIn) -> Subscription:
    """Add an item of the contract's price list; prices default to the frozen price list."""
    require_state(contract, "add a subscription", OPEN_STATES)
    item = price_item(contract, data.item_code)
    if item is None or item.kind == PriceKind.PER_UNIT:
        raise InvalidInput(
            Text(
                fr="Article {code} absent des abonnements et frais de la grille du contrat.",
                en="Item {code} is not a subscription or fee of the contract's price list.",
            ),
            field="item_code",
            details={"code": data.item_code},
        )
    if data.start_date and data.end_date and data.end_date < data.start_date:
        raise InvalidInput(
            Text(fr="La fin précède le début.", en="The end precedes the start."),
            field="end_date",
        )
    nrc = item.unit_price if item.kind == PriceKind.NRC else Decimal("0")
    mrc = item.unit_price if item.kind == PriceKind.MRC else Decimal("0")
    sub = Subscription(
        contract_id=contract.id,
        customer_id=contract.customer_id,
        item_code=data.item_code,
        label=item.label.get("fr"),
        quantity=data.quantity,
        unit_price_nrc=data.unit_price_nrc if data.unit_price_nrc is not None else nrc,
        unit_price_mrc=data.unit_price_mrc if data.unit_price_mrc is not None else mrc,
        start_date=data.start_date or contract.activated_on,
        end_date=data.end_date,
    )
    session.add(sub)
    session.flush()
    return sub


def end_subscriptions(session: Session, contract: Contract, on: date) -> None:
    """The contract's subscriptions stop on ``on`` (its last day of service) unless they end
    earlier: recurring fees are billed up to that day."""
    for sub in list_subscriptions(session, contract):
        if sub.end_date is None or sub.end_date > on:
            sub.end_date = on
    session.flush()


def reprice_subscription(session: Session, sub: Subscription, unit_price_mrc: Decimal) -> None:
    """Change a subscription's monthly price (an index revision of the contract, CTR-13)."""
    sub.unit_price_mrc = unit_price_mrc
    session.flush()


def list_subscriptions(session: Session, contract: Contract) -> list[Subscription]:
    return list(
        session.scalars(
            select(Subscription)
            .where(Subscription.contract_id == contract.id)
            .order_by(Subscription.id)
        )
    )


def get_subscription(session: Session, contract: Contract, subscription_id: int) -> Subscription:
    sub = session.scalar(
        select(Subscription).where(
            Subscription.id == subscription_id, Subscription.contract_id == contract.id
        )
    )
    if sub is None:
        raise NotFound(
            Text(fr="Abonnement {id} introuvable.", en="Subscription {id} not found."),
            code="subscription_not_found",
            details={"id": subscription_id},
        )
    return sub


def monthly_total(subscriptions: list[Subscription]) -> Decimal:
    return sum((s.unit_price_mrc * s.quantity for s in subscriptions), Decimal("0"))


# --- lines -----------------------------------------------------------------------------------


def create_line(session: Session, customer_id: int, data: LineIn) -> Line:
    contract = get_contract(session, customer_id, data.contract_id)
    require_state(contract, "add a line", OPEN_STATES)
    line = Line(
        customer_id=customer_id,
        contract_id=contract.id,
        kind=data.kind,
        label=data.label,
        sip_username=f"l{customer_id}-{secrets.token_hex(5)}",
    )
    session.add(line)
    session.flush()
    return line


def list_lines(session: Session, customer_id: int) -> list[Line]:
    return list(
        session.scalars(select(Line).where(Line.customer_id == customer_id).order_by(Line.id))
    )


def get_line(session: Session, customer_id: int, line_id: int) -> Line:
    line = session.scalar(select(Line).where(Line.id == line_id, Line.customer_id == customer_id))
    if line is None:
        raise NotFound(
            Text(fr="Ligne {id} introuvable.", en="Line {id} not found."),
            code="line_not_found",
            details={"id": line_id},
        )
    return line


# --- equipment (CTR-10) ----------------------------------------------------------------------


def add_equipment(session: Session, customer_id: int, data: EquipmentIn) -> Equipment:
    contract = get_contract(session, customer_id, data.contract_id)
    if session.scalar(select(Equipment.id).where(Equipment.serial == data.serial)):
        raise Conflict(
            Text(fr="Le numéro de série {serial} existe déjà.", en="Serial {serial} exists."),
            code="equipment_exists",
            field="serial",
            details={"serial": data.serial},
        )
    equipment = Equipment(
        customer_id=customer_id,
        contract_id=contract.id,
        serial=data.serial,
        model=data.model,
        mode=data.mode,
        value=data.value,
        delivered_on=data.delivered_on,
        status=EquipmentStatus.DELIVERED if data.delivered_on else EquipmentStatus.IN_STOCK,
    )
    session.add(equipment)
    session.flush()
    return equipment


def list_equipment(session: Session, customer_id: int) -> list[Equipment]:
    return list(
        session.scalars(
            select(Equipment).where(Equipment.customer_id == customer_id).order_by(Equipment.id)
        )
    )


def get_equipment(session: Session, customer_id: int, equipment_id: int) -> Equipment:
    equipment = session.scalar(
        select(Equipment).where(Equipment.id == equipment_id, Equipment.customer_id == customer_id)
    )
    if equipment is None:
        raise NotFound(
            Text(fr="Équipement {id} introuvable.", en="Equipment {id} not found."),
            code="equipment_not_found",
            details={"id": equipment_id},
        )
    return equipment
