"""Webhook endpoints through the API: the secret is shown once, tenants manage their own."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from operateur.i18n import Text
from operateur.notifications import service as notifications
from tests.api.conftest import World, auth


def test_customer_admin_registers_lists_and_removes_a_webhook(
    client: TestClient, world: World, session: Session
) -> None:
    base = f"/api/v1/customers/{world.a.id}/webhooks"
    admin = auth(world.a.admin_key)
    created = client.post(
        base, headers=admin, json={"url": "https://client1.example/hook", "events": ["contract.*"]}
    )
    assert created.status_code == 201
    body = created.json()
    assert body["secret"].startswith("whsec_") and body["events"] == ["contract.*"]
    listed = client.get(base, headers=admin).json()
    assert [w["url"] for w in listed] == ["https://client1.example/hook"]
    assert "secret" not in listed[0] and body["secret"] not in str(listed)
    # the audit log keeps the creation with the secret masked
    audit = client.get(
        f"/api/v1/customers/{world.a.id}/audit",
        headers=admin,
        params={"entity": "webhook_endpoints"},
    ).json()
    assert audit and body["secret"] not in str(audit)
    # a customer user may not manage webhooks; the other tenant does not see it
    assert client.get(base, headers=auth(world.a.user_key)).status_code == 403
    other = client.delete(
        f"/api/v1/customers/{world.b.id}/webhooks/{body['id']}", headers=auth(world.b.admin_key)
    )
    assert other.status_code == 404
    removed = client.delete(f"{base}/{body['id']}", headers=admin)
    assert removed.status_code == 204
    assert client.get(base, headers=admin).json() == []


def test_private_webhook_address_is_refused(client: TestClient, world: World) -> None:
    response = client.post(
        f"/api/v1/customers/{world.a.id}/webhooks",
        headers=auth(world.a.admin_key),
        json={"url": "http://127.0.0.1:6379/"},
    )
    assert response.status_code == 422 and response.json()["field"] == "url"


def test_the_customer_sees_the_notifications_sent_to_it(
    client: TestClient, world: World, session: Session
) -> None:
    notifications.notify(
        session,
        world.a.id,
        event="contract.suspended",
        subject=Text(fr="Contrat suspendu", en="Contract suspended"),
        body=Text(fr="Suspendu.", en="Suspended."),
    )
    session.commit()
    mine = client.get(
        f"/api/v1/customers/{world.a.id}/notifications", headers=auth(world.a.user_key)
    ).json()
    # newest first
    assert (mine[0]["event"], mine[0]["recipient"], mine[0]["subject"]) == (
        "contract.suspended",
        "contact@client1.fr",
        "Contrat suspendu",
    )
    theirs = client.get(
        f"/api/v1/customers/{world.b.id}/notifications", headers=auth(world.b.user_key)
    ).json()
    assert "contract.suspended" not in [n["event"] for n in theirs]
    assert {n["recipient"] for n in theirs} <= {"contact@client2.fr"}
