"""Pydantic shapes of the mail gateway API."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from pydantic import BaseModel, ConfigDict, Field

from operateur.mail.models import (
    Direction,
    FeedbackChannel,
    FeedbackKind,
    ListKind,
    QuarantineStatus,
    QueueStatus,
)


class DomainIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=253)


class DomainOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    customer_id: int
    contract_id: int
    name: str
    created_at: datetime


class ServerIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    host: str = Field(min_length=1, max_length=253)
    port: int = Field(default=25, ge=1, le=65535)
    priority: int = Field(default=10, ge=0, le=65535)
    domain_id: int | None = None


class ServerOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    customer_id: int
    domain_id: int | None
    host: str
    port: int
    priority: int


class MailboxIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    address: str = Field(min_length=3, max_length=320)
    filtering_enabled: bool = True
    digest_enabled: bool = True
    password: str | None = Field(default=None, max_length=200)


class MailboxPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")
    filtering_enabled: bool | None = None
    digest_enabled: bool | None = None
    password: str | None = Field(default=None, max_length=200)
    unblock: bool = False


class MailboxOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    customer_id: int
    domain_id: int
    address: str
    filtering_enabled: bool
    digest_enabled: bool
    blocked_at: datetime | None
    blocked_reason: str | None
    created_at: datetime


class SettingsIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    challenge_enabled: bool | None = None
    relay_password: str | None = Field(default=None, max_length=200)
    unblock_relay: bool = False


class SettingsOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    customer_id: int
    challenge_enabled: bool
    relay_username: str | None
    relay_blocked_at: datetime | None
    relay_blocked_reason: str | None


class ListEntryIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    kind: ListKind
    value: str = Field(min_length=1, max_length=320, description="an address or @domain")
    note: str = Field(default="", max_length=300)


class ListEntryOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    customer_id: int | None
    kind: ListKind
    value: str
    note: str
    created_at: datetime


class RefusedDomainIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=253)
    reason: str = Field(min_length=1, max_length=300)


class RefusedDomainOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    name: str
    reason: str
    created_at: datetime


class QuarantineOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    log_id: int
    mail_from: str
    recipient: str
    subject: str
    score: float
    symbols: list[str]
    virus: bool
    status: QuarantineStatus
    created_at: datetime
    closed_at: datetime | None
    closed_by: str | None


class ReportIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    log_id: int = Field(description="the message's X-Operateur-Id header")
    kind: FeedbackKind


class FeedbackOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    log_id: int
    quarantine_id: int | None
    kind: FeedbackKind
    channel: FeedbackChannel
    actor: str
    at: datetime


class QueuedOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    direction: Direction
    mail_from: str
    rcpt_tos: list[str]
    status: QueueStatus
    attempts: int
    next_attempt_at: datetime
    last_error: str
    received_at: datetime
    expires_at: datetime


class LicenceOut(BaseModel):
    unit: str
    licensed: int
    allowed: int
    used: int


class WindowOut(BaseModel):
    start: datetime
    end: datetime
    processed: int
    false_positives: int
    false_negatives: int
    fp_percent: Decimal
    fn_percent: Decimal
    viruses_delivered: int
    virus_ceiling: int
    fp_breached: bool
    fn_breached: bool
    virus_breached: bool


class RemediesOut(BaseModel):
    contract_id: int
    period: str
    worst_week: WindowOut | None
    filtering_percent: Decimal
    unavailable_minutes: int
    availability_percent: Decimal
    availability_penalty_percent: Decimal
    monthly_fee: Decimal
    credit: Decimal


class SlaOut(BaseModel):
    as_of: date
    window: WindowOut
    month: RemediesOut


class CreditsIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    period: str = Field(pattern=r"^[0-9]{4}-[0-9]{2}$")


class CreditOut(BaseModel):
    contract_id: int
    period: str
    amount: Decimal
    pending_charge_id: int | None
