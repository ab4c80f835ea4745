"""Use cases of orders (CTR-12). Each takes a session and commits nothing.

An order is firm once received where the terms say so [004 §1.5.1]: the customer cannot
withdraw it, only the operator can refuse it after its review, and only for a cause the terms
list (false declaration, identity theft, missing documents, unjustified unpaid debts [001 §3],
infeasibility [004 §1.5.1]); where it is not firm the operator is not bound before acceptance
and the customer may withdraw it. Oral orders are refused where the terms exclude them, and
orders from anyone but a legal entity where the terms require one [002 §4.1]. The operator may
ask for a deposit or a guarantee before accepting [002 §6.6]. Accepting a new-contract order
creates the contract through the contracts services — signed by the order's signatory, or in
free trial before signature where the terms give one [002 §6.2]; accepting a change order adds
its items to the contract.
"""

from __future__ import annotations

from datetime import date, datetime, time
from decimal import Decimal
from typing import Any

from pydantic import TypeAdapter
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from operateur.accounts.audit import actor_of
from operateur.accounts.models import Customer
from operateur.billing import payments
from operateur.catalog.service import get_offer
from operateur.catalog.terms import ContractTerms, OrderRefusal, PriceItem, PriceKind
from operateur.contracts import lifecycle, notices
from operateur.contracts import service as contracts
from operateur.contracts.models import Contract, ContractStatus, Equipment, EquipmentStatus
from operateur.contracts.schemas import LineIn, SubscriptionIn
from operateur.db import utcnow
from operateur.domain.calendar import PARIS
from operateur.domain.identifiers import new_reference
from operateur.errors import Conflict, InvalidInput, NotFound
from operateur.i18n import Text
from operateur.notifications.service import notify
from operateur.numbers import service as numbers
from operateur.orders.models import Order, OrderChannel, OrderStatus
from operateur.orders.schemas import (
    EquipmentItem,
    LineItem,
    NumberItem,
    OrderIn,
    OrderItem,
    SubscriptionItem,
)

ITEMS: TypeAdapter[list[OrderItem]] = TypeAdapter(list[OrderItem])

REFUSALS: dict[OrderRefusal, Text] = {
    OrderRefusal.FALSE_DECLARATION: Text(fr="fausse déclaration", en="false declaration"),
    OrderRefusal.IDENTITY_THEFT: Text(fr="usurpation d'identité", en="identity theft"),
    OrderRefusal.MISSING_DOCUMENTS: Text(fr="pièces manquantes", en="missing documents"),
    OrderRefusal.UNPAID_DEBTS: Text(fr="impayés non justifiés", en="unjustified unpaid debts"),
    OrderRefusal.INFEASIBLE: Text(
        fr="infaisabilité technique après étude", en="not feasible after a feasibility study"
    ),
}


# --- reading ---------------------------------------------------------------------------------


def get_order(session: Session, customer_id: int, order_id: int) -> Order:
    order = session.scalar(
        select(Order).where(Order.id == order_id, Order.customer_id == customer_id)
    )
    if order is None:
        raise NotFound(
            Text(fr="Commande {id} introuvable.", en="Order {id} not found."),
            code="order_not_found",
            details={"id": order_id},
        )
    return order


def order_by_id(session: Session, order_id: int) -> Order:
    """Any customer's order (staff tools: the CLI)."""
    order = session.get(Order, order_id)
    if order is None:
        raise NotFound(
            Text(fr="Commande {id} introuvable.", en="Order {id} not found."),
            code="order_not_found",
            details={"id": order_id},
        )
    return order


def list_orders(session: Session, customer_id: int) -> list[Order]:
    return list(
        session.scalars(
            select(Order).where(Order.customer_id == customer_id).order_by(Order.id.desc())
        )
    )


def queue(
    session: Session, operator_id: int | None, status: OrderStatus | None = None
) -> list[Order]:
    """Orders of the operator's customers (staff), oldest first."""
    stmt = select(Order).join(Customer, Customer.id == Order.customer_id)
    if operator_id is not None:
        stmt = stmt.where(Customer.operator_id == operator_id)
    if status is not None:
        stmt = stmt.where(Order.status == status)
    return list(session.scalars(stmt.order_by(Order.id)))


def last_order_on(session: Session, customer_id: int) -> date | None:
    """The day (Paris) of the customer's latest order, for inactivity (CTR-08)."""
    at = session.scalar(
        select(func.max(Order.received_at)).where(
            Order.customer_id == customer_id, Order.status != OrderStatus.WITHDRAWN
        )
    )
    return at.astimezone(PARIS).date() if at is not None else None


def overdue_invoices(session: Session, customer_id: int, on: date) -> list[dict[str, Any]]:
    """The customer's invoices past their due date and not fully paid (CTR-12 unpaid debts)."""
    return [
        {
            "number": invoice.number,
            "due_date": invoice.due_date.isoformat(),
            "outstanding": str(payments.outstanding(invoice)),
        }
        for invoice in payments.open_invoices(session, customer_id)
        if invoice.due_date < on and payments.outstanding(invoice) > 0
    ]


def items_of(order: Order) -> list[OrderItem]:
    return ITEMS.validate_python(order.items)


# --- placing ---------------------------------------------------------------------------------


Target = tuple[ContractTerms, list[PriceItem], str, Contract | None]


def _terms(session: Session, customer_id: int, data: OrderIn) -> Target:
    """The terms, price list and offer the order is read against, and its contract if any."""
    if (data.offer_id is None) == (data.contract_id is None):
        raise InvalidInput(
            Text(
                fr="Indiquez une offre (nouveau contrat) ou un contrat (ajout), pas les deux.",
                en="Give an offer (new contract) or a contract (additions), not both.",
            ),
            field="offer_id",
        )
    if data.contract_id is not None:
        contract = contracts.get_contract(session, customer_id, data.contract_id)
        contracts.require_state(contract, "order on", contracts.OPEN_STATES)
        terms, prices = contracts.terms_of(contract), contracts.prices_of(contract)
        return terms, prices, contract.offer_id, contract
    assert data.offer_id is not None
    offer = get_offer(data.offer_id)
    return offer.terms, list(offer.prices), offer.id, None


def _check_items(terms: ContractTerms, prices: list[PriceItem], items: list[OrderItem]) -> None:
    codes = {p.code: p for p in prices}
    for index, item in enumerate(items):
        code = getattr(item, "item_code", None)
        if code is not None and (code not in codes or codes[code].kind is PriceKind.PER_UNIT):
            raise InvalidInput(
                Text(
                    fr="Article {code} absent des abonnements et frais de l'offre.",
                    en="Item {code} is not a subscription or fee of the offer.",
                ),
                field=f"items.{index}.item_code",
                details={"code": code},
            )
        if isinstance(item, EquipmentItem):
            modes = {m.value for m in terms.equipment.modes} if terms.equipment else set()
            if item.mode.value not in modes:
                raise InvalidInput(
                    Text(
                        fr="L'offre ne fournit pas de matériel en mode {mode}.",
                        en="The offer provides no equipment in {mode} mode.",
                    ),
                    field=f"items.{index}.mode",
                    details={"mode": item.mode.value},
                )


def place(session: Session, customer_id: int, data: OrderIn, on: datetime | None = None) -> Order:
    """Receive an order: checked against the offer's order terms, then firm where they say so."""
    customer = session.get(Customer, customer_id)
    assert customer is not None
    terms, prices, offer_id, contract = _terms(session, customer_id, data)
    rules = terms.orders
    if data.channel is OrderChannel.PHONE and not rules.oral_orders_accepted:
        raise InvalidInput(
            Text(
                fr="Les conditions de l'offre n'acceptent pas les commandes orales.",
                en="The offer's terms accept no oral order.",
            ),
            field="channel",
        )
    if rules.legal_entities_only and not customer.siren:
        raise InvalidInput(
            Text(
                fr="L'offre est réservée aux personnes morales immatriculées (SIREN).",
                en="The offer is reserved to registered legal entities (SIREN).",
            ),
            field="customer",
        )
    if data.trial and (contract is not None or not rules.free_trial_before_signature):
        raise InvalidInput(
            Text(
                fr="Un essai gratuit ne s'applique qu'à un nouveau contrat d'une offre qui le "
                "prévoit.",
                en="A free trial only applies to a new contract of an offer that provides one.",
            ),
            field="trial",
        )
    if contract is not None and not data.items:
        raise InvalidInput(
            Text(fr="La commande est vide.", en="The order is empty."), field="items"
        )
    _check_items(terms, prices, data.items)
    received_at = on or utcnow()
    order = Order(
        reference=new_reference("CMD"),
        customer_id=customer_id,
        offer_id=offer_id,
        contract_id=contract.id if contract else None,
        new_contract=contract is None,
        channel=data.channel,
        placed_by=actor_of(session).label,
        signatory=data.signatory,
        items=[item.model_dump(mode="json") for item in data.items],
        trial=data.trial,
        status=OrderStatus.RECEIVED,
        received_at=received_at,
        checks={
            "firm": rules.firm_on_receipt,
            "overdue_invoices": overdue_invoices(
                session, customer_id, received_at.astimezone(PARIS).date()
            ),
        },
    )
    session.add(order)
    session.flush()
    firm = (
        Text(
            fr="Elle est ferme dès sa réception : elle ne peut plus être annulée.",
            en="It is firm from its receipt: it can no longer be cancelled.",
        )
        if rules.firm_on_receipt
        else Text(
            fr="Vous pouvez la retirer tant que nous ne l'avons pas acceptée.",
            en="You may withdraw it until we accept it.",
        )
    )
    _tell(
        session,
        order,
        "order.received",
        Text(fr=f"Commande {order.reference} reçue", en=f"Order {order.reference} received"),
        notices.join(
            Text(
                fr=f"Nous avons reçu le {notices.fr(received_at.astimezone(PARIS).date())} votre "
                f"commande {order.reference} ({len(data.items)} article(s)).",
                en=f"We received your order {order.reference} on "
                f"{notices.en(received_at.astimezone(PARIS).date())} ({len(data.items)} "
                "item(s)).",
            ),
            firm,
        ),
    )
    return order


def _tell(session: Session, order: Order, event: str, subject: Text, body: Text) -> None:
    notify(
        session,
        order.customer_id,
        event=event,
        subject=subject,
        body=notices.join(body, notices.FOOTER),
        data={
            "key": f"{event}:{order.id}",
            "order": order.reference,
            "order_id": order.id,
            "status": order.status.value,
        },
    )


def _decided(session: Session, order: Order, status: OrderStatus) -> None:
    order.status = status
    order.decided_at = utcnow()
    order.decided_by = actor_of(session).label


def _terms_of_order(session: Session, order: Order) -> ContractTerms:
    if order.contract_id is not None:
        contract = session.get(Contract, order.contract_id)
        assert contract is not None
        return contracts.terms_of(contract)
    return get_offer(order.offer_id).terms


def _require(order: Order, action: str, *allowed: OrderStatus) -> None:
    if order.status not in allowed:
        raise Conflict(
            Text(
                fr="Commande {ref} : « {action} » impossible dans l'état {status}.",
                en="Order {ref}: '{action}' is not possible in state {status}.",
            ),
            code="order_state",
            details={"ref": order.reference, "action": action, "status": order.status.value},
        )


# --- the customer's side ---------------------------------------------------------------------


def withdraw(session: Session, order: Order) -> Order:
    """The customer withdraws an order that is not firm yet."""
    _require(order, "withdraw", OrderStatus.RECEIVED, OrderStatus.AWAITING_DEPOSIT)
    if _terms_of_order(session, order).orders.firm_on_receipt:
        raise Conflict(
            Text(
                fr="La commande {ref} est ferme depuis sa réception : elle ne peut être annulée.",
                en="Order {ref} is firm since its receipt: it cannot be cancelled.",
            ),
            code="order_firm",
            details={"ref": order.reference},
        )
    _decided(session, order, OrderStatus.WITHDRAWN)
    session.flush()
    return order


# --- the operator's review -------------------------------------------------------------------


def require_deposit(session: Session, order: Order, amount: Decimal, reason: str) -> Order:
    """CTR-12 [002 §6.6] access conditional on a deposit or a financial guarantee."""
    _require(order, "require a deposit", OrderStatus.RECEIVED)
    if not _terms_of_order(session, order).orders.deposit_may_be_required:
        raise Conflict(
            Text(
                fr="Les conditions de l'offre ne prévoient pas de dépôt de garantie.",
                en="The offer's terms provide no deposit.",
            ),
            code="no_deposit_clause",
        )
    order.deposit_required = amount
    order.status = OrderStatus.AWAITING_DEPOSIT
    session.flush()
    money = notices.eur(amount)
    _tell(
        session,
        order,
        "order.deposit_required",
        Text(
            fr=f"Commande {order.reference} : dépôt de garantie demandé",
            en=f"Order {order.reference}: deposit required",
        ),
        Text(
            fr=f"Votre commande {order.reference} sera traitée après le versement d'un dépôt de "
            f"garantie de {money.fr}, non productif d'intérêts, ou la fourniture d'une garantie "
            f"financière équivalente. Motif : {reason}.",
            en=f"Your order {order.reference} will be processed once a deposit of {money.en} "
            f"(bearing no interest) or an equivalent financial guarantee is provided. Reason: "
            f"{reason}.",
        ),
    )
    return order


def record_deposit(session: Session, order: Order, received_on: date, reference: str) -> Order:
    _require(order, "record a deposit", OrderStatus.AWAITING_DEPOSIT)
    order.deposit_received_on = received_on
    order.deposit_reference = reference
    order.status = OrderStatus.RECEIVED
    session.flush()
    return order


def refuse(session: Session, order: Order, reason: OrderRefusal, detail: str, on: date) -> Order:
    """Refuse an order for one of the causes of the terms; unpaid debts must be real."""
    _require(order, "refuse", OrderStatus.RECEIVED, OrderStatus.AWAITING_DEPOSIT)
    rules = _terms_of_order(session, order).orders
    if rules.firm_on_receipt and reason not in rules.refusal_reasons:
        raise InvalidInput(
            Text(
                fr="Commande ferme : refus possible seulement pour {allowed}.",
                en="Firm order: it may only be refused for {allowed}.",
            ),
            field="reason",
            details={"allowed": ", ".join(r.value for r in rules.refusal_reasons) or "—"},
        )
    debts = overdue_invoices(session, order.customer_id, on)
    if reason is OrderRefusal.UNPAID_DEBTS and not debts:
        raise Conflict(
            Text(
                fr="Aucune facture échue impayée : le refus pour impayés n'est pas justifié.",
                en="No overdue unpaid invoice: a refusal for unpaid debts is not justified.",
            ),
            code="no_unpaid_debt",
            field="reason",
        )
    _decided(session, order, OrderStatus.REFUSED)
    order.refusal_reason = reason.value
    order.refusal_detail = detail
    if debts:
        order.checks = order.checks | {"overdue_invoices_at_review": debts}
    session.flush()
    cause = REFUSALS[reason]
    listed = ", ".join(f"{d['number']} ({d['outstanding']} €)" for d in debts)
    debt_text = (
        Text(fr=f" Factures impayées : {listed}.", en=f" Unpaid invoices: {listed}.")
        if reason is OrderRefusal.UNPAID_DEBTS
        else Text(fr="", en="")
    )
    _tell(
        session,
        order,
        "order.refused",
        Text(fr=f"Commande {order.reference} refusée", en=f"Order {order.reference} refused"),
        Text(
            fr=f"Nous ne pouvons donner suite à votre commande {order.reference} : {cause.fr}."
            + (f" {detail}" if detail else "")
            + debt_text.fr,
            en=f"We cannot proceed with your order {order.reference}: {cause.en}."
            + (f" {detail}" if detail else "")
            + debt_text.en,
        ),
    )
    return order


def accept(session: Session, order: Order, on: date) -> Contract:
    """Accept the order: create the contract (signed, or in free trial) or change it."""
    _require(order, "accept", OrderStatus.RECEIVED)
    if order.deposit_required is not None and order.deposit_received_on is None:
        raise Conflict(
            Text(fr="Le dépôt de garantie n'est pas reçu.", en="The deposit is not received."),
            code="deposit_missing",
        )
    customer = session.get(Customer, order.customer_id)
    assert customer is not None
    if order.new_contract:
        contract = contracts.create_contract(session, customer, order.offer_id, {})
    else:
        assert order.contract_id is not None
        contract = contracts.get_contract(session, order.customer_id, order.contract_id)
    _add_items(session, customer, contract, items_of(order), on)
    if order.new_contract and order.trial:
        lifecycle.start_trial(session, contract, on=on)
    elif order.new_contract and order.signatory:
        contracts.sign(
            session,
            contract,
            order.signatory,
            datetime.combine(on, time(12), tzinfo=PARIS),
        )
    order.contract_id = contract.id
    _decided(session, order, OrderStatus.ACCEPTED)
    session.flush()
    state = {
        ContractStatus.DRAFT: Text(
            fr="Le contrat est prêt à être signé.", en="The contract is ready for signature."
        ),
        ContractStatus.TRIAL: Text(
            fr="Votre accès d'essai gratuit est ouvert.", en="Your free trial access is open."
        ),
        ContractStatus.SIGNED: Text(
            fr="Le contrat est signé ; nous vous informerons de la mise en service.",
            en="The contract is signed; we will tell you when the service is activated.",
        ),
    }.get(
        contract.status,
        Text(fr="Les éléments sont ajoutés au contrat.", en="The items are added to the contract."),
    )
    _tell(
        session,
        order,
        "order.accepted",
        Text(fr=f"Commande {order.reference} acceptée", en=f"Order {order.reference} accepted"),
        Text(
            fr=f"Votre commande {order.reference} est acceptée le {notices.fr(on)} (contrat "
            f"{contract.reference}). {state.fr}",
            en=f"Your order {order.reference} is accepted on {notices.en(on)} (contract "
            f"{contract.reference}). {state.en}",
        ),
    )
    return contract


def _add_items(
    session: Session, customer: Customer, contract: Contract, items: list[OrderItem], on: date
) -> None:
    """Create the ordered objects through the contracts and numbers services."""
    start = None if contract.status in (ContractStatus.DRAFT, ContractStatus.SIGNED) else on
    lines: dict[str, int] = {}
    for item in items:
        if isinstance(item, SubscriptionItem):
            contracts.add_subscription(
                session,
                contract,
                SubscriptionIn(item_code=item.item_code, quantity=item.quantity, start_date=start),
            )
        elif isinstance(item, LineItem):
            line = contracts.create_line(
                session,
                customer.id,
                LineIn(contract_id=contract.id, kind=item.kind, label=item.label),
            )
            lines[item.label] = line.id
    for item in items:
        if isinstance(item, NumberItem):
            numbers.assign_random(
                session,
                customer,
                kind=item.kind,
                tier=item.tier,
                line_id=lines.get(item.line_label) if item.line_label else None,
            )
        elif isinstance(item, EquipmentItem):
            fee = (
                contracts.add_subscription(
                    session,
                    contract,
                    SubscriptionIn(item_code=item.item_code, quantity=1, start_date=start),
                )
                if item.item_code
                else None
            )
            count = session.scalar(
                select(func.count(Equipment.id)).where(Equipment.contract_id == contract.id)
            )
            session.add(
                Equipment(
                    customer_id=customer.id,
                    contract_id=contract.id,
                    serial=f"{contract.reference}-EQ{(count or 0) + 1}",
                    model=item.model,
                    mode=item.mode,
                    value=item.value,
                    status=EquipmentStatus.IN_STOCK,
                    subscription_id=fee.id if fee else None,
                    notes="ordered; serial to be replaced by the device's at delivery",
                )
            )
            session.flush()
