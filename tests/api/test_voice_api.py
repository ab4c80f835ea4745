"""The call-control API as the SIP proxy uses it, and a customer's own voice routes."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from operateur.accounts import service as accounts
from operateur.accounts.models import Role
from operateur.accounts.permissions import system_actor
from operateur.billing import usage
from operateur.billing.models import UsageRecord
from operateur.config import Settings
from operateur.contracts.models import Line
from operateur.voice.control import USAGE_SOURCE, VoiceControl
from operateur.voice.counters import InProcessCounters
from tests.api.conftest import World, auth

DECK = """prefix,destination,price_per_minute,connection_fee,steps,min_seconds
33,France fixe,0.012,0,60/60,0
336,France mobile,0.05,0.01,30/6,0
"""


@pytest.fixture
def proxy_key(session: Session, world: World) -> str:
    """The API key of the SIP proxy: a staff key of the network role."""
    _, key = accounts.create_api_key(
        session,
        system_actor(),
        operator_id=world.operator_id,
        customer_id=None,
        name="kamailio",
        role=Role.NETWORK,
    )
    usage.publish_deck(session, DECK, name="Test", customer_id=world.a.id)
    session.commit()
    return key


@pytest.fixture
def control(
    client: TestClient, settings: Settings, session_factory: sessionmaker[Session]
) -> Iterator[VoiceControl]:
    app = client.app
    assert isinstance(app, FastAPI)
    engine = VoiceControl(
        session_factory, InProcessCounters(), settings.model_copy(update={"voice_cache_seconds": 0})
    )
    app.state.voice_control = engine
    yield engine


def _line(session: Session, world: World) -> str:
    line = session.get(Line, world.a.ids["line_id"])
    assert line is not None
    return line.sip_username


def _authorize(client: TestClient, key: str, line: str, call_id: str, **extra: str) -> dict:  # type: ignore[type-arg]
    body = {"call_id": call_id, "line": line, "caller": "+33199000001", "callee": "0145000000"}
    body.update(extra)
    response = client.post("/api/v1/voice/authorize", json=body, headers=auth(key))
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


def test_control_routes_need_the_network_role(
    client: TestClient, world: World, proxy_key: str, control: VoiceControl, session: Session
) -> None:
    body = {"call_id": "c1", "line": _line(session, world), "caller": "x", "callee": "0145000000"}
    for key in (world.a.admin_key, world.a.user_key):
        response = client.post("/api/v1/voice/authorize", json=body, headers=auth(key))
        assert response.status_code == 403
        assert response.json()["code"] == "permission_denied"
    assert client.post("/api/v1/voice/authorize", json=body).status_code == 401
    bad = client.post("/api/v1/voice/authorize", json=body, headers=auth("op_bad_key"))
    assert bad.status_code == 401


# SPEC: VOX-05
def test_a_call_through_the_api_from_invite_to_bye(
    client: TestClient, world: World, proxy_key: str, control: VoiceControl, session: Session
) -> None:
    line = _line(session, world)
    first = _authorize(client, proxy_key, line, "call-1")
    assert first == {
        "allow": True,
        "code": 200,
        "reason": "OK",
        "max_duration": 7200,
        "route": "fr_geographic",
        "emergency": False,
    }
    assert _authorize(client, proxy_key, line, "call-2")["allow"]
    third = client.post(
        "/api/v1/voice/authorize",
        json={"call_id": "call-3", "line": line, "caller": "+33199000001", "callee": "0145000000"},
        headers={**auth(proxy_key), "Accept-Language": "en"},
    ).json()
    assert (third["allow"], third["code"]) == (False, 486)
    assert third["reason"].startswith("VOX-05 the line already has 2 simultaneous calls")
    ok = client.post("/api/v1/voice/answer", json={"call_id": "call-1"}, headers=auth(proxy_key))
    assert ok.json() == {"ok": True}
    client.post("/api/v1/voice/update", json={"call_id": "call-1"}, headers=auth(proxy_key))
    # the customer sees its calls in progress; the other customer cannot
    own = client.get(f"/api/v1/customers/{world.a.id}/voice/calls", headers=auth(world.a.user_key))
    assert sorted(c["call_id"] for c in own.json()) == ["call-1", "call-2"]
    assert own.json()[0]["answered_at"] is not None
    other = client.get(
        f"/api/v1/customers/{world.a.id}/voice/calls", headers=auth(world.b.admin_key)
    )
    assert other.status_code == 403
    end = {"call_id": "call-1", "disposition": "ANSWERED", "sip_code": 200}
    for _ in range(2):  # a repeated end changes nothing
        response = client.post("/api/v1/voice/end", json=end, headers=auth(proxy_key))
        assert response.json() == {"ok": True}
    records = session.scalars(
        select(UsageRecord).where(
            UsageRecord.source == USAGE_SOURCE, UsageRecord.external_id == "call-1"
        )
    ).all()
    assert len(records) == 1
    assert records[0].customer_id == world.a.id
    assert _authorize(client, proxy_key, line, "call-4")["allow"]


# SPEC: VOX-09, VOX-01
def test_refusals_name_their_rule(
    client: TestClient, world: World, proxy_key: str, control: VoiceControl, session: Session
) -> None:
    line = _line(session, world)
    spoofed = _authorize(client, proxy_key, line, "c1", caller="+33199000002")  # B's number
    assert (spoofed["allow"], spoofed["code"]) == (False, 403)
    assert spoofed["reason"].startswith("VOX-09 ")
    barred = _authorize(client, proxy_key, line, "c2", callee="+12125550100")
    assert (barred["allow"], barred["code"], barred["route"]) == (False, 403, "international")
    assert barred["reason"].startswith("VOX-01 ")
    unknown = _authorize(client, proxy_key, "nobody", "c3")
    assert (unknown["allow"], unknown["code"]) == (False, 403)
    emergency = _authorize(client, proxy_key, line, "c4", callee="112")
    assert (emergency["allow"], emergency["emergency"]) == (True, True)


# SPEC: VOX-10
def test_consents_are_recorded_and_read_by_their_customer_only(
    client: TestClient, world: World
) -> None:
    body = {
        "number": "06 12 34 56 78",
        "kind": "refusal",
        "subject": "M. Paul Durand",
        "given_at": datetime(2026, 11, 2, 15, 0, tzinfo=UTC).isoformat(),
        "proof": "enregistrement de l'appel n° 8812",
    }
    url = f"/api/v1/customers/{world.a.id}/voice/consents"
    created = client.post(url, json=body, headers=auth(world.a.admin_key))
    assert created.status_code == 201, created.text
    assert created.json()["number"] == "+33612345678"
    assert created.json()["recorded_by"].startswith("api_key:")
    listed = client.get(url, headers=auth(world.a.user_key)).json()
    assert [c["kind"] for c in listed] == ["refusal"]
    assert client.post(url, json=body, headers=auth(world.a.user_key)).status_code == 403
    assert client.get(url, headers=auth(world.b.admin_key)).status_code == 403


# SPEC: VOX-11
def test_a_centrex_contract_cannot_become_a_call_centre(
    client: TestClient, world: World, proxy_key: str
) -> None:
    url = f"/api/v1/customers/{world.a.id}/voice/profiles/{world.a.ids['contract_id']}"
    refused = client.put(url, json={"prospecting": True}, headers=auth(proxy_key))
    assert refused.status_code == 422
    assert refused.json()["field"] == "prospecting"
    assert (
        client.put(url, json={"prospecting": True}, headers=auth(world.a.admin_key)).status_code
        == 403
    )
