"""The contract state machine through the API, and the single "may use" check (CTR-06)."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.api.conftest import World, auth


def _contract(world: World) -> str:
    return f"/api/v1/customers/{world.a.id}/contracts/{world.a.ids['contract_id']}"


# SPEC: CTR-06, SEC-02
def test_suspend_and_restore_are_recorded_and_gate_the_service(
    client: TestClient, world: World
) -> None:
    staff = auth(world.staff_key)
    usable = f"/api/v1/customers/{world.a.id}/services/centrex/usable"
    assert client.get(usable, headers=auth(world.a.user_key)).json()["allowed"] is True
    body = {"cause": "non_payment", "reason": "facture F2026-000001 impayée", "on": "2030-02-01"}
    # CTR-06 [001 §19] non-payment is not an urgency: a formal notice comes first
    refused = client.post(f"{_contract(world)}/suspend", headers=staff, json=body)
    assert refused.status_code == 409 and refused.json()["code"] == "formal_notice_required"
    assert "mise en demeure" in refused.json()["message"]
    notice = client.post(
        f"{_contract(world)}/notices",
        headers=staff,
        json={
            "kind": "suspension",
            "cause": "non_payment",
            "started_on": "2030-02-01",
            "summary": "facture F2026-000001 impayée",
        },
    )
    assert notice.status_code == 201 and notice.json()["opens_on"] == "2030-02-01"  # no delay
    suspended = client.post(f"{_contract(world)}/suspend", headers=staff, json=body)
    assert suspended.json()["status"] == "suspended"
    decision = client.get(usable, headers=auth(world.a.user_key)).json()
    assert decision["allowed"] is False and decision["code"] == "suspended_non_payment"
    twice = client.post(f"{_contract(world)}/restore", headers=staff, json={"reason": "payé"})
    assert twice.json()["status"] == "active"
    again = client.post(f"{_contract(world)}/restore", headers=staff, json={"reason": "payé"})
    assert again.status_code == 409 and again.json()["code"] == "illegal_transition"
    events = client.get(f"{_contract(world)}/events", headers=auth(world.a.user_key)).json()
    assert [e["transition"] for e in events][-2:] == ["suspend", "restore"]
    assert events[-2]["reason"] == "facture F2026-000001 impayée"
    audit = client.get(
        "/api/v1/audit", headers=staff, params={"entity": "contracts", "action": "update"}
    ).json()
    assert any(e["after"].get("status") == "suspended" for e in audit)


# SPEC: CTR-06
def test_partial_suspension_of_international_calls(client: TestClient, world: World) -> None:
    staff = auth(world.staff_key)
    # the Centrex terms allow suspending "tout ou partie" of the service [001 §19]
    response = client.post(
        f"{_contract(world)}/suspend",
        headers=staff,
        json={"cause": "fraud", "scope": "international_calls", "reason": "appels suspects"},
    )
    assert response.status_code == 200
    usable = f"/api/v1/customers/{world.a.id}/services/centrex/usable"
    assert client.get(usable, headers=staff).json()["allowed"] is True
    abroad = client.get(usable, headers=staff, params={"international": True}).json()
    assert abroad["allowed"] is False and abroad["code"] == "suspended_fraud"


# SPEC: CTR-06, CTR-01
def test_no_partial_suspension_when_the_contract_excludes_it(
    client: TestClient, world: World
) -> None:
    staff = auth(world.staff_key)
    base = f"/api/v1/customers/{world.a.id}/contracts"
    draft = client.post(
        base,
        headers=staff,
        json={"offer_id": "cpaas", "overrides": {"suspension": {"partial_allowed": False}}},
    ).json()
    client.post(f"{base}/{draft['id']}/sign", headers=staff, json={"signed_by": "M. A"})
    client.post(
        f"{base}/{draft['id']}/activate", headers=staff, json={"activated_on": "2030-01-01"}
    )
    response = client.post(
        f"{base}/{draft['id']}/suspend",
        headers=staff,
        json={"cause": "fraud", "scope": "international_calls", "reason": "appels suspects"},
    )
    assert response.status_code == 422 and response.json()["field"] == "scope"


def test_notice_then_termination(client: TestClient, world: World) -> None:
    staff = auth(world.staff_key)
    notice = client.post(
        f"{_contract(world)}/termination",
        headers=staff,
        json={"received_on": "2026-11-01", "ends_on": "2029-02-28", "reason": "lettre du client"},
    )
    assert notice.status_code == 200 and notice.json()["ends_on"] == "2029-02-28"
    contract = client.get(_contract(world), headers=staff).json()
    assert contract["status"] == "notice_given"
    done = client.post(
        f"{_contract(world)}/terminate",
        headers=staff,
        json={"on": "2029-02-28", "reason": "fin de période"},
    )
    assert done.json()["status"] == "terminated"
    usable = f"/api/v1/customers/{world.a.id}/services/centrex/usable"
    assert client.get(usable, headers=staff).json()["code"] == "no_contract"
    customer_cannot = client.post(
        f"{_contract(world)}/terminate",
        headers=auth(world.a.admin_key),
        json={"on": "2029-02-28", "reason": "x"},
    )
    assert customer_cannot.status_code == 403
