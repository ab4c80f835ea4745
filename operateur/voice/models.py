"""Tables of the voice context.

Live calls are not here: they are held by the counters backend (in process or Redis), written
at ``authorize`` and removed at ``end``; what a call leaves in the database is its usage record
(``billing``) and, for a prepaid customer, its credit reservation.
"""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from operateur.accounts.models import Audited
from operateur.db import Base, StrEnumType, UTCDateTime, utcnow


class VoiceProfile(Base, Audited):
    """How a contract's accounts call: ``prospecting`` accounts place unsolicited commercial
    calls and follow the telemarketing rules (VOX-10); refused where the offer forbids
    telemarketing (VOX-11)."""

    __tablename__ = "voice_profiles"

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    contract_id: Mapped[int] = mapped_column(ForeignKey("contracts.id"), unique=True)
    prospecting: Mapped[bool] = mapped_column(Boolean, default=False)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class ConsentKind(enum.StrEnum):
    CONSENT = "consent"  # VOX-10 loi 2025-594: the consumer's prior consent to be called
    CONTRACT = "contract"  # VOX-10 calls under an existing contract are exempt
    REFUSAL = "refusal"  # VOX-10 décret 2022-1313: no call for 60 days after a refusal


class Consent(Base, Audited):
    """What a consumer said to a customer about prospection calls to a number: who said it,
    when, and the proof the customer keeps. The latest record of a number is what counts."""

    __tablename__ = "voice_consents"
    __table_args__ = (Index("ix_voice_consents_customer_number", "customer_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    number: Mapped[str] = mapped_column(String(20))  # E.164
    kind: Mapped[ConsentKind] = mapped_column(StrEnumType(ConsentKind))
    subject: Mapped[str] = mapped_column(String(200))  # who: the consumer's name or reference
    given_at: Mapped[datetime] = mapped_column(UTCDateTime())  # when the consumer said it
    proof: Mapped[str] = mapped_column(Text)  # how it can be shown (recording, form, contract)
    recorded_by: Mapped[str] = mapped_column(String(200))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    withdrawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class Opposition(Base):
    """A number on the telemarketing opposition list (Bloctel), imported as a whole file."""

    __tablename__ = "voice_oppositions"

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(20), unique=True)  # E.164
    source: Mapped[str] = mapped_column(String(100))
    listed_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class ProspectAttempt(Base):
    """A prospection call let through for a customer to a number (VOX-10: 4 per 30 days)."""

    __tablename__ = "voice_prospect_attempts"
    __table_args__ = (
        Index("ix_voice_prospect_attempts_customer_number_at", "customer_id", "number", "at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"))
    number: Mapped[str] = mapped_column(String(20))  # E.164
    call_id: Mapped[str] = mapped_column(String(128))
    at: Mapped[datetime] = mapped_column(UTCDateTime())


class DestinationSuspension(Base, Audited):
    """A destination (an E.164 prefix) the operator suspends, for one offer or all, from
    ``effective_at`` (after the notice given by email, VOX-01 [001 §6]) until lifted."""

    __tablename__ = "voice_destination_suspensions"

    id: Mapped[int] = mapped_column(primary_key=True)
    prefix: Mapped[str] = mapped_column(String(15), index=True)
    offer_id: Mapped[str | None] = mapped_column(String(50))
    reason: Mapped[str] = mapped_column(Text)
    effective_at: Mapped[datetime] = mapped_column(UTCDateTime())
    lifted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
