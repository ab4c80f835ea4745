"""Whether a refund may be asked for (BIL-18): never once the service has been used when the
terms say so [000 §6], and only within the terms' window after its cause [003 §6.4]."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from operateur.catalog.terms import BillingTerms
from operateur.i18n import Text


@dataclass(frozen=True)
class RefundDecision:
    allowed: bool
    reasons: tuple[tuple[str, Text], ...]
    deadline: date | None


def refund_request(
    terms: BillingTerms, *, first_use: date | None, cause_on: date, requested_on: date
) -> RefundDecision:
    """Every reason the terms give to refuse a refund request, and its last day."""
    reasons: list[tuple[str, Text]] = []
    if terms.no_refund_after_first_use and first_use is not None:
        reasons.append(
            (
                "service_used",
                Text(
                    fr=f"Aucun remboursement après la première utilisation du service "
                    f"({first_use:%d/%m/%Y}).",
                    en=f"No refund once the service has been used ({first_use:%Y-%m-%d}).",
                ),
            )
        )
    deadline = terms.refund_request_window.after(cause_on) if terms.refund_request_window else None
    if deadline is not None and requested_on > deadline:
        reasons.append(
            (
                "out_of_time",
                Text(
                    fr=f"Demande hors délai : au plus tard le {deadline:%d/%m/%Y}.",
                    en=f"Request out of time: by {deadline:%Y-%m-%d} at the latest.",
                ),
            )
        )
    return RefundDecision(allowed=not reasons, reasons=tuple(reasons), deadline=deadline)
