"""``operateur orders``: place, list, accept and refuse orders (CTR-12)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import typer

from operateur.catalog.terms import OrderRefusal
from operateur.cli_support import lang, print_json, reports_errors, unit_of_work
from operateur.errors import InvalidInput
from operateur.i18n import Text
from operateur.orders import service
from operateur.orders.models import Order, OrderChannel, OrderStatus
from operateur.orders.schemas import OrderIn, OrderOut, SubscriptionItem

app = typer.Typer(help="Orders placed by customers, reviewed by staff.", no_args_is_help=True)

DateOption = Annotated[
    datetime | None, typer.Option("--on", formats=["%Y-%m-%d"], help="Default: today")
]


def _row(order: Order) -> dict[str, Any]:
    return OrderOut.model_validate(order).model_dump(mode="json")


def _items(specs: list[str]) -> list[SubscriptionItem]:
    items = []
    for spec in specs:
        code, _, qty = spec.partition("=")
        if not code or (qty and not qty.isdigit()):
            raise InvalidInput(
                Text(fr="Article attendu sous la forme CODE=QTE.", en="Expected CODE=QTY."),
                field="item",
            )
        items.append(SubscriptionItem(item_code=code, quantity=int(qty or 1)))
    return items


@app.command("place")
@reports_errors
def place(
    customer: Annotated[int, typer.Option(help="Customer id")],
    offer: Annotated[str | None, typer.Option(help="A new contract on this offer")] = None,
    contract: Annotated[int | None, typer.Option(help="Or additions to this contract")] = None,
    item: Annotated[list[str] | None, typer.Option(help="CODE=QTY (repeat)")] = None,
    signatory: Annotated[str | None, typer.Option(help="Who signs the order")] = None,
    channel: Annotated[OrderChannel, typer.Option(help="How it was received")] = (
        OrderChannel.ORDER_FORM
    ),
    trial: Annotated[bool, typer.Option(help="Free trial before signature")] = False,
) -> None:
    """Record an order received from a customer."""
    data = OrderIn(
        offer_id=offer,
        contract_id=contract,
        channel=channel,
        signatory=signatory,
        trial=trial,
        items=list(_items(item or [])),
    )
    with unit_of_work("orders place") as session:
        order = service.place(session, customer, data)
        reference = order.reference
    typer.echo(
        Text(fr="Commande {ref} reçue.", en="Order {ref} received.").render(lang(), ref=reference)
    )


@app.command("list")
@reports_errors
def list_orders(
    customer: Annotated[int | None, typer.Option(help="One customer's orders")] = None,
    status: Annotated[OrderStatus | None, typer.Option(help="Only this status")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON")] = False,
) -> None:
    """Orders, oldest first (every customer's, or one customer's)."""
    with unit_of_work() as session:
        orders = (
            service.list_orders(session, customer)
            if customer is not None
            else service.queue(session, None, status)
        )
        rows = [_row(o) for o in orders if status is None or o.status is status]
    if as_json:
        print_json(rows)
        return
    for row in rows:
        typer.echo(
            f"{row['id']}\t{row['reference']}\t{row['customer_id']}\t{row['offer_id']}\t"
            f"{row['status']}"
        )


@app.command("show")
@reports_errors
def show(order_id: int) -> None:
    """An order in JSON."""
    with unit_of_work() as session:
        row = _row(service.order_by_id(session, order_id))
    print_json(row)


@app.command("accept")
@reports_errors
def accept(order_id: int, on: DateOption = None) -> None:
    """Accept an order: the contract is created or changed."""
    day = on.date() if on else datetime.now().date()
    with unit_of_work("orders accept") as session:
        contract = service.accept(session, service.order_by_id(session, order_id), day)
        reference = contract.reference
    typer.echo(
        Text(fr="Commande acceptée : contrat {ref}.", en="Order accepted: contract {ref}.").render(
            lang(), ref=reference
        )
    )


@app.command("refuse")
@reports_errors
def refuse(
    order_id: int,
    reason: Annotated[OrderRefusal, typer.Option(help="A refusal cause of the terms")],
    detail: Annotated[str, typer.Option(help="What is missing or wrong")] = "",
    on: DateOption = None,
) -> None:
    """Refuse an order for a cause the terms list."""
    day = on.date() if on else datetime.now().date()
    with unit_of_work("orders refuse") as session:
        service.refuse(session, service.order_by_id(session, order_id), reason, detail, day)
    typer.echo(Text(fr="Commande refusée.", en="Order refused.").render(lang()))
