"""Tables of the orders context."""

from __future__ import annotations

import enum
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, Boolean, Date, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from operateur.accounts.models import Audited
from operateur.db import Base, Money, StrEnumType, UTCDateTime, utcnow


class OrderStatus(enum.StrEnum):
    RECEIVED = "received"  # waiting for the operator's review
    AWAITING_DEPOSIT = "awaiting_deposit"  # CTR-12 [002 §6.6] a deposit or guarantee first
    ACCEPTED = "accepted"  # the contract objects were created or changed
    REFUSED = "refused"  # CTR-12 with one of the terms' refusal causes
    WITHDRAWN = "withdrawn"  # by the customer, while the order was not firm


class OrderChannel(enum.StrEnum):
    PORTAL = "portal"
    API = "api"
    ORDER_FORM = "order_form"  # a signed order form (bon de commande)
    EMAIL = "email"
    PHONE = "phone"  # an oral order (CTR-12 [004 §1.5.1] refused where the terms say so)


class Order(Base, Audited):
    """An order of a customer: a new contract on ``offer_id`` (``contract_id`` empty until it
    is accepted), or items added to the contract ``contract_id``."""

    __tablename__ = "orders"

    id: Mapped[int] = mapped_column(primary_key=True)
    reference: Mapped[str] = mapped_column(String(30), unique=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    offer_id: Mapped[str] = mapped_column(String(50))
    contract_id: Mapped[int | None] = mapped_column(ForeignKey("contracts.id"), index=True)
    new_contract: Mapped[bool] = mapped_column(Boolean)
    channel: Mapped[OrderChannel] = mapped_column(StrEnumType(OrderChannel))
    placed_by: Mapped[str] = mapped_column(String(200))
    signatory: Mapped[str | None] = mapped_column(String(200))
    items: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    trial: Mapped[bool] = mapped_column(Boolean, default=False)  # CTR-12 [002 §6.2]
    status: Mapped[OrderStatus] = mapped_column(
        StrEnumType(OrderStatus), default=OrderStatus.RECEIVED, index=True
    )
    received_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    checks: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # e.g. unpaid invoices
    deposit_required: Mapped[Decimal | None] = mapped_column(Money())
    deposit_received_on: Mapped[date | None] = mapped_column(Date)
    deposit_reference: Mapped[str | None] = mapped_column(String(100))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    decided_by: Mapped[str | None] = mapped_column(String(200))
    refusal_reason: Mapped[str | None] = mapped_column(String(30))
    refusal_detail: Mapped[str] = mapped_column(Text, default="")
