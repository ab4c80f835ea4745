"""Pydantic shapes of the numbers API."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from operateur.numbers.models import NumberStatus, NumberTier


class NumbersIn(BaseModel):
    """Numbers entering the operator's stock (from an allocation by the regulator or a carrier)."""

    model_config = ConfigDict(extra="forbid")
    numbers: list[str] = Field(min_length=1, max_length=10000)
    tier: NumberTier = NumberTier.STANDARD


class AssignIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    kind: str = Field(description="geographic, mobile, non_geographic, special or short")
    tier: NumberTier = NumberTier.STANDARD
    line_id: int | None = None


class NumberOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    e164: str
    kind: str
    tier: NumberTier
    status: NumberStatus
    customer_id: int | None
    line_id: int | None
    assigned_at: datetime | None
    quarantined_until: datetime | None


class ClassifyOut(BaseModel):
    raw: str
    e164: str | None
    kind: str
    region: str | None
    is_emergency: bool
    description: str
