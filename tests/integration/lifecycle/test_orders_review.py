"""The operator's review of orders (CTR-12): unpaid debts found automatically, legal entities
only where the terms say so, acceptance creating the contract through the contracts services."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from operateur.billing import invoicing
from operateur.catalog.terms import OrderRefusal
from operateur.contracts import service as contracts
from operateur.contracts.models import ContractStatus, Equipment, EquipmentStatus
from operateur.domain.calendar import PARIS
from operateur.errors import InvalidInput
from operateur.notifications.models import OutboxMessage
from operateur.numbers import service as numbers
from operateur.numbers.models import NumberTier
from operateur.orders import service as orders
from operateur.orders.models import OrderChannel, OrderStatus
from operateur.orders.schemas import (
    EquipmentItem,
    LineItem,
    NumberItem,
    OrderIn,
    SubscriptionItem,
)
from tests.integration.conftest import Builder


# SPEC: CTR-12
def test_unpaid_debts_are_found_and_justify_a_refusal(
    build: Builder, session: Session, session_factory: sessionmaker[Session]
) -> None:
    customer = build.customer()
    contract = build.contract(customer, "centrex", date(2026, 1, 5), [("centrex.line", 1)])
    session.commit()
    invoicing.run_period(session_factory, build.operator_id, "2026-01")
    session.expire_all()
    # the January invoice (31 January) was due on 10 February; on 3 March it is still unpaid
    order = orders.place(
        session,
        customer.id,
        OrderIn(contract_id=contract.id, items=[SubscriptionItem(item_code="centrex.line")]),
        on=datetime(2026, 3, 3, 10, tzinfo=PARIS),
    )
    [debt] = order.checks["overdue_invoices"]
    assert debt["due_date"] == "2026-02-10"
    orders.refuse(session, order, OrderRefusal.UNPAID_DEBTS, "", date(2026, 3, 4))
    assert (order.status, order.refusal_reason) == (OrderStatus.REFUSED, "unpaid_debts")
    refused = session.scalars(
        select(OutboxMessage).where(OutboxMessage.event == "order.refused")
    ).first()
    assert refused is not None
    assert "impayés non justifiés" in refused.body and debt["number"] in refused.body


# SPEC: CTR-12
def test_only_legal_entities_and_no_oral_order_where_the_terms_say_so(
    build: Builder, session: Session
) -> None:
    foreign = build.customer(country="BE", vat_number="BE0403170701")
    with pytest.raises(InvalidInput) as refused:
        # [002 §4.1] the CPaaS offer is reserved to registered legal entities
        orders.place(session, foreign.id, OrderIn(offer_id="cpaas"))
    assert refused.value.field == "customer"
    customer = build.customer()
    # [001 §4] the Centrex terms accept an order by phone (recorded consent)
    phoned = orders.place(
        session,
        customer.id,
        OrderIn(
            offer_id="centrex",
            channel=OrderChannel.PHONE,
            items=[SubscriptionItem(item_code="centrex.line")],
        ),
    )
    assert phoned.status is OrderStatus.RECEIVED


# SPEC: CTR-12, CTR-02, CTR-10
def test_accepting_a_new_contract_order_creates_and_signs_it(
    build: Builder, session: Session
) -> None:
    customer = build.customer()
    numbers.add_to_stock(session, ["+33199000042"], NumberTier.STANDARD)
    numbers.record_address_proof(
        session,
        customer,
        document="kbis",
        reference="KBIS-1",
        received_on=date(2026, 4, 1),
        checked_by="test",
    )
    order = orders.place(
        session,
        customer.id,
        OrderIn(
            offer_id="centrex",
            signatory="Mme Martin, gérante",
            channel=OrderChannel.ORDER_FORM,
            items=[
                SubscriptionItem(item_code="centrex.line", quantity=2),
                LineItem(kind="centrex", label="Accueil"),
                NumberItem(kind="geographic", line_label="Accueil"),
                EquipmentItem(
                    model="Yealink T54W",
                    mode="provision",
                    value=Decimal("120.00"),
                    item_code="centrex.terminal_provision",
                ),
            ],
        ),
    )
    contract = orders.accept(session, order, date(2026, 4, 7))
    # [001 §10] the commitment starts at acceptance: signed by the order's signatory that day
    assert contract.status is ContractStatus.SIGNED
    assert contract.signed_at is not None and contract.signed_at.date() == date(2026, 4, 7)
    plan = contracts.contract_schedule(contract, date(2026, 4, 7))
    assert plan is not None and plan.term_end == date(2029, 4, 6)
    subs = contracts.list_subscriptions(session, contract)
    assert [(s.item_code, s.quantity, s.start_date) for s in subs] == [
        ("centrex.line", 2, None),  # billed from activation
        ("centrex.terminal_provision", 1, None),
    ]
    [line] = contracts.list_lines(session, customer.id)
    [number] = numbers.list_customer_numbers(session, customer.id)
    assert number.line_id == line.id
    device = session.scalars(select(Equipment).where(Equipment.contract_id == contract.id)).one()
    assert (device.status, device.mode.value, device.subscription_id) == (
        EquipmentStatus.IN_STOCK,
        "provision",
        subs[1].id,
    )
    contracts.activate(session, contract, date(2026, 4, 14))
    assert [s.start_date for s in contracts.list_subscriptions(session, contract)] == [
        date(2026, 4, 14),
        date(2026, 4, 14),
    ]
