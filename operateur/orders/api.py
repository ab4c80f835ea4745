"""REST endpoints of orders: placed below the customer, reviewed by the operator's staff."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, status

from operateur.accounts.permissions import Actor, Permission
from operateur.http.deps import SessionDep, require
from operateur.orders import service
from operateur.orders.models import OrderStatus
from operateur.orders.schemas import (
    AcceptIn,
    DepositIn,
    DepositReceivedIn,
    OrderIn,
    OrderOut,
    RefuseIn,
)

router = APIRouter(tags=["orders"])

Reader = Annotated[Actor, require(Permission.CONTRACTS_READ)]
Placer = Annotated[Actor, require(Permission.ORDERS_PLACE)]
Reviewer = Annotated[Actor, require(Permission.ORDERS_REVIEW)]
BASE = "/customers/{customer_id}/orders"


@router.get("/orders", response_model=list[OrderOut])
def order_queue(
    actor: Reviewer, session: SessionDep, status: OrderStatus | None = None
) -> list[OrderOut]:
    """The orders of the operator's customers, oldest first (staff review queue)."""
    return [OrderOut.model_validate(o) for o in service.queue(session, actor.operator_id, status)]


@router.get(BASE, response_model=list[OrderOut])
def list_orders(customer_id: int, actor: Reader, session: SessionDep) -> list[OrderOut]:
    return [OrderOut.model_validate(o) for o in service.list_orders(session, customer_id)]


@router.post(BASE, response_model=OrderOut, status_code=status.HTTP_201_CREATED)
def place_order(customer_id: int, body: OrderIn, actor: Placer, session: SessionDep) -> OrderOut:
    """Place an order: a new contract from an offer, or items added to a contract (CTR-12)."""
    return OrderOut.model_validate(service.place(session, customer_id, body))


@router.get(BASE + "/{order_id}", response_model=OrderOut)
def get_order(customer_id: int, order_id: int, actor: Reader, session: SessionDep) -> OrderOut:
    return OrderOut.model_validate(service.get_order(session, customer_id, order_id))


@router.post(BASE + "/{order_id}/withdraw", response_model=OrderOut)
def withdraw_order(customer_id: int, order_id: int, actor: Placer, session: SessionDep) -> OrderOut:
    """Withdraw an order that is not firm yet (refused for a firm order)."""
    order = service.get_order(session, customer_id, order_id)
    return OrderOut.model_validate(service.withdraw(session, order))


@router.post(BASE + "/{order_id}/accept", response_model=OrderOut)
def accept_order(
    customer_id: int, order_id: int, body: AcceptIn, actor: Reviewer, session: SessionDep
) -> OrderOut:
    order = service.get_order(session, customer_id, order_id)
    service.accept(session, order, body.on or date.today())
    return OrderOut.model_validate(order)


@router.post(BASE + "/{order_id}/refuse", response_model=OrderOut)
def refuse_order(
    customer_id: int, order_id: int, body: RefuseIn, actor: Reviewer, session: SessionDep
) -> OrderOut:
    order = service.get_order(session, customer_id, order_id)
    return OrderOut.model_validate(
        service.refuse(session, order, body.reason, body.detail, date.today())
    )


@router.post(BASE + "/{order_id}/deposit", response_model=OrderOut)
def require_deposit(
    customer_id: int, order_id: int, body: DepositIn, actor: Reviewer, session: SessionDep
) -> OrderOut:
    order = service.get_order(session, customer_id, order_id)
    return OrderOut.model_validate(
        service.require_deposit(session, order, body.amount, body.reason)
    )


@router.post(BASE + "/{order_id}/deposit-received", response_model=OrderOut)
def deposit_received(
    customer_id: int,
    order_id: int,
    body: DepositReceivedIn,
    actor: Reviewer,
    session: SessionDep,
) -> OrderOut:
    order = service.get_order(session, customer_id, order_id)
    return OrderOut.model_validate(
        service.record_deposit(session, order, body.received_on, body.reference)
    )
