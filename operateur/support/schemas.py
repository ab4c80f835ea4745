"""Pydantic shapes of the support API."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from pydantic import BaseModel, ConfigDict, Field

from operateur.support.models import LossKind, Severity, TicketKind, TicketOutcome, TicketStatus


class TicketIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    contract_id: int
    kind: TicketKind
    severity: Severity = Severity.NORMAL
    service: str = Field(min_length=1, max_length=30)
    subject: str = Field(min_length=1, max_length=200)
    body: str = Field(min_length=1, max_length=20_000)


class MessageIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    body: str = Field(min_length=1, max_length=20_000)


class CloseIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    outcome: TicketOutcome = TicketOutcome.RESOLVED
    reason: str = Field(min_length=1, max_length=2000)


class SlaOut(BaseModel):
    first_response_due: datetime | None
    first_response_at: datetime | None
    business_seconds_left: int | None = Field(
        description="Support-hours seconds left before the deadline; negative once overdue"
    )
    business_seconds_taken: int | None
    met: bool | None
    support_open_now: bool


class MessageOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    at: datetime
    author: str
    from_staff: bool
    body: str


class AttachmentOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    at: datetime
    author: str
    filename: str
    content_type: str
    size: int
    sha256: str


class TicketOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    reference: str
    customer_id: int
    contract_id: int
    kind: TicketKind
    severity: Severity
    service: str
    subject: str
    status: TicketStatus
    period: str
    opened_at: datetime
    opened_by: str
    first_response_due: datetime | None
    first_response_at: datetime | None
    closed_at: datetime | None
    closed_by: str | None
    outcome: TicketOutcome | None


class TicketDetailOut(TicketOut):
    sla: SlaOut
    messages: list[MessageOut]
    attachments: list[AttachmentOut]


class QuotaOut(BaseModel):
    contract_id: int
    period: str
    users: int
    quota: int | None
    used: int
    beyond: int
    fee_beyond: Decimal | None


class LossIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    kind: LossKind
    theft: bool = False
    contract_id: int | None = None
    line_id: int | None = None
    equipment_id: int | None = None
    user_id: int | None = None
    api_key_id: int | None = None
    occurred_at: datetime | None = None
    details: str = Field(default="", max_length=2000)
    suspend: bool = Field(default=False, description="Suspend the service (SUP-04)")


class LossOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    customer_id: int
    contract_id: int | None
    kind: LossKind
    theft: bool
    line_id: int | None
    equipment_id: int | None
    user_id: int | None
    api_key_id: int | None
    occurred_at: datetime | None
    declared_at: datetime
    declared_by: str
    details: str
    suspend_requested: bool
    suspension_id: int | None
