"""Refund requests under the offers' terms (BIL-18)."""

from __future__ import annotations

from datetime import date

from operateur.billing.refunds import refund_request
from operateur.catalog.service import get_offer


# SPEC: BIL-18
def test_no_refund_once_the_calling_tool_was_used() -> None:
    terms = get_offer("crm-voip").terms.billing
    used = refund_request(
        terms, first_use=date(2026, 3, 2), cause_on=date(2026, 3, 5), requested_on=date(2026, 3, 6)
    )
    assert not used.allowed and [code for code, _ in used.reasons] == ["service_used"]
    unused = refund_request(
        terms, first_use=None, cause_on=date(2026, 3, 5), requested_on=date(2026, 9, 6)
    )
    assert unused.allowed


# SPEC: BIL-18
def test_mail_refund_requests_within_a_month_of_the_cause() -> None:
    terms = get_offer("mail-security").terms.billing
    on_time = refund_request(
        terms,
        first_use=date(2026, 1, 2),
        cause_on=date(2026, 1, 31),
        requested_on=date(2026, 2, 28),
    )
    # one calendar month from 31 January is 28 February (end of month clamped)
    assert on_time.allowed and on_time.deadline == date(2026, 2, 28)
    late = refund_request(
        terms, first_use=date(2026, 1, 2), cause_on=date(2026, 1, 31), requested_on=date(2026, 3, 1)
    )
    assert [code for code, _ in late.reasons] == ["out_of_time"]
