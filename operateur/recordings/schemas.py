"""Pydantic shapes of the recordings API."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict


class RecordingOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    customer_id: int
    contract_id: int
    line_id: int | None
    call_id: str
    caller: str
    callee: str
    call_started_at: datetime
    content_type: str
    size_bytes: int
    sha256: str
    created_at: datetime
