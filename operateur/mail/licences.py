"""Licences (MAIL-07, CTR-04 [003 §3.1, §3.2]): the mailboxes and domains a customer protects
are counted against the quantities subscribed in the contract. Extra mailboxes are activated
free up to the terms' tolerance (+20 %); domains are licensed one by one. At each renewal the
real counts become the new period's quantities, handed to billing as new subscriptions."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_FLOOR, Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from operateur.catalog.service import get_offer
from operateur.catalog.terms import Service
from operateur.contracts import service as contracts
from operateur.contracts.lifecycle import LIVE
from operateur.contracts.models import Contract, Subscription
from operateur.contracts.schemas import SubscriptionIn
from operateur.errors import Conflict
from operateur.i18n import Text
from operateur.mail.models import LicenceRecount, Mailbox, MailDomain

MAILBOX = "mailbox"  # price-list unit of a licensed address (mail-security offer)
DOMAIN = "domain"  # price-list unit of a licensed domain
MAIL_SERVICES = (Service.MAIL_IN, Service.MAIL_OUT)


@dataclass(frozen=True)
class LicenceCount:
    unit: str  # "mailbox" or "domain"
    licensed: int  # the quantity subscribed
    allowed: int  # licensed plus the free tolerance of the terms
    used: int


def is_mail_contract(contract: Contract) -> bool:
    return any(service in get_offer(contract.offer_id).services for service in MAIL_SERVICES)


def mail_contract(session: Session, customer_id: int) -> Contract | None:
    """The customer's live contract covering the mail gateway (the oldest if several)."""
    for contract in session.scalars(
        select(Contract)
        .where(Contract.customer_id == customer_id, Contract.status.in_(LIVE))
        .order_by(Contract.id)
    ):
        if is_mail_contract(contract):
            return contract
    return None


def _active(sub: Subscription, on: date) -> bool:
    return (sub.start_date is None or sub.start_date <= on) and (
        sub.end_date is None or sub.end_date >= on
    )


def _quantities(session: Session, contract: Contract, on: date) -> dict[str, dict[str, int]]:
    """unit -> item code -> quantity subscribed on ``on``."""
    units = {item.code: item.unit for item in contracts.prices_of(contract)}
    found: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for sub in contracts.list_subscriptions(session, contract):
        unit = units.get(sub.item_code)
        if unit in (MAILBOX, DOMAIN) and _active(sub, on):
            found[unit][sub.item_code] += sub.quantity
    return found


def licensed(session: Session, contract: Contract, unit: str, on: date) -> int:
    """Licensed quantity of ``unit``: inbound and outbound filtering licence the same mailboxes,
    so the largest item counts."""
    return max(_quantities(session, contract, on).get(unit, {}).values(), default=0)


def allowed(session: Session, contract: Contract, unit: str, on: date) -> int:
    """What may be used: mailboxes get the terms' free extra percentage (rounded down)."""
    quantity = licensed(session, contract, unit, on)
    extra = contracts.terms_of(contract).commitment.free_extra_units_percent
    if unit != MAILBOX or extra is None:
        return quantity
    bonus = (Decimal(quantity) * extra / 100).to_integral_value(rounding=ROUND_FLOOR)
    return quantity + int(bonus)


def used(session: Session, customer_id: int, unit: str) -> int:
    model = Mailbox if unit == MAILBOX else MailDomain
    return session.scalar(select(func.count()).where(model.customer_id == customer_id)) or 0


def counts(session: Session, customer_id: int, on: date) -> list[LicenceCount]:
    contract = mail_contract(session, customer_id)
    result = []
    for unit in (MAILBOX, DOMAIN):
        quantity = licensed(session, contract, unit, on) if contract else 0
        limit = allowed(session, contract, unit, on) if contract else 0
        result.append(LicenceCount(unit, quantity, limit, used(session, customer_id, unit)))
    return result


def require_room(session: Session, customer_id: int, unit: str, on: date) -> Contract:
    """The customer's mail contract, if one more ``unit`` fits in its licence; otherwise a
    ``Conflict`` naming the count (MAIL-07)."""
    contract = mail_contract(session, customer_id)
    if contract is None:
        raise Conflict(
            Text(
                fr="Aucun contrat de passerelle email en cours pour ce client.",
                en="No live mail gateway contract for this customer.",
            ),
            code="no_mail_contract",
        )
    # counted under the contract's row lock: of two additions at once, the second counts the
    # first (PostgreSQL; SQLite runs write transactions one at a time)
    session.execute(select(Contract.id).where(Contract.id == contract.id).with_for_update())
    limit = allowed(session, contract, unit, on)
    if used(session, customer_id, unit) + 1 > limit:
        raise Conflict(
            Text(
                fr="Licence dépassée : {limit} {unit} autorisé(s) par le contrat {contract} "
                "(tolérance comprise). Augmentez la quantité souscrite.",
                en="Licence exceeded: the contract {contract} allows {limit} {unit}(s), "
                "tolerance included. Raise the subscribed quantity.",
            ),
            code="licence_exceeded",
            field="address" if unit == MAILBOX else "name",
            details={"limit": limit, "unit": unit, "contract": contract.reference},
        )
    return contract


def recount_at_renewal(session: Session, contract: Contract, term_start: date) -> bool:
    """Make the mailboxes and domains counted now the quantities of the term starting on
    ``term_start`` (CTR-04 [003 §3.1]): the licensed subscriptions end the day before and new
    ones start with the counts. Once per term; False when already done."""
    done = session.scalar(
        select(LicenceRecount.id).where(
            LicenceRecount.contract_id == contract.id, LicenceRecount.term_start == term_start
        )
    )
    if done is not None:
        return False
    before = term_start - timedelta(days=1)
    now_used = {unit: used(session, contract.customer_id, unit) for unit in (MAILBOX, DOMAIN)}
    for unit, items in _quantities(session, contract, before).items():
        for code, quantity in items.items():
            if quantity == now_used[unit]:
                continue
            ending = [
                sub
                for sub in contracts.list_subscriptions(session, contract)
                if sub.item_code == code and _active(sub, before)
            ]
            for sub in ending:
                sub.end_date = before
            if now_used[unit] == 0:
                continue
            contracts.add_subscription(  # the negotiated unit price carries over
                session,
                contract,
                SubscriptionIn(
                    item_code=code,
                    quantity=now_used[unit],
                    unit_price_mrc=ending[-1].unit_price_mrc,
                    unit_price_nrc=Decimal("0"),
                    start_date=term_start,
                ),
            )
    session.add(
        LicenceRecount(
            customer_id=contract.customer_id,
            contract_id=contract.id,
            term_start=term_start,
            mailboxes=now_used[MAILBOX],
            domains=now_used[DOMAIN],
        )
    )
    session.flush()
    return True


def recount_due(session: Session, as_of: date) -> list[str]:
    """Scheduler job: every live mail contract whose renewal term has started and whose terms
    say to recount (CTR-04) gets its recount; the references of those recounted."""
    done = []
    for contract in session.scalars(select(Contract).where(Contract.status.in_(LIVE))):
        if not is_mail_contract(contract):
            continue
        if not contracts.terms_of(contract).commitment.recount_at_renewal:
            continue
        current = contracts.contract_schedule(contract, as_of)
        if current is None or current.term_number < 1:
            continue
        if recount_at_renewal(session, contract, current.term_start):
            done.append(contract.reference)
    return done
