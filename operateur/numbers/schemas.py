"""Pydantic shapes of the numbers API."""

from __future__ import annotations

from datetime import date, datetime, time

from pydantic import BaseModel, ConfigDict, Field

from operateur.numbers.models import Ineligibility, NumberStatus, NumberTier, PortStatus


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
    contract_id: int | None = Field(
        default=None, description="The contract billing the number's fee when no line is given"
    )


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


class AddressProofIn(BaseModel):
    """A document proving the customer's current address, checked by staff (VOX-14)."""

    model_config = ConfigDict(extra="forbid")
    document: str = Field(min_length=1, max_length=40, description="kbis, utility_bill, lease...")
    reference: str = Field(min_length=1, max_length=100)
    received_on: date


class AddressProofOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    customer_id: int
    document: str
    reference: str
    address_line: str
    postal_code: str
    city: str
    country: str
    received_on: date
    checked_by: str
    revoked_at: datetime | None


class AliasIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    kind: str = Field(default="geographic")
    line_ids: list[int] = Field(min_length=1, max_length=50)
    tier: NumberTier = NumberTier.STANDARD


class RioCheckOut(BaseModel):
    rio: str
    number: str
    valid: bool
    reason: str | None
    message: str | None
    operator: str | None
    quality: str | None
    reference: str | None
    key: str | None
    expected_key: str | None


class PortIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    number: str = Field(min_length=1, max_length=30)
    rio: str | None = Field(default=None, max_length=20)
    line_id: int
    holder_name: str = Field(min_length=1, max_length=200)


class DonorAnswerIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    accepted: bool
    reason: Ineligibility | None = None
    scheduled_on: date | None = None
    slot_start: time | None = None
    slot_end: time | None = None


class PortOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    customer_id: int
    contract_id: int
    line_id: int
    e164: str
    rio: str | None
    holder_name: str
    status: PortStatus
    reason: Ineligibility | None
    reason_text: str | None = None
    new_number_id: int | None
    number_id: int | None
    scheduled_on: date | None
    slot_start: str | None  # HH:MM, Paris time
    slot_end: str | None
    ported_at: datetime | None


class DirectoryIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    service_name: str = Field(min_length=1, max_length=200)
    description: str = Field(min_length=1, max_length=4000)
    provider: str = Field(min_length=1, max_length=200)
    website: str | None = Field(default=None, max_length=300)
    address: str = Field(min_length=1, max_length=400)
    complaint_contact: str = Field(min_length=1, max_length=300)
    published: bool = False


class DirectoryOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    number_id: int
    service_name: str
    description: str
    provider: str
    website: str | None
    address: str
    complaint_contact: str
    published: bool
    updated_at: datetime


class PublicNumberOut(BaseModel):
    """What anyone may learn about a published number (VOX-17)."""

    number: str
    service_name: str
    description: str
    provider: str
    website: str | None
    address: str
    complaint_contact: str
