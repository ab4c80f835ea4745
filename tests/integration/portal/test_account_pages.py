"""The portal's pages for a customer's profile, webhooks, disputes, single SMS and stock,
mail settings, consents, recordings and the staff's subscriptions: each change made through
its form is what the service then holds (PORTAL-02)."""

from __future__ import annotations

import hashlib
import io
import re
import zipfile
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from operateur.accounts import service as accounts
from operateur.accounts.models import Contact, Customer, Role
from operateur.accounts.permissions import system_actor
from operateur.accounts.schemas import CustomerIn, UserIn
from operateur.billing import collection, payments, usage
from operateur.billing.models import Dispute, DisputeStatus, Invoice, InvoiceKind
from operateur.catalog.terms import DisputeReference, PaymentMethod
from operateur.config import Settings
from operateur.contracts import service as contracts
from operateur.contracts.models import LineKind, Subscription
from operateur.contracts.schemas import LineIn, SubscriptionIn
from operateur.domain.calendar import PARIS
from operateur.mail.models import MailServer, MailSettings
from operateur.notifications.models import WebhookEndpoint
from operateur.recordings import service as recordings
from operateur.sms import service as sms
from operateur.sms.models import SmsMessage, SmsStatus
from operateur.voice.models import Consent
from tests.e2e.world import CUSTOMER_PASSWORD, STAFF_EMAIL, STAFF_PASSWORD, World
from tests.integration.portal.conftest import Browser

NOON = datetime(2026, 11, 24, 12, 0, tzinfo=PARIS)  # a Tuesday, inside the SMS window


# SPEC: PORTAL-02, SEC-02
def test_the_profile_and_contacts_are_changed_from_the_portal(
    browser: Browser, world: World, session: Session
) -> None:
    browser.login(world.centrex.admin_email, CUSTOMER_PASSWORD)
    page = f"/customers/{world.centrex.id}/profile"
    saved = browser.post(
        page,
        page,
        {
            "address_line": "8 rue du Four",
            "postal_code": "75006",
            "city": "Paris",
            "email": "compta@boulangerie-martin.fr",
            "payment_method": "transfer",
            "lang": "fr",
            "name": "Autre raison sociale",  # the legal identity is the operator's: ignored
        },
    )
    assert "Profil enregistré" in browser.get(saved.headers["location"]).text
    browser.post(
        page,
        f"/customers/{world.centrex.id}/contacts",
        {"name": "Julie Technique", "email": "it@boulangerie-martin.fr", "role": "technical"},
    )
    shown = browser.get(page).text
    assert "it@boulangerie-martin.fr" in shown and "Technique" in shown
    session.expire_all()
    customer = session.get(Customer, world.centrex.id)
    assert customer is not None
    assert (customer.address_line, customer.postal_code, customer.name) == (
        "8 rue du Four",
        "75006",
        "Boulangerie Martin",
    )
    assert customer.payment_method.value == "transfer"
    contact = session.scalars(
        select(Contact).where(Contact.email == "it@boulangerie-martin.fr")
    ).one()
    assert contact.role == "technical"
    bad = browser.post(page, page, {"iban": "FR76 0000 0000 0000", "city": "Paris"})
    assert "IBAN" in browser.get(bad.headers["location"]).text
    contact_id = contact.id
    browser.post(page, f"/customers/{world.centrex.id}/contacts/{contact_id}/remove", {})
    session.expunge_all()
    assert session.scalars(select(Contact).where(Contact.id == contact_id)).first() is None


# SPEC: PORTAL-02, SEC-01
def test_a_webhook_secret_is_shown_once_and_signs_the_events(
    browser: Browser, world: World, session: Session
) -> None:
    browser.login(world.cpaas.admin_email, CUSTOMER_PASSWORD)
    page = f"/customers/{world.cpaas.id}/webhooks"
    created = browser.post(
        page, page, {"url": "https://crm.dupont-conseil.fr/hooks", "events": "contract.*"}
    )
    assert created.status_code == 200
    secret = re.search(r'<code id="new-secret">([^<]+)</code>', created.text)
    assert secret is not None
    endpoint = session.scalars(select(WebhookEndpoint)).one()
    assert endpoint.secret == secret.group(1)
    assert endpoint.events == ["contract.*"]
    again = browser.get(page).text
    assert secret.group(1) not in again
    assert "https://crm.dupont-conseil.fr/hooks" in again
    refused = browser.post(page, page, {"url": "http://127.0.0.1/hook"})
    assert refused.status_code == 303  # a loopback target is refused by the service
    browser.post(page, f"{page}/{endpoint.id}/remove", {})
    session.expire_all()
    assert [e.active for e in session.scalars(select(WebhookEndpoint))] in ([], [False])


def _open_dispute(session: Session, world: World) -> tuple[Dispute, Invoice]:
    invoice = session.get(Invoice, world.centrex.invoice_ids[0])
    assert invoice is not None
    # the Centrex terms admit a dispute once the uncontested part is paid (BIL-07)
    payments.record_payment(
        session,
        world.centrex.id,
        amount=invoice.total_gross - Decimal("12.00"),
        method="transfer",
        received_on=date.today(),
        reference="VIR-1",
    )
    dispute = collection.file_dispute(
        session,
        world.centrex.id,
        invoice.id,
        filed_on=date.today(),
        channel="registered_letter",
        contested_amount=Decimal("12.00"),
        reason="Option facturée deux fois",
        references={r.value for r in DisputeReference},
    )
    session.commit()
    assert dispute.status is DisputeStatus.OPEN
    return dispute, invoice


# SPEC: BIL-07, SEC-02
def test_staff_uphold_a_dispute_and_the_customer_sees_its_credit_note(
    browser: Browser, world: World, session: Session
) -> None:
    dispute, invoice = _open_dispute(session, world)
    browser.login(STAFF_EMAIL, STAFF_PASSWORD)
    queue = browser.get("/staff/disputes").text
    assert invoice.number in queue and "Option facturée deux fois" in queue
    action = f"/customers/{world.centrex.id}/disputes/{dispute.id}/resolve"
    missing = browser.post("/staff/disputes", action, {"decision": "uphold", "back": ""})
    assert missing.status_code == 303  # no reason: refused, nothing changed
    session.expire_all()
    assert session.get(Dispute, dispute.id).status is DisputeStatus.OPEN  # type: ignore[union-attr]
    done = browser.post(
        "/staff/disputes",
        action,
        {
            "decision": "uphold",
            "reason": "Double facturation confirmée",
            "resolved_on": date.today().isoformat(),
            "back": "/staff/disputes",
        },
    )
    assert done.headers["location"] == "/staff/disputes"
    assert "avoir émis" in browser.get("/staff/disputes").text
    session.expire_all()
    resolved = session.get(Dispute, dispute.id)
    assert resolved is not None and resolved.status is DisputeStatus.UPHELD
    note = session.get(Invoice, resolved.credit_note_id)
    assert note is not None and note.kind is InvoiceKind.CREDIT_NOTE
    assert abs(note.total_gross) == Decimal("12.00"), note.total_gross  # 10,00 € HT + VAT
    assert abs(note.total_net) == Decimal("10.00")
    audit = browser.get(f"/staff/audit?entity=disputes&entity_id={dispute.id}").text
    assert "Double facturation confirmée" in audit

    browser.login(world.centrex.admin_email, CUSTOMER_PASSWORD)
    page = browser.get(f"/customers/{world.centrex.id}/disputes").text
    assert note.number in page and "Fondée" in page
    assert f'action="{action}"' not in page  # deciding is the operator's
    assert (
        browser.post(
            f"/customers/{world.centrex.id}/disputes",
            action,
            {"decision": "reject", "reason": "x"},
        ).status_code
        == 403
    )


def _telecom_customer(session: Session, world: World) -> Customer:
    customer = accounts.create_customer(
        session,
        world.operator_id,
        CustomerIn(
            name="Garage Petit",
            legal_form="SARL",
            siren="800000044",
            address_line="1 quai de la Fosse",
            postal_code="44000",
            city="Nantes",
            email="compta@garage-petit.fr",
            payment_method=PaymentMethod.TRANSFER,
        ),
    )
    accounts.create_user(
        session,
        system_actor("test"),
        operator_id=world.operator_id,
        customer_id=customer.id,
        data=UserIn(
            email="admin@garage-petit.fr",
            display_name="M. Petit",
            password=CUSTOMER_PASSWORD,
            role=Role.CUSTOMER_ADMIN,
        ),
    )
    contract = contracts.create_contract(session, customer, "telecom", {})
    contracts.sign(
        session, contract, "M. Petit", datetime.combine(date(2026, 4, 1), time(9), PARIS)
    )
    contracts.activate(session, contract, date(2026, 4, 1))
    contracts.add_subscription(session, contract, SubscriptionIn(item_code="mobile.line"))
    session.commit()
    return customer


# SPEC: SMS-01, SMS-08
def test_one_sms_is_sent_from_the_portal_and_staff_raise_the_monthly_stock(
    browser: Browser, world: World, session: Session
) -> None:
    browser.client.app.state.clock = lambda: NOON  # type: ignore[attr-defined]
    customer = _telecom_customer(session, world)
    page = f"/customers/{customer.id}/sms/messages"
    browser.login("admin@garage-petit.fr", CUSTOMER_PASSWORD)
    assert "1000" in browser.get(f"/customers/{customer.id}/sms").text  # the terms' stock
    sent = browser.post(page, page, {"to": "06 12 34 56 78", "text": "Votre véhicule est réparé"})
    answer = browser.get(sent.headers["location"]).text
    assert "SMS accepté pour envoi" in answer, re.findall(r"flash[^<]*", answer)
    message = session.scalars(select(SmsMessage)).one()
    assert (message.recipient, message.status) == ("+33612345678", SmsStatus.QUEUED)
    refused = browser.post(page, page, {"to": "pas un numéro", "text": "x"})
    assert "[to]" in browser.get(refused.headers["location"]).text
    assert len(session.scalars(select(SmsMessage)).all()) == 1
    # the stock is the operator's: a customer's post is refused
    stock_action = f"/customers/{customer.id}/sms/stock"
    assert (
        browser.post(page, stock_action, {"monthly_limit": "5000", "reason": "x"}).status_code
        == 403
    )

    browser.login(STAFF_EMAIL, STAFF_PASSWORD)
    sms_page = f"/customers/{customer.id}/sms"
    raised = browser.post(
        sms_page, stock_action, {"monthly_limit": "5000", "reason": "Campagne de rentrée"}
    )
    assert "Stock mensuel modifié" in browser.get(raised.headers["location"]).text
    assert "/ 5000" in browser.get(sms_page).text
    too_much = browser.post(sms_page, stock_action, {"monthly_limit": "200000", "reason": "x"})
    assert "[monthly_limit]" in browser.get(too_much.headers["location"]).text
    view, _ = sms.stock_view(session, customer.id)
    assert (view.monthly_limit, view.maximum) == (5000, 100000)


# SPEC: MAIL-03, MAIL-09, MAIL-11
def test_mail_settings_and_servers_are_set_from_the_portal(
    browser: Browser, world: World, session: Session
) -> None:
    browser.login(world.cpaas.admin_email, CUSTOMER_PASSWORD)
    page = f"/customers/{world.cpaas.id}/mail/settings"
    assert "Rien en attente" in browser.get(page).text
    browser.post(page, page, {"challenge_enabled": "true"})
    browser.post(page, f"/customers/{world.cpaas.id}/mail/servers", {"host": "mx1.dupont.fr"})
    shown = browser.get(page).text
    assert "mx1.dupont.fr" in shown and "activé" in shown
    settings = session.scalars(select(MailSettings)).one()
    assert settings.challenge_enabled is True
    server = session.scalars(select(MailServer)).one()
    assert (server.host, server.port, server.priority) == ("mx1.dupont.fr", 25, 10)
    unblock = browser.post(page, page, {"unblock_relay": "true"})
    assert unblock.status_code == 403  # the operator's decision (MAIL-08)
    browser.post(page, f"/customers/{world.cpaas.id}/mail/servers/{server.id}/remove", {})
    session.expire_all()
    assert session.scalars(select(MailServer)).all() == []


# SPEC: VOX-10
def test_consents_are_recorded_and_withdrawn(
    browser: Browser, world: World, session: Session
) -> None:
    browser.login(world.cpaas.admin_email, CUSTOMER_PASSWORD)
    page = f"/customers/{world.cpaas.id}/consents"
    browser.post(
        page,
        page,
        {
            "number": "06 12 34 56 78",
            "kind": "consent",
            "subject": "Mme Durand",
            "given_at": "2026-11-20T10:30",
            "proof": "formulaire web du 20/11",
        },
    )
    consent = session.scalars(select(Consent)).one()
    assert (consent.number, consent.subject) == ("+33612345678", "Mme Durand")
    assert consent.given_at == datetime(2026, 11, 20, 10, 30, tzinfo=PARIS)
    assert consent.recorded_by == world.cpaas.admin_email
    assert "Mme Durand" in browser.get(f"{page}?number=0612345678").text
    browser.post(page, f"{page}/{consent.id}/withdraw", {})
    session.expire_all()
    assert consent.withdrawn_at is not None


def _crm_customer_with_a_call(session: Session, world: World) -> Customer:
    """A call centre on the calling-CRM offer (the one that records calls) with one call."""
    customer = accounts.create_customer(
        session,
        world.operator_id,
        CustomerIn(
            name="Centre d'Appels Horizon",
            legal_form="SAS",
            siren="800000051",
            address_line="2 rue Nationale",
            postal_code="59000",
            city="Lille",
            email="compta@horizon-appels.fr",
            payment_method=PaymentMethod.TRANSFER,
        ),
    )
    accounts.create_user(
        session,
        system_actor("test"),
        operator_id=world.operator_id,
        customer_id=customer.id,
        data=UserIn(
            email="admin@horizon-appels.fr",
            display_name="Mme Horizon",
            password=CUSTOMER_PASSWORD,
            role=Role.CUSTOMER_ADMIN,
        ),
    )
    contract = contracts.create_contract(session, customer, "crm-voip", {})
    contracts.sign(
        session, contract, "Mme Horizon", datetime.combine(date(2026, 9, 1), time(9), PARIS)
    )
    contracts.activate(session, contract, date(2026, 9, 1))
    contracts.add_subscription(session, contract, SubscriptionIn(item_code="crm.licence"))
    line = contracts.create_line(
        session, customer.id, LineIn(contract_id=contract.id, kind=LineKind.AGENT, label="Agent 1")
    )
    begin = datetime(2026, 11, 23, 10, 0, tzinfo=PARIS)
    usage.record_call(
        session,
        usage.CallData(
            source="test",
            call_id="horizon-1",
            account=line.sip_username,
            caller="+33320000000",
            callee="+33140000000",
            start=begin,
            answer=begin + timedelta(seconds=3),
            end=begin + timedelta(seconds=93),
            disposition="ANSWERED",
        ),
    )
    session.commit()
    return customer


# SPEC: VOX-12
def test_recordings_are_listed_and_downloaded(
    browser: Browser, world: World, session: Session, settings: Settings
) -> None:
    customer = _crm_customer_with_a_call(session, world)
    audio = b"RIFF....WAVEfmt demo"
    recording = recordings.attach(
        session,
        customer.id,
        call_id="horizon-1",
        data=audio,
        content_type="audio/wav",
        data_dir=settings.data_dir,
        max_bytes=10_000,
    )
    session.commit()
    browser.login("admin@horizon-appels.fr", CUSTOMER_PASSWORD)
    base = f"/customers/{customer.id}/recordings"
    page = browser.get(f"{base}?since=2026-11-23&until=2026-11-23").text
    assert "+33140000000" in page and "23/11/2026 10:00" in page
    assert "Aucun enregistrement" in browser.get(f"{base}?since=2026-11-24").text
    file = browser.get(f"{base}/{recording.id}/file")
    assert hashlib.sha256(file.content).digest() == hashlib.sha256(audio).digest()
    archive = zipfile.ZipFile(
        io.BytesIO(browser.get(f"/customers/{customer.id}/recordings.zip").content)
    )
    assert "manifest.csv" in archive.namelist()
    assert audio in [archive.read(name) for name in archive.namelist()]
    assert browser.get(f"/customers/{world.cpaas.id}/recordings").status_code == 403


# SPEC: CTR-12, SEC-02
def test_staff_add_an_option_to_a_contract_with_its_frozen_price(
    browser: Browser, world: World, session: Session
) -> None:
    browser.login(STAFF_EMAIL, STAFF_PASSWORD)
    page = f"/customers/{world.centrex.id}/contracts/{world.centrex.contract_id}"
    assert 'name="item_code"' in browser.get(page).text
    added = browser.post(
        page,
        f"{page}/subscriptions",
        {"item_code": "centrex.line", "quantity": "2", "reason": "BC-2026-17"},
    )
    assert "Abonnement ajouté" in browser.get(added.headers["location"]).text
    contract = contracts.get_contract(session, world.centrex.id, world.centrex.contract_id)
    lines = [
        s
        for s in session.scalars(
            select(Subscription).where(Subscription.contract_id == contract.id)
        )
        if s.item_code == "centrex.line"
    ]
    assert sorted(s.quantity for s in lines) == [2, 2]
    price = next(p.unit_price for p in contracts.prices_of(contract) if p.code == "centrex.line")
    assert all(s.unit_price_mrc == price for s in lines)
    browser.login(world.centrex.admin_email, CUSTOMER_PASSWORD)
    assert 'name="item_code"' not in browser.get(page).text.split("Commander")[0]
    assert (
        browser.post(page, f"{page}/subscriptions", {"item_code": "centrex.line"}).status_code
        == 403
    )


# SPEC: MAIL-06, MAIL-03
def test_staff_see_the_gateways_checks_and_what_waits(
    browser: Browser, world: World, session: Session
) -> None:
    from operateur.mail import prober, quarantine
    from operateur.mail.models import Direction, FilterLog

    now = datetime.now(PARIS).replace(second=0, microsecond=0)
    minute = prober.minute_of(now - timedelta(minutes=2))
    prober.record(session, "gw1:25", minute, True, "220 gw1 ESMTP")
    prober.record(session, "gw2:25", minute, False, "connection refused")
    log = FilterLog(
        customer_id=world.cpaas.id,
        direction=Direction.INBOUND,
        at=now,
        gateway="gw1",
        mail_from="promo@spam.example",
        rcpt_tos=["contact@dupont-conseil.fr"],
        size=900,
        action="quarantine",
        score=12.0,
        symbols=["BAYES_SPAM"],
    )
    session.add(log)
    session.flush()
    quarantine.hold(
        session,
        customer_id=world.cpaas.id,
        log_id=log.id,
        spool_name="spool-x",
        mail_from="promo@spam.example",
        recipient="contact@dupont-conseil.fr",
        subject="Promo",
        score=12.0,
        symbols=["BAYES_SPAM"],
        virus=False,
        now=now,
    )
    session.commit()
    browser.login(STAFF_EMAIL, STAFF_PASSWORD)
    page = browser.get("/staff/mail").text
    probes = page.split('id="gateway-probes">')[1].split("</tbody>")[0]
    assert "gw1:25" in probes and "répond" in probes
    assert "gw2:25" in probes and "EN ÉCHEC" in probes and "connection refused" in probes
    queues = page.split('id="gateway-queues">')[1].split("</dl>")[0]
    assert "Messages en quarantaine</dt><dd>1</dd>" in queues
    decisions = page.split('id="gateway-decisions">')[1].split("</tbody>")[0]
    assert "<td>Mis en quarantaine</td><td>1</td>" in decisions
    browser.login(world.cpaas.admin_email, CUSTOMER_PASSWORD)
    assert browser.get("/staff/mail").status_code == 403


# SPEC: VOX-17, VOX-18, VOX-09
def test_a_call_centre_keeps_contacts_and_lists_and_publishes_a_numbers_directory_entry(
    browser: Browser, world: World, session: Session
) -> None:
    from operateur.numbers import service as numbers
    from operateur.numbers.models import DirectoryEntry, NumberTier

    customer = _crm_customer_with_a_call(session, world)
    numbers.add_to_stock(session, ["+33320000001"], NumberTier.STANDARD)
    numbers.record_address_proof(
        session,
        customer,
        document="kbis",
        reference="KBIS-1",
        received_on=date(2026, 9, 1),
        checked_by="test",
    )
    caller_id = numbers.assign_random(
        session, customer, kind="geographic", tier=NumberTier.STANDARD, line_id=None
    )
    session.commit()
    browser.login("admin@horizon-appels.fr", CUSTOMER_PASSWORD)
    page = f"/customers/{customer.id}/dialer"
    browser.post(page, f"{page}/contacts", {"name": "M. Dubois", "phone": "06 11 22 33 44"})
    again = browser.post(page, f"{page}/contacts", {"name": "Autre", "phone": "0611223344"})
    assert "+33611223344" in browser.get(again.headers["location"]).text  # already a contact
    browser.post(
        page, f"{page}/lists", {"name": "Relances", "caller_id_number_id": str(caller_id.id)}
    )
    shown = browser.get(page).text
    assert "M. Dubois" in shown and "Relances" in shown and "+33320000001" in shown

    entry_page = f"/customers/{customer.id}/numbers/{caller_id.id}/directory"
    assert f'href="{entry_page}"' not in browser.get(f"/customers/{customer.id}/lines").text
    assert browser.get(entry_page).status_code == 403  # the directory is the operator's
    browser.login(STAFF_EMAIL, STAFF_PASSWORD)
    assert f'href="{entry_page}"' in browser.get(f"/customers/{customer.id}/lines").text
    browser.post(
        entry_page,
        entry_page,
        {
            "service_name": "Horizon Relation Client",
            "description": "Appels de suivi des clients",
            "provider": "Centre d'Appels Horizon",
            "address": "2 rue Nationale, 59000 Lille",
            "complaint_contact": "reclamations@horizon-appels.fr",
            "published": "true",
        },
    )
    entry = session.scalars(select(DirectoryEntry)).one()
    assert (entry.service_name, entry.published) == ("Horizon Relation Client", True)
    public = browser.client.get("/api/v1/public/numbers/+33320000001")
    assert public.json()["service_name"] == "Horizon Relation Client"
    other = f"/customers/{world.cpaas.id}/numbers/{caller_id.id}/directory"
    assert browser.get(other).status_code == 404  # not a number of that customer


# SPEC: VOX-06, CTR-06, SEC-02
def test_staff_restrict_a_contract_from_a_fraud_alert_in_one_click_then_lift_it(
    browser: Browser, world: World, session: Session
) -> None:
    from operateur.contracts import lifecycle
    from operateur.fraud.models import AlertKind, AlertStatus, FraudAlert

    alert = FraudAlert(
        customer_id=world.centrex.id,
        contract_id=world.centrex.contract_id,
        kind=AlertKind.LONG_CALLS,
        period=date.today().strftime("%Y-%m"),
        dedup_key=f"long_calls:{world.centrex.contract_id}:test",
        rule="VOX-06",
        evidence={"calls": [{"callee": "+882123456", "minutes": 185}]},
        actions=[],
        billed_usage_ids=[],
        status=AlertStatus.OPEN,
    )
    session.add(alert)
    session.commit()
    browser.login(STAFF_EMAIL, STAFF_PASSWORD)
    page = browser.get("/staff/fraud").text
    assert "+882123456" in page  # the evidence is shown
    browser.post("/staff/fraud", f"/staff/fraud/{alert.id}/restrict", {})
    contract = contracts.get_contract(session, world.centrex.id, world.centrex.contract_id)
    session.expire_all()
    [suspension] = lifecycle.open_suspensions(session, contract.id)
    partial = contracts.terms_of(contract).suspension.partial_allowed
    assert str(suspension.cause) == "fraud"
    assert str(suspension.scope) == ("international_calls" if partial else "full")
    assert f"alerte fraude {alert.id}" in suspension.reason
    browser.post(
        "/staff/fraud",
        f"/staff/fraud/{alert.id}/resolve",
        {"resolution": "Client prévenu, mots de passe changés", "lift_restriction": "true"},
    )
    session.expire_all()
    assert lifecycle.open_suspensions(session, contract.id) == []
    resolved = session.get(FraudAlert, alert.id)
    assert resolved is not None and resolved.status is not AlertStatus.OPEN
    assert resolved.resolved_by == STAFF_EMAIL


# SPEC: BIL-06, SEC-02
def test_staff_invoice_the_late_payment_penalties_once_per_date(
    browser: Browser, world: World, session: Session, settings: Settings
) -> None:
    import shutil
    from importlib.resources import files

    from operateur.billing import reference_rates

    invoice = session.get(Invoice, world.centrex.invoice_ids[0])
    assert invoice is not None
    as_of = invoice.due_date + timedelta(days=40)
    # the operator's tables under the data directory, with the legal rate of each half-year
    # up to as_of (a test value: the real one comes from the published arrêté)
    tables = settings.data_dir / "reference_rates"
    shutil.copytree(str(files("operateur.billing") / "data"), tables)
    known = reference_rates.load_tables(tables)
    half = date(as_of.year, 1 if as_of.month < 7 else 7, 1)
    if known.legal_interest.entries[-1].effective < half:
        reference_rates.add_rate("legal_interest", half, Decimal("3.00"), "test", tables)
    page = f"/customers/{world.centrex.id}/penalties"
    browser.login(world.centrex.admin_email, CUSTOMER_PASSWORD)
    assert browser.get(page).status_code == 403  # the operator's
    browser.login(STAFF_EMAIL, STAFF_PASSWORD)
    shown = browser.get(f"{page}?as_of={as_of.isoformat()}").text
    assert 'id="penalties"' in shown, shown[-1500:]
    rows = shown.split('id="penalties">')[1].split("</tbody>")[0]
    assert invoice.number in rows and "<td>40</td>" in rows
    late = collection.late_invoices(
        session, world.centrex.id, as_of, reference_rates.tables_for(settings.data_dir)
    )
    due = sum((row.interest_due + row.indemnity_due for row in late), Decimal(0))
    assert due > 0
    for _ in range(2):  # the same date twice: one penalty invoice
        browser.post(
            f"{page}?as_of={as_of.isoformat()}",
            page,
            {"as_of": as_of.isoformat(), "reason": "Relance sans effet"},
        )
    penalties = session.scalars(
        select(Invoice).where(
            Invoice.customer_id == world.centrex.id, Invoice.purpose.like("penalty:%")
        )
    ).all()
    assert len(penalties) == 1
    assert penalties[0].total_net == due
