"""Broken templates are refused with the faulty field named, in French and in English."""

from __future__ import annotations

import copy
from collections.abc import Callable
from importlib import resources
from pathlib import Path
from typing import Any

import pytest
import yaml

from operateur.catalog import service
from operateur.errors import InvalidInput, NotFound


def raw(offer_id: str) -> dict[str, Any]:
    """A fresh copy of a built-in template as plain data."""
    text = resources.files(service.OFFERS_PACKAGE).joinpath(f"{offer_id}.yaml").read_text("utf-8")
    data = yaml.safe_load(text)
    assert isinstance(data, dict)
    return copy.deepcopy(data)


def refusal(data: Any, source: str = "test.yaml") -> InvalidInput:
    with pytest.raises(InvalidInput) as caught:
        service.parse_offer(data, source)
    return caught.value


def assert_names(error: InvalidInput, field: str) -> None:
    assert error.field == field
    assert field in error.render("fr")
    assert field in error.render("en")


def _del_payment_term(data: dict[str, Any]) -> None:
    del data["terms"]["billing"]["payment_term_days"]


def _set(path: str, value: Any) -> Callable[[dict[str, Any]], None]:
    def change(data: dict[str, Any]) -> None:
        *parents, last = path.split(".")
        node: Any = data
        for key in parents:
            node = node[int(key)] if isinstance(node, list) else node[key]
        node[last] = value

    return change


@pytest.mark.parametrize(
    ("offer_id", "change", "field"),
    [
        # a required term is missing
        ("centrex", _del_payment_term, "terms.billing.payment_term_days"),
        # impossible numbers
        ("centrex", _set("terms.billing.payment_term_days", -5), "terms.billing.payment_term_days"),
        (
            "telecom",
            _set("terms.billing.method_change_penalty_percent", "150"),
            "terms.billing.method_change_penalty_percent",
        ),
        ("cpaas", _set("terms.quality.asr_min_percent", "150"), "terms.quality.asr_min_percent"),
        (
            "centrex",
            _set("terms.limits.concurrent_calls_per_line", 0),
            "terms.limits.concurrent_calls_per_line",
        ),
        (
            "crm-voip",
            _set("terms.commitment.licence_change_cutoff_day", 31),
            "terms.commitment.licence_change_cutoff_day",
        ),
        # the default payment method is not accepted
        (
            "telecom",
            _set("terms.billing.default_payment_method", "transfer"),
            "terms.billing.default_payment_method",
        ),
        # an unknown key
        ("centrex", _set("terms.billing.payment_delay", 10), "terms.billing.payment_delay"),
        ("centrex", _set("terms.colour", "blue"), "terms.colour"),
        # money as a float, an unknown enum value, a time as a number
        ("centrex", _set("prices.0.unit_price", 60.5), "prices.0.unit_price"),
        ("centrex", _set("terms.billing.price_basis", "with_tips"), "terms.billing.price_basis"),
        ("cpaas", _set("terms.support.hours.start", 540), "terms.support.hours.start"),
        # a renewal without an initial term
        (
            "centrex",
            _set("terms.commitment.initial_term_months", None),
            "terms.commitment.initial_term_months",
        ),
        # a delay in business months
        (
            "centrex",
            _set("terms.commitment.notice", {"value": 3, "unit": "months", "day_kind": "business"}),
            "terms.commitment.notice.day_kind",
        ),
        # late-payment union: a bad parameter is named without the union's tag
        (
            "crm-voip",
            _set("terms.late_payment.interest.percent", "150"),
            "terms.late_payment.interest.percent",
        ),
        (
            "crm-voip",
            _set("terms.late_payment.interest.kind", "usury"),
            "terms.late_payment.interest",
        ),
        # cross-field rules
        ("telecom", _set("terms.sms.concat_part_length", 160), "terms.sms.concat_part_length"),
        (
            "telecom",
            _set("terms.limits.sms_monthly_stock", 200000),
            "terms.limits.sms_monthly_stock",
        ),
        ("telecom", _set("terms.sms.sending_window.end", "07:00"), "terms.sms.sending_window.end"),
        (
            "telecom",
            _set("terms.sms.sending_window.timezone", "Mars/Olympus"),
            "terms.sms.sending_window.timezone",
        ),
        (
            "crm-voip",
            _set("terms.retention.end_customer_data_days", 90),
            "terms.retention.end_customer_data_days",
        ),
        ("telecom", _set("terms.disputes.refund_delay", None), "terms.disputes.refund_delay"),
        (
            "mail-security",
            _set("terms.commitment.initial_term_months", 18),
            "terms.commitment.initial_term_months",
        ),
        # a service whose engine has no terms to read
        ("telecom", _set("terms.sms", None), "terms.sms"),
        ("cpaas", _set("services", ["cpaas_voice", "cpaas_voice"]), "services"),
        ("cpaas", _set("prices.1.code", "option.interconnect.setup"), "prices.1.code"),
        ("cpaas", _set("seed", 2), "seed"),
    ],
)
def test_impossible_templates_are_refused_with_the_field_named(
    offer_id: str, change: Callable[[dict[str, Any]], None], field: str
) -> None:
    data = raw(offer_id)
    change(data)
    assert_names(refusal(data), field)


def test_reasons_are_given_in_french_and_in_english() -> None:
    data = raw("centrex")
    data["terms"]["billing"]["payment_term_days"] = -5
    error = refusal(data, "centrex.yaml")
    assert error.render("fr") == (
        "Modèle d'offre centrex.yaml : terms.billing.payment_term_days refusé — "
        "doit être supérieur ou égal à 0"
    )
    assert error.render("en") == (
        "Offer template centrex.yaml: terms.billing.payment_term_days refused — "
        "Input should be greater than or equal to 0"
    )

    data = raw("telecom")
    data["terms"]["billing"]["default_payment_method"] = "cheque"
    error = refusal(data)
    assert "n'est pas accepté" in error.render("fr")
    assert "is not an accepted method" in error.render("en")


def test_every_error_is_listed_in_the_details() -> None:
    data = raw("centrex")
    data["terms"]["billing"]["payment_term_days"] = -1
    data["terms"]["billing"]["surprise"] = True
    error = refusal(data)
    fields = {item["field"] for item in error.details["errors"]}
    assert fields == {"terms.billing.payment_term_days", "terms.billing.surprise"}


def test_a_template_must_be_a_mapping() -> None:
    error = refusal(["not", "a", "mapping"])
    assert error.field is None
    assert "mapping" in error.render("en")


def test_yaml_files_broken_or_with_duplicate_keys_are_refused(tmp_path: Path) -> None:
    duplicated = tmp_path / "duplicated.yaml"
    duplicated.write_text("id: centrex\nseed: '001'\nid: cpaas\n", encoding="utf-8")
    with pytest.raises(InvalidInput) as caught:
        service.load_offer_file(duplicated)
    assert "duplicate key 'id'" in caught.value.render("en")

    broken = tmp_path / "broken.yaml"
    broken.write_text("id: [unclosed\n", encoding="utf-8")
    with pytest.raises(InvalidInput) as caught:
        service.load_offer_file(broken)
    assert "YAML" in caught.value.render("fr")

    unhashable = tmp_path / "unhashable.yaml"
    unhashable.write_text("? [a, b]\n: 1\n", encoding="utf-8")
    with pytest.raises(InvalidInput):
        service.load_offer_file(unhashable)

    with pytest.raises(NotFound):
        service.load_offer_file(tmp_path / "missing.yaml")


def test_a_valid_copy_written_to_disk_loads(tmp_path: Path) -> None:
    data = raw("telecom")
    data["terms"]["billing"]["payment_term_days"] = 15
    path = tmp_path / "telecom.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    offer = service.load_offer_file(str(path))
    assert offer.terms.billing.payment_term_days == 15
