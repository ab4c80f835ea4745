"""Commitment arithmetic for each seed offer, dates computed by hand (CTR-02, CTR-03)."""

from __future__ import annotations

from datetime import date

import pytest

from operateur.catalog.service import get_offer
from operateur.contracts.commitment import commitment_start, schedule


def _terms(offer: str):  # type: ignore[no-untyped-def]
    return get_offer(offer).terms.commitment


# SPEC: CTR-02
def test_start_event_follows_the_terms() -> None:
    signed, active = date(2026, 1, 5), date(2026, 1, 20)
    assert commitment_start(_terms("crm-voip"), signed_on=signed, activated_on=active) == active
    assert commitment_start(_terms("centrex"), signed_on=signed, activated_on=active) == signed
    assert commitment_start(_terms("cpaas"), signed_on=signed, activated_on=active) == signed
    assert commitment_start(_terms("telecom"), signed_on=signed, activated_on=None) is None


# SPEC: CTR-03
@pytest.mark.parametrize(
    ("offer", "start", "as_of", "number", "term_end", "deadline", "renewal"),
    [
        # [000 §5] one month, renewed monthly; 10 days' notice
        (
            "crm-voip",
            date(2026, 3, 10),
            date(2026, 3, 20),
            0,
            date(2026, 4, 9),
            date(2026, 3, 31),
            1,
        ),
        (
            "crm-voip",
            date(2026, 3, 10),
            date(2026, 5, 15),
            2,
            date(2026, 6, 9),
            date(2026, 5, 31),
            1,
        ),
        # [001 §10, §20] 36 months, renewed by 12, notice 3 months before the term
        (
            "centrex",
            date(2026, 1, 15),
            date(2026, 6, 1),
            0,
            date(2029, 1, 14),
            date(2028, 10, 15),
            12,
        ),
        # [002 §8] 12 months renewed by 12, 3 months before the anniversary
        ("cpaas", date(2026, 2, 1), date(2027, 3, 1), 1, date(2028, 1, 31), date(2027, 11, 1), 12),
        # [003 §3.3] 12 months renewed by 12, notice 15 days before the term
        (
            "mail-security",
            date(2026, 2, 1),
            date(2026, 12, 31),
            0,
            date(2027, 1, 31),
            date(2027, 1, 17),
            12,
        ),
        # [004 §3] 36 months renewed for the same duration, notice 3 months
        (
            "telecom",
            date(2026, 4, 20),
            date(2029, 4, 19),
            0,
            date(2029, 4, 19),
            date(2029, 1, 20),
            36,
        ),
        (
            "telecom",
            date(2026, 4, 20),
            date(2029, 4, 20),
            1,
            date(2032, 4, 19),
            date(2032, 1, 20),
            36,
        ),
    ],
)
def test_terms_notice_deadlines_and_renewals(
    offer: str,
    start: date,
    as_of: date,
    number: int,
    term_end: date,
    deadline: date,
    renewal: int,
) -> None:
    plan = schedule(_terms(offer), start, as_of)
    assert (plan.term_number, plan.term_end, plan.notice_deadline, plan.next_term_months) == (
        number,
        term_end,
        deadline,
        renewal,
    )
    assert plan.renews


# SPEC: CTR-04
def test_mail_quantities_are_recounted_at_renewal() -> None:
    plan = schedule(_terms("mail-security"), date(2026, 2, 1), date(2026, 3, 1))
    assert "recounted" in plan.at_renewal.en and "recomptées" in plan.at_renewal.fr
