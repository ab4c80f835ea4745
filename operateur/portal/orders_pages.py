"""Orders in the portal (CTR-12, PORTAL-01): customers order new lines, options, numbers or a
new contract by ticking the acceptance box — the click is the order — and follow them; staff
review the queue and accept, refuse with one of the terms' causes, or ask for a deposit."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import Form, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.orm import Session

from operateur.accounts import service as accounts
from operateur.accounts.permissions import Actor, Permission
from operateur.catalog.service import list_offers
from operateur.catalog.terms import OrderRefusal, PriceKind
from operateur.contracts import service as contracts
from operateur.contracts.models import LineKind
from operateur.errors import InvalidInput
from operateur.http.deps import SessionDep
from operateur.i18n import Text
from operateur.numbers.models import NumberTier
from operateur.orders import service as orders
from operateur.orders.models import OrderChannel, OrderStatus
from operateur.orders.schemas import LineItem, NumberItem, OrderIn, SubscriptionItem
from operateur.portal.customer import _amount, space
from operateur.portal.render import render
from operateur.portal.security import allowed
from operateur.portal.web import act, now, portal_router, today

router = portal_router()

Reader = Annotated[Actor, allowed(Permission.CONTRACTS_READ)]
Placer = Annotated[Actor, allowed(Permission.ORDERS_PLACE)]
Reviewer = Annotated[Actor, allowed(Permission.ORDERS_REVIEW, staff_only=True)]

ACCEPTANCE = Text(
    fr="Je commande et j'accepte les conditions de l'offre : ce clic vaut commande ferme.",
    en="I order and accept the offer's terms: this click is a firm order.",
)


def _orderable(session: Session, customer_id: int) -> list[tuple[Any, list[Any]]]:
    """Each open contract with the items of its price list that can be ordered."""
    rows = []
    for contract in contracts.list_contracts(session, customer_id):
        if contract.status not in contracts.OPEN_STATES:
            continue
        items = [p for p in contracts.prices_of(contract) if p.kind is not PriceKind.PER_UNIT]
        rows.append((contract, items))
    return rows


@router.get("/customers/{customer_id}/orders", response_class=HTMLResponse)
def orders_page(customer_id: int, request: Request, actor: Reader, session: SessionDep) -> Response:
    return render(
        request,
        "orders/orders.html",
        space(
            session,
            actor,
            customer_id,
            orders=orders.list_orders(session, customer_id),
            orderable=_orderable(session, customer_id),
            offers=list_offers(),
            line_kinds=list(LineKind),
            tiers=list(NumberTier),
            may_place=actor.has(Permission.ORDERS_PLACE),
            may_review=actor.is_staff and actor.has(Permission.ORDERS_REVIEW),
            refusals=list(OrderRefusal),
            acceptance=ACCEPTANCE,
            today=today(request),
        ),
    )


def _accepted(flag: bool) -> None:
    if not flag:
        raise InvalidInput(
            Text(
                fr="Cochez la case d'acceptation pour passer commande.",
                en="Tick the acceptance box to place the order.",
            ),
            field="accept",
        )


@router.post("/customers/{customer_id}/orders")
def place_order(
    customer_id: int,
    request: Request,
    actor: Placer,
    session: SessionDep,
    contract_id: Annotated[str, Form(max_length=20)] = "",
    offer_id: Annotated[str, Form(max_length=50)] = "",
    item_code: Annotated[str, Form(max_length=64)] = "",
    quantity: Annotated[int, Form(ge=1, le=10_000)] = 1,
    line_kind: Annotated[str, Form(max_length=20)] = "",
    line_label: Annotated[str, Form(max_length=200)] = "",
    number_kind: Annotated[str, Form(max_length=20)] = "",
    number_tier: Annotated[NumberTier, Form()] = NumberTier.STANDARD,
    signatory: Annotated[str, Form(max_length=200)] = "",
    accept: Annotated[bool, Form()] = False,
) -> Response:
    """Place an order through the portal: the ticked acceptance is the order (PORTAL-01)."""
    back = f"/customers/{customer_id}/orders"

    def run() -> None:
        _accepted(accept)
        items: list[Any] = []
        if item_code:
            items.append(SubscriptionItem(item_code=item_code, quantity=quantity))
        if line_kind and line_label.strip():
            items.append(LineItem(kind=LineKind(line_kind), label=line_label.strip()))
        if number_kind:
            items.append(
                NumberItem(
                    kind=number_kind,
                    tier=number_tier,
                    line_label=line_label.strip() or None if line_kind else None,
                )
            )
        data = OrderIn(
            offer_id=offer_id or None,
            contract_id=int(contract_id) if contract_id.isdigit() else None,
            channel=OrderChannel.PORTAL,
            signatory=signatory.strip() or None,
            items=items,
        )
        orders.place(session, customer_id, data, now(request))

    return act(
        request,
        session,
        back=back,
        done=Text(fr="Commande reçue.", en="Order received."),
        run=run,
    )


@router.post("/customers/{customer_id}/orders/{order_id}/withdraw")
def withdraw(
    customer_id: int, order_id: int, request: Request, actor: Placer, session: SessionDep
) -> Response:
    order = orders.get_order(session, customer_id, order_id)
    return act(
        request,
        session,
        back=f"/customers/{customer_id}/orders",
        done=Text(fr="Commande retirée.", en="Order withdrawn."),
        run=lambda: orders.withdraw(session, order),
    )


# --- the operator's review -------------------------------------------------------------------


@router.get("/staff/orders", response_class=HTMLResponse)
def queue_page(
    request: Request, actor: Reviewer, session: SessionDep, all: bool = False
) -> Response:
    rows = orders.queue(session, actor.operator_id, None if all else OrderStatus.RECEIVED)
    if not all:
        rows += orders.queue(session, actor.operator_id, OrderStatus.AWAITING_DEPOSIT)
    names = {c.id: c.name for c in accounts.list_customers(session, actor.operator_id)}
    return render(
        request,
        "orders/queue.html",
        {
            "rows": [(o, names.get(o.customer_id, "")) for o in rows],
            "refusals": list(OrderRefusal),
            "today": today(request),
            "show_all": all,
        },
    )


def _review(
    request: Request,
    session: Session,
    customer_id: int,
    order_id: int,
    done: Text,
    run: Any,
    note: str = "",
) -> Response:
    """A decision on an order, its reference and the reviewer's note in the audit log."""
    order = orders.get_order(session, customer_id, order_id)
    return act(
        request,
        session,
        back="/staff/orders",
        done=done,
        run=lambda: run(order),
        reason=f"order {order.reference}" + (f": {note.strip()}" if note.strip() else ""),
    )


@router.post("/customers/{customer_id}/orders/{order_id}/accept")
def accept_order(
    customer_id: int,
    order_id: int,
    request: Request,
    actor: Reviewer,
    session: SessionDep,
    on: Annotated[date | None, Form()] = None,
    note: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    return _review(
        request,
        session,
        customer_id,
        order_id,
        Text(fr="Commande acceptée.", en="Order accepted."),
        lambda order: orders.accept(session, order, on or today(request)),
        note,
    )


@router.post("/customers/{customer_id}/orders/{order_id}/refuse")
def refuse_order(
    customer_id: int,
    order_id: int,
    request: Request,
    actor: Reviewer,
    session: SessionDep,
    reason: Annotated[OrderRefusal, Form()],
    detail: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    return _review(
        request,
        session,
        customer_id,
        order_id,
        Text(fr="Commande refusée.", en="Order refused."),
        lambda order: orders.refuse(session, order, reason, detail, today(request)),
        f"{reason.value} {detail}",
    )


@router.post("/customers/{customer_id}/orders/{order_id}/deposit")
def require_deposit(
    customer_id: int,
    order_id: int,
    request: Request,
    actor: Reviewer,
    session: SessionDep,
    amount: Annotated[str, Form(max_length=30)],
    reason: Annotated[str, Form(min_length=1, max_length=2000)],
) -> Response:
    return _review(
        request,
        session,
        customer_id,
        order_id,
        Text(fr="Dépôt de garantie demandé.", en="Deposit required."),
        lambda order: orders.require_deposit(session, order, _amount(amount, "amount"), reason),
    )


@router.post("/customers/{customer_id}/orders/{order_id}/deposit-received")
def deposit_received(
    customer_id: int,
    order_id: int,
    request: Request,
    actor: Reviewer,
    session: SessionDep,
    reference: Annotated[str, Form(min_length=1, max_length=100)],
) -> Response:
    return _review(
        request,
        session,
        customer_id,
        order_id,
        Text(fr="Dépôt reçu.", en="Deposit received."),
        lambda order: orders.record_deposit(session, order, today(request), reference),
    )
