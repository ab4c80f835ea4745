"""The audit log across operators (SEC-02): an operator's staff read their own operator's trail
only, never another operator's events nor those of another operator's customers."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from operateur.accounts import service as accounts
from operateur.accounts.permissions import system_actor
from operateur.accounts.schemas import CustomerIn, CustomerPatch
from tests.api.conftest import PASSWORD, World, auth, operator_with_staff


@dataclass
class OtherOperator:
    id: int
    staff_key: str
    staff_user_id: int
    customer_id: int


@pytest.fixture
def other(session: Session, world: World) -> OtherOperator:
    """A second operator on the same platform, with its staff and one customer."""
    operator = operator_with_staff(
        session,
        name="Autre Opérateur",
        siren="552081317",
        domain="autre-operateur.fr",
        staff_name="Admin B",
    )
    customer = accounts.create_customer(
        session,
        operator.operator_id,
        CustomerIn(
            name="Client de l'autre",
            legal_form="SAS",
            siren="784608416",
            address_line="3 rue du Test",
            postal_code="69003",
            city="Lyon",
            email="compta@client-autre.fr",
            payment_method="transfer",
        ),
    )
    accounts.update_customer(session, system_actor(), customer, CustomerPatch(phone="+33472000000"))
    session.commit()
    return OtherOperator(
        id=operator.operator_id,
        staff_key=operator.staff_key,
        staff_user_id=operator.staff_user_id,
        customer_id=customer.id,
    )


def _theirs(event: dict[str, object], other: OtherOperator) -> bool:
    """An event about the other operator, its staff or its customer."""
    return (
        event["customer_id"] == other.customer_id
        or (event["entity"] == "operators" and event["entity_id"] == str(other.id))
        or (event["entity"] == "users" and event["entity_id"] == str(other.staff_user_id))
    )


# SPEC: SEC-02
def test_staff_read_only_their_operators_audit_log(
    client: TestClient, world: World, other: OtherOperator
) -> None:
    mine = client.get("/api/v1/audit", headers=auth(world.staff_key), params={"limit": 1000})
    assert mine.status_code == 200
    events = mine.json()
    assert any(e["customer_id"] == world.a.id for e in events)  # my customers' trail is there
    assert not [e for e in events if _theirs(e, other)]
    # the other operator's staff see their own trail, and nothing of mine
    theirs = client.get("/api/v1/audit", headers=auth(other.staff_key), params={"limit": 1000})
    assert theirs.status_code == 200
    assert any(e["customer_id"] == other.customer_id for e in theirs.json())
    assert any(
        e["entity"] == "users" and e["entity_id"] == str(other.staff_user_id) for e in theirs.json()
    )
    assert not [e for e in theirs.json() if e["customer_id"] in (world.a.id, world.b.id)]


# SPEC: SEC-02
def test_staff_cannot_filter_on_another_operators_customer(
    client: TestClient, world: World, other: OtherOperator
) -> None:
    by_filter = client.get(
        "/api/v1/audit",
        headers=auth(world.staff_key),
        params={"customer_id": other.customer_id, "entity": "customers"},
    )
    assert by_filter.status_code == 404
    assert by_filter.json()["code"] == "customer_not_found"
    by_path = client.get(
        f"/api/v1/customers/{other.customer_id}/audit", headers=auth(world.staff_key)
    )
    assert by_path.status_code == 404
    # their own staff do read it
    own = client.get(f"/api/v1/customers/{other.customer_id}/audit", headers=auth(other.staff_key))
    assert own.status_code == 200
    assert [e["after"] for e in own.json() if e["action"] == "update"] == [
        {"phone": "+33472000000"}
    ]


# SPEC: SEC-02
def test_the_staff_audit_page_is_limited_to_the_operator(
    client: TestClient, world: World, other: OtherOperator
) -> None:
    login = client.post(
        "/api/v1/auth/login", json={"email": world.staff_email, "password": PASSWORD}
    )
    assert login.status_code == 200
    page = client.get("/staff/audit", params={"entity": "customers"})
    assert page.status_code == 200
    assert "Client de l&#39;autre" not in page.text and "+33472000000" not in page.text
    assert "compta@client1.fr" in page.text  # my customer's creation is there
