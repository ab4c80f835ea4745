"""Distribution lists uploaded as Excel workbooks over HTTP (SMS-01), with the same per-row
report as the CSV import: bad number, duplicate, unsubscribed."""

from __future__ import annotations

import io
from datetime import date

import openpyxl
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from operateur.accounts import service as accounts
from operateur.contracts import service as contracts
from operateur.sms import optouts
from tests.api.conftest import World, auth

API = "/api/v1/customers/{id}/sms"
XLSX = {"content-type": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}


def _workbook(rows: list[list[object]]) -> bytes:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    assert sheet is not None
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def test_an_xlsx_upload_reports_each_refused_row(
    client: TestClient, world: World, session: Session
) -> None:
    # SPEC: SMS-01 lists imported from XLSX with a per-row report; SMS-07 bad numbers;
    # SMS-06 a number that answered STOP is reported unsubscribed, never added
    contract = contracts.create_contract(
        session, accounts.get_customer(session, world.a.id), "telecom", {}
    )
    contracts.sign(session, contract, "Signataire")
    contracts.activate(session, contract, date.today())
    optouts.record(session, "+33698765432", [optouts.short_code_scope("38100")], "STOP")
    session.commit()
    base, key = API.format(id=world.a.id), auth(world.a.admin_key)
    created = client.post(f"{base}/lists", headers=key, json={"name": "Salon"})
    assert created.status_code == 201, created.text
    list_id = created.json()["id"]

    data = _workbook(
        [
            ["first_name", "Mobile"],  # header: the number column is found by its name
            ["Marie", 612345678],  # typed as a number by Excel: no digit lost
            ["Éric", "07 81 23 45 67"],
            ["Bis", "+33612345678"],  # row 4: the same number as row 2
            ["Zoé", "not a number"],  # row 5
            [None, None],  # an empty row is skipped
            ["Stoppé", "06 98 76 54 32"],  # row 7: answered STOP to the shared short code
        ]
    )
    upload = client.post(f"{base}/lists/{list_id}/import/xlsx", headers=key | XLSX, content=data)
    assert upload.status_code == 200, upload.text
    body = upload.json()
    assert body["size"] == 2
    report = body["report"]
    assert report["added"] == 2
    assert [(row["line"], row["reason"]) for row in report["rejected"]] == [
        (4, "duplicate"),
        (5, "bad_number"),
        (7, "unsubscribed"),
    ]
    assert body["columns"] == ["first_name"]


def test_an_unreadable_or_too_large_upload_is_refused(
    client: TestClient, world: World, session: Session
) -> None:
    # SPEC: SMS-01 a file that is not a workbook is refused with the field named
    contract = contracts.create_contract(
        session, accounts.get_customer(session, world.a.id), "telecom", {}
    )
    contracts.sign(session, contract, "Signataire")
    contracts.activate(session, contract, date.today())
    session.commit()
    base, key = API.format(id=world.a.id), auth(world.a.admin_key)
    list_id = client.post(f"{base}/lists", headers=key, json={"name": "Vide"}).json()["id"]
    refused = client.post(
        f"{base}/lists/{list_id}/import/xlsx", headers=key | XLSX, content=b"number\n0612345678\n"
    )
    assert refused.status_code == 422
    problem = refused.json()
    assert problem["code"] == "sms_import_not_xlsx" and problem["field"] == "file"

    client.app.state.settings.sms_import_max_bytes = 2048  # type: ignore[attr-defined]
    big = client.post(
        f"{base}/lists/{list_id}/import/xlsx", headers=key | XLSX, content=b"x" * 4096
    )
    assert big.status_code == 422
    assert big.json()["code"] == "sms_import_too_large"
    assert client.get(f"{base}/lists/{list_id}", headers=key).json()["size"] == 0
