"""Commitment arithmetic from the frozen terms (CTR-02, CTR-03): when the commitment starts,
the current term, its end, the last day to give notice, and what happens at renewal.

A term of N months starting on day D ends the day before D + N months (months clamped to the
end of the month); each boundary is counted from the commitment's start, so the anniversaries
stay on its day of the month (31 January: 28 February, 31 March, 30 April...). Notice must
reach the operator at least the terms' notice before the next term starts: the last day to
give it is that start moved back by the notice (calendar months, calendar days or business
days as the terms say).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from operateur.catalog.terms import CommitmentStart, CommitmentTerms
from operateur.domain.calendar import add_months
from operateur.i18n import Text


@dataclass(frozen=True)
class Schedule:
    starts_on: date  # CTR-02 the commitment's start
    term_number: int  # 0: the initial term; 1, 2...: renewals
    term_start: date
    term_end: date  # last day of the current term (included)
    notice_deadline: date | None  # last day to give notice so that it does not renew
    renews: bool
    next_term_months: int | None
    at_renewal: Text


def commitment_start(
    terms: CommitmentTerms, *, signed_on: date | None, activated_on: date | None
) -> date | None:
    """CTR-02: the day the commitment starts, or None while its event has not happened."""
    if terms.starts_at is CommitmentStart.ACTIVATION:
        return activated_on
    return signed_on  # acceptance, signature of the annexes, signature: the signed order


def schedule(terms: CommitmentTerms, start: date, as_of: date) -> Schedule:
    """The term running on ``as_of`` (the initial term when ``as_of`` precedes the start)."""
    if terms.initial_term_months is None:
        return Schedule(
            start,
            0,
            start,
            date.max,
            None,
            False,
            None,
            Text(
                fr="Contrat sans durée : résiliable selon le préavis des conditions.",
                en="Open-ended contract: ends with the notice of the terms.",
            ),
        )
    # every term boundary counted from the start, never from the previous (clamped) boundary:
    # monthly terms from 31 January start 28 February then 31 March, not 28 March
    offset, months, number = 0, terms.initial_term_months, 0
    while as_of >= add_months(start, offset + months) and terms.tacit_renewal:
        offset, months, number = offset + months, terms.renewal_months or months, number + 1
    term_start, next_start = add_months(start, offset), add_months(start, offset + months)
    renewal = terms.renewal_months if terms.tacit_renewal else None
    deadline = terms.notice.before(next_start) if terms.notice and terms.tacit_renewal else None
    if renewal is None:
        text = Text(
            fr=f"Le contrat prend fin le {next_start - timedelta(days=1):%d/%m/%Y}.",
            en=f"The contract ends on {next_start - timedelta(days=1):%Y-%m-%d}.",
        )
    else:
        keeps = terms.renewal_keeps_quantities
        text = Text(
            fr=f"Reconduction tacite pour {renewal} mois le {next_start:%d/%m/%Y}"
            + (", mêmes quantités" if keeps else ", quantités recomptées")
            + (f", sauf préavis reçu au plus tard le {deadline:%d/%m/%Y}." if deadline else "."),
            en=f"Tacit renewal for {renewal} months on {next_start:%Y-%m-%d}"
            + (", same quantities" if keeps else ", quantities recounted")
            + (f", unless notice is received by {deadline:%Y-%m-%d}." if deadline else "."),
        )
    return Schedule(
        starts_on=start,
        term_number=number,
        term_start=term_start,
        term_end=next_start - timedelta(days=1),
        notice_deadline=deadline,
        renews=renewal is not None,
        next_term_months=renewal,
        at_renewal=text,
    )
