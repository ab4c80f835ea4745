"""The support API: tickets and their SLA clock, attachments, the staff queue, quotas and
loss declarations, each under the customer it belongs to."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from operateur.billing.models import PendingCharge
from operateur.domain.calendar import PARIS
from tests.api.conftest import World, auth

FRIDAY_4PM = datetime(2026, 11, 20, 16, 0, tzinfo=PARIS)


def _cpaas_contract(client: TestClient, world: World) -> int:
    base = f"/api/v1/customers/{world.a.id}/contracts"
    staff = auth(world.staff_key)
    contract = client.post(base, json={"offer_id": "cpaas"}, headers=staff).json()
    client.post(
        f"{base}/{contract['id']}/sign",
        json={"signed_by": "Gérant", "signed_at": "2026-11-02T09:00:00+01:00"},
        headers=staff,
    )
    activated = client.post(
        f"{base}/{contract['id']}/activate", json={"activated_on": "2026-11-02"}, headers=staff
    )
    assert activated.json()["status"] == "active"
    return int(contract["id"])


def _freeze(client: TestClient, moment: datetime) -> None:
    app = client.app
    assert isinstance(app, FastAPI)
    app.state.clock = lambda: moment


# SPEC: SUP-01, SUP-02, SUP-03
def test_an_incident_through_the_api_from_opening_to_a_billed_closing(
    client: TestClient, world: World, session: Session
) -> None:
    contract_id = _cpaas_contract(client, world)
    _freeze(client, FRIDAY_4PM)
    tickets = f"/api/v1/customers/{world.a.id}/tickets"
    opened = client.post(
        tickets,
        json={
            "contract_id": contract_id,
            "kind": "incident",
            "severity": "critical",
            "service": "cpaas_voice",
            "subject": "Appels en échec",
            "body": "Plus aucun appel ne passe.",
        },
        headers=auth(world.a.user_key),
    )
    assert opened.status_code == 201, opened.text
    ticket = opened.json()
    # four support hours: Friday 16-17 and Monday 9-12
    assert datetime.fromisoformat(ticket["sla"]["first_response_due"]) == datetime(
        2026, 11, 23, 12, tzinfo=PARIS
    )
    assert ticket["sla"]["business_seconds_left"] == 4 * 3600

    _freeze(client, datetime(2026, 11, 23, 10, tzinfo=PARIS))  # Monday 10:00
    seen = client.get(f"{tickets}/{ticket['id']}", headers=auth(world.a.admin_key)).json()
    assert seen["sla"]["business_seconds_left"] == 2 * 3600

    queue = client.get("/api/v1/support/tickets", headers=auth(world.staff_key)).json()
    assert [t["reference"] for t in queue][0] == ticket["reference"]  # nearest deadline first
    assert client.get("/api/v1/support/tickets", headers=auth(world.a.admin_key)).status_code == 403

    answer = client.post(
        f"{tickets}/{ticket['id']}/messages",
        json={"body": "Nous intervenons."},
        headers=auth(world.staff_key),
    )
    assert answer.json()["from_staff"] is True
    answered = client.get(f"{tickets}/{ticket['id']}", headers=auth(world.a.admin_key)).json()
    assert answered["status"] == "answered"
    assert answered["sla"]["met"] is True
    assert answered["sla"]["business_seconds_taken"] == 2 * 3600

    refused = client.post(
        f"{tickets}/{ticket['id']}/close",
        json={"outcome": "caused_by_customer", "reason": "c'est nous"},
        headers=auth(world.a.admin_key),
    )
    assert refused.status_code == 403
    closed = client.post(
        f"{tickets}/{ticket['id']}/close",
        json={"outcome": "caused_by_customer", "reason": "Pare-feu du client."},
        headers=auth(world.staff_key),
    )
    assert closed.json()["status"] == "closed"
    charge = session.scalars(
        select(PendingCharge).where(PendingCharge.contract_id == contract_id)
    ).one()
    assert charge.amount == Decimal("100.00")


# SPEC: SUP-01
def test_attachments_go_up_as_raw_bodies_and_come_back_as_downloads(
    client: TestClient, world: World
) -> None:
    base = f"/api/v1/customers/{world.a.id}/tickets/{world.a.ids['ticket_id']}/attachments"
    page = b"<script>alert(1)</script>"
    uploaded = client.post(
        base,
        params={"filename": "page.html"},
        content=page,
        headers=auth(world.a.admin_key) | {"content-type": "text/html"},
    )
    assert uploaded.status_code == 201, uploaded.text
    download = client.get(f"{base}/{uploaded.json()['id']}", headers=auth(world.a.user_key))
    assert download.content == page
    assert download.headers["content-type"] == "application/octet-stream"  # never rendered
    assert download.headers["content-disposition"] == 'attachment; filename="page.html"'
    other = f"/api/v1/customers/{world.b.id}/tickets/{world.b.ids['ticket_id']}/attachments"
    assert (
        client.get(f"{other}/{world.b.ids['attachment_id']}", headers=auth(world.a.admin_key))
    ).status_code == 403


# SPEC: SUP-03
def test_the_quota_of_each_contract(client: TestClient, world: World) -> None:
    rows = client.get(
        f"/api/v1/customers/{world.a.id}/support/quota", headers=auth(world.a.admin_key)
    ).json()
    centrex = next(r for r in rows if r["contract_id"] == world.a.ids["contract_id"])
    assert centrex == {
        "contract_id": world.a.ids["contract_id"],
        "period": centrex["period"],
        "users": 2,
        "quota": None,  # the centrex terms set no quota
        "used": 1,
        "beyond": 0,
        "fee_beyond": None,
    }


# SPEC: SUP-04
def test_a_lost_sim_is_declared_and_the_service_suspended(client: TestClient, world: World) -> None:
    declared = client.post(
        f"/api/v1/customers/{world.a.id}/loss-declarations",
        json={"kind": "sim", "line_id": world.a.ids["line_id"], "theft": True, "suspend": True},
        headers=auth(world.a.user_key),
    )
    assert declared.status_code == 201, declared.text
    assert declared.json()["suspension_id"] is not None
    contract = client.get(
        f"/api/v1/customers/{world.a.id}/contracts/{world.a.ids['contract_id']}",
        headers=auth(world.a.admin_key),
    ).json()
    assert contract["status"] == "suspended"
    usable = client.get(
        f"/api/v1/customers/{world.a.id}/services/centrex/usable", headers=auth(world.a.user_key)
    ).json()
    assert usable["allowed"] is False
