"""Staff pay the pending refunds by a SEPA credit-transfer file through the API (BIL-07
[004 §9.4]); customers cannot."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from importlib.resources import files

import xmlschema
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from operateur.accounts.models import Customer, Operator
from operateur.billing.models import Refund, RefundStatus
from tests.api.conftest import World, auth

URL = "/api/v1/billing/refunds/transfers"


def _owe(session: Session, customer_id: int, invoice_id: int, amount: str) -> Refund:
    refund = Refund(
        customer_id=customer_id,
        invoice_id=invoice_id,
        amount=Decimal(amount),
        due_by=date(2026, 2, 27),
        reason="Trop-perçu",
        status=RefundStatus.PENDING,
    )
    session.add(refund)
    return refund


# SPEC: BIL-07
def test_staff_export_the_pending_refunds_as_a_pain001_file_once(
    client: TestClient, world: World, session: Session
) -> None:
    operator = session.get(Operator, world.operator_id)
    customer_b = session.get(Customer, world.b.id)
    assert operator is not None and customer_b is not None
    operator.iban, operator.bic = "FR1420041010050500013M02606", "PSSTFRPP"
    customer_b.iban = None  # B's account is not on file
    to_a = _owe(session, world.a.id, world.a.ids["invoice_id"], "36.10")
    to_b = _owe(session, world.b.id, world.b.ids["invoice_id"], "12.00")
    session.commit()

    # a customer's administrator may not pay refunds
    refused = client.post(URL, headers=auth(world.a.admin_key), json={})
    assert refused.status_code == 403

    created = client.post(URL, headers=auth(world.staff_key) | {"Accept-Language": "en"}, json={})
    assert created.status_code == 201, created.text
    batch = created.json()
    assert [(r["id"], r["status"]) for r in batch["refunds"]] == [(to_a.id, "sent")]
    assert Decimal(batch["total"]) == Decimal("36.10")
    assert batch["skipped"] == [
        {
            "refund_id": to_b.id,
            "customer_id": world.b.id,
            "customer_name": world.b.name,
            "field": "iban",
            "reason": "No IBAN on file for this customer.",
        }
    ]
    assert batch["file"] == f"{URL}/{batch['batch_id']}"

    xml = client.get(batch["file"], headers=auth(world.staff_key))
    assert xml.status_code == 200, xml.text
    assert xml.headers["content-type"].startswith("application/xml")
    schema = (files("sepaxml") / "schemas" / "pain.001.001.03.xsd").read_text(encoding="utf-8")
    xmlschema.XMLSchema(schema).validate(xml.content)
    assert b"<NbOfTxs>1</NbOfTxs>" in xml.content and b"<CtrlSum>36.10</CtrlSum>" in xml.content
    assert f"<EndToEndId>REFUND-{to_a.id}</EndToEndId>".encode() in xml.content
    # the same file each time; never to a customer
    assert client.get(batch["file"], headers=auth(world.staff_key)).content == xml.content
    assert client.get(batch["file"], headers=auth(world.a.admin_key)).status_code == 403

    # nothing new to pay: no batch, and A's refund is not in a second file
    again = client.post(URL, headers=auth(world.staff_key), json={})
    assert again.status_code == 200, again.text
    assert (again.json()["batch_id"], again.json()["refunds"]) == (None, [])
    [seen] = client.get(
        f"/api/v1/customers/{world.a.id}/refunds", headers=auth(world.a.user_key)
    ).json()
    assert (seen["status"], seen["bank_reference"]) == ("sent", batch["batch_id"])
    # recorded paid later, from the bank's statement
    paid = client.post(
        f"/api/v1/customers/{world.a.id}/refunds/{to_a.id}/paid",
        headers=auth(world.staff_key),
        json={"paid_on": "2026-02-26", "bank_reference": "STMT-0226"},
    )
    assert paid.status_code == 200 and paid.json()["status"] == "paid"


# SPEC: BIL-07
def test_an_unknown_batch_is_not_found(client: TestClient, world: World) -> None:
    for batch_id in ("RFD-20260223-103000-AAAA-BBBB", "nope"):
        missing = client.get(f"{URL}/{batch_id}", headers=auth(world.staff_key))
        assert missing.status_code == 404, missing.text


# SPEC: BIL-07
def test_staff_apply_the_banks_report_and_the_refund_is_owed_again(
    client: TestClient, world: World, session: Session
) -> None:
    from tests.integration.billing.test_refund_returns import _pain002

    operator = session.get(Operator, world.operator_id)
    assert operator is not None
    operator.iban, operator.bic = "FR1420041010050500013M02606", "PSSTFRPP"
    to_a = _owe(session, world.a.id, world.a.ids["invoice_id"], "36.10")
    session.commit()
    batch = client.post(URL, headers=auth(world.staff_key), json={}).json()
    report = _pain002(batch["batch_id"], (f"REFUND-{to_a.id}", "36.10", "AC04"))
    returns = "/api/v1/billing/refunds/returns"
    xml = {"Content-Type": "application/xml"}

    # a customer's administrator may not apply the bank's reports
    refused = client.post(returns, headers=auth(world.a.admin_key) | xml, content=report)
    assert refused.status_code == 403

    applied = client.post(
        returns, headers=auth(world.staff_key) | xml | {"Accept-Language": "en"}, content=report
    )
    assert applied.status_code == 200, applied.text
    body = applied.json()
    assert [(r["id"], r["status"], r["return_code"]) for r in body["returned"]] == [
        (to_a.id, "pending", "AC04")
    ]
    assert body["ignored"] == []
    again = client.post(
        returns, headers=auth(world.staff_key) | xml | {"Accept-Language": "en"}, content=report
    )
    assert again.json()["ignored"] == [
        {"end_to_end_id": f"REFUND-{to_a.id}", "reason": "Return already recorded."}
    ]
    # the customer sees its refund owed again, with the bank's reason
    mine = client.get(
        f"/api/v1/customers/{world.a.id}/refunds", headers=auth(world.a.admin_key)
    ).json()
    assert [(r["status"], r["return_code"]) for r in mine] == [("pending", "AC04")]
    broken = client.post(
        returns, headers=auth(world.staff_key) | xml, content=b"<Document><Nope/></Document>"
    )
    assert broken.status_code == 422 and broken.json()["field"] == "Document"
