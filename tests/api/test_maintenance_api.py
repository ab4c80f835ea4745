"""CTR-06 planned maintenance through the API: staff announce and cancel, each contract is
judged by its own terms, customers see only the windows that concern them."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from operateur.accounts.models import Customer
from operateur.catalog.terms import Service, SuspensionCause
from operateur.contracts import lifecycle, maintenance
from operateur.contracts import service as contracts
from operateur.domain.calendar import PARIS
from operateur.i18n import Text
from tests.api.conftest import World, auth, operator_with_staff


def _saturday_ahead() -> date:
    ahead = datetime.now(PARIS).date() + timedelta(days=30)
    return ahead + timedelta(days=(5 - ahead.weekday()) % 7)


# SPEC: CTR-06, SEC-02
def test_staff_announce_customers_see_their_windows(
    client: TestClient, world: World, session: Session
) -> None:
    customer = session.get(Customer, world.a.id)
    assert customer is not None
    cpaas = contracts.create_contract(session, customer, "cpaas", {})
    contracts.sign(session, cpaas, "Signataire")
    contracts.activate(session, cpaas, date.today())
    session.commit()
    day = _saturday_ahead()
    staff = auth(world.staff_key) | {"Accept-Language": "en"}
    body = {
        "starts_at": f"{day.isoformat()}T22:00:00+01:00",
        "ends_at": f"{(day + timedelta(days=1)).isoformat()}T04:00:00+01:00",
        "contract_ids": [cpaas.id, world.a.ids["contract_id"]],
        "reason_fr": "Mise à jour des serveurs SIP",
        "reason_en": "SIP servers upgrade",
    }
    # customers may not announce
    refused = client.post("/api/v1/maintenance", headers=auth(world.a.admin_key), json=body)
    assert refused.status_code == 403
    created = client.post("/api/v1/maintenance", headers=staff, json=body)
    assert created.status_code == 201, created.text
    window = created.json()
    verdicts = {c["contract_id"]: (c["accepted"], c["refusal_code"]) for c in window["contracts"]}
    # the centrex terms have no planned-maintenance clause, the cpaas terms accept the window
    assert verdicts == {
        cpaas.id: (True, None),
        world.a.ids["contract_id"]: (False, "no_planned_maintenance"),
    }
    refusal = next(c["refusal"] for c in window["contracts"] if not c["accepted"])
    assert refusal == "The contract's terms provide no planned maintenance."
    mine = client.get(
        f"/api/v1/customers/{world.a.id}/maintenance", headers=auth(world.a.user_key)
    ).json()
    assert [(w["id"], w["contract_id"], w["reason"]) for w in mine] == [
        (window["id"], cpaas.id, "Mise à jour des serveurs SIP")
    ]
    theirs = client.get(
        f"/api/v1/customers/{world.b.id}/maintenance", headers=auth(world.b.user_key)
    )
    assert theirs.json() == []
    path = f"/api/v1/maintenance/{window['id']}/cancel"
    cancelled = client.post(path, headers=staff, json={"reason": "postponed"})
    assert cancelled.json()["status"] == "cancelled"
    again = client.post(path, headers=staff, json={"reason": "postponed"})
    assert again.status_code == 409 and again.json()["code"] == "maintenance_closed"
    listed = client.get("/api/v1/maintenance", headers=staff).json()
    assert [w["status"] for w in listed] == ["cancelled"]


# SPEC: CTR-06
def test_a_window_too_close_is_refused_for_the_contract(
    client: TestClient, world: World, session: Session
) -> None:
    customer = session.get(Customer, world.a.id)
    assert customer is not None
    cpaas = contracts.create_contract(session, customer, "cpaas", {})
    contracts.sign(session, cpaas, "Signataire")
    contracts.activate(session, cpaas, date.today())
    session.commit()
    tomorrow = datetime.now(PARIS) + timedelta(days=1)
    created = client.post(
        "/api/v1/maintenance",
        headers=auth(world.staff_key),
        json={
            "starts_at": tomorrow.isoformat(),
            "ends_at": (tomorrow + timedelta(hours=1)).isoformat(),
            "offer_id": "cpaas",
            "reason_fr": "Urgence",
            "reason_en": "Emergency",
        },
    )
    assert created.status_code == 201, created.text
    (verdict,) = created.json()["contracts"]
    # [002 §13.1.5] announced at least 7 business days ahead
    assert (verdict["accepted"], verdict["refusal_code"]) == (False, "maintenance_notice")
    assert "7 jours ouvrés" in verdict["refusal"]


# SPEC: CTR-06, SEC-02
def test_another_operators_staff_never_see_the_window(
    client: TestClient, world: World, session: Session
) -> None:
    other_key = operator_with_staff(
        session, name="Autre Opérateur", siren="552100554", domain="autre-operateur.fr"
    ).staff_key
    customer = session.get(Customer, world.a.id)
    assert customer is not None
    cpaas = contracts.create_contract(session, customer, "cpaas", {})
    contracts.sign(session, cpaas, "Signataire")
    contracts.activate(session, cpaas, date.today())
    session.commit()
    day = _saturday_ahead()
    body = {
        "starts_at": f"{day.isoformat()}T22:00:00+01:00",
        "ends_at": f"{day.isoformat()}T23:00:00+01:00",
        "offer_id": "cpaas",
        "reason_fr": "x",
        "reason_en": "x",
    }
    # the other operator's staff find no contract of that offer among their customers
    theirs = client.post("/api/v1/maintenance", headers=auth(other_key), json=body)
    assert theirs.status_code == 422 and theirs.json()["field"] == "contract_ids"
    mine = client.post("/api/v1/maintenance", headers=auth(world.staff_key), json=body).json()
    assert (
        client.get(f"/api/v1/maintenance/{mine['id']}", headers=auth(other_key)).status_code == 404
    )
    assert client.get("/api/v1/maintenance", headers=auth(other_key)).json() == []
    cancel = client.post(
        f"/api/v1/maintenance/{mine['id']}/cancel", headers=auth(other_key), json={"reason": "x"}
    )
    assert cancel.status_code == 404


# SPEC: CTR-06
def test_staff_restore_during_a_window_keeps_the_service_interrupted(
    client: TestClient, world: World, session: Session
) -> None:
    """[002 §13.1.5] a restore for another cause (here non-payment) during a running window
    lifts that cause only; the window alone ends the maintenance suspension."""
    customer = session.get(Customer, world.a.id)
    assert customer is not None
    cpaas = contracts.create_contract(session, customer, "cpaas", {})
    contracts.sign(session, cpaas, "Signataire", datetime(2026, 1, 5, 9, tzinfo=PARIS))
    contracts.activate(session, cpaas, date(2026, 1, 5))
    maintenance.announce(
        session,
        starts_at=datetime(2026, 3, 21, 22, tzinfo=PARIS),
        ends_at=datetime(2026, 3, 22, 4, tzinfo=PARIS),
        reason=Text(fr="Mise à jour", en="Upgrade"),
        contract_ids=[cpaas.id],
        announced_at=datetime(2026, 3, 2, 10, tzinfo=PARIS),
    )
    lifecycle.suspend(
        session, cpaas, cause=SuspensionCause.NON_PAYMENT, reason="impayé", on=date(2026, 3, 20)
    )
    maintenance.apply_due(session, datetime(2026, 3, 21, 22, 30, tzinfo=PARIS))
    session.commit()
    staff = auth(world.staff_key) | {"Accept-Language": "en"}
    path = f"/api/v1/customers/{world.a.id}/contracts/{cpaas.id}/restore"
    restored = client.post(path, headers=staff, json={"reason": "invoice paid"})
    assert restored.status_code == 200, restored.text
    assert restored.json()["status"] == "suspended"
    session.expire_all()
    assert lifecycle.may_use(session, world.a.id, Service.CPAAS_VOICE).code == (
        "suspended_maintenance"
    )
    again = client.post(path, headers=staff, json={"reason": "invoice paid"})
    assert again.status_code == 409 and again.json()["code"] == "maintenance_in_progress"
    assert "until 2026-03-22 04:00 (Paris time)" in again.json()["message"]
