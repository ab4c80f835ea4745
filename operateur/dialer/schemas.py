"""Pydantic shapes of the calling CRM API (VOX-18)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from operateur.dialer.models import EntryStatus, Outcome


class ContactIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=200)
    phone: str = Field(min_length=1, max_length=30)
    company: str = Field(default="", max_length=200)
    email: str | None = Field(default=None, max_length=200)
    notes: str = Field(default="", max_length=4000)


class ContactOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    name: str
    company: str
    phone: str
    email: str | None
    notes: str


class OutcomeOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    contact_id: int
    entry_id: int | None
    agent_user_id: int | None
    caller_id: str
    call_id: str | None
    recording_id: int | None
    outcome: Outcome
    notes: str
    created_at: datetime


class ContactDetailOut(ContactOut):
    history: list[OutcomeOut]


class CallListIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=200)
    caller_id_number_id: int


class CallListOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    name: str
    caller_id_number_id: int
    created_at: datetime


class EntriesIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    contact_ids: list[int] = Field(min_length=1, max_length=10000)
    agent_user_id: int | None = None


class NextIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    agent_user_id: int | None = Field(
        default=None, description="The agent; by default the user calling the API"
    )


class EntryOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    list_id: int
    contact_id: int
    agent_user_id: int | None
    position: int
    status: EntryStatus
    callback_at: datetime | None


class OutcomeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    contact_id: int
    outcome: Outcome
    caller_id_number_id: int
    entry_id: int | None = None
    call_id: str | None = Field(default=None, max_length=128)
    agent_user_id: int | None = None
    notes: str = Field(default="", max_length=4000)
    callback_at: datetime | None = None
