"""The number inventory through the API (VOX-14)."""

from __future__ import annotations

from datetime import date, datetime

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from operateur.domain.calendar import PARIS
from operateur.numbers import portability, rio
from tests.api.conftest import World, auth


# SPEC: VOX-14
def test_random_assignment_of_a_free_number_of_the_requested_kind_and_tier(
    client: TestClient, world: World
) -> None:
    stock = [f"+3319900010{n}" for n in range(5)]
    added = client.post(
        "/api/v1/numbers", headers=auth(world.staff_key), json={"numbers": stock, "tier": "gold"}
    )
    assert added.status_code == 201
    assert {n["kind"] for n in added.json()} == {"geographic"}
    assigned = client.post(
        f"/api/v1/customers/{world.a.id}/numbers",
        headers=auth(world.staff_key),
        json={"kind": "geographic", "tier": "gold", "line_id": world.a.ids["line_id"]},
    )
    assert assigned.status_code == 201
    body = assigned.json()
    assert body["e164"] in stock
    assert body["status"] == "assigned"
    assert body["customer_id"] == world.a.id
    none_left = client.post(
        f"/api/v1/customers/{world.a.id}/numbers",
        headers=auth(world.staff_key),
        json={"kind": "non_geographic", "tier": "gold"},
    )
    assert none_left.status_code == 409
    assert none_left.json()["code"] == "no_free_number"


# SPEC: VOX-14
def test_a_released_number_is_quarantined_not_free(client: TestClient, world: World) -> None:
    number_id = world.a.ids["number_id"]
    released = client.post(
        f"/api/v1/customers/{world.a.id}/numbers/{number_id}/release",
        headers=auth(world.staff_key),
    )
    assert released.json()["status"] == "quarantined"
    assert released.json()["customer_id"] is None
    assert released.json()["quarantined_until"] is not None


# SPEC: VOX-14
def test_french_numbers_only_for_metropolitan_france(client: TestClient, world: World) -> None:
    overseas = client.post(
        "/api/v1/customers",
        headers=auth(world.staff_key),
        json={
            "name": "Société Réunion",
            "legal_form": "SAS",
            "siren": "443061841",
            "address_line": "1 rue",
            "postal_code": "97400",
            "city": "Saint-Denis",
            "email": "a@reunion-sarl.fr",
            "payment_method": "transfer",
        },
    ).json()
    response = client.post(
        f"/api/v1/customers/{overseas['id']}/numbers",
        headers=auth(world.staff_key),
        json={"kind": "geographic"},
    )
    assert response.status_code == 409
    assert response.json()["code"] == "number_residency"


def test_a_batch_with_one_bad_number_adds_nothing(client: TestClient, world: World) -> None:
    response = client.post(
        "/api/v1/numbers",
        headers=auth(world.staff_key),
        json={"numbers": ["+33199000201", "112", "+33199000202"]},
    )
    assert response.status_code == 422
    assert response.json()["field"] == "numbers.1"
    stock = client.get("/api/v1/numbers", headers=auth(world.staff_key)).json()
    assert "+33199000201" not in {n["e164"] for n in stock}


# SPEC: VOX-02
def test_classify_says_emergency(client: TestClient, world: World) -> None:
    response = client.get(
        "/api/v1/numbers/classify", params={"number": "112"}, headers=auth(world.a.user_key)
    )
    assert response.json()["kind"] == "emergency"
    assert response.json()["is_emergency"] is True


# SPEC: VOX-14, VOX-15
def test_a_ported_in_number_released_is_returned_and_listed_for_staff(
    client: TestClient, world: World, session: Session
) -> None:
    # the donor operator's answer is checked against the application's clock, not the
    # machine's: a porting day past by that clock is refused, one to come is accepted
    app = client.app
    base = f"/api/v1/customers/{world.a.id}/port-requests"
    code = "02F123456" + rio.key("02", "F", "123456", "0140000070")
    submitted = client.post(
        base,
        headers=auth(world.a.admin_key),
        json={"number": "0140000070", "rio": code, "line_id": world.a.ids["line_id"],
              "holder_name": "Client 1"},
    ).json()  # fmt: skip
    assert submitted["status"] == "submitted"
    answer = f"{base}/{submitted['id']}/answer"
    accept = {"accepted": True, "slot_start": "08:00", "slot_end": "12:00"}
    app.state.clock = lambda: datetime(2030, 3, 4, 9, 0, tzinfo=PARIS)  # type: ignore[attr-defined]
    refused = client.post(
        answer, headers=auth(world.staff_key), json={**accept, "scheduled_on": "2030-03-01"}
    )
    assert refused.status_code == 422, refused.text
    assert refused.json()["field"] == "scheduled_on"
    assert "est passée" in refused.json()["detail"]
    app.state.clock = lambda: datetime(2026, 3, 2, 9, 0, tzinfo=PARIS)  # type: ignore[attr-defined]
    answered = client.post(
        answer, headers=auth(world.staff_key), json={**accept, "scheduled_on": "2026-03-10"}
    )
    assert answered.status_code == 200, answered.text
    assert answered.json()["status"] == "scheduled"

    portability.activate_due(session, date(2026, 3, 10))  # the scheduler's job that day
    session.commit()
    ported = client.get(f"{base}/{submitted['id']}", headers=auth(world.a.admin_key)).json()
    released = client.post(
        f"/api/v1/customers/{world.a.id}/numbers/{ported['number_id']}/release",
        headers=auth(world.staff_key),
    )
    assert released.status_code == 200, released.text
    body = released.json()
    assert (body["status"], body["customer_id"], body["quarantined_until"]) == (
        "returned",
        None,
        None,
    )
    listed = client.get(
        "/api/v1/numbers", params={"status": "returned"}, headers=auth(world.staff_key)
    ).json()
    assert [n["e164"] for n in listed] == ["+33140000070"]
    free = client.get(
        "/api/v1/numbers", params={"status": "free"}, headers=auth(world.staff_key)
    ).json()
    assert "+33140000070" not in {n["e164"] for n in free}
