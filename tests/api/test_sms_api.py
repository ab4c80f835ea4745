"""The SMS API in the CPaaS shape: send, status by id, signed status callbacks; campaigns,
lists and templates; sender requests and the operator's reviews (SMS-01, SMS-05, SMS-08,
SMS-09). Tenancy of every SMS route is in ``test_tenancy.py``."""

from __future__ import annotations

import csv
import hashlib
import hmac
import io
from datetime import date

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from operateur.accounts import service as accounts
from operateur.config import Settings
from operateur.contracts import service as contracts
from operateur.db import utcnow
from operateur.notifications import service as notifications
from operateur.sms import outbox
from operateur.testing.webhooks import WebhookReceiver
from tests.api.conftest import World, auth

API = "/api/v1/customers/{id}/sms"


def _open_sms(session: Session, customer_id: int, offer: str) -> None:
    contract = contracts.create_contract(
        session, accounts.get_customer(session, customer_id), offer, {}
    )
    contracts.sign(session, contract, "Signataire")
    contracts.activate(session, contract, date.today())
    session.commit()


@pytest.fixture
def cpaas_world(session: Session, world: World, client: TestClient) -> World:
    """Tenant A on the CPaaS offer (no sending window) with the sender "MaBoutique"."""
    _open_sms(session, world.a.id, "cpaas")
    base = API.format(id=world.a.id)
    asked = client.post(
        f"{base}/senders", headers=auth(world.a.admin_key), json={"name": "MaBoutique"}
    )
    assert asked.status_code == 201, asked.text
    reviewed = client.post(
        f"{base}/senders/{asked.json()['id']}/review",
        headers=auth(world.staff_key),
        json={"authorise": True, "reason": "Kbis reçu"},
    )
    assert reviewed.json()["status"] == "authorised"
    return world


def _drive(session: Session, message_ids: list[int], stat: str) -> None:
    """What the SMPP transport does: claim, submit, then a delivery receipt per message."""
    session.expire_all()
    claimed = outbox.claim(session, route="default", limit=100, now=utcnow())
    assert set(message_ids) <= {m.id for m in claimed}
    for message_id in message_ids:
        outbox.mark_submitted(session, message_id, [f"smsc-{message_id}"])
        outbox.apply_receipt(
            session, smsc_id=f"smsc-{message_id}", stat=stat, done_at=None, error=None
        )
    session.commit()


def test_send_then_read_the_status_by_id(
    client: TestClient, cpaas_world: World, session: Session
) -> None:
    # SPEC: SMS-01 — POST send -> id; GET status by id; a retry with the same reference
    base, key = API.format(id=cpaas_world.a.id), auth(cpaas_world.a.user_key)
    body = {"to": "+33612345678", "text": "Votre code : 4242", "sender": "MaBoutique",
            "client_ref": "otp-1"}  # fmt: skip
    sent = client.post(f"{base}/messages", headers=key, json=body)
    assert sent.status_code == 201, sent.text
    message = sent.json()
    assert (message["status"], message["parts"], message["cost"]) == ("queued", 1, "0.0450")
    again = client.post(f"{base}/messages", headers=key, json=body)
    assert again.json()["id"] == message["id"]

    _drive(session, [message["id"]], "DELIVRD")
    status = client.get(f"{base}/messages/{message['id']}", headers=key).json()
    assert status["status"] == "delivered" and status["delivered_at"] is not None

    refused = client.post(
        f"{base}/messages", headers=key, json={"to": "+33612345678", "text": "x", "sender": "EDF"}
    )
    assert refused.status_code == 422 and refused.json()["code"] == "sms_sender_not_authorised"


def test_status_callbacks_are_signed_and_retried(
    client: TestClient,
    cpaas_world: World,
    session: Session,
    session_factory: sessionmaker[Session],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # SPEC: SMS-01 — callbacks to the customer's webhook URL, HMAC-signed, retried
    monkeypatch.setenv("OPERATEUR_WEBHOOK_ALLOW_PRIVATE_TARGETS", "true")
    base, key = API.format(id=cpaas_world.a.id), auth(cpaas_world.a.admin_key)
    with WebhookReceiver(statuses=[500, 200]) as receiver:
        settings = client.put(f"{base}/settings", headers=key, json={"callback_url": receiver.url})
        secret = settings.json()["callback_secret"]
        sent = client.post(
            f"{base}/messages",
            headers=key,
            json={"to": "0612345678", "text": "Bonjour", "sender": "MaBoutique"},
        ).json()
        _drive(session, [sent["id"]], "UNDELIV")

        now = utcnow()
        assert notifications.deliver_due(session_factory, now) == 1  # "submitted" got a 500
        later = now + notifications.backoff(Settings(), 1)
        assert notifications.deliver_due(session_factory, later) == 1
    events = [(r.json()["data"]["status"], r.status) for r in receiver.requests]
    assert sorted(events) == [("submitted", 200), ("submitted", 500), ("undelivered", 200)]
    for request in receiver.requests:
        signature = hmac.new(secret.encode(), request.body, hashlib.sha256).hexdigest()
        assert request.headers["X-Operateur-Signature"] == f"sha256={signature}"
        assert request.json()["event"] == "sms.status"
        assert request.json()["data"]["id"] == sent["id"]


def test_a_campaign_from_an_imported_list(
    client: TestClient, cpaas_world: World, session: Session
) -> None:
    # SPEC: SMS-01 — lists with a per-row report, templates, campaign, statistics as CSV
    base, key = API.format(id=cpaas_world.a.id), auth(cpaas_world.a.admin_key)
    created = client.post(
        f"{base}/lists",
        headers=key,
        json={
            "name": "VIP",
            "entries": [
                {"number": "0612345678", "fields": {"first_name": "Marie"}},
                {"number": "not a number"},
            ],
        },
    )
    assert created.status_code == 201, created.text
    sms_list = created.json()
    assert sms_list["report"]["added"] == 1
    assert [(r["line"], r["reason"]) for r in sms_list["report"]["rejected"]] == [(2, "bad_number")]
    imported = client.post(
        f"{base}/lists/{sms_list['id']}/import",
        headers=key,
        json={"csv": "mobile,first_name\n+33781234567,Éric\n0612345678,Marie\n"},
    ).json()
    assert (imported["size"], imported["report"]["rejected"][0]["reason"]) == (2, "duplicate")
    template = client.post(
        f"{base}/templates", headers=key, json={"name": "Hi", "text": "Bonjour {first_name} !"}
    ).json()
    assert template["placeholders"] == ["first_name"]

    campaign = client.post(
        f"{base}/campaigns",
        headers=key,
        json={"name": "VIP", "list_id": sms_list["id"], "template_id": template["id"],
              "sender": "MaBoutique"},
    ).json()  # fmt: skip
    assert campaign["statistics"]["state"] == "draft"
    launched = client.post(f"{base}/campaigns/{campaign['id']}/schedule", headers=key, json={})
    assert launched.json()["statistics"]["pending"] == 2

    messages = client.get(
        f"{base}/messages", headers=key, params={"campaign_id": campaign["id"]}
    ).json()
    _drive(session, [message["id"] for message in messages], "DELIVRD")
    stats = client.get(f"{base}/campaigns/{campaign['id']}", headers=key).json()["statistics"]
    assert (stats["state"], stats["sent"], stats["delivered"]) == ("completed", 2, 2)
    download = client.get(f"{base}/campaigns/{campaign['id']}/messages.csv", headers=key)
    assert download.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(download.text)))
    assert sorted(r["recipient"] for r in rows) == ["+33612345678", "+33781234567"]
    assert {r["status"] for r in rows} == {"delivered"}
    by_hour = client.get(f"{base}/campaigns/{campaign['id']}/statistics.csv", headers=key).text
    assert by_hour.splitlines()[0] == "hour,sent,delivered,failed,expired,awaiting_receipt"


def test_the_operator_reviews_held_messages_senders_and_stock(
    client: TestClient, world: World, session: Session
) -> None:
    # SPEC: SMS-05, SMS-08, SMS-09
    _open_sms(session, world.a.id, "telecom")
    base = API.format(id=world.a.id)
    customer, staff = auth(world.a.admin_key), auth(world.staff_key)

    refused = client.post(f"{base}/senders", headers=customer, json={"name": "Imp0ts-Info"})
    assert (refused.json()["status"], refused.json()["rule"]) == ("refused", "sensitive_name")
    pending = client.get("/api/v1/sms/sender-requests", headers=staff).json()
    # the world's own requests, one per tenant
    assert {p["name"] for p in pending} == {f"Client{world.a.id}", f"Client{world.b.id}"}
    assert client.get("/api/v1/sms/sender-requests", headers=customer).status_code == 403

    held = client.get("/api/v1/sms/held", headers=staff).json()
    mine = client.get(f"{base}/messages", headers=customer, params={"status": "held"}).json()
    assert {m["id"] for m in mine} <= {m["id"] for m in held} and len(mine) == 1
    rejected = client.post(
        f"{base}/messages/{mine[0]['id']}/review", headers=staff, json={"release": False}
    ).json()
    assert (rejected["status"], rejected["error"]) == (
        "rejected",
        "content:phishing-url-shortener",
    )
    again = client.post(
        f"{base}/messages/{mine[0]['id']}/review", headers=staff, json={"release": True}
    )
    assert again.status_code == 409

    assert client.get(f"{base}/stock", headers=customer).json()["monthly_limit"] == 1000
    assert (
        client.put(
            f"{base}/stock", headers=customer, json={"monthly_limit": 5000, "reason": "x"}
        ).status_code
        == 403
    )
    raised = client.put(f"{base}/stock", headers=staff, json={"monthly_limit": 5000, "reason": "x"})
    assert (raised.json()["monthly_limit"], raised.json()["maximum"]) == (5000, 100000)
    too_high = client.put(
        f"{base}/stock", headers=staff, json={"monthly_limit": 100001, "reason": "x"}
    )
    assert too_high.status_code == 422 and too_high.json()["code"] == "sms_stock_above_maximum"
