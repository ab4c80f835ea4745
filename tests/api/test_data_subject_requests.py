"""PRIV-01 the register of data subjects' requests through the API: recorded by the customer's
administrator (or staff on its behalf), due by the delay of the customer's own contracts,
answered or rejected once, the late ones listed, and never seen by another customer."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from operateur.accounts.models import Customer
from operateur.contracts import service as contracts
from tests.api.conftest import World, auth

NOW = datetime(2026, 3, 10, 9, 0, tzinfo=UTC)


def _at(client: TestClient, moment: datetime) -> None:
    client.app.state.clock = lambda: moment  # type: ignore[attr-defined]


def _record(
    client: TestClient, key: str, customer_id: int, received_at: datetime, kind: str = "access"
) -> Any:
    response = client.post(
        f"/api/v1/customers/{customer_id}/data-requests",
        headers=auth(key),
        json={
            "kind": kind,
            "subject_name": "Jeanne Martin",
            "subject_contact": "jeanne.martin@example.fr",
            "received_at": received_at.isoformat(),
            "details": "Demande reçue par courrier",
        },
    )
    assert response.status_code == 201, response.text
    return response.json()


# SPEC: PRIV-01
def test_due_day_comes_from_the_customers_contracts(
    client: TestClient, world: World, session: Session
) -> None:
    _at(client, NOW)
    received = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
    # A's contracts keep the offers' 30 days
    a = _record(client, world.a.admin_key, world.a.id, received)
    assert a["due_on"] == "2026-04-01"
    assert a["status"] == "open" and a["late"] is False
    assert a["tools"] == [f"/customers/{world.a.id}/export"]  # access: the data export
    # B signs a contract promising an answer within 10 days: the shortest delay applies
    customer = session.get(Customer, world.b.id)
    assert customer is not None
    contract = contracts.create_contract(
        session, customer, "centrex", {"retention": {"data_subject_response_days": 10}}
    )
    contracts.sign(session, contract, "Signataire")
    contracts.activate(session, contract, date.today())
    session.commit()
    b = _record(client, world.staff_key, world.b.id, received, kind="erasure")  # staff for B
    assert b["due_on"] == "2026-03-12"
    assert b["tools"] == [f"/customers/{world.b.id}/profile", f"/customers/{world.b.id}/users"]


# SPEC: PRIV-01
def test_a_request_is_answered_or_rejected_once(client: TestClient, world: World) -> None:
    _at(client, NOW)
    key = auth(world.a.admin_key)
    base = f"/api/v1/customers/{world.a.id}/data-requests"
    first = _record(client, world.a.admin_key, world.a.id, NOW - timedelta(days=2))
    answered = client.post(
        f"{base}/{first['id']}/answer",
        headers=key,
        json={"outcome": "answered", "note": "Export envoyé par e-mail"},
    )
    assert answered.status_code == 200, answered.text
    assert answered.json()["status"] == "answered"
    assert answered.json()["answered_at"] is not None
    again = client.post(
        f"{base}/{first['id']}/answer", headers=key, json={"outcome": "rejected", "note": "x"}
    )
    assert again.status_code == 409
    assert again.json()["field"] == "status"
    second = _record(client, world.a.admin_key, world.a.id, NOW - timedelta(days=1), "objection")
    no_reason = client.post(
        f"{base}/{second['id']}/answer", headers=key, json={"outcome": "rejected"}
    )
    assert no_reason.status_code == 422
    assert no_reason.json()["field"] == "note"
    rejected = client.post(
        f"{base}/{second['id']}/answer",
        headers=key,
        json={"outcome": "rejected", "note": "Motif légitime impérieux"},
    )
    assert rejected.json()["status"] == "rejected"
    assert rejected.json()["note"] == "Motif légitime impérieux"
    open_ones = client.get(base, headers=key, params={"status": "open"}).json()
    assert {r["id"] for r in open_ones}.isdisjoint({first["id"], second["id"]})


# SPEC: PRIV-01
def test_requests_open_past_their_due_day_are_listed_overdue(
    client: TestClient, world: World
) -> None:
    _at(client, NOW)
    late = _record(client, world.a.admin_key, world.a.id, NOW - timedelta(days=31))
    fresh = _record(client, world.a.admin_key, world.a.id, NOW - timedelta(days=29))
    staff = auth(world.staff_key)
    overdue = client.get("/api/v1/data-requests/overdue", headers=staff)
    assert overdue.status_code == 200
    ids = [r["id"] for r in overdue.json()]
    assert late["id"] in ids and fresh["id"] not in ids
    assert next(r for r in overdue.json() if r["id"] == late["id"])["late"] is True
    mine = client.get(
        f"/api/v1/customers/{world.a.id}/data-requests",
        headers=auth(world.a.admin_key),
        params={"overdue": "true"},
    ).json()
    assert [r["id"] for r in mine] == [late["id"]]
    # answered, it leaves the list but stays marked as answered late
    answered = client.post(
        f"/api/v1/customers/{world.a.id}/data-requests/{late['id']}/answer",
        headers=staff,
        json={"outcome": "answered"},
    ).json()
    assert answered["late"] is True
    again = client.get("/api/v1/data-requests/overdue", headers=staff).json()
    assert late["id"] not in [r["id"] for r in again]
    # the operator-wide list is the staff's
    refused = client.get("/api/v1/data-requests/overdue", headers=auth(world.a.admin_key))
    assert refused.status_code == 403


# SPEC: PRIV-01
def test_another_customer_never_sees_a_request(client: TestClient, world: World) -> None:
    _at(client, NOW)
    a = _record(client, world.a.admin_key, world.a.id, NOW - timedelta(days=1))
    hidden = client.get(
        f"/api/v1/customers/{world.b.id}/data-requests/{a['id']}", headers=auth(world.b.admin_key)
    )
    assert hidden.status_code == 404
    refused = client.get(
        f"/api/v1/customers/{world.a.id}/data-requests", headers=auth(world.b.admin_key)
    )
    assert refused.status_code == 403
    b_list = client.get(
        f"/api/v1/customers/{world.b.id}/data-requests", headers=auth(world.b.admin_key)
    ).json()
    assert a["id"] not in [r["id"] for r in b_list]
    assert "jeanne.martin" not in str(b_list)
    # a customer's plain user does not handle data subjects' requests
    user = client.get(
        f"/api/v1/customers/{world.a.id}/data-requests", headers=auth(world.a.user_key)
    )
    assert user.status_code == 403


# SPEC: PRIV-01
def test_bad_requests_are_refused_naming_the_field(client: TestClient, world: World) -> None:
    _at(client, NOW)
    path = f"/api/v1/customers/{world.a.id}/data-requests"
    base = {"kind": "access", "subject_name": "Jeanne", "subject_contact": "j@example.fr"}
    cases = [
        ({"kind": "portability"}, "kind"),
        ({"subject_name": ""}, "subject_name"),
        ({"subject_contact": "   "}, "subject_contact"),
        ({"received_at": (NOW + timedelta(days=1)).isoformat()}, "received_at"),
    ]
    for change, field in cases:
        response = client.post(path, headers=auth(world.a.admin_key), json=base | change)
        assert response.status_code == 422, (change, response.text)
        assert response.json()["field"] == field, (change, response.text)
