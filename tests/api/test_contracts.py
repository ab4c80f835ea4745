"""Contracts: terms frozen at signature, transitions, subscriptions, lines, equipment."""

from __future__ import annotations

from decimal import Decimal

import pytest
from fastapi.testclient import TestClient

from operateur.catalog import service as catalog
from operateur.catalog.terms import OfferTemplate
from tests.api.conftest import World, auth


def _draft(client: TestClient, world: World, overrides: dict[str, object] | None = None) -> dict:
    response = client.post(
        f"/api/v1/customers/{world.a.id}/contracts",
        headers=auth(world.staff_key),
        json={"offer_id": "cpaas", "overrides": overrides or {}},
    )
    assert response.status_code == 201, response.text
    return dict(response.json())


# SPEC: CTR-01
def test_terms_are_frozen_at_signature(
    client: TestClient, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    draft = _draft(client, world, {"billing": {"payment_term_days": 45}})
    assert draft["terms"]["billing"]["payment_term_days"] == 45
    base = f"/api/v1/customers/{world.a.id}/contracts/{draft['id']}"
    signed = client.post(f"{base}/sign", headers=auth(world.staff_key), json={"signed_by": "M. A"})
    assert signed.json()["status"] == "signed"
    frozen_terms = signed.json()["terms"]

    # The operator edits the template afterwards: the signed contract does not move.
    original = catalog.get_offer("cpaas")
    edited_terms = catalog.apply_overrides(
        original.terms, {"limits": {"concurrent_calls_per_account": 99}}
    )
    edited = OfferTemplate.model_validate(original.model_dump() | {"terms": edited_terms})
    monkeypatch.setattr(catalog, "get_offer", lambda offer_id: edited)
    again = client.get(base, headers=auth(world.staff_key)).json()
    assert again["terms"] == frozen_terms
    assert again["terms"]["limits"]["concurrent_calls_per_account"] == 10  # VOX-07 default

    # A new draft takes the edited template.
    fresh = _draft(client, world)
    assert fresh["terms"]["limits"]["concurrent_calls_per_account"] == 99

    # Renegotiating a signed contract is refused.
    refused = client.put(f"{base}/overrides", headers=auth(world.staff_key), json={"overrides": {}})
    assert refused.status_code == 409
    assert refused.json()["code"] == "illegal_transition"


# SPEC: CTR-01
def test_an_impossible_override_is_refused_with_the_field_named(
    client: TestClient, world: World
) -> None:
    response = client.post(
        f"/api/v1/customers/{world.a.id}/contracts",
        headers=auth(world.staff_key),
        json={"offer_id": "cpaas", "overrides": {"billing": {"payment_term_days": -3}}},
    )
    assert response.status_code == 422
    assert response.json()["field"] == "terms.billing.payment_term_days"


def test_transitions_are_checked(client: TestClient, world: World) -> None:
    draft = _draft(client, world)
    base = f"/api/v1/customers/{world.a.id}/contracts/{draft['id']}"
    early = client.post(
        f"{base}/activate", headers=auth(world.staff_key), json={"activated_on": "2026-01-01"}
    )
    assert early.status_code == 409
    client.post(
        f"{base}/sign",
        headers=auth(world.staff_key),
        json={"signed_by": "M. A", "signed_at": "2026-02-01T10:00:00+01:00"},
    )
    before = client.post(
        f"{base}/activate", headers=auth(world.staff_key), json={"activated_on": "2026-01-15"}
    )
    assert before.status_code == 422
    assert before.json()["field"] == "activated_on"
    active = client.post(
        f"{base}/activate", headers=auth(world.staff_key), json={"activated_on": "2026-02-03"}
    )
    assert active.json()["status"] == "active"
    twice = client.post(f"{base}/sign", headers=auth(world.staff_key), json={"signed_by": "X"})
    assert twice.status_code == 409


# SPEC: BIL-17
def test_subscriptions_take_their_prices_from_the_frozen_price_list(
    client: TestClient, world: World
) -> None:
    draft = _draft(client, world)
    base = f"/api/v1/customers/{world.a.id}/contracts/{draft['id']}"
    caps = client.post(
        f"{base}/subscriptions",
        headers=auth(world.staff_key),
        json={"item_code": "option.caps.monthly", "quantity": 2},
    )
    assert caps.status_code == 201
    # +10 CAPS option: 150 € a month [002 §28]
    assert Decimal(caps.json()["unit_price_mrc"]) == Decimal("150.00")
    assert Decimal(caps.json()["unit_price_nrc"]) == Decimal("0")
    setup = client.post(
        f"{base}/subscriptions",
        headers=auth(world.staff_key),
        json={"item_code": "option.interconnect.setup"},
    )
    assert Decimal(setup.json()["unit_price_nrc"]) == Decimal("1000.00")
    unknown = client.post(
        f"{base}/subscriptions", headers=auth(world.staff_key), json={"item_code": "nope"}
    )
    assert unknown.status_code == 422
    assert unknown.json()["field"] == "item_code"


# SPEC: CTR-10
def test_equipment_is_recorded_and_returned_once(client: TestClient, world: World) -> None:
    base = f"/api/v1/customers/{world.a.id}/equipment"
    created = client.post(
        base,
        headers=auth(world.staff_key),
        json={
            "contract_id": world.a.ids["contract_id"],
            "serial": "SN-NEW",
            "model": "T46U",
            "mode": "provision",
            "value": "120.00",
            "delivered_on": "2026-03-01",
        },
    )
    assert created.status_code == 201
    duplicate = client.post(
        base,
        headers=auth(world.staff_key),
        json={
            "contract_id": world.a.ids["contract_id"],
            "serial": "SN-NEW",
            "model": "T46U",
            "mode": "provision",
            "value": "120.00",
        },
    )
    assert duplicate.status_code == 409 and duplicate.json()["field"] == "serial"
    url = f"{base}/{created.json()['id']}/return"
    returned = client.post(url, headers=auth(world.staff_key), json={"returned_on": "2026-09-01"})
    assert returned.json()["status"] == "returned"
    assert (
        client.post(
            url, headers=auth(world.staff_key), json={"returned_on": "2026-09-02"}
        ).status_code
        == 409
    )
