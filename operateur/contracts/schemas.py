"""Pydantic shapes of the contracts API."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from operateur.catalog.terms import Service, SuspensionCause
from operateur.contracts.commitment import Schedule
from operateur.contracts.models import (
    ContractStatus,
    EquipmentMode,
    EquipmentStatus,
    LineKind,
    LineStatus,
    MaintenanceStatus,
    NoticeKind,
    OperatorCase,
    SuspensionScope,
)


class ContractIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    offer_id: str = Field(min_length=1)
    overrides: dict[str, Any] = Field(
        default_factory=dict, description="Negotiated terms, merged over the offer's terms"
    )


class OverridesIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    overrides: dict[str, Any]


class SignIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    signed_by: str = Field(min_length=1, max_length=200)
    signed_at: datetime | None = None


class ActivateIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    activated_on: date


class ContractOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    reference: str
    customer_id: int
    offer_id: str
    status: ContractStatus
    overrides: dict[str, Any]
    terms: dict[str, Any]
    prices: list[dict[str, Any]]
    signed_at: datetime | None
    signed_by: str | None
    activated_on: date | None
    created_at: datetime


class SubscriptionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    item_code: str = Field(min_length=1)
    quantity: int = Field(default=1, ge=1)
    unit_price_nrc: Decimal | None = Field(default=None, ge=0, decimal_places=4)
    unit_price_mrc: Decimal | None = Field(default=None, ge=0, decimal_places=4)
    start_date: date | None = None
    end_date: date | None = None


class SubscriptionOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    contract_id: int
    customer_id: int
    item_code: str
    label: str
    quantity: int
    unit_price_nrc: Decimal
    unit_price_mrc: Decimal
    start_date: date | None
    end_date: date | None


class LineIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    contract_id: int
    kind: LineKind
    label: str = Field(min_length=1, max_length=200)


class LineOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    customer_id: int
    contract_id: int
    kind: LineKind
    label: str
    sip_username: str
    status: LineStatus


class EquipmentIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    contract_id: int
    serial: str = Field(min_length=1, max_length=64)
    model: str = Field(min_length=1, max_length=100)
    mode: EquipmentMode
    value: Decimal = Field(ge=0, decimal_places=2)
    delivered_on: date | None = None


class EquipmentReturnIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    returned_on: date


class EquipmentOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    customer_id: int
    contract_id: int
    serial: str
    model: str
    mode: EquipmentMode
    value: Decimal
    status: EquipmentStatus
    delivered_on: date | None
    returned_on: date | None


class ScheduleOut(BaseModel):
    started: bool
    starts_on: date | None = None
    term_number: int | None = None
    term_start: date | None = None
    term_end: date | None = None
    notice_deadline: date | None = None
    renews: bool | None = None
    next_term_months: int | None = None
    at_renewal: str | None = None


def schedule_out(plan: Schedule | None, lang: str) -> ScheduleOut:
    if plan is None:
        return ScheduleOut(started=False)
    return ScheduleOut(
        started=True,
        starts_on=plan.starts_on,
        term_number=plan.term_number,
        term_start=plan.term_start,
        term_end=plan.term_end,
        notice_deadline=plan.notice_deadline,
        renews=plan.renews,
        next_term_months=plan.next_term_months,
        at_renewal=plan.at_renewal.render(lang),
    )


class SuspendIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    cause: SuspensionCause
    scope: SuspensionScope = SuspensionScope.FULL
    reason: str = Field(min_length=1, max_length=2000)
    on: date | None = Field(default=None, description="First day suspended (default: today)")


class ReasonIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: str = Field(min_length=1, max_length=2000)


class TerminateIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    on: date
    reason: str = Field(min_length=1, max_length=2000)


class ContractEventOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    at: datetime
    actor: str
    transition: str
    from_status: str
    to_status: str
    reason: str
    details: dict[str, Any]


class UsageDecisionOut(BaseModel):
    service: Service
    allowed: bool
    code: str
    reason: str
    contract_id: int | None


class TerminationIn(BaseModel):
    """CTR-03/05 the customer's termination: received on a day, ending with the term by default
    or earlier (the terms' early-termination amount is then invoiced)."""

    model_config = ConfigDict(extra="forbid")
    received_on: date
    ends_on: date | None = None
    reason: str = Field(min_length=1, max_length=2000)


class TerminationOut(BaseModel):
    ends_on: date
    earliest_end: date
    end_without_fee: date
    early_termination: str  # the terms' kind (CTR-05)
    amount_excl_vat: Decimal
    months: Decimal
    explanation: str


class ContractNoticeIn(BaseModel):
    """A notice that opens a termination right: a breach (CTR-07), force majeure (CTR-11), an
    outage of the operator (CTR-14), a price change (CTR-13); or a formal notice before a
    suspension for ``cause`` (CTR-06)."""

    model_config = ConfigDict(extra="forbid")
    kind: NoticeKind
    started_on: date = Field(description="The event's first day, or the day notice is given")
    notified_on: date | None = None
    effective_on: date | None = Field(default=None, description="Price change: effective day")
    rises: bool = Field(default=True, description="Price change: prices go up")
    by_operator: bool = True
    summary: str = Field(min_length=1, max_length=2000)
    cause: SuspensionCause | None = Field(default=None, description="Suspension notice: cause")


class ContractNoticeOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    contract_id: int
    kind: NoticeKind
    by_operator: bool
    started_on: date
    notified_on: date
    ended_on: date | None
    opens_on: date | None
    closes_on: date | None
    used_on: date | None
    summary: str
    details: dict[str, Any]


class NoticeEndIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    ended_on: date


class RightIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    on: date
    reason: str = Field(min_length=1, max_length=2000)


class SuspensionTerminationIn(BaseModel):
    """CTR-06 [004 §11.4] a party's notice to terminate a contract totally suspended for the
    terms' period. A customer credential always speaks for the customer; staff speak for the
    operator, or record the customer's letter with ``by_operator`` false."""

    model_config = ConfigDict(extra="forbid")
    notified_on: date | None = Field(default=None, description="Day notice is given (today)")
    reason: str = Field(min_length=1, max_length=2000)
    by_operator: bool | None = Field(default=None, description="Default: the caller's side")


class OperatorTerminationIn(BaseModel):
    """CTR-07 [004 §12.2] the operator's termination in one of the clause's specific cases."""

    model_config = ConfigDict(extra="forbid")
    case: OperatorCase
    notified_on: date | None = Field(default=None, description="Day notice is given (today)")
    reason: str = Field(min_length=1, max_length=2000)


class LicenceChangeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    subscription_id: int
    quantity: int = Field(ge=1)
    requested_on: date | None = None


class LicenceChangeOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    contract_id: int
    subscription_id: int
    quantity: int
    requested_on: date
    effective_on: date
    applied_on: date | None


class InspectionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    inspected_on: date
    good_condition: bool


# --- planned maintenance (CTR-06 [002 §13.1.5]) -------------------------------------------------


class MaintenanceIn(BaseModel):
    """A maintenance window: every contract in service of ``offer_id`` and/or the listed
    contracts, narrowed to those whose offer provides one of ``services`` when given."""

    model_config = ConfigDict(extra="forbid")
    starts_at: AwareDatetime
    ends_at: AwareDatetime
    offer_id: str | None = Field(default=None, min_length=1)
    contract_ids: list[int] = Field(default_factory=list)
    services: list[Service] = Field(default_factory=list)
    scope: SuspensionScope = SuspensionScope.FULL
    reason_fr: str = Field(min_length=1, max_length=2000)
    reason_en: str = Field(min_length=1, max_length=2000)


class MaintenanceContractOut(BaseModel):
    contract_id: int
    customer_id: int
    accepted: bool
    refusal_code: str | None
    refusal: str | None  # the reason, in the caller's language
    suspended: bool


class MaintenanceOut(BaseModel):
    id: int
    status: MaintenanceStatus
    starts_at: datetime
    ends_at: datetime
    offer_id: str | None
    services: list[str]
    scope: SuspensionScope
    reason: str
    announced_at: datetime
    cancelled_at: datetime | None
    contracts: list[MaintenanceContractOut]


class CustomerMaintenanceOut(BaseModel):
    """A window as a customer sees it: when, why, for which of its contracts."""

    id: int
    status: MaintenanceStatus
    starts_at: datetime
    ends_at: datetime
    scope: SuspensionScope
    reason: str
    contract_id: int
