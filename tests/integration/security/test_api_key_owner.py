"""SEC-01, SEC-02: an API key does not outlive the user who created it. Deactivating a
customer's user revokes the keys that user created for the customer, and a key whose creator is
no longer active is refused when it is used (keys made before that rule, or a user deactivated
by another path); the caller is told why. The keys of the customer's other users keep working."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from operateur.accounts import service as accounts
from operateur.accounts.models import ApiKey, Role, User
from operateur.accounts.permissions import system_actor
from operateur.accounts.schemas import UserIn
from tests.integration.conftest import Builder

PASSWORD = "correct horse battery"


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}", "Accept-Language": "en"}


def _admin(session: Session, build: Builder, customer_id: int, email: str) -> User:
    return accounts.create_user(
        session,
        system_actor(),
        operator_id=build.operator_id,
        customer_id=customer_id,
        data=UserIn(email=email, display_name=email, password=PASSWORD, role=Role.CUSTOMER_ADMIN),
    )


def _login(client: TestClient, email: str) -> str:
    response = client.post("/api/v1/auth/login", json={"email": email, "password": PASSWORD})
    assert response.status_code == 200, response.text
    token: str = response.json()["token"]
    return token


def _new_key(client: TestClient, customer_id: int, token: str, name: str) -> tuple[int, str]:
    created = client.post(
        f"/api/v1/customers/{customer_id}/api-keys",
        headers=_bearer(token),
        json={"name": name, "role": "customer_user"},
    )
    assert created.status_code == 201, created.text
    return created.json()["id"], created.json()["key"]


# SPEC: SEC-01, SEC-02
def test_deactivating_a_user_revokes_the_keys_they_created(
    client: TestClient, session: Session, build: Builder
) -> None:
    customer = build.customer(name="Client clés")
    leaving = _admin(session, build, customer.id, "depart@client-cles.fr")
    staying = _admin(session, build, customer.id, "reste@client-cles.fr")
    session.commit()
    leaving_token = _login(client, leaving.email)
    staying_token = _login(client, staying.email)
    leaving_key_id, leaving_key = _new_key(client, customer.id, leaving_token, "erp")
    _, staying_key = _new_key(client, customer.id, staying_token, "crm")
    me = f"/api/v1/customers/{customer.id}"
    assert client.get(me, headers=_bearer(leaving_key)).status_code == 200

    done = client.post(
        f"/api/v1/customers/{customer.id}/users/{leaving.id}/deactivate",
        headers=_bearer(staying_token),
    )
    assert done.status_code == 200 and done.json()["active"] is False

    refused = client.get(me, headers=_bearer(leaving_key))
    assert refused.status_code == 401
    assert refused.json()["code"] == "api_key_owner_deactivated"
    assert "depart@client-cles.fr" in refused.json()["detail"]
    assert "deactivated" in refused.json()["detail"]
    # the customer's other keys still work, and the list shows the key revoked
    assert client.get(me, headers=_bearer(staying_key)).status_code == 200
    keys = client.get(f"{me}/api-keys", headers=_bearer(staying_token)).json()
    assert {k["id"]: k["revoked_at"] is not None for k in keys}[leaving_key_id] is True
    assert [k["name"] for k in keys if k["revoked_at"] is None] == ["crm"]


# SPEC: SEC-01
def test_a_key_whose_creator_is_inactive_is_refused_even_if_not_revoked(
    client: TestClient, session: Session, build: Builder
) -> None:
    """A key made before the rule, or a creator deactivated without going through
    ``deactivate_user``: the check at authentication refuses it all the same."""
    customer = build.customer(name="Client ancien")
    creator = _admin(session, build, customer.id, "ancien@client-ancien.fr")
    other = _admin(session, build, customer.id, "autre@client-ancien.fr")
    session.commit()
    _, key = _new_key(client, customer.id, _login(client, creator.email), "vieux")
    _, other_key = _new_key(client, customer.id, _login(client, other.email), "autre")
    creator.active = False  # not through deactivate_user: the key is not revoked
    session.commit()
    row = session.scalar(select(ApiKey).where(ApiKey.public_id == key.split("_")[1]))
    assert row is not None and row.revoked_at is None
    me = f"/api/v1/customers/{customer.id}"
    refused = client.get(me, headers=_bearer(key))
    assert refused.status_code == 401 and refused.json()["code"] == "api_key_owner_deactivated"
    assert client.get(me, headers=_bearer(other_key)).status_code == 200


# SPEC: SEC-01
def test_a_revoked_key_is_told_it_was_revoked(
    client: TestClient, session: Session, build: Builder
) -> None:
    customer = build.customer(name="Client révoqué")
    admin = _admin(session, build, customer.id, "admin@client-revoque.fr")
    session.commit()
    token = _login(client, admin.email)
    key_id, key = _new_key(client, customer.id, token, "ancienne")
    revoked = client.delete(
        f"/api/v1/customers/{customer.id}/api-keys/{key_id}", headers=_bearer(token)
    )
    assert revoked.status_code == 200
    refused = client.get(f"/api/v1/customers/{customer.id}", headers=_bearer(key))
    assert refused.status_code == 401 and refused.json()["code"] == "api_key_revoked"
    # a made-up key of the same shape is refused without any detail
    forged = "_".join(key.split("_", 2)[:2]) + "_" + "x" * 43
    unknown = client.get(f"/api/v1/customers/{customer.id}", headers=_bearer(forged))
    assert unknown.status_code == 401 and unknown.json()["code"] == "unauthenticated"


# SPEC: SEC-01
def test_staff_creating_a_customers_key_do_not_take_it_with_them(
    client: TestClient, session: Session, build: Builder
) -> None:
    """A key staff made for a customer is the customer's: the staff member leaving the
    operator does not cut the customer's integration."""
    customer = build.customer(name="Client servi")
    staff = accounts.create_user(
        session,
        system_actor(),
        operator_id=build.operator_id,
        customer_id=None,
        data=UserIn(
            email="agent@operateur-test.fr",
            display_name="Agent",
            password=PASSWORD,
            role=Role.ADMIN,
        ),
    )
    session.commit()
    _, key = _new_key(client, customer.id, _login(client, staff.email), "installée par l'agent")
    accounts.deactivate_user(session, staff)
    session.commit()
    assert client.get(f"/api/v1/customers/{customer.id}", headers=_bearer(key)).status_code == 200
