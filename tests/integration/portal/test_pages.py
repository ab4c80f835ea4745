"""The portal's pages and actions over HTTP: every page of each space renders, the login rules
of the accounts apply, and the actions change what they say they change."""

from __future__ import annotations

import io
import json
import zipfile
from datetime import date
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from operateur.accounts.models import ApiKey, LoginSession
from operateur.billing.models import Dispute, DisputeStatus, Invoice
from operateur.contracts.models import Contract, ContractStatus, Equipment, EquipmentStatus
from operateur.support.models import LossDeclaration
from tests.e2e.world import CUSTOMER_PASSWORD, STAFF_EMAIL, STAFF_PASSWORD, World
from tests.integration.portal.conftest import Browser


def customer_pages(world: World) -> list[str]:
    base = f"/customers/{world.centrex.id}"
    return [
        base,
        f"{base}/contracts",
        f"{base}/contracts/{world.centrex.contract_id}",
        f"{base}/lines",
        f"{base}/invoices",
        f"{base}/invoices/{world.centrex.invoice_ids[0]}",
        f"{base}/usage",
        f"{base}/tickets",
        f"{base}/losses",
        f"{base}/users",
        f"{base}/audit",
        f"{base}/export",
        f"{base}/profile",
        f"{base}/webhooks",
        f"{base}/disputes",
        f"{base}/sms",
        f"{base}/sms/messages",
        f"{base}/mail",
        f"{base}/mail/settings",
        f"{base}/recordings",
        f"{base}/consents",
        f"{base}/dialer",
        f"{base}/voice-quality",
        f"{base}/port-ins",
        f"{base}/orders",
    ]


STAFF_PAGES = [
    "/staff",
    "/staff/customers",
    "/staff/billing/runs",
    "/staff/invoices",
    "/staff/payments",
    "/staff/sepa",
    "/staff/dunning",
    "/staff/numbers",
    "/staff/tickets",
    "/staff/audit",
    "/staff/disputes",
    "/staff/sms",
    "/staff/orders",
    "/staff/fraud",
    "/staff/port-ins",
    "/staff/mail",
]


# SPEC: PORTAL-02, SEC-02
def test_every_page_renders_for_its_audience_and_no_other(browser: Browser, world: World) -> None:
    assert browser.get("/staff").headers["location"] == "/login?next=/staff"
    assert browser.login(world.centrex.admin_email, CUSTOMER_PASSWORD).status_code == 303
    for path in customer_pages(world):
        page = browser.get(path)
        assert page.status_code == 200, path
        assert "Boulangerie Martin" in page.text
        assert page.headers["cache-control"] == "no-store"
    for path in STAFF_PAGES:
        assert browser.get(path).status_code == 403, path
    # every page of the customer space, with another customer's id in the URL: refused
    other = f"/customers/{world.cpaas.id}"
    for path in customer_pages(world):
        theirs = path.replace(f"/customers/{world.centrex.id}", other, 1)
        refused = browser.get(theirs)
        assert refused.status_code == 403, theirs
        assert "Dupont Conseil" not in refused.text
    # and every form of the new pages, posted with a valid token to the other customer
    mine = f"/customers/{world.centrex.id}/profile"
    for action, data in (
        (f"{other}/profile", {"city": "Pirateville"}),
        (f"{other}/contacts", {"name": "X", "email": "x@example.org"}),
        (f"{other}/webhooks", {"url": "https://example.org/hook"}),
        (f"{other}/sms/messages", {"to": "0612345678", "text": "x"}),
        (f"{other}/mail/settings", {"challenge_enabled": "true"}),
        (f"{other}/mail/servers", {"host": "mx.example.org"}),
        (f"{other}/consents", {"number": "0612345678", "kind": "consent"}),
        (f"{other}/dialer/contacts", {"name": "X", "phone": "0612345678"}),
        (f"{other}/contacts/1/remove", {}),
        (f"{other}/webhooks/1/remove", {}),
    ):
        assert browser.post(mine, action, data).status_code == 403, action
    assert browser.login(STAFF_EMAIL, STAFF_PASSWORD).headers["location"] == "/staff"
    for path in (
        STAFF_PAGES + customer_pages(world) + [f"/customers/{world.centrex.id}/new-contract"]
    ):
        assert browser.get(path).status_code == 200, path


# SPEC: SEC-01
def test_wrong_passwords_lock_the_identifier_out(browser: Browser, world: World) -> None:
    for _ in range(5):  # the settings' login_max_failures
        refused = browser.login(world.cpaas.admin_email, "not the password")
        assert refused.status_code == 401
        assert "Identifiant ou mot de passe incorrect" in refused.text
    locked = browser.login(world.cpaas.admin_email, CUSTOMER_PASSWORD)
    assert locked.status_code == 401
    assert "identifiant bloqué" in locked.text


# SEC-01: the Centrex terms allow one connection at a time per identifier
def test_a_second_login_ends_the_first_session_where_the_contract_says_so(
    browser: Browser, world: World, session: Session
) -> None:
    browser.login(world.centrex.admin_email, CUSTOMER_PASSWORD)
    first = dict(browser.client.cookies)
    browser.login(world.centrex.admin_email, CUSTOMER_PASSWORD)
    assert browser.get(f"/customers/{world.centrex.id}").status_code == 200
    browser.client.cookies.clear()
    browser.client.cookies.update(first)
    assert browser.get(f"/customers/{world.centrex.id}").headers["location"].startswith("/login")
    reasons = session.scalars(select(LoginSession.revoked_reason)).all()
    assert "single_session" in reasons


# SPEC: SEC-01
def test_logout_ends_the_session(browser: Browser, world: World) -> None:
    browser.login(world.cpaas.admin_email, CUSTOMER_PASSWORD)
    token = browser.client.cookies["operateur_session"]
    home = f"/customers/{world.cpaas.id}"
    assert browser.post(home, "/logout", {}).headers["location"] == "/login"
    me = browser.client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {token}"})
    assert me.status_code == 401


# SPEC: PRIV-01
def test_the_export_holds_the_customers_data_and_nobody_elses(
    browser: Browser, world: World
) -> None:
    browser.login(world.cpaas.admin_email, CUSTOMER_PASSWORD)
    download = browser.get(f"/customers/{world.cpaas.id}/export.zip")
    assert download.headers["content-type"] == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(download.content))
    tables = {name: json.loads(archive.read(name)) for name in archive.namelist()}
    assert [row["id"] for row in tables["invoices.json"]] == world.cpaas.invoice_ids
    assert tables["customers.json"][0]["name"] == "Dupont Conseil"
    assert {row["email"] for row in tables["users.json"]} == {
        "admin@dupont-conseil.fr",
        "utilisateur@dupont-conseil.fr",
    }
    assert all("password_hash" not in row for row in tables["users.json"])
    for name, rows in tables.items():
        if name == "customers.json":
            assert [row["id"] for row in rows] == [world.cpaas.id]
        elif name != "manifest.json" and rows and "customer_id" in rows[0]:
            # rows without a customer column (invoice lines) are checked by their parent in
            # tests/integration/portal/test_privacy_review.py
            assert all(row["customer_id"] == world.cpaas.id for row in rows), name
    assert "Boulangerie" not in download.content.decode("latin-1")


# SPEC: SUP-04
def test_stolen_equipment_declared_in_the_portal_suspends_its_contract(
    browser: Browser, world: World, session: Session
) -> None:
    browser.login(world.cpaas.admin_email, CUSTOMER_PASSWORD)
    equipment = session.scalars(
        select(Equipment).where(Equipment.customer_id == world.cpaas.id)
    ).one()
    page = f"/customers/{world.cpaas.id}/losses"
    done = browser.post(
        page,
        page,
        {"item": f"equipment:{equipment.id}", "theft": "true", "suspend": "true"},
    )
    assert done.status_code == 303
    assert "Déclaration enregistrée" in browser.get(page).text
    session.expire_all()
    assert equipment.status is EquipmentStatus.LOST
    contract = session.get(Contract, world.cpaas.contract_id)
    assert contract is not None and contract.status is ContractStatus.SUSPENDED
    declaration = session.scalars(select(LossDeclaration)).one()
    assert declaration.theft and declaration.suspension_id is not None


# SPEC: SEC-01
def test_an_api_key_is_shown_once_and_stored_hashed(
    browser: Browser, world: World, session: Session
) -> None:
    browser.login(world.centrex.admin_email, CUSTOMER_PASSWORD)
    page = f"/customers/{world.centrex.id}/users"
    shown = browser.post(
        page, f"/customers/{world.centrex.id}/api-keys", {"name": "ERP", "role": "customer_user"}
    )
    assert shown.status_code == 200
    key = shown.text.split('<code id="new-key">')[1].split("</code>")[0]
    again = browser.get(page).text
    assert key not in again
    assert "ERP" in again
    me = browser.client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {key}"})
    assert me.json()["customer_id"] == world.centrex.id
    stored = session.scalars(select(ApiKey).where(ApiKey.name == "ERP")).one()
    assert key not in stored.secret_hash


# SPEC: BIL-03, BIL-07
def test_staff_bill_a_period_and_a_customer_disputes_an_invoice(
    browser: Browser, world: World, session: Session
) -> None:
    browser.login(STAFF_EMAIL, STAFF_PASSWORD)
    period = date.today().strftime("%Y-%m")
    started = browser.post("/staff/billing/runs", "/staff/billing/runs", {"period": period})
    assert started.headers["location"] == f"/staff/billing/runs?started={period}"
    runs = browser.get(started.headers["location"]).text
    assert f">{period}</a>" in runs
    assert 'http-equiv="refresh"' not in runs  # finished: no more refreshing
    issued = session.scalars(select(Invoice).where(Invoice.period == period)).all()
    assert len(issued) == 2
    # the Centrex terms admit a dispute only once the uncontested part is paid (BIL-07)
    invoice_id = world.centrex.invoice_ids[0]
    invoice = session.get(Invoice, invoice_id)
    assert invoice is not None
    paid = browser.post(
        "/staff/payments",
        "/staff/payments",
        {
            "customer_id": world.centrex.id,
            "amount": str(invoice.total_gross - Decimal("10.00")),
            "method": "transfer",
            "received_on": date.today().isoformat(),
            "reference": "VIR-2026-0001",
        },
    )
    assert "Paiement enregistré" in browser.get(paid.headers["location"]).text

    browser.login(world.centrex.admin_email, CUSTOMER_PASSWORD)
    page = f"/customers/{world.centrex.id}/invoices/{invoice_id}"
    filed = browser.post(
        page,
        f"{page}/dispute",
        {
            "contested_amount": "10,00",
            "reason": "Lignes facturées en double",
            "channel": "registered_letter",  # the Centrex terms' channel (BIL-07)
        },
    )
    assert filed.status_code == 303
    assert "10,00\u00a0€ suspendus du recouvrement" in browser.get(page).text
    dispute = session.scalars(select(Dispute)).one()
    assert dispute.status is DisputeStatus.OPEN


# SPEC: PORTAL-01, CTR-12
def test_a_ticked_acceptance_is_an_order_that_staff_accept(
    browser: Browser, world: World, session: Session
) -> None:
    from operateur.contracts.models import Line
    from operateur.orders.models import Order, OrderChannel, OrderStatus

    browser.login(world.centrex.admin_email, CUSTOMER_PASSWORD)
    page = f"/customers/{world.centrex.id}/orders"
    order = {
        "contract_id": world.centrex.contract_id,
        "item_code": "centrex.line",
        "quantity": "1",
        "line_kind": "centrex",
        "line_label": "Réserve",
    }
    browser.post(page, page, order)
    assert "Cochez la case" in browser.get(page).text
    assert session.scalars(select(Order)).all() == []
    browser.post(page, page, order | {"accept": "true"})
    placed = session.scalars(select(Order)).one()
    assert (placed.channel, placed.status) == (OrderChannel.PORTAL, OrderStatus.RECEIVED)
    assert placed.placed_by == world.centrex.admin_email

    browser.login(STAFF_EMAIL, STAFF_PASSWORD)
    assert placed.reference in browser.get("/staff/orders").text
    accepted = browser.post(
        "/staff/orders", f"/customers/{world.centrex.id}/orders/{placed.id}/accept", {}
    )
    assert "Commande acceptée" in browser.get(accepted.headers["location"]).text
    session.expire_all()
    assert placed.status is OrderStatus.ACCEPTED
    labels = session.scalars(select(Line.label).where(Line.customer_id == world.centrex.id))
    assert "Réserve" in list(labels)
