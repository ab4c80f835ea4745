"""Pydantic shapes of the privacy API."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from operateur.privacy.models import BreachNature, RequestKind, RequestStatus

# --- security incidents (SEC-02, SEC-03) -------------------------------------------------------


class AffectedIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    customer_id: int
    data_affected: bool


class IncidentIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    detected_at: AwareDatetime
    nature: BreachNature
    description: str = Field(min_length=1, max_length=5000)
    customers: list[AffectedIn] = Field(min_length=1)


class NotifyIn(BaseModel):
    """The customers to tell; none given: every affected customer not told yet."""

    model_config = ConfigDict(extra="forbid")
    customer_ids: list[int] | None = None


class IncidentCustomerOut(BaseModel):
    customer_id: int
    data_affected: bool
    deadline_at: datetime | None
    notified_at: datetime | None
    late: bool  # SEC-03: not told by the deadline


class IncidentOut(BaseModel):
    id: int
    detected_at: datetime
    nature: BreachNature
    nature_label: str
    description: str
    recorded_at: datetime
    recorded_by: str
    customers: list[IncidentCustomerOut]


class OverdueIncidentOut(BaseModel):
    incident_id: int
    customer_id: int
    detected_at: datetime
    deadline_at: datetime
    notified_at: datetime | None


class CustomerIncidentOut(BaseModel):
    """An incident as the affected customer sees it: its own row, no other customer."""

    id: int
    detected_at: datetime
    nature: BreachNature
    nature_label: str
    description: str
    data_affected: bool
    deadline_at: datetime | None
    notified_at: datetime | None


# --- data subjects' requests (PRIV-01) ---------------------------------------------------------


class DataRequestIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    kind: RequestKind
    subject_name: str = Field(min_length=1, max_length=200)
    subject_contact: str = Field(min_length=1, max_length=320)
    received_at: AwareDatetime | None = None  # default: now
    details: str = Field(default="", max_length=5000)


class DataRequestAnswerIn(BaseModel):
    """``answered``: what was done (``note`` optional); ``rejected``: ``note`` gives why."""

    model_config = ConfigDict(extra="forbid")
    outcome: Literal["answered", "rejected"]
    note: str = Field(default="", max_length=5000)
    answered_at: AwareDatetime | None = None  # default: now


class DataRequestOut(BaseModel):
    id: int
    customer_id: int
    kind: RequestKind
    kind_label: str
    subject_name: str
    subject_contact: str
    details: str
    received_at: datetime
    due_on: date
    status: RequestStatus
    answered_at: datetime | None
    answered_by: str
    note: str
    late: bool  # PRIV-01: open past its due day, or answered after it
    tools: list[str]  # the portal pages that carry out this kind of request
