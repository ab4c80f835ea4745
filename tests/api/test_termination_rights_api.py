"""Termination after a total suspension (CTR-06 [004 §11.4]) and the operator's specific
terminations (CTR-07 [004 §12.2]) through the API: who may give each notice, the refusals
naming the date or the missing clause, and the audit trail."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from fastapi.testclient import TestClient

from operateur.contracts import lifecycle
from operateur.domain.calendar import add_months
from tests.api.conftest import World, auth


def _telecom(client: TestClient, world: World) -> str:
    """A telecom contract of customer A, active from 5 January 2026 with one fixed line."""
    staff = auth(world.staff_key)
    base = f"/api/v1/customers/{world.a.id}/contracts"
    created = client.post(base, headers=staff, json={"offer_id": "telecom"})
    assert created.status_code == 201, created.text
    path = f"{base}/{created.json()['id']}"
    signed = client.post(
        f"{path}/sign",
        headers=staff,
        json={"signed_by": "M. A", "signed_at": "2026-01-02T10:00:00+01:00"},
    )
    assert signed.status_code == 200, signed.text
    active = client.post(f"{path}/activate", headers=staff, json={"activated_on": "2026-01-05"})
    assert active.status_code == 200, active.text
    line = client.post(f"{path}/subscriptions", headers=staff, json={"item_code": "fixed.line"})
    assert line.status_code == 201, line.text
    return path


def _post(client: TestClient, url: str, key: str, body: dict[str, Any], lang: str = "fr") -> Any:
    return client.post(url, headers=auth(key) | {"Accept-Language": lang}, json=body)


# SPEC: CTR-06, SEC-02
def test_the_customer_administrator_terminates_a_totally_suspended_contract(
    client: TestClient, world: World
) -> None:
    path = _telecom(client, world)
    suspended = client.post(
        f"{path}/suspend",
        headers=auth(world.staff_key),
        json={"cause": "fraud", "reason": "fraude", "on": "2026-03-02"},
    )
    assert suspended.json()["status"] == "suspended"
    url = f"{path}/suspension-termination"
    body = {"notified_on": "2026-04-01", "reason": "service toujours coupé"}
    # a plain user of the customer may not terminate; its administrator may, for the customer
    user = _post(client, url, world.a.user_key, body)
    assert user.status_code == 403 and user.json()["code"] == "permission_denied"
    posing = _post(client, url, world.a.admin_key, body | {"by_operator": True})
    assert posing.status_code == 403 and posing.json()["code"] == "operator_side_only"
    # the customer's own notice is dated the day it is sent; staff record a letter received
    # on an earlier day (by_operator false: the customer's notice)
    letter = body | {"by_operator": False}
    # [004 §11.4] one month of total suspension first: refused on 1 April, naming 2 April
    early = _post(client, url, world.staff_key, letter)
    assert early.status_code == 409 and early.json()["code"] == "total_suspension_too_short"
    assert "possible à compter du 02/04/2026" in early.json()["message"]
    early_en = _post(client, url, world.staff_key, letter, lang="en")
    assert "termination is possible from 2026-04-02" in early_en.json()["message"]
    done = _post(client, url, world.staff_key, letter | {"notified_on": "2026-04-02"})
    assert done.status_code == 201, done.text
    notice = done.json()
    assert (notice["kind"], notice["by_operator"], notice["details"]["ends_on"]) == (
        "total_suspension",
        False,
        "2026-05-02",
    )
    listed = client.get(f"{path}/notices", headers=auth(world.a.user_key)).json()
    assert [n["kind"] for n in listed] == ["total_suspension"]
    events = client.get(f"{path}/events", headers=auth(world.a.user_key)).json()
    assert events[-1]["transition"] == "give_notice"
    assert events[-1]["details"]["ends_on"] == "2026-05-02"
    audit = client.get(
        "/api/v1/audit",
        headers=auth(world.staff_key),
        params={"entity": "contract_notices", "customer_id": world.a.id, "action": "create"},
    ).json()
    assert [(e["after"]["kind"], e["after"]["by_operator"], e["actor_type"]) for e in audit] == [
        ("total_suspension", False, "api_key")
    ]


# SPEC: CTR-07, SEC-02
def test_only_staff_give_the_operator_specific_termination(
    client: TestClient, world: World
) -> None:
    path = _telecom(client, world)
    url = f"{path}/operator-termination"
    body = {"case": "authority_decision", "notified_on": "2026-04-03", "reason": "arrêté"}
    customer = _post(client, url, world.a.admin_key, body)
    assert customer.status_code == 403 and customer.json()["code"] == "permission_denied"
    done = _post(client, url, world.staff_key, body)
    assert done.status_code == 201, done.text
    # [004 §12.2] 5 business days from Friday 3 April 2026 (Easter Monday off): 13 April
    assert done.json()["details"] == {"case": "authority_decision", "ends_on": "2026-04-13"}
    # the Centrex terms have no such clause: refused, naming it
    centrex = f"/api/v1/customers/{world.a.id}/contracts/{world.a.ids['contract_id']}"
    refused = _post(client, f"{centrex}/operator-termination", world.staff_key, body)
    assert refused.status_code == 422
    assert refused.json()["details"] == {"clause": "termination.operator_specific_notice"}
    refused = _post(client, f"{centrex}/suspension-termination", world.staff_key, body)
    assert refused.status_code == 422  # "case" is not a field of this route
    refused = _post(client, f"{centrex}/suspension-termination", world.a.admin_key, {"reason": "x"})
    assert refused.status_code == 422
    assert refused.json()["details"] == {
        "clause": "suspension.mutual_termination_after_total_suspension"
    }


# SPEC: CTR-06, SEC-02
def test_a_customer_cannot_backdate_its_suspension_termination(
    client: TestClient, world: World
) -> None:
    """[004 §11.4] the termination "ne pourra avoir lieu qu'un (1) mois après l'envoi": a
    customer credential dating its notice in the past would end the contract before a month
    has run (at once for a notice two months old)."""
    path = _telecom(client, world)
    today = lifecycle.today()
    since = today - timedelta(days=90)
    suspended = client.post(
        f"{path}/suspend",
        headers=auth(world.staff_key),
        json={"cause": "fraud", "reason": "fraude", "on": since.isoformat()},
    )
    assert suspended.json()["status"] == "suspended"
    url = f"{path}/suspension-termination"
    backdated = add_months(since, 1).isoformat()
    refused = _post(
        client, url, world.a.admin_key, {"notified_on": backdated, "reason": "coupé"}, lang="en"
    )
    assert refused.status_code == 422, refused.text
    assert refused.json()["field"] == "notified_on"
    assert today.isoformat() in refused.json()["message"]
    done = _post(client, url, world.a.admin_key, {"reason": "coupé"})
    assert done.status_code == 201, done.text
    assert done.json()["notified_on"] == today.isoformat()
    assert done.json()["details"]["ends_on"] == add_months(today, 1).isoformat()
