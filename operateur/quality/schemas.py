"""Pydantic shapes of the quality API (VOX-08, VOX-16)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from operateur.quality.kpis import WindowKpis
from operateur.quality.models import NoticeStatus, ReportKind


class BreachOut(BaseModel):
    kpi: str
    value: Decimal
    target: Decimal
    calls: int
    penalty: Decimal


class WindowOut(BaseModel):
    start: datetime
    end: datetime
    calls: int
    answered: int
    asr: Decimal
    ner: Decimal
    acd: Decimal | None
    short_calls: int
    short_call_ratio: Decimal | None
    short_call_ratio_sliding: Decimal | None
    breaches: list[BreachOut]
    penalty: Decimal

    @classmethod
    def of(cls, window: WindowKpis) -> WindowOut:
        return cls(
            start=window.start,
            end=window.end,
            calls=window.calls,
            answered=window.answered,
            asr=window.asr,
            ner=window.ner,
            acd=window.acd,
            short_calls=window.short_calls,
            short_call_ratio=window.short_call_ratio,
            short_call_ratio_sliding=window.short_call_ratio_sliding,
            breaches=[BreachOut(**b.__dict__) for b in window.breaches],
            penalty=window.penalty,
        )


class ContractQualityOut(BaseModel):
    contract_id: int
    reference: str
    thresholds: dict[str, Any]
    hours: list[WindowOut]


class ReportIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    number: str = Field(min_length=1, max_length=30)
    kind: ReportKind
    reference: str = Field(min_length=1, max_length=100)
    received_on: date
    details: str = Field(default="", max_length=4000)


class ReportOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    customer_id: int
    contract_id: int
    number: str
    kind: ReportKind
    reference: str
    received_on: date
    month: str
    details: str
    charge_key: str | None


class PenaltyTableOut(BaseModel):
    contract_id: int
    reference: str
    amounts: dict[str, Decimal | None]
    abnormal_reports_months: int | None
    abnormal_reports_notice_hours: int | None


class NoticeOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    customer_id: int
    contract_id: int
    month: str
    evidence: list[dict[str, Any]]
    notified_at: datetime
    suspend_at: datetime
    status: NoticeStatus
