"""Bad input on the SMS API is refused with the field named, in French and English, and bills
nothing (SMS-01, SMS-05, SMS-08)."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from operateur.billing.models import PendingCharge
from tests.api.conftest import World, auth
from tests.api.test_sms_api import API, _open_sms


def test_a_blank_sender_request_is_bad_input_not_a_billed_refusal(
    client: TestClient, world: World, session: Session
) -> None:
    # SPEC: SMS-05 — the fee is billed for a sender requested and refused, not for no sender
    _open_sms(session, world.a.id, "telecom")
    base = API.format(id=world.a.id)
    before = session.scalars(
        select(PendingCharge.id).where(PendingCharge.customer_id == world.a.id)
    ).all()
    for language, words in (("fr", "émetteur"), ("en", "sender")):
        blank = client.post(
            f"{base}/senders",
            headers={**auth(world.a.admin_key), "Accept-Language": language},
            json={"name": "   "},
        )
        assert blank.status_code == 422, blank.text
        assert blank.json()["field"] == "name"
        assert words in blank.json()["detail"].lower()
    session.expire_all()
    after = session.scalars(
        select(PendingCharge.id).where(PendingCharge.customer_id == world.a.id)
    ).all()
    assert after == before
    names = [
        s["name"] for s in client.get(f"{base}/senders", headers=auth(world.a.admin_key)).json()
    ]
    assert "" not in names

    refused = client.post(
        f"{base}/senders", headers=auth(world.a.admin_key), json={"name": "A1234"}
    )
    assert (refused.json()["status"], refused.json()["billed"]) == ("refused", True)


def test_the_message_list_refuses_a_negative_limit(client: TestClient, world: World) -> None:
    # SPEC: SMS-01 — per-message status: a bad page size is named, never "everything"
    base = API.format(id=world.a.id)
    listed = client.get(f"{base}/messages", headers=auth(world.a.admin_key), params={"limit": -1})
    assert listed.status_code == 422, listed.text
    assert listed.json()["field"] == "limit"
    one = client.get(f"{base}/messages", headers=auth(world.a.admin_key), params={"limit": 1})
    assert one.status_code == 200 and len(one.json()) == 1


def test_the_stock_of_a_month_that_does_not_exist_is_refused(
    client: TestClient, world: World, session: Session
) -> None:
    # SPEC: SMS-08 — the monthly stock is read for a real month (YYYY-MM)
    _open_sms(session, world.a.id, "telecom")
    base = API.format(id=world.a.id)
    for month in ("2026-13", "mars", "2026-3"):
        wrong = client.get(
            f"{base}/stock", headers=auth(world.a.admin_key), params={"month": month}
        )
        assert wrong.status_code == 422, (month, wrong.text)
        assert (wrong.json()["field"], wrong.json()["code"]) == ("month", "sms_stock_month")
        assert month in wrong.json()["detail"]
    right = client.get(
        f"{base}/stock", headers=auth(world.a.admin_key), params={"month": "2026-03"}
    )
    assert (right.status_code, right.json()["month"], right.json()["used"]) == (200, "2026-03", 0)


def test_a_csv_import_larger_than_the_operator_allows_is_refused_like_an_xlsx(
    client: TestClient, world: World, session: Session
) -> None:
    # SPEC: SMS-01 — lists imported from CSV and XLSX: the same size limit for both
    _open_sms(session, world.a.id, "telecom")
    base, key = API.format(id=world.a.id), auth(world.a.admin_key)
    list_id = client.post(f"{base}/lists", headers=key, json={"name": "Gros"}).json()["id"]
    client.app.state.settings.sms_import_max_bytes = 2048  # type: ignore[attr-defined]
    rows = [f"06{n:08d},Client\n" for n in range(200)]  # 18 bytes a row
    big = client.post(
        f"{base}/lists/{list_id}/import",
        headers=key,
        json={"csv": "telephone,nom\n" + "".join(rows)},
    )
    assert big.status_code == 422, big.text
    assert (big.json()["code"], big.json()["field"]) == ("sms_import_too_large", "csv")
    assert client.get(f"{base}/lists/{list_id}", headers=key).json()["size"] == 0
    small = client.post(
        f"{base}/lists/{list_id}/import",
        headers=key,
        json={"csv": "telephone,nom\n" + "".join(rows[:10])},
    )
    assert small.status_code == 200 and small.json()["report"]["added"] == 10
