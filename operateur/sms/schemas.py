"""API shapes of the SMS context. The single-send shape is the usual CPaaS one: POST a message,
get its id, read its status by id, receive status callbacks."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from operateur.catalog.terms import OutsideWindow
from operateur.sms.campaigns import Statistics
from operateur.sms.models import SenderStatus, SmsStatus
from operateur.sms.service import ImportReport


class SendIn(BaseModel):
    to: str = Field(min_length=1, max_length=40, examples=["+33612345678"])
    text: str = Field(min_length=1, max_length=2000)
    sender: str | None = Field(default=None, max_length=16, description="Authorised sender ID")
    send_at: AwareDatetime | None = Field(default=None, description="Send later (scheduled)")
    client_ref: str | None = Field(
        default=None, max_length=100, description="Your reference: a retry with it sends once"
    )
    callback_url: str | None = Field(
        default=None,
        max_length=500,
        description="Where the sms.status events are POSTed (signed X-Operateur-Signature): "
        "id, client_ref, campaign_id, recipient, sender, status, sequence, parts, encoding, "
        "error, submitted_at, delivered_at, final_at. sequence grows with each status of the "
        "message (submitted 1, its final status 2): keep the highest one per message, "
        "callbacks retried or late may arrive out of order.",
    )
    outside_window: OutsideWindow | None = Field(
        default=None, description="Outside the sending window: queue (default) or reject"
    )


class MessageOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    client_ref: str | None
    campaign_id: int | None
    recipient: str
    sender: str
    text: str
    status: SmsStatus
    encoding: str
    parts: int
    cost: str
    destination: str
    warning: str | None
    held_rule: str | None
    error: str | None
    not_before: datetime
    submitted_at: datetime | None
    delivered_at: datetime | None
    final_at: datetime | None
    created_at: datetime

    @classmethod
    def of(cls, message: Any) -> MessageOut:
        return cls.model_validate(
            {
                **{name: getattr(message, name) for name in cls.model_fields},
                "encoding": message.encoding.value,
                "cost": str(message.cost),
            }
        )


class SettingsIn(BaseModel):
    callback_url: str | None = Field(default=None, max_length=500)
    outside_window: OutsideWindow | None = None


class SettingsOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    callback_url: str | None
    callback_secret: str = Field(description="Verifies X-Operateur-Signature (HMAC-SHA256)")
    outside_window: OutsideWindow | None


class TemplateIn(BaseModel):
    name: str = Field(min_length=1, max_length=100)
    text: str = Field(min_length=1, max_length=2000)


class TemplateOut(BaseModel):
    id: int
    name: str
    text: str
    placeholders: list[str]


class EntryIn(BaseModel):
    number: str = Field(min_length=1, max_length=40)
    fields: dict[str, str] = Field(default_factory=dict)


class ListIn(BaseModel):
    name: str = Field(min_length=1, max_length=100)
    entries: list[EntryIn] = Field(default_factory=list)


class ImportIn(BaseModel):
    csv: str = Field(min_length=1, description="UTF-8 CSV with a header and a number column")


class ImportOut(BaseModel):
    added: int
    rejected: list[dict[str, Any]]
    warnings: list[dict[str, Any]]

    @classmethod
    def of(cls, report: ImportReport) -> ImportOut:
        return cls(added=report.added, rejected=report.rejected, warnings=report.warnings)


class ListOut(BaseModel):
    id: int
    name: str
    columns: list[str]
    size: int
    report: ImportOut | None = None


class CampaignIn(BaseModel):
    name: str = Field(min_length=1, max_length=200)
    list_id: int
    text: str | None = Field(default=None, max_length=2000)
    template_id: int | None = None
    sender: str | None = Field(default=None, max_length=16)
    outside_window: OutsideWindow | None = None


class ScheduleIn(BaseModel):
    at: AwareDatetime | None = Field(default=None, description="Start time; now when absent")


class StatisticsOut(BaseModel):
    state: str
    total: int
    by_status: dict[str, int]
    sent: int
    delivered: int
    failed: int
    expired: int
    unsubscribed: int
    pending: int
    progress_percent: int
    by_hour: list[dict[str, Any]]

    @classmethod
    def of(cls, stats: Statistics) -> StatisticsOut:
        data = stats.as_dict()
        data.pop("campaign_id")
        return cls.model_validate(data)


class CampaignOut(BaseModel):
    id: int
    name: str
    list_id: int
    template_id: int | None
    text: str
    sender: str
    status: str
    outside_window: OutsideWindow
    scheduled_at: datetime | None
    launched_at: datetime | None
    message_count: int
    part_count: int
    statistics: StatisticsOut


class SenderIn(BaseModel):
    name: str = Field(min_length=1, max_length=16)


class SenderOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    customer_id: int
    name: str
    status: SenderStatus
    rule: str | None
    reason: str
    billed: bool
    requested_at: datetime
    reviewed_at: datetime | None


class SenderReviewIn(BaseModel):
    authorise: bool
    reason: str = Field(min_length=1, max_length=500)


class HeldReviewIn(BaseModel):
    release: bool


class StockOut(BaseModel):
    month: str
    monthly_limit: int | None
    maximum: int | None
    used: int
    remaining: int | None
    contract_id: int | None


class StockIn(BaseModel):
    monthly_limit: int = Field(ge=0)
    reason: str = Field(min_length=1, max_length=500)
