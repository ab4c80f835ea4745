"""Tables of the numbers context."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from operateur.accounts.models import Audited
from operateur.db import Base, StrEnumType, UTCDateTime, utcnow


class NumberTier(enum.StrEnum):
    STANDARD = "standard"
    SILVER = "silver"
    GOLD = "gold"


class NumberStatus(enum.StrEnum):
    FREE = "free"
    RESERVED = "reserved"
    ASSIGNED = "assigned"
    PORTING = "porting"
    QUARANTINED = "quarantined"


class PhoneNumber(Base, Audited):
    """A number of the operator's stock, never owned by the customer (VOX-14)."""

    __tablename__ = "phone_numbers"

    id: Mapped[int] = mapped_column(primary_key=True)
    e164: Mapped[str] = mapped_column(String(20), unique=True)
    kind: Mapped[str] = mapped_column(
        String(20), index=True
    )  # operateur.domain.numbering.NumberKind
    tier: Mapped[NumberTier] = mapped_column(StrEnumType(NumberTier), default=NumberTier.STANDARD)
    status: Mapped[NumberStatus] = mapped_column(
        StrEnumType(NumberStatus), default=NumberStatus.FREE, index=True
    )
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id"), index=True)
    line_id: Mapped[int | None] = mapped_column(ForeignKey("lines.id"), index=True)
    assigned_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    quarantined_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
