"""Tables of the calling CRM (VOX-18)."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy import Text as SqlText
from sqlalchemy.orm import Mapped, mapped_column

from operateur.accounts.models import Audited
from operateur.db import Base, StrEnumType, UTCDateTime, utcnow


class CrmContact(Base, Audited):
    """A person or company the customer's agents call, once per number."""

    __tablename__ = "crm_contacts"
    __table_args__ = (UniqueConstraint("customer_id", "phone"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    company: Mapped[str] = mapped_column(String(200), default="")
    phone: Mapped[str] = mapped_column(String(20))  # E.164
    email: Mapped[str | None] = mapped_column(String(200))
    notes: Mapped[str] = mapped_column(SqlText, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class CallList(Base, Audited):
    """A list of contacts to call, presented with one of the customer's own numbers."""

    __tablename__ = "crm_call_lists"

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    caller_id_number_id: Mapped[int] = mapped_column(ForeignKey("phone_numbers.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class EntryStatus(enum.StrEnum):
    TO_CALL = "to_call"
    CALLBACK = "callback"  # to call again at the agreed time
    DONE = "done"


class CallListEntry(Base, Audited):
    """A contact on a list, handed to an agent (a user of the customer)."""

    __tablename__ = "crm_call_list_entries"
    __table_args__ = (UniqueConstraint("list_id", "contact_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    list_id: Mapped[int] = mapped_column(ForeignKey("crm_call_lists.id"), index=True)
    contact_id: Mapped[int] = mapped_column(ForeignKey("crm_contacts.id"), index=True)
    agent_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    status: Mapped[EntryStatus] = mapped_column(StrEnumType(EntryStatus))
    callback_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class Outcome(enum.StrEnum):
    ANSWERED = "answered"
    NO_ANSWER = "no_answer"
    BUSY = "busy"
    VOICEMAIL = "voicemail"
    CALLBACK = "callback"
    NOT_INTERESTED = "not_interested"
    WRONG_NUMBER = "wrong_number"
    SUCCESS = "success"


class CallOutcome(Base, Audited):
    """What came of one call to a contact, with the call's record and recording if any."""

    __tablename__ = "crm_call_outcomes"

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    contact_id: Mapped[int] = mapped_column(ForeignKey("crm_contacts.id"), index=True)
    entry_id: Mapped[int | None] = mapped_column(ForeignKey("crm_call_list_entries.id"))
    agent_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    caller_id: Mapped[str] = mapped_column(String(20))  # E.164 of the number presented
    call_id: Mapped[str | None] = mapped_column(String(128))  # the usage record's call id
    recording_id: Mapped[int | None] = mapped_column(
        ForeignKey("call_recordings.id", ondelete="SET NULL")
    )
    outcome: Mapped[Outcome] = mapped_column(StrEnumType(Outcome))
    notes: Mapped[str] = mapped_column(SqlText, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
