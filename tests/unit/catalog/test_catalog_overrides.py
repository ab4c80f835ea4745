"""Negotiated overrides: deep-merged into a copy of the terms, refused when impossible."""

from __future__ import annotations

import copy
from decimal import Decimal
from typing import Any

import pytest
from pydantic import ValidationError

from operateur.catalog import service
from operateur.catalog.terms import (
    ContractTerms,
    DailyLegalMultiple,
    DayKind,
    Delay,
    DelayUnit,
    FlatPercentAfterDays,
    PaymentMethod,
)
from operateur.errors import InvalidInput


def refused(terms: ContractTerms, overrides: Any) -> InvalidInput:
    with pytest.raises(InvalidInput) as caught:
        service.apply_overrides(terms, overrides)
    return caught.value


def test_an_override_changes_one_value_and_keeps_the_others() -> None:
    # SPEC: BIL-04 a negotiated payment term
    template = service.get_offer("centrex").terms
    terms = service.apply_overrides(template, {"billing": {"payment_term_days": 45}})
    assert terms.billing.payment_term_days == 45
    assert terms.billing.default_payment_method is PaymentMethod.SEPA_DIRECT_DEBIT
    assert terms.commitment == template.commitment
    assert terms.voice == template.voice


def test_overrides_never_mutate_the_template_nor_the_overrides() -> None:
    offer = service.get_offer("telecom")
    before = offer.model_dump()
    overrides: dict[str, Any] = {
        "billing": {"payment_term_days": 30, "payment_methods": ["sepa_direct_debit", "transfer"]},
        "limits": {"sms_monthly_stock": 5000},
    }
    kept = copy.deepcopy(overrides)
    terms = service.apply_overrides(offer.terms, overrides)
    assert terms.limits.sms_monthly_stock == 5000
    assert offer.model_dump() == before
    assert service.get_offer("telecom").terms.billing.payment_term_days == 10
    assert overrides == kept
    assert terms is not offer.terms


def test_negotiated_minimum_commitment_and_capacity() -> None:
    # SPEC: BIL-08 a different minimum by specific annex [002 §24.4.3]
    # SPEC: VOX-07 limits raised on request
    template = service.get_offer("cpaas").terms
    terms = service.apply_overrides(
        template,
        {
            "billing": {"minimum_monthly_commitment": "150.00"},
            "limits": {"concurrent_calls_per_account": 40, "calls_per_second": 5},
        },
    )
    assert terms.billing.minimum_monthly_commitment == Decimal("150.00")
    assert (terms.limits.concurrent_calls_per_account, terms.limits.calls_per_second) == (40, 5)


def test_a_longer_term_among_the_choices() -> None:
    # SPEC: CTR-03 12/24/36 months [003 §3.3]
    template = service.get_offer("mail-security").terms
    terms = service.apply_overrides(template, {"commitment": {"initial_term_months": 36}})
    assert terms.commitment.initial_term_months == 36
    error = refused(template, {"commitment": {"initial_term_months": 18}})
    assert error.field == "terms.commitment.initial_term_months"


def test_the_late_payment_kind_can_be_replaced_whole() -> None:
    # SPEC: BIL-06
    template = service.get_offer("crm-voip").terms
    terms = service.apply_overrides(
        template,
        {
            "late_payment": {
                "interest": {"kind": "daily_legal_rate_multiple", "legal_rate_multiple": "3"}
            }
        },
    )
    assert terms.late_payment.interest == DailyLegalMultiple(
        kind="daily_legal_rate_multiple", legal_rate_multiple=Decimal("3")
    )
    same_kind = service.apply_overrides(
        template, {"late_payment": {"interest": {"after_days": 15}}}
    )
    interest = same_kind.late_payment.interest
    assert isinstance(interest, FlatPercentAfterDays)
    assert interest.after_days == 15


def test_none_removes_an_optional_clause_and_a_group_can_be_added() -> None:
    # SPEC: CTR-08, CTR-10
    template = service.get_offer("crm-voip").terms
    assert service.apply_overrides(template, {"inactivity": None}).inactivity is None
    equipment = {
        "modes": ["rental"],
        "return_within": {"value": 10, "unit": "days", "day_kind": "business"},
        "non_return_billing": "new_value",
        "depreciation_percent_per_year": None,
        "inspection_days": None,
        "loss_or_theft_billed_at_new_value": True,
        "loss_suspension_billed": False,
        "subscriptions_due_during_loss_suspension": True,
    }
    terms = service.apply_overrides(template, {"equipment": equipment})
    assert terms.equipment is not None
    assert terms.equipment.return_within == Delay(
        value=10, unit=DelayUnit.DAYS, day_kind=DayKind.BUSINESS
    )
    error = refused(template, {"equipment": {"modes": ["rental"]}})
    assert error.field == "terms.equipment.return_within"


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"billing": {"payment_term_days": -1}}, "terms.billing.payment_term_days"),
        (
            {"billing": {"method_change_penalty_percent": "150"}},
            "terms.billing.method_change_penalty_percent",
        ),
        ({"billing": {"default_payment_method": "card"}}, "terms.billing.default_payment_method"),
        (
            {"billing": {"minimum_monthly_commitment": 199.99}},
            "terms.billing.minimum_monthly_commitment",
        ),
        ({"billing": {"discount": "5"}}, "terms.billing.discount"),
        ({"perks": {"free_coffee": True}}, "terms.perks"),
        ({"billing": None}, "terms.billing"),
        ({"limits": {"sms_monthly_stock": 100001}}, "terms.limits.sms_monthly_stock"),
        ({"commitment": {"initial_term_months": None}}, "terms.commitment.initial_term_months"),
        ({"sla": {"mail": {"penalty_cap_percent": "101"}}}, "terms.sla.mail.penalty_cap_percent"),
    ],
)
def test_impossible_overrides_are_refused_with_the_field_named(
    overrides: dict[str, Any], field: str
) -> None:
    template = service.get_offer("telecom").terms
    if field.startswith("terms.sla"):
        template = service.get_offer("mail-security").terms
    error = refused(template, overrides)
    assert error.field == field
    assert field in error.render("fr") and error.render("fr").startswith("Dérogations")
    assert field in error.render("en") and error.render("en").startswith("Overrides")


def test_overrides_must_be_a_mapping() -> None:
    error = refused(service.get_offer("centrex").terms, ["billing"])
    assert error.field == "terms"


def test_terms_are_frozen() -> None:
    terms = service.get_offer("centrex").terms
    with pytest.raises(ValidationError):
        terms.billing.payment_term_days = 99


def test_mail_rules_need_how_long_mail_is_kept() -> None:
    # SPEC: MAIL-10 held and buffered mail is kept at most the terms' days: mail terms without
    # that figure are refused, naming it
    template = service.get_offer("mail-security").terms
    error = refused(template, {"retention": {"mail_days": None}})
    assert error.field == "terms.retention.mail_days"
    assert "durée" in error.render("fr") and "how long" in error.render("en")
