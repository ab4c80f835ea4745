"""Whole journeys in Chromium over the demo's activity (``operateur.demo.activity``: an order
waiting for review, a sender request, quarantined mail): a customer administrator from the
dashboard to an invoice PDF, a ticket and a released mail; a staff member reviewing an order,
suspending a contract and approving a sender, each with its reason found in the audit log;
the portal at a phone's width; another customer's new pages refused by URL. Each journey
saves a screenshot of its last page under the test's tmp_path."""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from playwright.sync_api import Browser, Page, expect
from pypdf import PdfReader
from sqlalchemy import select

from operateur.accounts.audit import set_actor
from operateur.accounts.permissions import system_actor
from operateur.contracts.models import Contract, ContractStatus, Line
from operateur.domain.calendar import PARIS
from operateur.mail.models import QuarantinedMessage, QuarantineStatus
from operateur.orders.models import Order, OrderStatus
from operateur.sms import outbox
from operateur.sms import service as sms
from operateur.sms.models import SenderStatus, SmsSender
from operateur.support.models import Ticket, TicketKind
from tests.e2e.conftest import Portal
from tests.e2e.world import CUSTOMER_PASSWORD, STAFF_EMAIL, STAFF_PASSWORD

Login = Callable[[Page, str, str], None]


# SPEC: PORTAL-02, SUP-01, MAIL-03, BIL-12
def test_a_customer_admin_goes_from_the_dashboard_to_a_pdf_a_ticket_and_a_released_mail(
    portal: Portal, page: Page, login: Login, tmp_path: Path
) -> None:
    firm = portal.world.mail
    assert firm is not None
    login(page, firm.admin_email, CUSTOMER_PASSWORD)
    expect(page.get_by_role("heading", level=1)).to_have_text("Tableau de bord")
    expect(page.locator("main")).to_contain_text("Cabinet Leroy Avocats")

    # the invoice of last month, and its Factur-X PDF
    page.get_by_role("link", name="Factures", exact=True).click()
    page.locator("tbody tr").first.get_by_role("link").first.click()
    number = page.get_by_role("heading", level=1).inner_text().split()[1]
    pdf_url = page.get_by_role("link", name="Télécharger le PDF (Factur-X)").get_attribute("href")
    probe = page.request.get(f"{portal.url}{pdf_url}")
    assert probe.status == 200, probe.text()[:2000]
    with page.expect_download() as info:
        page.get_by_role("link", name="Télécharger le PDF (Factur-X)").click()
    saved = tmp_path / info.value.suggested_filename
    info.value.save_as(saved)
    pdf = PdfReader(io.BytesIO(saved.read_bytes()))
    assert "factur-x.xml" in pdf.attachments
    assert number in pdf.pages[0].extract_text()

    # a question to the support
    page.get_by_role("link", name="Assistance").click()
    form = page.locator("form[action$='/tickets']")
    form.get_by_label("Service concerné").select_option(index=0)
    form.get_by_label("Type de demande").select_option("question")
    form.get_by_label("Objet").fill("Factures de fournisseurs en quarantaine")
    form.get_by_label("Description").fill("Comment éviter que les factures soient retenues ?")
    form.get_by_role("button", name="Ouvrir le ticket").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Factures de fournisseurs en quarantaine"
    )
    expect(page.get_by_role("status")).to_contain_text("ouvert")

    # the supplier's invoice held as spam: released from the console
    page.get_by_role("link", name="E-mail", exact=True).click()
    held = page.locator("#quarantine")
    expect(held).to_contain_text("factures@fournisseur-papeterie.fr")
    page.get_by_role("button", name="Libérer Votre facture de novembre").click()
    expect(page.get_by_role("status")).to_contain_text("Message libéré")
    expect(held).not_to_contain_text("factures@fournisseur-papeterie.fr")
    expect(held).to_contain_text("promo@offres-miracle.example")

    with portal.factory() as session:
        statuses = {
            m.mail_from: m.status
            for m in session.scalars(
                select(QuarantinedMessage).where(QuarantinedMessage.customer_id == firm.id)
            )
        }
        ticket = session.scalars(select(Ticket).where(Ticket.customer_id == firm.id)).one()
    assert statuses == {
        "factures@fournisseur-papeterie.fr": QuarantineStatus.RELEASED,
        "promo@offres-miracle.example": QuarantineStatus.HELD,
    }
    assert (ticket.kind, ticket.opened_by) == (TicketKind.QUESTION, firm.admin_email)


# SPEC: CTR-12, CTR-06, SMS-05, SEC-02
def test_staff_accept_an_order_suspend_a_contract_and_approve_a_sender_each_with_its_reason(
    portal: Portal, page: Page, login: Login
) -> None:
    bakery, consultancy = portal.world.centrex, portal.world.cpaas
    login(page, STAFF_EMAIL, STAFF_PASSWORD)

    page.get_by_role("link", name="Commandes").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Commandes à examiner")
    order = page.locator("section.card").filter(has_text="Boulangerie Martin")
    order.get_by_label("Motif de l'acceptation").fill("Retard de paiement régularisé par virement")
    order.get_by_role("button", name=re.compile("^Accepter")).click()
    expect(page.get_by_role("status")).to_contain_text("Commande acceptée")

    page.goto(f"{portal.url}/customers/{bakery.id}/contracts/{bakery.contract_id}")
    suspend = page.locator("form[action$='/suspend']")
    suspend.get_by_label("Cause").select_option("fraud")
    suspend.get_by_label("Motif").fill("Piratage du standard, appels vers des numéros surtaxés")
    suspend.get_by_role("button", name="Suspendre").click()
    expect(page.locator("#contract-status")).to_have_text("Suspendu")

    page.get_by_role("link", name="Revue SMS").click()
    request = page.locator("form").filter(has_text="DUPONTCONS")
    request.get_by_label("Motif").fill("Kbis et marque vérifiés")
    request.get_by_role("button", name="Autoriser").click()
    expect(page.get_by_role("status")).to_contain_text("Émetteur examiné")
    expect(page.locator("main")).not_to_contain_text("DUPONTCONS")

    page.get_by_role("link", name="Journal d'audit").click()
    page.get_by_label("Qui (contient)").fill(STAFF_EMAIL)
    page.get_by_role("button", name="Filtrer").click()
    rows = page.locator("#audit-rows tr")
    expect(rows.filter(has_text="Retard de paiement régularisé par virement").first).to_be_visible()
    suspended = rows.filter(has_text="Piratage du standard").filter(
        has_text="status: active → suspended"
    )
    expect(suspended).to_have_count(1)

    with portal.factory() as session:
        placed = session.scalars(select(Order).where(Order.customer_id == bakery.id)).one()
        labels = session.scalars(select(Line.label).where(Line.customer_id == bakery.id)).all()
        contract = session.get(Contract, bakery.contract_id)
        sender = session.scalars(
            select(SmsSender).where(SmsSender.customer_id == consultancy.id)
        ).one()
    assert placed.status is OrderStatus.ACCEPTED and "Laboratoire" in labels
    assert contract is not None and contract.status is ContractStatus.SUSPENDED
    assert sender.status is SenderStatus.AUTHORISED


def _fits(page: Page) -> bool:
    """No horizontal scrolling of the whole page (wide tables scroll inside their box)."""
    width = page.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")
    return bool(width[0] <= width[1])


# SPEC: PORTAL-02
def test_the_portal_fits_a_phone_and_switches_language_there(
    portal: Portal, browser: Browser, login: Login, tmp_path: Path
) -> None:
    context = browser.new_context(
        viewport={"width": 375, "height": 740}, is_mobile=True, has_touch=True
    )
    phone = context.new_page()
    phone.set_default_timeout(15_000)
    try:
        customer = portal.world.cpaas
        login(phone, customer.admin_email, CUSTOMER_PASSWORD)
        expect(phone.get_by_role("heading", level=1)).to_have_text("Tableau de bord")
        base = f"{portal.url}/customers/{customer.id}"
        for path in (
            "",
            "/invoices",
            f"/invoices/{customer.invoice_ids[0]}",
            "/usage",
            "/tickets",
            "/sms/messages",
            "/profile",
            "/webhooks",
        ):
            phone.goto(base + path)
            assert _fits(phone), path
        phone.get_by_role("button", name="English").tap()
        expect(phone.get_by_role("heading", level=1)).to_have_text("Webhooks")
        expect(phone.locator("html")).to_have_attribute("lang", "en")
        expect(phone.get_by_role("button", name="Add the webhook")).to_be_visible()
        phone.get_by_role("link", name="Profile").tap()
        expect(phone.get_by_role("heading", level=1)).to_have_text("Profile and contacts")
        assert _fits(phone)
        phone.screenshot(path=str(tmp_path / "phone.png"), full_page=True)
    finally:
        context.close()


# SPEC: SEC-01, PORTAL-02
def test_a_webhook_secret_is_shown_once_in_the_browser(
    portal: Portal, page: Page, login: Login
) -> None:
    customer = portal.world.cpaas
    login(page, customer.admin_email, CUSTOMER_PASSWORD)
    page.get_by_role("link", name="Webhooks").click()
    page.get_by_label("URL (https)").fill("https://crm.dupont-conseil.fr/operateur")
    page.get_by_role("button", name="Ajouter le webhook").click()
    secret = page.locator("#new-secret").inner_text()
    assert len(secret) >= 32
    page.reload()  # a reload is a new GET: the secret is gone for good
    expect(page.locator("#webhooks")).to_contain_text("https://crm.dupont-conseil.fr/operateur")
    assert secret not in page.content()


# SPEC: SEC-02, PORTAL-02
def test_another_customers_new_pages_are_refused_by_url(
    portal: Portal, page: Page, login: Login
) -> None:
    mine, theirs = portal.world.cpaas, portal.world.centrex
    login(page, mine.admin_email, CUSTOMER_PASSWORD)
    for path in ("profile", "webhooks", "disputes", "sms/messages", "mail/settings", "consents"):
        response = page.goto(f"{portal.url}/customers/{theirs.id}/{path}")
        assert response is not None and response.status == 403, path
        expect(page.get_by_role("heading", level=1)).to_contain_text("Accès refusé")
        assert theirs.name not in page.content()


# SPEC: SMS-01, SMS-05, PORTAL-01
def test_a_list_is_imported_with_its_report_and_a_campaign_is_watched_to_completion(
    portal: Portal, page: Page, login: Login, tmp_path: Path
) -> None:
    customer = portal.world.cpaas
    noon = datetime(2026, 11, 24, 12, 0, tzinfo=PARIS)  # inside the sending window (SMS-04)
    portal.freeze(noon)
    with portal.factory() as session:  # the operator authorised the demo's sender request
        set_actor(session, system_actor("test"))
        [sender] = sms.list_senders(session, customer.id)
        sms.review_sender(session, sender, authorise=True, reason="vérifié", reviewer="staff")
        session.commit()
    login(page, customer.admin_email, CUSTOMER_PASSWORD)
    page.get_by_role("link", name="SMS", exact=True).click()
    page.get_by_label("Nom de la liste").fill("Clients fidèles")
    page.get_by_role("button", name="Créer la liste").click()
    upload = tmp_path / "clients.csv"
    upload.write_text(
        "numero;prenom\n0612345678;Alice\n0140000000;Bob\npas un numéro;Carl\n06 12 34 56 78;Dup\n"
    )
    page.get_by_label("Fichier pour Clients fidèles").set_input_files(str(upload))
    page.get_by_role("button", name="Importer").click()
    report = page.locator("#import-report")
    expect(report.get_by_role("status")).to_have_text("1 ligne(s) ajoutée(s), 3 refusée(s).")
    for line, reason in (("3", "Pas un mobile"), ("4", "Numéro invalide"), ("5", "Doublon")):
        expect(report.locator("tr").filter(has_text=reason).locator("td").first).to_have_text(line)

    campaign = page.locator("form[action$='/sms/campaigns']")
    campaign.get_by_label("Nom").fill("Soldes d'hiver")
    campaign.get_by_label("Texte").fill("Bonjour {prenom}, les soldes commencent !")
    campaign.get_by_label("Expéditeur").select_option("DUPONTCONS")
    campaign.get_by_role("button", name="Créer la campagne").click()
    expect(page.locator("#campaign-state")).to_have_text("Brouillon")
    page.get_by_role("button", name="Lancer").click()
    expect(page.locator("#campaign-progress")).to_have_text("0 %")

    # the SMSC's side, through the outbox's state machine; the page refreshes by itself
    with portal.factory() as session:
        [message] = outbox.claim(session, route="default", limit=10, now=noon)
        outbox.mark_submitted(session, message.id, ["smsc-1"])
        outbox.apply_receipt(session, smsc_id="smsc-1", stat="DELIVRD", done_at=noon, error=None)
        session.commit()
    expect(page.locator("#campaign-state")).to_have_text("Terminée", timeout=15_000)
    expect(page.locator("#campaign-progress")).to_have_text("100 %")
    expect(page.locator("#campaign-delivered")).to_have_text("1")
