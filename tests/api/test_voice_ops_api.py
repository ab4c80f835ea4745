"""Voice operations through the API: the public number lookup (VOX-17), port-in requests and
RIO checks (VOX-15), recordings (VOX-12), fraud alerts for staff (VOX-06), consumer reports and
the penalty table (VOX-16), traffic-quality indicators (VOX-08)."""

from __future__ import annotations

import io
import zipfile
from datetime import UTC, datetime, timedelta

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from operateur.billing import usage
from operateur.contracts.models import Line
from operateur.domain.calendar import PARIS, is_business_day
from operateur.fraud import service as fraud
from operateur.numbers import portability, rio
from tests.api.conftest import World, auth

DIRECTORY = {
    "service_name": "Boulangerie Martin — commandes",
    "description": "Rappel des commandes de pain et de viennoiseries.",
    "provider": "Client 1 SAS",
    "website": "https://boulangerie-martin.example",
    "address": "1 rue de la Paix, 75002 Paris",
    "complaint_contact": "reclamations@client1.fr",
}


def _number(client: TestClient, world: World) -> dict[str, object]:
    rows = client.get(
        f"/api/v1/customers/{world.a.id}/numbers", headers=auth(world.a.admin_key)
    ).json()
    [number] = [n for n in rows if n["id"] == world.a.ids["number_id"]]
    return number  # type: ignore[no-any-return]


# SPEC: VOX-17
def test_public_lookup_shows_only_published_numbers(client: TestClient, world: World) -> None:
    number = _number(client, world)
    path = f"/api/v1/customers/{world.a.id}/numbers/{number['id']}/directory"
    assert client.get(path, headers=auth(world.a.admin_key)).json() is None
    # customers cannot write what the public sees; staff can
    refused = client.put(path, headers=auth(world.a.admin_key), json=DIRECTORY)
    assert refused.status_code == 403
    saved = client.put(path, headers=auth(world.staff_key), json=DIRECTORY)
    assert saved.status_code == 200 and saved.json()["published"] is False
    national = "0" + str(number["e164"])[3:]
    hidden = client.get(f"/api/v1/public/numbers/{national}")
    assert hidden.status_code == 404 and hidden.json()["code"] == "number_not_published"
    client.put(path, headers=auth(world.staff_key), json=DIRECTORY | {"published": True})
    shown = client.get(f"/api/v1/public/numbers/{national}")  # no credentials
    assert shown.status_code == 200
    assert shown.json() == {"number": number["e164"], **DIRECTORY}
    # an unknown number and a text say the same as an unpublished one
    for other in ("0199999999", "not-a-number"):
        response = client.get(f"/api/v1/public/numbers/{other}")
        assert response.status_code == 404 and response.json()["code"] == "number_not_published"
    # a released number's entry goes with it
    released = client.post(
        f"/api/v1/customers/{world.a.id}/numbers/{number['id']}/release",
        headers=auth(world.staff_key),
    )
    assert released.status_code == 200
    assert client.get(f"/api/v1/public/numbers/{national}").status_code == 404


# SPEC: VOX-17
def test_the_public_lookup_page_shows_a_published_number_to_anyone(
    client: TestClient, world: World
) -> None:
    number = _number(client, world)
    path = f"/api/v1/customers/{world.a.id}/numbers/{number['id']}/directory"
    client.put(path, headers=auth(world.staff_key), json=DIRECTORY | {"published": True})
    national = "0" + str(number["e164"])[3:]
    page = client.get("/numero", params={"n": national})  # no account, no credentials
    assert page.status_code == 200
    for shown in (str(number["e164"]), DIRECTORY["service_name"], DIRECTORY["complaint_contact"]):
        assert shown in page.text
    assert "Ce service gratuit indique" in page.text  # French by default
    client.cookies.set("operateur_lang", "en")
    english = client.get("/numero", params={"n": national})
    assert "Who called or texted me?" in english.text
    client.cookies.delete("operateur_lang")
    unknown = client.get("/numero", params={"n": "0199999999"})
    assert "Aucune information publiée" in unknown.text
    assert DIRECTORY["service_name"] not in unknown.text


# SPEC: VOX-15
def test_port_in_through_the_api(client: TestClient, world: World, session: Session) -> None:
    added = client.post(
        "/api/v1/numbers",
        headers=auth(world.staff_key),
        json={"numbers": ["+33199000601", "+33199000602"]},
    )
    assert added.status_code == 201
    base = f"/api/v1/customers/{world.a.id}/port-requests"
    line_id = world.a.ids["line_id"]
    wrong = client.post(
        base,
        headers=auth(world.a.admin_key, ),
        json={"number": "0140000050", "rio": "02F123456AAA", "line_id": line_id,
              "holder_name": "Client 1"},
    )  # fmt: skip
    assert wrong.status_code == 201, wrong.text
    body = wrong.json()
    assert (body["status"], body["reason"]) == ("ineligible", "rio_invalid")
    assert body["reason_text"] == "le RIO est erroné pour ce numéro"
    assert body["new_number_id"] is not None
    code = "02F123456" + rio.key("02", "F", "123456", "0140000050")
    good = client.post(
        base,
        headers=auth(world.a.admin_key),
        json={"number": "0140000050", "rio": code, "line_id": line_id, "holder_name": "Client 1"},
    ).json()
    assert good["status"] == "submitted"
    answer = f"{base}/{good['id']}/answer"
    # a business day to come (a past porting day or a holiday is refused)
    day = datetime.now(PARIS).date() + timedelta(days=7)
    while not is_business_day(day):
        day += timedelta(days=1)
    accept = {"accepted": True, "scheduled_on": day.isoformat(), "slot_start": "08:00",
              "slot_end": "12:00"}  # fmt: skip
    assert client.post(answer, headers=auth(world.a.admin_key), json=accept).status_code == 403
    scheduled = client.post(answer, headers=auth(world.staff_key), json=accept).json()
    assert (scheduled["status"], scheduled["slot_start"]) == ("scheduled", "08:00")
    portability.activate_due(session, day)  # the scheduler's job that day
    session.commit()
    ported = client.get(f"{base}/{good['id']}", headers=auth(world.a.admin_key)).json()
    assert ported["status"] == "ported"
    mine = client.get(
        f"/api/v1/customers/{world.a.id}/numbers", headers=auth(world.a.admin_key)
    ).json()
    assert {"+33140000050"} <= {n["e164"] for n in mine}
    # the other customer never sees the request
    assert client.get(f"{base}/{good['id']}", headers=auth(world.b.admin_key)).status_code == 403
    check = client.get(
        "/api/v1/numbers/check-rio",
        params={"rio": code, "number": "+33140000050"},
        headers=auth(world.b.user_key),
    )
    assert check.json()["valid"] is True


# SPEC: VOX-12
def test_recordings_download_and_export(client: TestClient, world: World) -> None:
    base = f"/api/v1/customers/{world.a.id}/recordings"
    listed = client.get(base, headers=auth(world.a.admin_key)).json()
    [recording] = listed
    assert recording["id"] == world.a.ids["recording_id"]
    file = client.get(f"{base}/{recording['id']}/file", headers=auth(world.a.admin_key))
    assert file.status_code == 200 and file.headers["content-type"] == "audio/wav"
    assert file.content.startswith(b"RIFF")
    # another customer's recording is not found under A's path
    foreign = client.get(
        f"{base}/{world.b.ids['recording_id']}/file", headers=auth(world.a.admin_key)
    )
    assert foreign.status_code == 404
    # a customer user does not listen to the recordings; the administrator exports them all
    assert client.get(base, headers=auth(world.a.user_key)).status_code == 403
    export = client.get(f"{base}/export", headers=auth(world.a.admin_key))
    assert export.status_code == 200 and export.headers["content-type"] == "application/zip"
    with zipfile.ZipFile(io.BytesIO(export.content)) as archive:
        names = archive.namelist()
    assert "manifest.csv" in names and len(names) == 2
    # the media server (staff) attaches a new recording as the raw request body
    attached = client.post(
        base,
        params={"call_id": f"call-{world.a.id}"},
        headers=auth(world.staff_key) | {"content-type": "audio/mpeg"},
        content=b"ID3 mp3 data",
    )
    assert attached.status_code == 201, attached.text
    assert attached.json()["content_type"] == "audio/mpeg"
    refused = client.post(
        base,
        params={"call_id": f"call-{world.a.id}"},
        headers=auth(world.a.admin_key) | {"content-type": "audio/mpeg"},
        content=b"ID3 other",
    )
    assert refused.status_code == 403


# SPEC: VOX-06
def test_fraud_alerts_are_for_staff(client: TestClient, world: World, session: Session) -> None:
    line = session.get(Line, world.a.ids["line_id"])
    assert line is not None
    start = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
    usage.record_call(
        session,
        usage.CallData(
            source="test",
            call_id="long-1",
            account=line.sip_username,
            caller="+33199000001",
            callee="+33140000001",
            start=start,
            answer=start,
            end=start + timedelta(minutes=121),
            disposition="ANSWERED",
        ),
    )
    session.commit()
    assert (
        client.post(
            "/api/v1/fraud/run", headers=auth(world.a.admin_key), json={"as_of": "2026-11-03"}
        ).status_code
        == 403
    )
    raised = client.post(
        "/api/v1/fraud/run", headers=auth(world.staff_key), json={"as_of": "2026-11-03"}
    )
    assert raised.status_code == 200, raised.text
    [alert] = raised.json()
    assert (alert["kind"], alert["rule"], alert["customer_id"]) == (
        "long_calls",
        "VOX-06",
        world.a.id,
    )
    listed = client.get("/api/v1/fraud/alerts?status=open", headers=auth(world.staff_key)).json()
    assert [a["id"] for a in listed] == [alert["id"]]
    assert client.get("/api/v1/fraud/alerts", headers=auth(world.a.admin_key)).status_code == 403
    closed = client.post(
        f"/api/v1/fraud/alerts/{alert['id']}/resolve",
        headers=auth(world.staff_key),
        json={"resolution": "long conference call, legitimate", "lift_restriction": True},
    )
    assert closed.status_code == 200, closed.text
    assert closed.json()["status"] == "resolved"
    contract = client.get(
        f"/api/v1/customers/{world.a.id}/contracts/{world.a.ids['contract_id']}",
        headers=auth(world.a.admin_key),
    ).json()
    assert contract["status"] == "active"
    assert fraud.list_alerts(session, status=None)[0].resolved_by is not None


# SPEC: VOX-16, VOX-08
def test_reports_penalty_table_and_kpis(client: TestClient, world: World) -> None:
    table = client.get(
        f"/api/v1/customers/{world.a.id}/penalty-table", headers=auth(world.a.admin_key)
    ).json()
    by_contract = {row["contract_id"]: row for row in table}
    centrex = by_contract[world.a.ids["contract_id"]]
    assert centrex["amounts"]["report_33700"] is None  # the centrex terms price no report
    crm = [row for row in table if row["abnormal_reports_months"] == 2]
    assert crm and crm[0]["abnormal_reports_notice_hours"] == 48
    number = _number(client, world)
    refused = client.post(
        f"/api/v1/customers/{world.a.id}/consumer-reports",
        headers=auth(world.a.admin_key),
        json={"number": number["e164"], "kind": "report_33700", "reference": "T-1",
              "received_on": "2026-11-05"},
    )  # fmt: skip
    assert refused.status_code == 403
    recorded = client.post(
        f"/api/v1/customers/{world.a.id}/consumer-reports",
        headers=auth(world.staff_key),
        json={"number": number["e164"], "kind": "report_33700", "reference": "T-1",
              "received_on": "2026-11-05"},
    )  # fmt: skip
    assert recorded.status_code == 201, recorded.text
    assert recorded.json()["month"] == "2026-11"
    kpis = client.get(
        f"/api/v1/customers/{world.a.id}/voice-quality/kpis",
        params={"from": "2026-11-02T00:00:00+01:00", "to": "2026-11-03T00:00:00+01:00"},
        headers=auth(world.a.admin_key),
    )
    assert kpis.status_code == 200 and kpis.json() == []  # centrex and crm-voip set no target
