"""Price changes: Syntec indexation and unilateral price changes under each offer's terms.

# SPEC: CTR-13

The Syntec index values below are illustrative figures, not published ones.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from operateur.billing.revisions import (
    PriceChangeMode,
    index_revision,
    price_change_notice,
    revised_price,
)
from operateur.catalog.service import get_offer
from operateur.catalog.terms import ChangeTerms, PriceIndex
from operateur.errors import InvalidInput


def terms_of(offer_id: str) -> ChangeTerms:
    return get_offer(offer_id).terms.changes


# --- Syntec ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("p0", "s0", "s1", "expected"),
    [
        ("100.00", "250.0", "262.5", "105.0000"),  # 100 x 262.5 / 250 = 105
        ("10", "3", "4", "13.3333"),  # 13.3333...
        ("2", "3", "1", "0.6667"),  # 0.6666... rounds up
        ("0.0001", "2", "1", "0.0001"),  # 0.00005: half-up, not half-even
        ("49.90", "280.3", "274.1", "48.7963"),  # a fall: 49.90 x 274.1 / 280.3 = 48.79625...
        ("0", "280.3", "290.0", "0.0000"),
    ],
)
def test_revised_price(p0: str, s0: str, s1: str, expected: str) -> None:
    # SPEC: CTR-13 [004 §9.6.3] P = P0 x S1 / S0, 4 decimals half-up
    result = revised_price(Decimal(p0), Decimal(s0), Decimal(s1))
    assert result == Decimal(expected)
    assert str(result) == expected


@pytest.mark.parametrize(
    ("p0", "s0", "s1", "field"),
    [
        (Decimal("10"), Decimal("0"), Decimal("1"), "s0"),
        (Decimal("10"), Decimal("-1"), Decimal("1"), "s0"),
        (Decimal("10"), Decimal("1"), Decimal("0"), "s1"),
        (Decimal("-10"), Decimal("1"), Decimal("1"), "p0"),
        (Decimal("10"), 280.3, Decimal("1"), "s0"),
        (Decimal("10"), Decimal("NaN"), Decimal("1"), "s0"),
    ],
)
def test_revised_price_refuses_non_positive_indices(
    p0: Decimal, s0: Decimal, s1: Decimal, field: str
) -> None:
    # SPEC: CTR-13
    with pytest.raises(InvalidInput) as info:
        revised_price(p0, s0, s1)
    assert info.value.field == field


def test_annual_syntec_revision_opens_no_termination_right() -> None:
    # SPEC: CTR-13 [004 §9.6.3]
    revision = index_revision(
        terms_of("telecom"), p0=Decimal("100.00"), s0=Decimal("250.0"), s1=Decimal("262.5")
    )
    assert revision.index is PriceIndex.SYNTEC
    assert revision.price == Decimal("105.0000")
    assert revision.termination_right is False
    assert "P = P0 × S1 / S0" in revision.explanation.fr


def test_no_index_revision_without_the_clause() -> None:
    # SPEC: CTR-13 only the telecom offer carries the Syntec clause
    with pytest.raises(InvalidInput) as info:
        index_revision(terms_of("centrex"), p0=Decimal("1"), s0=Decimal("1"), s1=Decimal("2"))
    assert info.value.field == "annual_index_revision"


# --- unilateral price changes ---------------------------------------------------------------

NOTIFIED = date(2026, 3, 15)


def test_telecom_one_month_notice_and_termination_window_on_a_rise() -> None:
    # SPEC: CTR-13 [004 §9.6.1] notified 15 March: effective 15 April at the earliest;
    # a rise may be answered by termination without penalty until 15 April
    result = price_change_notice(terms_of("telecom"), NOTIFIED, date(2026, 4, 15), True)
    assert result.mode is PriceChangeMode.WITH_NOTICE
    assert result.notice_sufficient
    assert result.earliest_effective == date(2026, 4, 15)
    assert result.applies_on == date(2026, 4, 15)
    assert result.termination_without_penalty
    assert result.termination_until == date(2026, 4, 15)
    assert not result.prorata_refund
    assert "15/04/2026" in result.explanation.fr


def test_telecom_short_notice_is_postponed_and_a_fall_opens_no_termination() -> None:
    # SPEC: CTR-13 [004 §9.6.1]
    result = price_change_notice(terms_of("telecom"), NOTIFIED, date(2026, 4, 14), False)
    assert not result.notice_sufficient
    assert result.applies_on == date(2026, 4, 15)
    assert not result.termination_without_penalty
    assert result.termination_until is None


def test_cpaas_objection_before_the_effective_date_and_continued_use_is_acceptance() -> None:
    # SPEC: CTR-13 [002 §12.2]
    result = price_change_notice(terms_of("cpaas"), NOTIFIED, date(2026, 4, 15), True)
    assert result.notice_sufficient
    assert result.objection_until == date(2026, 4, 14)
    assert result.continued_use_is_acceptance
    assert not result.termination_without_penalty
    assert "14/04/2026" in result.explanation.fr
    assert "Continued use of the service is acceptance." in result.explanation.en


def test_mail_security_no_notice_but_termination_with_prorata_refund() -> None:
    # SPEC: CTR-13 [003 §3.2] "sans préavis"; an unfavourable change: terminate, prorata refund
    result = price_change_notice(terms_of("mail-security"), NOTIFIED, NOTIFIED, True)
    assert result.notice_sufficient
    assert result.termination_without_penalty
    assert result.termination_until is None
    assert result.prorata_refund
    favourable = price_change_notice(terms_of("mail-security"), NOTIFIED, NOTIFIED, False)
    assert not favourable.termination_without_penalty
    assert not favourable.prorata_refund


def test_centrex_price_list_changes_only_at_renewal() -> None:
    # SPEC: CTR-13 [001 §21.3]
    renewal = date(2026, 9, 1)
    on_time = price_change_notice(
        terms_of("centrex"), NOTIFIED, renewal, True, next_renewal=renewal
    )
    assert on_time.mode is PriceChangeMode.AT_RENEWAL
    assert on_time.notice_sufficient
    assert on_time.applies_on == renewal
    early = price_change_notice(
        terms_of("centrex"), NOTIFIED, date(2026, 5, 1), True, next_renewal=renewal
    )
    assert not early.notice_sufficient
    assert early.applies_on == renewal
    assert not early.termination_without_penalty
    unknown = price_change_notice(terms_of("centrex"), NOTIFIED, renewal, True)
    assert not unknown.notice_sufficient
    assert unknown.applies_on is None


def test_crm_voip_prices_change_only_by_signed_amendment() -> None:
    # SPEC: CTR-13 [000 §9.2]
    result = price_change_notice(terms_of("crm-voip"), NOTIFIED, date(2027, 1, 1), True)
    assert result.mode is PriceChangeMode.NOT_ALLOWED
    assert not result.notice_sufficient
    assert result.applies_on is None
    assert not result.termination_without_penalty
    assert "avenant signé" in result.explanation.fr
