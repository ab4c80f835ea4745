"""Pydantic shapes of the orders API."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from operateur.catalog.terms import OrderRefusal
from operateur.contracts.models import EquipmentMode, LineKind
from operateur.numbers.models import NumberTier
from operateur.orders.models import OrderChannel, OrderStatus


class SubscriptionItem(BaseModel):
    model_config = ConfigDict(extra="forbid")
    type: Literal["subscription"] = "subscription"
    item_code: str = Field(min_length=1, max_length=64)
    quantity: int = Field(default=1, ge=1)


class LineItem(BaseModel):
    model_config = ConfigDict(extra="forbid")
    type: Literal["line"] = "line"
    kind: LineKind
    label: str = Field(min_length=1, max_length=200)


class NumberItem(BaseModel):
    model_config = ConfigDict(extra="forbid")
    type: Literal["number"] = "number"
    kind: str = Field(default="geographic", max_length=20)
    tier: NumberTier = NumberTier.STANDARD
    line_label: str | None = Field(default=None, description="Attach to this ordered line")


class EquipmentItem(BaseModel):
    model_config = ConfigDict(extra="forbid")
    type: Literal["equipment"] = "equipment"
    model: str = Field(min_length=1, max_length=100)
    mode: EquipmentMode
    value: Decimal = Field(ge=0, decimal_places=2, description="Value HT (billed if not returned)")
    item_code: str | None = Field(default=None, description="Price-list fee: rental, provision")


OrderItem = Annotated[
    SubscriptionItem | LineItem | NumberItem | EquipmentItem, Field(discriminator="type")
]


class OrderIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    offer_id: str | None = Field(default=None, description="A new contract on this offer")
    contract_id: int | None = Field(default=None, description="Or items added to this contract")
    channel: OrderChannel = OrderChannel.API
    signatory: str | None = Field(default=None, max_length=200)
    trial: bool = Field(default=False, description="Free trial before signature (CTR-12)")
    items: list[OrderItem] = Field(default_factory=list, max_length=200)


class AcceptIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    on: date | None = None


class RefuseIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: OrderRefusal
    detail: str = Field(default="", max_length=2000)


class DepositIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    amount: Decimal = Field(gt=0, decimal_places=2)
    reason: str = Field(min_length=1, max_length=2000)


class DepositReceivedIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    received_on: date
    reference: str = Field(min_length=1, max_length=100)


class OrderOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    reference: str
    customer_id: int
    offer_id: str
    contract_id: int | None
    new_contract: bool
    channel: OrderChannel
    placed_by: str
    signatory: str | None
    items: list[dict[str, Any]]
    trial: bool
    status: OrderStatus
    received_at: datetime
    checks: dict[str, Any]
    deposit_required: Decimal | None
    deposit_received_on: date | None
    decided_at: datetime | None
    decided_by: str | None
    refusal_reason: str | None
    refusal_detail: str
