"""Pydantic shapes of the fraud API."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from operateur.fraud.models import AlertKind, AlertStatus


class AlertOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    customer_id: int
    contract_id: int
    line_id: int | None
    kind: AlertKind
    rule: str
    period: str
    evidence: dict[str, Any]
    actions: list[dict[str, Any]]
    status: AlertStatus
    raised_at: datetime
    updated_at: datetime
    resolved_at: datetime | None
    resolved_by: str | None
    resolution: str | None


class ResolveIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    resolution: str = Field(min_length=1, max_length=2000)
    lift_restriction: bool = False
    reported: bool = False  # the report to the authorities was made (VOX-06)


class RunIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    as_of: date
