"""Use cases of the number inventory (VOX-14). Each takes a session and commits nothing."""

from __future__ import annotations

import secrets
from datetime import date, timedelta

from sqlalchemy import ColumnElement, delete, or_, select
from sqlalchemy.orm import Session

from operateur.accounts.models import Customer
from operateur.catalog.terms import PriceKind
from operateur.contracts import service as contracts
from operateur.contracts.models import (
    SERVED,
    Contract,
    ContractStatus,
    Line,
    LineStatus,
    Subscription,
)
from operateur.contracts.schemas import SubscriptionIn
from operateur.db import utcnow
from operateur.domain.calendar import PARIS
from operateur.domain.numbering import NumberInfo, NumberKind, classify
from operateur.errors import Conflict, InvalidInput, NotFound
from operateur.i18n import Text
from operateur.numbers.models import (
    AddressProof,
    AliasTarget,
    DirectoryEntry,
    NumberFee,
    NumberStatus,
    NumberTier,
    PhoneNumber,
    PortRequest,
    PortStatus,
)

ASSIGNABLE_KINDS = frozenset(
    {
        NumberKind.GEOGRAPHIC,
        NumberKind.MOBILE,
        NumberKind.NON_GEOGRAPHIC,
        NumberKind.SPECIAL,
        NumberKind.SHORT,
    }
)


def classify_number(raw: str) -> NumberInfo:
    return classify(raw)


def add_to_stock(session: Session, numbers: list[str], tier: NumberTier) -> list[PhoneNumber]:
    """Add numbers to the stock, all or none: one bad number refuses the whole batch."""
    rows: list[PhoneNumber] = []
    seen: set[str] = set()
    for index, raw in enumerate(numbers):
        info = classify(raw)
        field = f"numbers.{index}"
        if info.e164 is None or info.kind not in ASSIGNABLE_KINDS:
            raise InvalidInput(
                Text(
                    fr="{raw} ne peut pas entrer dans le stock ({kind}).",
                    en="{raw} cannot enter the stock ({kind}).",
                ),
                field=field,
                details={"raw": raw, "kind": info.kind.value},
            )
        if info.e164 in seen or session.scalar(
            select(PhoneNumber.id).where(PhoneNumber.e164 == info.e164)
        ):
            raise Conflict(
                Text(fr="{number} est déjà dans le stock.", en="{number} is already in stock."),
                code="number_exists",
                field=field,
                details={"number": info.e164},
            )
        seen.add(info.e164)
        rows.append(PhoneNumber(e164=info.e164, kind=info.kind.value, tier=tier))
    session.add_all(rows)
    session.flush()
    return rows


def list_stock(
    session: Session,
    *,
    status: NumberStatus | None = None,
    kind: str | None = None,
    tier: NumberTier | None = None,
    limit: int = 500,
) -> list[PhoneNumber]:
    stmt = select(PhoneNumber).order_by(PhoneNumber.e164).limit(limit)
    if status is not None:
        stmt = stmt.where(PhoneNumber.status == status)
    if kind is not None:
        stmt = stmt.where(PhoneNumber.kind == kind)
    if tier is not None:
        stmt = stmt.where(PhoneNumber.tier == tier)
    return list(session.scalars(stmt))


def list_customer_numbers(session: Session, customer_id: int) -> list[PhoneNumber]:
    return list(
        session.scalars(
            select(PhoneNumber)
            .where(PhoneNumber.customer_id == customer_id)
            .order_by(PhoneNumber.e164)
        )
    )


def get_customer_number(session: Session, customer_id: int, number_id: int) -> PhoneNumber:
    number = session.scalar(
        select(PhoneNumber).where(
            PhoneNumber.id == number_id, PhoneNumber.customer_id == customer_id
        )
    )
    if number is None:
        raise NotFound(
            Text(fr="Numéro {id} introuvable.", en="Number {id} not found."),
            code="number_not_found",
            details={"id": number_id},
        )
    return number


def is_metropolitan_france(customer: Customer) -> bool:
    """Metropolitan France: country FR and a postal code outside the overseas 97x/98x ranges."""
    return customer.country == "FR" and not customer.postal_code.strip().startswith(("97", "98"))


# --- VOX-14 proof of address ------------------------------------------------------------------


def _same(a: str, b: str) -> bool:
    return " ".join(a.split()).casefold() == " ".join(b.split()).casefold()


def record_address_proof(
    session: Session,
    customer: Customer,
    *,
    document: str,
    reference: str,
    received_on: date,
    checked_by: str,
) -> AddressProof:
    """Record that staff checked a document proving the customer's current address."""
    if not document.strip() or not reference.strip():
        raise InvalidInput(
            Text(
                fr="Le justificatif demande son type et sa référence.",
                en="A proof needs its kind and reference.",
            ),
            field="document" if not document.strip() else "reference",
        )
    proof = AddressProof(
        customer_id=customer.id,
        document=document.strip(),
        reference=reference.strip(),
        address_line=customer.address_line,
        postal_code=customer.postal_code,
        city=customer.city,
        country=customer.country,
        received_on=received_on,
        checked_by=checked_by,
    )
    session.add(proof)
    session.flush()
    return proof


def list_address_proofs(session: Session, customer_id: int) -> list[AddressProof]:
    return list(
        session.scalars(
            select(AddressProof)
            .where(AddressProof.customer_id == customer_id)
            .order_by(AddressProof.id)
        )
    )


def has_address_proof(session: Session, customer: Customer) -> bool:
    """A proof not revoked of the address the customer has now (a move needs a new one)."""
    return any(
        proof.revoked_at is None
        and proof.country == customer.country
        and _same(proof.postal_code, customer.postal_code)
        and _same(proof.city, customer.city)
        and _same(proof.address_line, customer.address_line)
        for proof in list_address_proofs(session, customer.id)
    )


def check_residency(session: Session, customer: Customer) -> None:
    """VOX-14 [001 §9]: French numbers only for residents of metropolitan France, "sur
    présentation de pièces justificatives"."""
    if not is_metropolitan_france(customer):
        raise Conflict(
            Text(
                fr="Les numéros français sont réservés aux clients établis en France "
                "métropolitaine.",
                en="French numbers are reserved to customers established in metropolitan France.",
            ),
            code="number_residency",
            field="kind",
        )
    if not has_address_proof(session, customer):
        raise Conflict(
            Text(
                fr="Un justificatif de l'adresse du client en France métropolitaine est requis "
                "avant d'attribuer un numéro français.",
                en="A proof of the customer's address in metropolitan France is required "
                "before a French number is assigned.",
            ),
            code="address_proof_missing",
            field="customer",
        )


# --- VOX-14, BIL-17 monthly fees of numbers ---------------------------------------------------

FEE_ITEMS = {NumberTier.SILVER: "numbers.silver", NumberTier.GOLD: "numbers.gold"}
ALIAS_ITEM = "numbers.alias"


def _contract_for(
    session: Session, customer: Customer, line_id: int | None, contract_id: int | None
) -> Contract | None:
    if line_id is not None:
        line = contracts.get_line(session, customer.id, line_id)
        if contract_id is not None and contract_id != line.contract_id:
            raise InvalidInput(
                Text(
                    fr="La ligne {line} n'appartient pas au contrat {contract}.",
                    en="Line {line} does not belong to contract {contract}.",
                ),
                field="contract_id",
                details={"line": line_id, "contract": contract_id},
            )
        return contracts.get_contract(session, customer.id, line.contract_id)
    if contract_id is not None:
        return contracts.get_contract(session, customer.id, contract_id)
    return None


def _fee_item(contract: Contract | None, code: str, *, required: bool) -> str | None:
    """The price-list item billing a number's monthly fee, when the contract has it."""
    item = contracts.price_item(contract, code) if contract else None
    if item is not None and item.kind is PriceKind.MRC:
        return code
    if required:
        raise InvalidInput(
            Text(
                fr="Le contrat n'a pas de tarif {code} : précisez la ligne ou le contrat qui "
                "porte cet abonnement.",
                en="The contract has no price {code}: name the line or contract that carries "
                "this subscription.",
            ),
            field="contract_id" if contract is None else "tier",
            details={"code": code},
        )
    return None


def _bill_fee(
    session: Session,
    number: PhoneNumber,
    contract: Contract,
    code: str,
    start: date | None = None,
) -> NumberFee:
    """The number's monthly fee from ``start`` (today, Paris time, by default)."""
    start = start or utcnow().astimezone(PARIS).date()
    subscription = contracts.add_subscription(
        session, contract, SubscriptionIn(item_code=code, quantity=1, start_date=start)
    )
    fee = NumberFee(
        number_id=number.id,
        customer_id=contract.customer_id,
        contract_id=contract.id,
        subscription_id=subscription.id,
        item_code=code,
    )
    session.add(fee)
    session.flush()
    return fee


def bill_standard_fee(
    session: Session, number: PhoneNumber, contract: Contract, start: date
) -> NumberFee | None:
    """BIL-17: the offer's monthly fee for a standard number of this kind, when the contract's
    price list has one (e.g. a number brought by portability, from its porting day)."""
    code = _fee_item(contract, f"numbers.{number.kind}", required=False)
    return _bill_fee(session, number, contract, code, start) if code else None


def fees_of(session: Session, number_id: int) -> list[NumberFee]:
    return list(
        session.scalars(
            select(NumberFee).where(NumberFee.number_id == number_id).order_by(NumberFee.id)
        )
    )


def _pick_free(session: Session, wanted: NumberKind, tier: NumberTier) -> PhoneNumber:
    candidates = list(
        session.scalars(
            select(PhoneNumber)
            .where(
                PhoneNumber.status == NumberStatus.FREE,
                PhoneNumber.kind == wanted.value,
                PhoneNumber.tier == tier,
            )
            .limit(200)
            .with_for_update(skip_locked=True)
        )
    )
    if not candidates:
        raise Conflict(
            Text(
                fr="Aucun numéro libre de type {kind} ({tier}).",
                en="No free number of kind {kind} ({tier}).",
            ),
            code="no_free_number",
            field="kind",
            details={"kind": wanted.value, "tier": tier.value},
        )
    return secrets.choice(candidates)


def _kind(kind: str) -> NumberKind:
    try:
        wanted = NumberKind(kind)
    except ValueError:
        wanted = None
    if wanted is None or wanted not in ASSIGNABLE_KINDS:
        raise InvalidInput(
            Text(fr="Type de numéro inconnu : {kind}.", en="Unknown number kind: {kind}."),
            field="kind",
            details={"kind": kind},
        )
    return wanted


def assign_random(
    session: Session,
    customer: Customer,
    *,
    kind: str,
    tier: NumberTier,
    line_id: int | None,
    contract_id: int | None = None,
) -> PhoneNumber:
    """Assign a free number of the requested kind and tier, chosen at random (VOX-14), to a
    resident of metropolitan France with a proof of address on file. A Silver or Gold number
    carries its monthly fee from the contract's price list (of ``line_id``'s contract, or
    ``contract_id``); a standard number the offer's fee for its kind, if the price list has
    one (BIL-17)."""
    wanted = _kind(kind)
    check_residency(session, customer)
    contract = _contract_for(session, customer, line_id, contract_id)
    number = _pick_free(session, wanted, tier)
    fee = FEE_ITEMS.get(tier)
    fee_code = (
        _fee_item(contract, fee, required=True)
        if fee
        else _fee_item(contract, f"numbers.{wanted.value}", required=False)
    )
    number.status = NumberStatus.ASSIGNED
    number.customer_id = customer.id
    number.line_id = line_id
    number.assigned_at = utcnow()
    session.flush()
    if contract is not None and fee_code is not None:
        _bill_fee(session, number, contract, fee_code)
    return number


def assign_alias(
    session: Session,
    customer: Customer,
    *,
    kind: str,
    line_ids: list[int],
    tier: NumberTier = NumberTier.STANDARD,
) -> PhoneNumber:
    """An alias number (VOX-14 [001 §9]) attached to active lines of one contract, ringing
    them all, billed its monthly fee ("sous réserve du paiement d'une redevance mensuelle")."""
    if not line_ids:
        raise InvalidInput(
            Text(fr="Un alias sonne au moins une ligne.", en="An alias rings at least one line."),
            field="line_ids",
        )
    wanted = _kind(kind)
    check_residency(session, customer)
    lines: list[Line] = []
    for index, line_id in enumerate(dict.fromkeys(line_ids)):
        line = contracts.get_line(session, customer.id, line_id)
        if line.status is not LineStatus.ACTIVE:
            raise Conflict(
                Text(
                    fr="La ligne {id} n'est pas active : un alias se rattache à une ligne activée.",
                    en="Line {id} is not active: an alias is attached to an active line.",
                ),
                code="line_not_active",
                field=f"line_ids.{index}",
                details={"id": line_id},
            )
        if lines and line.contract_id != lines[0].contract_id:
            raise InvalidInput(
                Text(
                    fr="Les lignes d'un alias appartiennent au même contrat.",
                    en="The lines of an alias belong to one contract.",
                ),
                field=f"line_ids.{index}",
            )
        lines.append(line)
    contract = contracts.get_contract(session, customer.id, lines[0].contract_id)
    code = _fee_item(contract, ALIAS_ITEM, required=True)
    assert code is not None
    number = _pick_free(session, wanted, tier)
    number.status = NumberStatus.ASSIGNED
    number.customer_id = customer.id
    number.line_id = lines[0].id
    number.assigned_at = utcnow()
    session.add_all(
        AliasTarget(number_id=number.id, customer_id=customer.id, line_id=line.id) for line in lines
    )
    session.flush()
    _bill_fee(session, number, contract, code)
    return number


def alias_lines(session: Session, number_id: int) -> list[int]:
    return list(
        session.scalars(
            select(AliasTarget.line_id)
            .where(AliasTarget.number_id == number_id)
            .order_by(AliasTarget.id)
        )
    )


def is_ported_in(session: Session, number: PhoneNumber) -> bool:
    """Whether the number came to us by portability (VOX-15): its range is allocated to another
    operator, so it is only ever ours while a customer's service runs on it."""
    return (
        session.scalar(
            select(PortRequest.id)
            .where(PortRequest.number_id == number.id, PortRequest.status == PortStatus.PORTED)
            .limit(1)
        )
        is not None
    )


def release(session: Session, number: PhoneNumber, quarantine_days: int) -> PhoneNumber:
    """Take a number back (VOX-14): its monthly fee stops today, its alias targets and its
    public directory entry go, it leaves the customer and its lines. A number of our ranges is
    quarantined before it can be reassigned; a ported-in one is returned to the operator its
    range is allocated to and never offered again."""
    today = utcnow().astimezone(PARIS).date()
    for fee in fees_of(session, number.id):
        if fee.ended_on is None:
            subscription = session.get(Subscription, fee.subscription_id)
            assert subscription is not None
            if subscription.end_date is None or subscription.end_date > today:
                subscription.end_date = today
            fee.ended_on = today
    session.execute(delete(AliasTarget).where(AliasTarget.number_id == number.id))
    session.execute(delete(DirectoryEntry).where(DirectoryEntry.number_id == number.id))
    number.customer_id = None
    number.line_id = None
    if is_ported_in(session, number):
        # VOX-14 [002 §6.5] "l'attribution d'un numéro ne confère pas un droit de propriété":
        # a ported number ending its service goes back to its range holder ("restitution à
        # l'opérateur attributaire"), it is not our stock to reassign
        number.status = NumberStatus.RETURNED
        number.quarantined_until = None
    else:
        number.status = NumberStatus.QUARANTINED
        number.quarantined_until = utcnow() + timedelta(days=quarantine_days)
    session.flush()
    return number


def free_quarantined(session: Session) -> int:
    """Return numbers whose quarantine has ended to the free stock; returns how many."""
    now = utcnow()
    rows = list(
        session.scalars(
            select(PhoneNumber).where(
                PhoneNumber.status == NumberStatus.QUARANTINED,
                PhoneNumber.quarantined_until <= now,
            )
        )
    )
    for number in rows:
        number.status = NumberStatus.FREE
        number.quarantined_until = None
    session.flush()
    return len(rows)


# --- VOX-14 numbers taken back when their contract ends ---------------------------------------

#: A contract over: its numbers go back to the operator (a purged one was terminated first).
ENDED = (ContractStatus.TERMINATED, ContractStatus.PURGED)


def numbers_of_contract(session: Session, contract: Contract) -> list[PhoneNumber]:
    """The numbers a contract still holds: those on one of its lines (aliases included), those
    billed on it, and, once the customer has no other contract holding numbers (``SERVED``),
    the customer's numbers on no line and billed on no contract."""
    lines = select(Line.id).where(Line.contract_id == contract.id)
    billed = select(NumberFee.number_id).where(
        NumberFee.contract_id == contract.id, NumberFee.ended_on.is_(None)
    )
    held: list[ColumnElement[bool]] = [PhoneNumber.line_id.in_(lines), PhoneNumber.id.in_(billed)]
    others = session.scalar(
        select(Contract.id).where(
            Contract.customer_id == contract.customer_id,
            Contract.id != contract.id,
            Contract.status.in_(SERVED),
        )
    )
    if others is None:
        held.append(
            PhoneNumber.line_id.is_(None)
            & PhoneNumber.id.not_in(select(NumberFee.number_id).where(NumberFee.ended_on.is_(None)))
        )
    return list(
        session.scalars(
            select(PhoneNumber)
            .where(
                PhoneNumber.status == NumberStatus.ASSIGNED,
                PhoneNumber.customer_id == contract.customer_id,
                or_(*held),
            )
            .order_by(PhoneNumber.id)
            .with_for_update()
        )
    )


def release_contract_numbers(
    session: Session, contract: Contract, quarantine_days: int
) -> list[PhoneNumber]:
    """VOX-14 [002 §6.5] a number "ne confère pas un droit de propriété … il peut être attribué
    à un tiers en cas de suspension ou de résiliation du Service": when a contract is over, the
    numbers it holds leave the customer and its lines, are quarantined, then become assignable
    again (``free_quarantined``); a ported-in number is returned to its range holder instead
    (``release``). A port-in still pending on it is cancelled: the line it would
    land on is gone. Numbers already taken back are not touched, so running it again changes
    nothing. Returns the numbers taken back now."""
    if contract.status not in ENDED:
        raise Conflict(
            Text(
                fr="Le contrat {reference} n'est pas terminé : ses numéros restent attribués.",
                en="Contract {reference} has not ended: its numbers stay assigned.",
            ),
            code="contract_not_ended",
            details={"reference": contract.reference},
        )
    released = [
        release(session, number, quarantine_days)
        for number in numbers_of_contract(session, contract)
    ]
    for request in session.scalars(
        select(PortRequest).where(
            PortRequest.contract_id == contract.id,
            PortRequest.status.in_((PortStatus.SUBMITTED, PortStatus.SCHEDULED)),
        )
    ):
        request.status = PortStatus.CANCELLED
    session.flush()
    return released


def release_ended_contracts(session: Session, as_of: date, quarantine_days: int) -> int:
    """The scheduler's daily job: the numbers of every contract whose last day is before
    ``as_of`` are taken back (whatever ended it: notice, termination by staff, dunning,
    inactivity, trial). Returns how many numbers were taken back."""
    held_by_lines = select(Line.contract_id).join(PhoneNumber, PhoneNumber.line_id == Line.id)
    held_by_fees = select(NumberFee.contract_id).where(NumberFee.ended_on.is_(None))
    # numbers on no line go back only with the customer's last contract (numbers_of_contract):
    # a customer still under another contract is not scanned again every day for them
    live_customers = select(Contract.customer_id).where(Contract.status.in_(SERVED))
    lineless_customers = select(PhoneNumber.customer_id).where(
        PhoneNumber.line_id.is_(None), PhoneNumber.customer_id.not_in(live_customers)
    )
    count = 0
    for contract in session.scalars(
        select(Contract)
        .where(
            Contract.status.in_(ENDED),
            Contract.terminated_on < as_of,
            or_(
                Contract.id.in_(held_by_lines.where(PhoneNumber.status == NumberStatus.ASSIGNED)),
                Contract.id.in_(held_by_fees),
                Contract.customer_id.in_(
                    lineless_customers.where(PhoneNumber.status == NumberStatus.ASSIGNED)
                ),
            ),
        )
        .order_by(Contract.id)
    ).all():
        count += len(release_contract_numbers(session, contract, quarantine_days))
    return count
