"""Tables of the numbers context."""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import Boolean, Date, ForeignKey, String, UniqueConstraint
from sqlalchemy import Text as SqlText
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
    # VOX-14 [002 §6.5] a ported-in number whose service ended: back to the operator its range
    # is allocated to ("opérateur attributaire"), never ours to assign again
    RETURNED = "returned"


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


# --- VOX-14 proof of address, fees, aliases ---------------------------------------------------


class AddressProof(Base, Audited):
    """A document proving the customer's address, checked by staff (VOX-14 [001 §9]: French
    numbers only for residents of metropolitan France "sur présentation de pièces
    justificatives"). The address it proves is kept as it was on the document."""

    __tablename__ = "address_proofs"

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    document: Mapped[str] = mapped_column(String(40))  # kbis, utility_bill, lease...
    reference: Mapped[str] = mapped_column(String(100))
    address_line: Mapped[str] = mapped_column(String(200))
    postal_code: Mapped[str] = mapped_column(String(20))
    city: Mapped[str] = mapped_column(String(100))
    country: Mapped[str] = mapped_column(String(2))
    received_on: Mapped[date] = mapped_column(Date)
    checked_by: Mapped[str] = mapped_column(String(200))
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class NumberFee(Base, Audited):
    """The subscription that bills a number's monthly fee (VOX-14, BIL-17: Silver, Gold and
    alias numbers, or the offer's standard number fee), ended when the number is released."""

    __tablename__ = "number_fees"

    id: Mapped[int] = mapped_column(primary_key=True)
    number_id: Mapped[int] = mapped_column(ForeignKey("phone_numbers.id"), index=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    contract_id: Mapped[int] = mapped_column(ForeignKey("contracts.id"), index=True)
    subscription_id: Mapped[int] = mapped_column(ForeignKey("subscriptions.id"), unique=True)
    item_code: Mapped[str] = mapped_column(String(64))
    ended_on: Mapped[date | None] = mapped_column(Date)


class AliasTarget(Base, Audited):
    """A line an alias number rings (VOX-14 [001 §9]: an alias is attached to an active line;
    several targets ring several lines)."""

    __tablename__ = "number_alias_targets"
    __table_args__ = (UniqueConstraint("number_id", "line_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    number_id: Mapped[int] = mapped_column(ForeignKey("phone_numbers.id"), index=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    line_id: Mapped[int] = mapped_column(ForeignKey("lines.id"), index=True)


# --- VOX-15 portability ------------------------------------------------------------------------


class PortStatus(enum.StrEnum):
    SUBMITTED = "submitted"  # sent to the donor operator, waiting for its answer
    SCHEDULED = "scheduled"  # accepted: porting day and slot known
    PORTED = "ported"  # the number is active on the line
    INELIGIBLE = "ineligible"  # refused with its reason; a new number was assigned
    CANCELLED = "cancelled"


class Ineligibility(enum.StrEnum):
    """VOX-15 [001 §9.2] the cases that make a port-in request ineligible."""

    RIO_MISSING = "rio_missing"
    RIO_INVALID = "rio_invalid"
    NUMBER_INACTIVE = "number_inactive"
    PORT_PENDING = "port_pending"
    NOT_HOLDER = "not_holder"


class PortRequest(Base, Audited):
    """A request to bring a customer's existing number to the operator (VOX-15)."""

    __tablename__ = "port_requests"

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    contract_id: Mapped[int] = mapped_column(ForeignKey("contracts.id"), index=True)
    line_id: Mapped[int] = mapped_column(ForeignKey("lines.id"), index=True)
    e164: Mapped[str] = mapped_column(String(20), index=True)
    rio: Mapped[str | None] = mapped_column(String(12))
    holder_name: Mapped[str] = mapped_column(String(200))
    status: Mapped[PortStatus] = mapped_column(StrEnumType(PortStatus))
    reason: Mapped[Ineligibility | None] = mapped_column(StrEnumType(Ineligibility))
    new_number_id: Mapped[int | None] = mapped_column(ForeignKey("phone_numbers.id"))
    number_id: Mapped[int | None] = mapped_column(ForeignKey("phone_numbers.id"))
    scheduled_on: Mapped[date | None] = mapped_column(Date)
    slot_start: Mapped[str | None] = mapped_column(String(5))  # HH:MM, Paris time
    slot_end: Mapped[str | None] = mapped_column(String(5))
    ported_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


# --- VOX-17 public identification of numbers ----------------------------------------------------


class DirectoryEntry(Base, Audited):
    """What a consumer is shown about a number that called or texted them (VOX-17 [000 §2]):
    recorded by staff, shown only once published."""

    __tablename__ = "number_directory"

    id: Mapped[int] = mapped_column(primary_key=True)
    number_id: Mapped[int] = mapped_column(ForeignKey("phone_numbers.id"), unique=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    service_name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(SqlText)
    provider: Mapped[str] = mapped_column(String(200))
    website: Mapped[str | None] = mapped_column(String(300))
    address: Mapped[str] = mapped_column(String(400))
    complaint_contact: Mapped[str] = mapped_column(String(300))
    published: Mapped[bool] = mapped_column(Boolean, default=False)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)
