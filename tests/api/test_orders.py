"""Orders through the API (CTR-12): firm once received, reviewed by staff, refused only for a
cause of the terms, deposit and free trial where the terms give them."""

from __future__ import annotations

from datetime import date

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from operateur import scheduler
from operateur.billing.models import Invoice
from operateur.contracts.models import Contract, ContractStatus
from tests.api.conftest import World, auth


def _orders(world: World) -> str:
    return f"/api/v1/customers/{world.a.id}/orders"


# SPEC: CTR-12
def test_a_firm_order_cannot_be_withdrawn_and_staff_accept_it(
    client: TestClient, world: World
) -> None:
    admin, staff = auth(world.a.admin_key), auth(world.staff_key)
    placed = client.post(
        _orders(world),
        headers=admin,
        json={
            "contract_id": world.a.ids["contract_id"],
            "channel": "portal",
            "items": [
                {"type": "subscription", "item_code": "centrex.line", "quantity": 3},
                {"type": "line", "kind": "centrex", "label": "Standard"},
            ],
        },
    )
    assert placed.status_code == 201, placed.text
    order = placed.json()
    assert order["status"] == "received" and order["checks"]["firm"] is True
    # [centrex terms: firm on receipt] the customer cannot take it back
    withdraw = client.post(f"{_orders(world)}/{order['id']}/withdraw", headers=admin)
    assert withdraw.status_code == 409 and withdraw.json()["code"] == "order_firm"
    # a customer user may not order, nor may the customer review its own order
    denied = client.post(
        _orders(world),
        headers=auth(world.a.user_key),
        json={"contract_id": world.a.ids["contract_id"], "items": order["items"]},
    )
    assert denied.status_code == 403
    assert (
        client.post(f"{_orders(world)}/{order['id']}/accept", headers=admin, json={}).status_code
        == 403
    )
    queue = client.get("/api/v1/orders", headers=staff, params={"status": "received"}).json()
    assert order["reference"] in [o["reference"] for o in queue]
    assert client.get("/api/v1/orders", headers=admin).status_code == 403
    accepted = client.post(
        f"{_orders(world)}/{order['id']}/accept", headers=staff, json={"on": "2026-11-02"}
    )
    assert accepted.status_code == 200, accepted.text
    assert accepted.json()["status"] == "accepted"
    contract = f"/api/v1/customers/{world.a.id}/contracts/{world.a.ids['contract_id']}"
    subs = client.get(f"{contract}/subscriptions", headers=admin).json()
    assert [(s["quantity"], s["start_date"]) for s in subs][-1] == (3, "2026-11-02")
    lines = client.get(f"/api/v1/customers/{world.a.id}/lines", headers=admin).json()
    assert "Standard" in [line["label"] for line in lines]
    sent = client.get(f"/api/v1/customers/{world.a.id}/notifications", headers=admin).json()
    assert {f"Commande {order['reference']} reçue", f"Commande {order['reference']} acceptée"} <= {
        n["subject"] for n in sent
    }


# SPEC: CTR-12
def test_refusal_only_for_a_cause_of_the_terms(client: TestClient, world: World) -> None:
    staff = auth(world.staff_key)
    order_id = world.a.ids["order_id"]
    # [001 §3] the Centrex terms list false declaration, identity theft, missing documents and
    # unpaid debts — not infeasibility
    refused = client.post(
        f"{_orders(world)}/{order_id}/refuse", headers=staff, json={"reason": "infeasible"}
    )
    assert refused.status_code == 422 and refused.json()["field"] == "reason"
    # unpaid debts must be real: nothing is overdue
    refused = client.post(
        f"{_orders(world)}/{order_id}/refuse", headers=staff, json={"reason": "unpaid_debts"}
    )
    assert refused.status_code == 409 and refused.json()["code"] == "no_unpaid_debt"
    refused = client.post(
        f"{_orders(world)}/{order_id}/refuse",
        headers=staff,
        json={"reason": "missing_documents", "detail": "Extrait Kbis de moins de 3 mois."},
    )
    assert refused.status_code == 200
    assert (refused.json()["status"], refused.json()["refusal_reason"]) == (
        "refused",
        "missing_documents",
    )
    mail = client.get(
        f"/api/v1/customers/{world.a.id}/notifications", headers=auth(world.a.admin_key)
    ).json()
    assert any(n["event"] == "order.refused" for n in mail)


# SPEC: CTR-12
def test_oral_order_refused_where_the_terms_exclude_it(client: TestClient, world: World) -> None:
    response = client.post(
        _orders(world),
        headers=auth(world.a.admin_key),
        json={
            "offer_id": "telecom",
            "channel": "phone",
            "items": [{"type": "subscription", "item_code": "fixed.line"}],
        },
    )
    assert response.status_code == 422 and response.json()["field"] == "channel"


# SPEC: CTR-12
def test_deposit_then_free_trial_before_signature(
    client: TestClient,
    world: World,
    session: Session,
    session_factory: sessionmaker[Session],
) -> None:
    admin, staff = auth(world.a.admin_key), auth(world.staff_key)
    body = {
        "offer_id": "cpaas",
        "trial": True,
        "signatory": "M. A",
        "items": [{"type": "subscription", "item_code": "option.caps.monthly"}],
    }
    # [002 §4.5] not firm before the operator drafts the annexes: the customer may withdraw
    first = client.post(_orders(world), headers=admin, json=body).json()
    assert first["checks"]["firm"] is False
    assert (
        client.post(f"{_orders(world)}/{first['id']}/withdraw", headers=admin).json()["status"]
        == "withdrawn"
    )
    order = client.post(_orders(world), headers=admin, json=body).json()
    # [002 §6.6] access conditional on a deposit
    required = client.post(
        f"{_orders(world)}/{order['id']}/deposit",
        headers=staff,
        json={"amount": "500.00", "reason": "volumes annoncés"},
    )
    assert required.json()["status"] == "awaiting_deposit"
    early = client.post(f"{_orders(world)}/{order['id']}/accept", headers=staff, json={})
    assert early.status_code == 409
    client.post(
        f"{_orders(world)}/{order['id']}/deposit-received",
        headers=staff,
        json={"received_on": "2026-03-01", "reference": "VIR-DEPOT"},
    )
    accepted = client.post(
        f"{_orders(world)}/{order['id']}/accept", headers=staff, json={"on": "2026-03-02"}
    ).json()
    contract_id = accepted["contract_id"]
    contract = client.get(
        f"/api/v1/customers/{world.a.id}/contracts/{contract_id}", headers=admin
    ).json()
    # [002 §6.2] free access for the trial (30 days chosen): 2 to 31 March, before signature
    assert contract["status"] == "trial"
    usable = client.get(
        f"/api/v1/customers/{world.a.id}/services/cpaas_voice/usable", headers=admin
    ).json()
    assert usable["allowed"] is True and usable["contract_id"] == contract_id
    # nothing is billed during the trial, and without signature it ends after 31 March
    assert "billing_run:2026-03-31" in scheduler.run_once(session_factory, date(2026, 3, 31))
    session.expire_all()
    trial = session.get(Contract, contract_id)
    assert trial is not None and trial.status is ContractStatus.TRIAL
    assert session.scalar(select(Invoice.id).where(Invoice.contract_id == contract_id)) is None
    scheduler.run_once(session_factory, date(2026, 4, 1))
    session.expire_all()
    ended = session.get(Contract, contract_id)
    assert ended is not None
    assert (ended.status, ended.terminated_on) == (ContractStatus.TERMINATED, date(2026, 3, 31))
    denied = client.get(
        f"/api/v1/customers/{world.a.id}/services/cpaas_voice/usable", headers=admin
    ).json()
    assert denied["allowed"] is False
