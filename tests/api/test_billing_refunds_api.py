"""Refunds owed to a customer through the API (BIL-07 [004 §9.4]): staff see them pending and
record the transfer; the customer sees its own."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from operateur.billing.models import Refund, RefundStatus
from tests.api.conftest import World, auth


# SPEC: BIL-07
def test_staff_see_a_pending_refund_and_record_its_transfer_once(
    client: TestClient, world: World, session: Session
) -> None:
    # the refund an upheld dispute leaves (built through disputes in test_refunds.py)
    refund = Refund(
        customer_id=world.a.id,
        invoice_id=world.a.ids["invoice_id"],
        amount=Decimal("36.00"),
        due_by=date(2026, 2, 27),
        reason="Trop-perçu",
        status=RefundStatus.PENDING,
    )
    session.add(refund)
    session.commit()
    base = f"/api/v1/customers/{world.a.id}/refunds"
    [pending] = client.get(base, headers=auth(world.staff_key)).json()
    assert (Decimal(pending["amount"]), pending["due_by"], pending["status"]) == (
        Decimal("36.00"),
        "2026-02-27",
        "pending",
    )
    # the customer cannot mark its own refund paid
    refused = client.post(
        f"{base}/{refund.id}/paid",
        headers=auth(world.a.admin_key),
        json={"paid_on": "2026-02-25", "bank_reference": "RB-1"},
    )
    assert refused.status_code == 403
    body = {"paid_on": "2026-02-25", "bank_reference": "RB-1"}
    paid = client.post(f"{base}/{refund.id}/paid", headers=auth(world.staff_key), json=body)
    assert paid.status_code == 200, paid.text
    assert (paid.json()["status"], paid.json()["paid_on"]) == ("paid", "2026-02-25")
    # the same transfer again is the same answer; another one is a conflict
    again = client.post(f"{base}/{refund.id}/paid", headers=auth(world.staff_key), json=body)
    assert again.status_code == 200 and again.json() == paid.json()
    other = client.post(
        f"{base}/{refund.id}/paid",
        headers=auth(world.staff_key),
        json={"paid_on": "2026-02-26", "bank_reference": "RB-2"},
    )
    assert other.status_code == 409
    [seen] = client.get(base, headers=auth(world.a.user_key)).json()
    assert (seen["status"], seen["bank_reference"]) == ("paid", "RB-1")
    assert (
        client.get(f"/api/v1/customers/{world.b.id}/refunds", headers=auth(world.staff_key)).json()
        == []
    )
