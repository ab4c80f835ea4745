"""Tables of the fraud context: the alerts the detectors raise, with their evidence."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, String
from sqlalchemy import Text as SqlText
from sqlalchemy.orm import Mapped, mapped_column

from operateur.accounts.models import Audited
from operateur.db import Base, StrEnumType, UTCDateTime, utcnow


class AlertKind(enum.StrEnum):
    DISTINCT_NUMBERS = "distinct_numbers"  # VOX-06 [001 §8] > 500 numbers per line per period
    LONG_CALLS = "long_calls"  # VOX-06 [001 §8] calls longer than 120 minutes
    PREFIX_BURST = "prefix_burst"  # VOX-06 many calls to one prefix in a few minutes
    OUT_OF_PLAN = "out_of_plan"  # BIL-13 [001 §11.2] out-of-plan usage above the threshold


class AlertStatus(enum.StrEnum):
    OPEN = "open"
    RESOLVED = "resolved"


class FraudAlert(Base, Audited):
    """One suspicion, raised once per subject and billing period (``dedup_key``): rerunning
    the detectors updates its evidence, never duplicates it. ``actions`` records what was done
    under the contract's terms (restriction, interim invoice, billing beyond the limits,
    unlimited plan voided) and what is left to staff (report to the authorities)."""

    __tablename__ = "fraud_alerts"

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    contract_id: Mapped[int] = mapped_column(ForeignKey("contracts.id"), index=True)
    line_id: Mapped[int | None] = mapped_column(ForeignKey("lines.id"), index=True)
    kind: Mapped[AlertKind] = mapped_column(StrEnumType(AlertKind))
    period: Mapped[str] = mapped_column(String(7), index=True)
    dedup_key: Mapped[str] = mapped_column(String(120), unique=True)
    rule: Mapped[str] = mapped_column(String(20))  # the SPEC rule: VOX-06, BIL-13
    evidence: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    actions: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    billed_usage_ids: Mapped[list[int]] = mapped_column(JSON, default=list)
    status: Mapped[AlertStatus] = mapped_column(
        StrEnumType(AlertStatus), default=AlertStatus.OPEN, index=True
    )
    raised_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    resolved_by: Mapped[str | None] = mapped_column(String(200))
    resolution: Mapped[str | None] = mapped_column(SqlText)
