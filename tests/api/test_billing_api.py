"""Billing through the API: invoices, their Factur-X PDF, payments, wallet."""

from __future__ import annotations

import io
from decimal import Decimal

from facturx import get_xml_from_pdf  # type: ignore[import-untyped]
from fastapi.testclient import TestClient
from pypdf import PdfReader

from tests.api.conftest import World, auth


# SPEC: BIL-12, BIL-11
def test_the_customer_downloads_its_invoice_as_factur_x(client: TestClient, world: World) -> None:
    base = f"/api/v1/customers/{world.a.id}/invoices"
    [invoice] = client.get(base, headers=auth(world.a.user_key)).json()
    response = client.get(f"{base}/{invoice['id']}/pdf", headers=auth(world.a.user_key))
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/pdf"
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(response.content)).pages)
    assert invoice["number"] in text
    assert "40" in text and "recouvrement" in text  # L441-10 indemnity mention
    filename, xml = get_xml_from_pdf(response.content, check_xsd=True)
    assert filename == "factur-x.xml"
    assert invoice["number"].encode() in xml
    # served again identically from the archive
    again = client.get(f"{base}/{invoice['id']}/pdf", headers=auth(world.a.user_key))
    assert again.content == response.content


def test_staff_record_a_payment_that_settles_the_invoice(client: TestClient, world: World) -> None:
    base = f"/api/v1/customers/{world.a.id}"
    [invoice] = client.get(f"{base}/invoices", headers=auth(world.staff_key)).json()
    paid = client.post(
        f"{base}/payments",
        headers=auth(world.staff_key),
        json={
            "amount": invoice["total_gross"],
            "method": "transfer",
            "received_on": "2026-11-30",
            "reference": "VIR-API-1",
        },
    )
    assert paid.status_code == 201
    after = client.get(f"{base}/invoices/{invoice['id']}", headers=auth(world.a.user_key)).json()
    assert after["status"] == "paid"
    refused = client.post(
        f"{base}/payments",
        headers=auth(world.a.admin_key),
        json={
            "amount": "1.00",
            "method": "transfer",
            "received_on": "2026-11-30",
            "reference": "VIR-API-2",
        },
    )
    assert refused.status_code == 403


# SPEC: BIL-10
def test_top_up_then_read_the_wallet(client: TestClient, world: World) -> None:
    base = f"/api/v1/customers/{world.b.id}/wallet"
    topped = client.post(
        f"{base}/top-ups",
        headers=auth(world.staff_key),
        json={"received": "50.00", "bank_fees": "0.80", "reference": "TOPUP-1"},
    )
    # funds received net of bank fees: 50.00 - 0.80 (BIL-10); kept to the micro-euro
    assert Decimal(topped.json()["available"]) == Decimal("49.20")
    assert Decimal(client.get(base, headers=auth(world.b.user_key)).json()["balance"]) == Decimal(
        "49.20"
    )


# SPEC: BIL-07
def test_the_customer_contests_an_invoice_and_learns_why_it_is_refused(
    client: TestClient, world: World
) -> None:
    base = f"/api/v1/customers/{world.a.id}"
    [invoice] = client.get(f"{base}/invoices", headers=auth(world.a.admin_key)).json()
    response = client.post(
        f"{base}/invoices/{invoice['id']}/disputes",
        headers=auth(world.a.admin_key),
        json={
            "filed_on": invoice["issue_date"],
            "channel": "phone",
            "contested_amount": "5.00",
            "reason": "ligne facturée deux fois",
        },
    )
    assert response.status_code == 201
    dispute = response.json()
    # Centrex disputes go by registered letter within 30 days of receipt [001 §11.3]
    assert dispute["status"] == "refused"
    assert "wrong_channel" in dispute["refusal_reasons"]
    assert (
        client.get(f"{base}/disputes", headers=auth(world.a.user_key)).json()[0]["id"]
        == (dispute["id"])
    )
    user_tries = client.post(
        f"{base}/invoices/{invoice['id']}/disputes",
        headers=auth(world.a.user_key),
        json={
            "filed_on": invoice["issue_date"],
            "channel": "registered_letter",
            "contested_amount": "5.00",
            "reason": "x",
        },
    )
    assert user_tries.status_code == 403
