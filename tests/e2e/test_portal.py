"""Journeys through the portal in Chromium, each ending with what the user checks on screen.
A screenshot of each journey's last page is saved under the test's tmp_path."""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from datetime import datetime
from decimal import Decimal
from pathlib import Path

from playwright.sync_api import Page, expect
from pypdf import PdfReader
from sqlalchemy import select

from operateur.billing.models import Invoice
from operateur.contracts.models import Contract, ContractStatus
from operateur.domain.calendar import PARIS
from operateur.portal.render import money
from tests.e2e.conftest import Portal
from tests.e2e.world import CUSTOMER_PASSWORD, STAFF_EMAIL, STAFF_PASSWORD

Login = Callable[[Page, str, str], None]


# SPEC: PORTAL-02, SEC-01
def test_login_in_french_by_keyboard_then_switch_to_english(portal: Portal, page: Page) -> None:
    response = page.goto(f"{portal.url}/login")
    assert response is not None
    headers = response.headers
    assert "default-src 'none'" in headers["content-security-policy"]
    assert headers["x-frame-options"] == "DENY"
    assert headers["x-content-type-options"] == "nosniff"
    expect(page.locator("html")).to_have_attribute("lang", "fr")
    expect(page.get_by_role("heading", level=1)).to_have_text("Connexion à votre espace")
    # keyboard only: the email field has the focus, Tab goes to the password, Enter submits
    page.keyboard.type(portal.world.centrex.admin_email)
    page.keyboard.press("Tab")
    page.keyboard.type(CUSTOMER_PASSWORD)
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text("Tableau de bord")
    cookies = {c["name"]: c for c in page.context.cookies()}
    assert cookies["operateur_session"]["httpOnly"] is True
    page.get_by_role("button", name="English").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Dashboard")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    page.get_by_role("link", name="Invoices").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Invoices")
    page.get_by_role("button", name="Français").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Factures")


# SPEC: PORTAL-01, BIL-12
def test_customer_admin_sees_the_dashboard_and_downloads_an_invoice_pdf(
    portal: Portal, page: Page, login: Login, tmp_path: Path
) -> None:
    customer = portal.world.centrex
    with portal.factory() as session:
        invoice = session.scalars(select(Invoice).where(Invoice.customer_id == customer.id)).one()
        contract = session.get(Contract, customer.contract_id)
        assert contract is not None
        reference, number, total = contract.reference, invoice.number, invoice.total_gross
    login(page, customer.admin_email, CUSTOMER_PASSWORD)
    expect(page.get_by_role("heading", level=1)).to_have_text("Tableau de bord")
    expect(page.get_by_role("link", name=reference)).to_be_visible()
    assert total > Decimal(0)
    expect(page.locator("#outstanding")).to_have_text(money(total, "fr"))
    page.get_by_role("link", name=number).first.click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(number)
    with page.expect_download() as info:
        page.get_by_role("link", name="Télécharger le PDF (Factur-X)").click()
    download = info.value
    assert download.suggested_filename == f"{number}.pdf"
    saved = tmp_path / download.suggested_filename
    download.save_as(saved)
    pdf = PdfReader(io.BytesIO(saved.read_bytes()))
    assert "factur-x.xml" in pdf.attachments  # the EN 16931 XML travels inside the PDF
    assert number in pdf.pages[0].extract_text()


# SPEC: SEC-02, PORTAL-02
def test_a_customer_cannot_open_another_customers_invoice_by_its_url(
    portal: Portal, page: Page, login: Login
) -> None:
    mine, theirs = portal.world.cpaas, portal.world.centrex
    other_invoice = theirs.invoice_ids[0]
    login(page, mine.admin_email, CUSTOMER_PASSWORD)
    expect(page.get_by_role("heading", level=1)).to_have_text("Tableau de bord")
    for path, status, title in (
        (f"/customers/{theirs.id}/invoices/{other_invoice}", 403, "Accès refusé"),
        (f"/customers/{theirs.id}/invoices/{other_invoice}/pdf", 403, "Accès refusé"),
        (f"/customers/{theirs.id}", 403, "Accès refusé"),
        (f"/customers/{mine.id}/invoices/{other_invoice}", 404, "Page introuvable"),
        (f"/customers/{mine.id}/invoices/{other_invoice}/pdf", 404, "Page introuvable"),
        ("/staff/invoices", 403, "Accès refusé"),
    ):
        response = page.goto(f"{portal.url}{path}")
        assert response is not None and response.status == status, path
        expect(page.get_by_role("heading", level=1)).to_contain_text(title)
        assert theirs.name not in page.content()


# SPEC: CTR-01, CTR-06, SEC-02
def test_staff_sign_activate_suspend_and_restore_a_contract_then_find_it_in_the_audit_log(
    portal: Portal, page: Page, login: Login
) -> None:
    customer, contract_id = portal.world.centrex, portal.world.draft_contract_id
    login(page, STAFF_EMAIL, STAFF_PASSWORD)
    page.goto(f"{portal.url}/customers/{customer.id}/contracts/{contract_id}")
    status = page.locator("#contract-status")
    expect(status).to_have_text("Brouillon")
    page.get_by_label("Signataire").fill("Paul Martin, gérant")
    page.get_by_role("button", name="Signer le contrat").click()
    expect(page.get_by_role("status")).to_contain_text("Contrat signé")
    expect(status).to_have_text("Signé")
    page.get_by_role("button", name="Mettre en service").click()
    expect(status).to_have_text("Actif")
    suspend = page.locator("form[action$='/suspend']")
    suspend.get_by_label("Cause").select_option("fraud")
    suspend.get_by_label("Motif").fill("Appels massifs vers des numéros surtaxés")
    suspend.get_by_role("button", name="Suspendre").click()
    expect(status).to_have_text("Suspendu")
    restore = page.locator("form[action$='/restore']")
    restore.get_by_label("Motif").fill("Le client a sécurisé son autocommutateur")
    restore.get_by_role("button", name="Rétablir le service").click()
    expect(status).to_have_text("Actif")
    events = page.locator("#contract-events")
    expect(events).to_contain_text("Appels massifs vers des numéros surtaxés")
    expect(events).to_contain_text("Le client a sécurisé son autocommutateur")

    page.get_by_role("link", name="Journal d'audit").click()
    page.get_by_label("Objet", exact=True).select_option("contracts")
    page.get_by_label("Identifiant de l'objet").fill(str(contract_id))
    page.get_by_label("Qui (contient)").fill(STAFF_EMAIL)
    page.get_by_role("button", name="Filtrer").click()
    rows = page.locator("#audit-rows tr")
    expect(rows.filter(has_text="Appels massifs vers des numéros surtaxés")).to_contain_text(
        "status: active → suspended"
    )
    expect(rows.filter(has_text="Le client a sécurisé son autocommutateur")).to_contain_text(
        "status: suspended → active"
    )
    expect(rows.filter(has_text="status: draft → signed")).to_contain_text(STAFF_EMAIL)
    with portal.factory() as session:
        stored = session.get(Contract, contract_id)
        assert stored is not None and stored.status is ContractStatus.ACTIVE


# SPEC: SUP-01, SUP-02
def test_a_customer_opens_an_incident_and_sees_the_business_hours_left(
    portal: Portal, page: Page, login: Login, tmp_path: Path
) -> None:
    customer = portal.world.cpaas
    portal.freeze(datetime(2026, 11, 20, 16, 0, tzinfo=PARIS))  # a Friday, 16:00 Paris
    login(page, customer.admin_email, CUSTOMER_PASSWORD)
    page.get_by_role("link", name="Assistance").click()
    form = page.locator("form[action$='/tickets']")
    form.get_by_label("Service concerné").select_option(f"{customer.contract_id}:cpaas_voice")
    form.get_by_label("Type de demande").select_option("incident")
    form.get_by_label("Gravité").select_option("critical")
    form.get_by_label("Objet").fill("Plus aucun appel sortant")
    form.get_by_label("Description").fill("Tous les appels échouent en 503 depuis 15 h 30.")
    capture = tmp_path / "traces-sip.txt"
    capture.write_text("SIP/2.0 503 Service Unavailable\n")
    form.get_by_label("Pièces jointes").set_input_files(str(capture))
    form.get_by_role("button", name="Ouvrir le ticket").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Plus aucun appel sortant")
    # four support hours: one on Friday (16:00-17:00), three on Monday (09:00-12:00)
    expect(page.locator("#sla-due")).to_have_text("23/11/2026 12:00")
    expect(page.locator("#sla-left")).to_contain_text("4\u00a0h\u00a000\u00a0min ouvrées restantes")
    expect(page.get_by_role("link", name="traces-sip.txt")).to_be_visible()
    portal.freeze(datetime(2026, 11, 21, 11, 0, tzinfo=PARIS))  # Saturday: the clock stood still
    page.reload()
    expect(page.locator("#sla-left")).to_contain_text("3\u00a0h\u00a000\u00a0min ouvrées restantes")
    expect(page.locator("#sla")).to_contain_text("Le support est fermé en ce moment")


# SPEC: PORTAL-02, SEC-02
def test_a_form_posted_without_its_token_is_refused(
    portal: Portal, page: Page, login: Login
) -> None:
    customer = portal.world.centrex
    login(page, STAFF_EMAIL, STAFF_PASSWORD)
    page.goto(f"{portal.url}/customers/{customer.id}/contracts/{customer.contract_id}")
    suspend = page.locator("form[action$='/suspend']")
    suspend.locator("input[name=csrf_token]").evaluate("field => field.remove()")
    suspend.get_by_label("Motif").fill("Tentative sans jeton")
    with page.expect_response(re.compile(r"/suspend$")) as answer:
        suspend.get_by_role("button", name="Suspendre").click()
    assert answer.value.status == 403
    expect(page.get_by_role("heading", level=1)).to_contain_text("Accès refusé")
    expect(page.get_by_role("alert")).to_contain_text("jeton de sécurité")
    # the same post from the browser's cookies but with a forged token
    forged = page.request.post(
        f"{portal.url}/customers/{customer.id}/contracts/{customer.contract_id}/suspend",
        form={"csrf_token": "forged", "cause": "fraud", "reason": "x"},
    )
    assert forged.status == 403
    with portal.factory() as session:
        stored = session.get(Contract, customer.contract_id)
        assert stored is not None and stored.status is ContractStatus.ACTIVE
