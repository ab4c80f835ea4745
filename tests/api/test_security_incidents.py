"""SEC-02, SEC-03 the security-incident register through the API: staff record an incident and
the customers it affects, each customer's deadline comes from its own contracts' terms, the
customers are told once in their language, the overdue ones are listed, and a customer's
administrators read only the incidents that affected their customer."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from operateur import scheduler
from operateur.accounts.models import Customer
from operateur.contracts import service as contracts
from operateur.notifications.models import OutboxMessage
from operateur.notifications.service import deliver_due
from operateur.testing.smtp import SmtpSink
from tests.api.conftest import World, auth

NOW = datetime(2026, 3, 10, 9, 0, tzinfo=UTC)


def _incident_mails(sink: SmtpSink, address: str) -> list[Any]:
    return [m for m in sink.to(address) if "ncident" in str(m["Subject"])]


def _at(client: TestClient, moment: datetime) -> None:
    client.app.state.clock = lambda: moment  # type: ignore[attr-defined]


def _record(client: TestClient, world: World, detected_at: datetime, *customers: Any) -> Any:
    response = client.post(
        "/api/v1/security-incidents",
        headers=auth(world.staff_key),
        json={
            "detected_at": detected_at.isoformat(),
            "nature": "confidentiality",
            "description": "Accès non autorisé à la base des contacts",
            "customers": [{"customer_id": c, "data_affected": d} for c, d in customers],
        },
    )
    assert response.status_code == 201, response.text
    return response.json()


def _signed(session: Session, customer_id: int, overrides: dict[str, Any]) -> None:
    customer = session.get(Customer, customer_id)
    assert customer is not None
    contract = contracts.create_contract(session, customer, "centrex", overrides)
    contracts.sign(session, contract, "Signataire")
    contracts.activate(session, contract, date.today())
    session.commit()


# SPEC: SEC-03
def test_deadline_is_detection_plus_the_shortest_breach_hours_of_the_customers_contracts(
    client: TestClient, world: World, session: Session
) -> None:
    # A also signs a contract whose terms promise a notification within 24 hours
    _signed(session, world.a.id, {"security": {"breach_notification_hours": 24}})
    _at(client, NOW)
    detected = NOW - timedelta(hours=2)
    incident = _record(client, world, detected, (world.a.id, True), (world.b.id, True))
    deadlines = {c["customer_id"]: c["deadline_at"] for c in incident["customers"]}
    assert datetime.fromisoformat(deadlines[world.a.id]) == detected + timedelta(hours=24)
    assert datetime.fromisoformat(deadlines[world.b.id]) == detected + timedelta(hours=72)
    # a customer whose data is not affected has no deadline
    other = _record(client, world, detected, (world.b.id, False))
    assert other["customers"][0]["deadline_at"] is None


# SPEC: SEC-03
def test_customers_are_told_once_in_their_language(
    client: TestClient,
    world: World,
    session: Session,
    session_factory: sessionmaker[Session],
    smtp_sink: SmtpSink,
) -> None:
    customer_b = session.get(Customer, world.b.id)
    assert customer_b is not None
    customer_b.lang = "en"
    session.commit()
    _at(client, NOW)
    incident = _record(
        client, world, NOW - timedelta(hours=1), (world.a.id, True), (world.b.id, False)
    )
    notify = f"/api/v1/security-incidents/{incident['id']}/notify"
    told = client.post(notify, headers=auth(world.staff_key), json={})
    assert told.status_code == 200, told.text
    assert all(c["notified_at"] for c in told.json()["customers"])
    deliver_due(session_factory)
    [fr] = _incident_mails(smtp_sink, "contact@client1.fr")
    assert fr["Subject"] == f"Incident de sécurité n° {incident['id']} affectant vos données"
    assert "Des données de votre entreprise sont concernées." in fr.get_content()
    assert "Accès non autorisé à la base des contacts" in fr.get_content()
    [en] = _incident_mails(smtp_sink, "contact@client2.fr")
    assert en["Subject"] == f"Security incident #{incident['id']}"
    assert "No data of your company is affected." in en.get_content()
    # notifying again tells nobody twice and keeps the first moment
    _at(client, NOW + timedelta(hours=1))
    again = client.post(notify, headers=auth(world.staff_key), json={})
    assert again.status_code == 200
    assert again.json()["customers"] == told.json()["customers"]
    deliver_due(session_factory)
    assert len(_incident_mails(smtp_sink, "contact@client1.fr")) == 1
    assert len(_incident_mails(smtp_sink, "contact@client2.fr")) == 1


# SPEC: SEC-03
def test_customers_not_told_by_their_deadline_are_listed_overdue(
    client: TestClient, world: World
) -> None:
    _at(client, NOW)
    old = _record(client, world, NOW - timedelta(hours=73), (world.a.id, True), (world.b.id, False))
    recent = _record(client, world, NOW - timedelta(hours=1), (world.b.id, True))
    overdue = client.get("/api/v1/security-incidents/overdue", headers=auth(world.staff_key))
    assert overdue.status_code == 200
    rows = [(r["incident_id"], r["customer_id"]) for r in overdue.json()]
    assert (old["id"], world.a.id) in rows
    assert (old["id"], world.b.id) not in rows  # its data was not affected
    assert all(incident != recent["id"] for incident, _ in rows)  # still within its 72 hours
    # told now, after the deadline: still listed, as told late
    client.post(
        f"/api/v1/security-incidents/{old['id']}/notify", headers=auth(world.staff_key), json={}
    )
    late = client.get("/api/v1/security-incidents/overdue", headers=auth(world.staff_key)).json()
    row = next(r for r in late if r["incident_id"] == old["id"])
    assert row["notified_at"] is not None
    shown = client.get(f"/api/v1/security-incidents/{old['id']}", headers=auth(world.staff_key))
    assert {c["customer_id"]: c["late"] for c in shown.json()["customers"]} == {
        world.a.id: True,
        world.b.id: False,
    }
    # told in time: never overdue
    client.post(
        f"/api/v1/security-incidents/{recent['id']}/notify", headers=auth(world.staff_key), json={}
    )
    _at(client, NOW + timedelta(hours=100))
    later = client.get("/api/v1/security-incidents/overdue", headers=auth(world.staff_key)).json()
    assert all(r["incident_id"] != recent["id"] for r in later)
    # customers never see the register
    refused = client.get("/api/v1/security-incidents/overdue", headers=auth(world.a.admin_key))
    assert refused.status_code == 403


# SPEC: SEC-02
def test_customer_admins_read_only_their_incidents_never_the_other_customers(
    client: TestClient, world: World
) -> None:
    _at(client, NOW)
    shared = _record(
        client, world, NOW - timedelta(hours=1), (world.a.id, True), (world.b.id, True)
    )
    only_a = _record(client, world, NOW - timedelta(hours=1), (world.a.id, True))
    mine = client.get(
        f"/api/v1/customers/{world.a.id}/security-incidents", headers=auth(world.a.admin_key)
    )
    assert mine.status_code == 200
    ids = [i["id"] for i in mine.json()]
    assert shared["id"] in ids and only_a["id"] in ids
    one = client.get(
        f"/api/v1/customers/{world.a.id}/security-incidents/{shared['id']}",
        headers=auth(world.a.admin_key) | {"Accept-Language": "en"},
    )
    assert one.status_code == 200
    assert one.json()["description"] == "Accès non autorisé à la base des contacts"
    assert one.json()["nature_label"].startswith("confidentiality breach")
    assert "customers" not in one.json() and world.b.name not in one.text
    # B's administrator: A's own incident is not found on B's path, A's path is refused
    hidden = client.get(
        f"/api/v1/customers/{world.b.id}/security-incidents/{only_a['id']}",
        headers=auth(world.b.admin_key),
    )
    assert hidden.status_code == 404
    refused = client.get(
        f"/api/v1/customers/{world.a.id}/security-incidents", headers=auth(world.b.admin_key)
    )
    assert refused.status_code == 403
    b_list = client.get(
        f"/api/v1/customers/{world.b.id}/security-incidents", headers=auth(world.b.admin_key)
    ).json()
    assert only_a["id"] not in [i["id"] for i in b_list]
    # a customer's plain user does not read the register; a customer never records
    user = client.get(
        f"/api/v1/customers/{world.a.id}/security-incidents", headers=auth(world.a.user_key)
    )
    assert user.status_code == 403
    body = {
        "detected_at": NOW.isoformat(),
        "nature": "integrity",
        "description": "x",
        "customers": [{"customer_id": world.a.id, "data_affected": True}],
    }
    posted = client.post("/api/v1/security-incidents", headers=auth(world.a.admin_key), json=body)
    assert posted.status_code == 403


# SPEC: SEC-02
def test_recording_and_notifying_are_in_the_audit_log(client: TestClient, world: World) -> None:
    _at(client, NOW)
    incident = _record(client, world, NOW - timedelta(hours=1), (world.a.id, True))
    client.post(
        f"/api/v1/security-incidents/{incident['id']}/notify",
        headers=auth(world.staff_key),
        json={},
    )
    staff = auth(world.staff_key)
    created = client.get(
        "/api/v1/audit",
        headers=staff,
        params={"entity": "security_incidents", "entity_id": str(incident["id"])},
    ).json()
    assert [e["action"] for e in created] == ["create"]
    assert created[0]["actor_label"]
    trail = client.get(
        f"/api/v1/customers/{world.a.id}/audit",
        headers=auth(world.a.admin_key),
        params={"entity": "security_incident_customers"},
    ).json()
    actions = [(e["action"], sorted((e["after"] or {}).keys())) for e in trail]
    assert ("update", ["notified_at", "notified_by"]) in actions
    assert any(a == "create" for a, _ in actions)


# SPEC: SEC-03
def test_bad_incidents_are_refused_naming_the_field(client: TestClient, world: World) -> None:
    _at(client, NOW)
    staff = auth(world.staff_key)
    base: dict[str, Any] = {
        "detected_at": (NOW - timedelta(hours=1)).isoformat(),
        "nature": "confidentiality",
        "description": "x",
        "customers": [{"customer_id": world.a.id, "data_affected": True}],
    }
    cases: list[tuple[dict[str, Any], str]] = [
        ({"detected_at": (NOW + timedelta(hours=1)).isoformat()}, "detected_at"),
        ({"detected_at": "2026-03-10T08:00:00"}, "detected_at"),
        (
            {"customers": [{"customer_id": 999999, "data_affected": True}]},
            "customers[0].customer_id",
        ),
        (
            {
                "customers": [
                    {"customer_id": world.a.id, "data_affected": True},
                    {"customer_id": world.a.id, "data_affected": False},
                ]
            },
            "customers[1].customer_id",
        ),
        ({"customers": []}, "customers"),
        ({"description": "   "}, "description"),
    ]
    for change, field in cases:
        response = client.post("/api/v1/security-incidents", headers=staff, json=base | change)
        assert 400 <= response.status_code < 500, (change, response.text)
        assert response.json()["field"] == field, (change, response.text)


# SPEC: SEC-03
def test_the_daily_job_reminds_the_operator_of_customers_still_to_tell(
    client: TestClient, world: World, session: Session
) -> None:
    _at(client, NOW)
    incident = _record(client, world, NOW - timedelta(hours=100), (world.a.id, True))
    today = _record(client, world, NOW - timedelta(hours=60), (world.b.id, True))
    job = next(j for j in scheduler.DAILY_JOBS if j.name == "security_incident_alerts")
    day = date(2026, 3, 10)
    job.body(session, day)
    job.body(session, day)  # the same day again: one reminder
    session.commit()
    reminders = list(
        session.scalars(
            select(OutboxMessage).where(OutboxMessage.recipient == "contact@operateur-test.fr")
        )
    )
    assert len(reminders) == 1
    body = reminders[0].body
    assert f"incident n° {incident['id']}, client Client 1" in body
    assert f"incident n° {today['id']}, client Client 2" in body
    lines = body.splitlines()
    past_fr = next(x for x in lines if x.startswith(f"- incident n° {incident['id']},"))
    past_en = next(x for x in lines if x.startswith(f"- incident #{incident['id']},"))
    assert past_fr.endswith("DÉLAI DÉPASSÉ") and past_en.endswith("DEADLINE PASSED")
    due_fr = next(x for x in lines if x.startswith(f"- incident n° {today['id']},"))
    assert due_fr.endswith("À PRÉVENIR AUJOURD'HUI")
    # once told, the customer is no longer in the next day's reminder
    client.post(
        f"/api/v1/security-incidents/{incident['id']}/notify",
        headers=auth(world.staff_key),
        json={},
    )
    session.expire_all()
    job.body(session, day + timedelta(days=1))
    session.commit()
    reminders = list(
        session.scalars(
            select(OutboxMessage).where(OutboxMessage.recipient == "contact@operateur-test.fr")
        )
    )
    assert all(f"n° {incident['id']}," not in m.body for m in reminders[1:])
