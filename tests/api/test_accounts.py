"""Login, API keys, customers, errors and the audit log through the API."""

from __future__ import annotations

import logging

import pytest
from fastapi.testclient import TestClient

from tests.api.conftest import PASSWORD, World, auth


def _login(client: TestClient, email: str, password: str = PASSWORD) -> str:
    response = client.post("/api/v1/auth/login", json={"email": email, "password": password})
    assert response.status_code == 200, response.text
    return str(response.json()["token"])


# SPEC: SEC-01
def test_login_opens_a_session_usable_as_bearer_and_cookie(
    client: TestClient, world: World
) -> None:
    token = _login(client, world.a.admin_email)
    me = client.get("/api/v1/auth/me", headers=auth(token))
    assert me.json()["customer_id"] == world.a.id
    assert me.json()["role"] == "customer_admin"
    # the cookie set by the login works on its own
    assert client.get(f"/api/v1/customers/{world.a.id}").status_code == 200
    assert client.post("/api/v1/auth/logout", headers=auth(token)).status_code == 204
    client.cookies.clear()
    assert client.get("/api/v1/auth/me", headers=auth(token)).status_code == 401


# SPEC: SEC-01
def test_wrong_password_is_refused_and_repeated_failures_lock_the_identifier(
    client: TestClient, world: World
) -> None:
    for _ in range(5):
        bad = client.post(
            "/api/v1/auth/login", json={"email": world.a.admin_email, "password": "nope"}
        )
        assert bad.status_code == 401
        assert bad.json()["code"] == "bad_credentials"
    locked = client.post(
        "/api/v1/auth/login", json={"email": world.a.admin_email, "password": PASSWORD}
    )
    assert locked.status_code == 401
    assert locked.json()["code"] == "locked_out"


# SPEC: SEC-01
def test_single_session_contract_ends_the_previous_session(
    client: TestClient, world: World
) -> None:
    # The Centrex offer (001 §17) allows one connection at a time per identifier.
    first = _login(client, world.a.admin_email)
    second = _login(client, world.a.admin_email)
    client.cookies.clear()
    assert client.get("/api/v1/auth/me", headers=auth(first)).status_code == 401
    assert client.get("/api/v1/auth/me", headers=auth(second)).status_code == 200


def test_api_key_is_shown_once_and_can_be_revoked(client: TestClient, world: World) -> None:
    created = client.post(
        f"/api/v1/customers/{world.a.id}/api-keys",
        headers=auth(world.a.admin_key),
        json={"name": "crm", "role": "customer_user"},
    )
    assert created.status_code == 201
    key = created.json()["key"]
    key_id = created.json()["id"]
    assert client.get("/api/v1/auth/me", headers=auth(key)).status_code == 200
    listed = client.get(f"/api/v1/customers/{world.a.id}/api-keys", headers=auth(world.a.admin_key))
    assert key not in listed.text
    revoked = client.delete(
        f"/api/v1/customers/{world.a.id}/api-keys/{key_id}", headers=auth(world.a.admin_key)
    )
    assert revoked.json()["revoked_at"] is not None
    assert client.get("/api/v1/auth/me", headers=auth(key)).status_code == 401


def test_customer_user_cannot_write(client: TestClient, world: World) -> None:
    response = client.post(
        f"/api/v1/customers/{world.a.id}/contacts",
        headers=auth(world.a.user_key),
        json={"name": "X", "email": "x@client1.fr"},
    )
    assert response.status_code == 403
    assert response.json()["code"] == "permission_denied"


def test_bad_input_gets_a_problem_naming_the_field_in_french_by_default(
    client: TestClient, world: World
) -> None:
    body = {
        "name": "Mauvais SIREN",
        "legal_form": "SAS",
        "siren": "123456789",
        "address_line": "1 rue",
        "postal_code": "75001",
        "city": "Paris",
        "email": "a@mauvais.fr",
        "payment_method": "transfer",
    }
    response = client.post("/api/v1/customers", headers=auth(world.staff_key), json=body)
    assert response.status_code == 422
    assert response.headers["content-type"].startswith("application/problem+json")
    problem = response.json()
    assert problem["field"] == "siren"
    assert problem["status"] == 422
    assert "SIREN" in problem["detail"]
    english = client.post(
        "/api/v1/customers",
        headers=auth(world.staff_key) | {"Accept-Language": "en"},
        json=body | {"email": "not-an-email"},
    )
    assert english.json()["field"] == "email"
    assert english.json()["detail"].startswith("Field email")


# SPEC: CTR-12
def test_a_french_customer_needs_a_siren(client: TestClient, world: World) -> None:
    body = {
        "name": "Sans SIREN",
        "legal_form": "SAS",
        "address_line": "1 rue",
        "postal_code": "75001",
        "city": "Paris",
        "email": "a@sans-siren.fr",
        "payment_method": "transfer",
    }
    response = client.post("/api/v1/customers", headers=auth(world.staff_key), json=body)
    assert response.status_code == 422
    assert response.json()["field"] == "siren"


def test_sepa_debit_needs_an_iban_and_a_bad_iban_is_named(client: TestClient, world: World) -> None:
    body = {
        "name": "Prélevé",
        "legal_form": "SAS",
        "siren": "443061841",
        "address_line": "1 rue",
        "postal_code": "75001",
        "city": "Paris",
        "email": "a@preleve.fr",
        "payment_method": "sepa_direct_debit",
    }
    missing = client.post("/api/v1/customers", headers=auth(world.staff_key), json=body)
    assert missing.json()["field"] == "iban"
    wrong = client.post(
        "/api/v1/customers",
        headers=auth(world.staff_key),
        json=body | {"iban": "FR7630006000011234567890188"},
    )
    assert wrong.status_code == 422
    assert wrong.json()["field"] == "iban"
    created = client.post(
        "/api/v1/customers",
        headers=auth(world.staff_key),
        json=body | {"iban": "FR76 3000 6000 0112 3456 7890 189"},
    )
    assert created.status_code == 201
    # French VAT key = (12 + 3 × (SIREN mod 97)) mod 97 = 64 for 443061841
    assert created.json()["vat_number"] == "FR64443061841"
    assert created.json()["iban_masked"].startswith("FR76")
    assert "1234567890189" not in created.text


# SPEC: SEC-02, MAIL-11
def test_every_write_is_in_the_audit_log_with_before_and_after(
    client: TestClient, world: World
) -> None:
    response = client.patch(
        f"/api/v1/customers/{world.a.id}",
        headers=auth(world.a.admin_key),
        json={"phone": "+33140000001"},
    )
    assert response.status_code == 200
    events = client.get(
        "/api/v1/audit",
        headers=auth(world.staff_key),
        params={"entity": "customers", "action": "update", "customer_id": world.a.id},
    ).json()
    assert events[0]["after"] == {"phone": "+33140000001"}
    assert events[0]["before"] == {"phone": None}
    assert events[0]["actor_label"].startswith("api_key:")
    # the customer sees its own trail, but not the operator-wide log
    own = client.get(f"/api/v1/customers/{world.a.id}/audit", headers=auth(world.a.admin_key))
    assert own.status_code == 200
    assert all(e["customer_id"] == world.a.id for e in own.json())
    assert client.get("/api/v1/audit", headers=auth(world.a.admin_key)).status_code == 403


# SPEC: SEC-02
def test_secrets_are_masked_in_the_audit_log(client: TestClient, world: World) -> None:
    events = client.get(
        "/api/v1/audit", headers=auth(world.staff_key), params={"entity": "users", "limit": 5}
    ).json()
    assert events
    assert all(e["after"]["password_hash"] == "***" for e in events if e["action"] == "create")


def test_metrics_count_requests(client: TestClient, world: World) -> None:
    client.get("/api/v1/health")
    text = client.get("/metrics").text
    assert 'operateur_http_requests_total{method="GET",route="/api/v1/health",status="200"}' in text


# SPEC: SEC-02
def test_one_log_line_per_request_with_ids(
    client: TestClient, world: World, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="operateur.http")
    client.get(f"/api/v1/customers/{world.a.id}", headers=auth(world.a.admin_key))
    lines = [r.getMessage() for r in caplog.records if r.name == "operateur.http"]
    assert any(
        line.startswith("http.request method=GET route=/api/v1/customers/{customer_id} status=200")
        and f"customer={world.a.id}" in line
        and "actor=api_key:" in line
        for line in lines
    ), lines
    assert world.a.admin_key not in caplog.text
