"""Tables of the recordings context."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from operateur.accounts.models import Audited
from operateur.db import Base, UTCDateTime, utcnow


class CallRecording(Base, Audited):
    """A recording file of a call, stored under the data directory (``path`` is relative to
    it). The same file attached twice to a call is stored once (``sha256``)."""

    __tablename__ = "call_recordings"
    __table_args__ = (UniqueConstraint("customer_id", "call_id", "sha256"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    contract_id: Mapped[int] = mapped_column(ForeignKey("contracts.id"), index=True)
    line_id: Mapped[int | None] = mapped_column(ForeignKey("lines.id"), index=True)
    call_id: Mapped[str] = mapped_column(String(128), index=True)
    caller: Mapped[str] = mapped_column(String(32))
    callee: Mapped[str] = mapped_column(String(32))
    call_started_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    content_type: Mapped[str] = mapped_column(String(60))
    size_bytes: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    path: Mapped[str] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
