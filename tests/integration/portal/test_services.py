"""The services' pages of the portal: an SMS campaign from a list imported with bad rows to its
completion, and a mail quarantine released from the console (PORTAL-02)."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from operateur.accounts import service as accounts
from operateur.accounts.models import Role
from operateur.accounts.permissions import system_actor
from operateur.accounts.schemas import CustomerIn, UserIn
from operateur.catalog.terms import PaymentMethod
from operateur.contracts import service as contracts
from operateur.contracts.schemas import SubscriptionIn
from operateur.domain.calendar import PARIS
from operateur.mail import quarantine
from operateur.mail.models import (
    Direction,
    FilterLog,
    MailListEntry,
    QuarantinedMessage,
    QuarantineStatus,
)
from operateur.sms import outbox
from operateur.sms.models import SmsCampaign, SmsMessage
from tests.e2e.world import CUSTOMER_PASSWORD, STAFF_EMAIL, STAFF_PASSWORD, World
from tests.integration.portal.conftest import Browser

# a weekday noon in Paris: inside the SMS sending window of the terms (SMS-04)
NOON = datetime(2026, 11, 24, 12, 0, tzinfo=PARIS)


# SPEC: SMS-01, SMS-05, PORTAL-01
def test_an_sms_campaign_from_an_imported_list_to_its_statistics(
    browser: Browser, world: World, session: Session
) -> None:
    app = browser.client.app
    app.state.clock = lambda: NOON  # type: ignore[attr-defined]
    browser.login(world.cpaas.admin_email, CUSTOMER_PASSWORD)
    page = f"/customers/{world.cpaas.id}/sms"
    browser.post(page, f"{page}/lists", {"name": "Clients"})
    list_id = re.search(r"/sms/lists/(\d+)/import", browser.get(page).text)
    assert list_id is not None
    upload = (
        "numero;prenom\n0612345678;Alice\n0140000000;Bob\npas un numéro;Carl\n06 12 34 56 78;Dup\n"
    )
    report = browser.post(
        page,
        f"{page}/lists/{list_id.group(1)}/import",
        {},
        files={"file": ("clients.csv", upload.encode(), "text/csv")},
    ).text
    assert "<strong>1</strong> ligne(s) ajoutée(s), <strong>3</strong> refusée(s)" in report
    for line, reason in (("3", "Pas un mobile"), ("4", "Numéro invalide"), ("5", "Doublon")):
        assert re.search(rf"<tr><td>{line}</td><td>[^<]*</td><td>{reason}", report), line

    browser.post(page, f"{page}/senders", {"name": "DUPONTCONS"})
    browser.login(STAFF_EMAIL, STAFF_PASSWORD)
    review = browser.get("/staff/sms").text
    action = re.search(r'action="(/staff/sms/senders/[^"]+)"', review)
    assert action is not None and "DUPONTCONS" in review
    browser.post("/staff/sms", action.group(1), {"decision": "authorise", "reason": "vérifié"})

    browser.login(world.cpaas.admin_email, CUSTOMER_PASSWORD)
    created = browser.post(
        page,
        f"{page}/campaigns",
        {
            "name": "Soldes",
            "list_id": list_id.group(1),
            "text": "Bonjour {prenom}, les soldes commencent !",
            "sender": "DUPONTCONS",
        },
    )
    campaign_page = created.headers["location"]
    browser.post(campaign_page, f"{campaign_page}/launch", {})
    running = browser.get(campaign_page).text
    assert 'http-equiv="refresh"' in running  # the page follows the campaign by itself
    assert 'id="campaign-progress">0 %' in running

    # the SMPP transport's side, through the outbox's one state machine
    [message] = outbox.claim(session, route="default", limit=10, now=NOON)
    outbox.mark_submitted(session, message.id, ["smsc-1"])
    outbox.apply_receipt(session, smsc_id="smsc-1", stat="DELIVRD", done_at=NOON, error=None)
    session.commit()
    done = browser.get(campaign_page).text
    assert 'id="campaign-state">Terminée' in done
    assert 'id="campaign-progress">100 %' in done
    assert 'id="campaign-delivered">1<' in done
    assert 'http-equiv="refresh"' not in done
    csv_file = browser.get(f"{campaign_page}/messages.csv")
    assert "+33612345678" in csv_file.text
    stored = session.scalars(select(SmsMessage)).one()
    assert stored.text == "Bonjour Alice, les soldes commencent !"
    assert session.scalars(select(SmsCampaign)).one().sender == "DUPONTCONS"


# SPEC: MAIL-03, MAIL-04, MAIL-11
def test_a_quarantined_mail_is_released_and_its_sender_allowed_from_the_console(
    browser: Browser, world: World, session: Session
) -> None:
    customer = accounts.create_customer(
        session,
        world.operator_id,
        CustomerIn(
            name="Cabinet Leroy Avocats",
            legal_form="SELARL",
            siren="800000036",
            address_line="5 cours de l'Intendance",
            postal_code="33000",
            city="Bordeaux",
            email="compta@leroy-avocats.fr",
            payment_method=PaymentMethod.TRANSFER,
        ),
    )
    accounts.create_user(
        session,
        system_actor("test"),
        operator_id=world.operator_id,
        customer_id=customer.id,
        data=UserIn(
            email="admin@leroy-avocats.fr",
            display_name="Maître Leroy",
            password=CUSTOMER_PASSWORD,
            role=Role.CUSTOMER_ADMIN,
        ),
    )
    contract = contracts.create_contract(session, customer, "mail-security", {})
    contracts.sign(
        session, contract, "Maître Leroy", datetime.combine(date(2026, 2, 1), time(9), tzinfo=PARIS)
    )
    contracts.activate(session, contract, date(2026, 2, 1))
    for code, quantity in (("mail_in.mailbox", 5), ("mail.domain", 1)):
        contracts.add_subscription(
            session, contract, SubscriptionIn(item_code=code, quantity=quantity)
        )
    now = datetime.now(UTC)
    held = []
    for n, sender in enumerate(("factures@fournisseur.fr", "promo@spam.example")):
        log = FilterLog(
            customer_id=customer.id,
            direction=Direction.INBOUND,
            at=now - timedelta(minutes=5),
            gateway="gw1",
            mail_from=sender,
            rcpt_tos=["maitre@leroy-avocats.fr"],
            size=1200,
            action="quarantine",
            score=9.0,
            symbols=["BAYES_SPAM"],
        )
        session.add(log)
        session.flush()
        held.append(
            quarantine.hold(
                session,
                customer_id=customer.id,
                log_id=log.id,
                spool_name=f"spool-{n}",
                mail_from=sender,
                recipient="maitre@leroy-avocats.fr",
                subject=f"Message {n}",
                score=9.0,
                symbols=["BAYES_SPAM"],
                virus=False,
                now=now,
            )
        )
    session.commit()

    browser.login("admin@leroy-avocats.fr", CUSTOMER_PASSWORD)
    page = f"/customers/{customer.id}/mail"
    assert "factures@fournisseur.fr" in browser.get(page).text
    released = browser.post(page, f"{page}/quarantine/{held[0].id}/allow-sender", {})
    assert "Expéditeur autorisé et message libéré" in browser.get(released.headers["location"]).text
    browser.post(page, f"{page}/quarantine/{held[1].id}/delete", {})
    session.expire_all()
    statuses = {i.mail_from: i.status for i in session.scalars(select(QuarantinedMessage))}
    assert statuses == {
        "factures@fournisseur.fr": QuarantineStatus.RELEASED,
        "promo@spam.example": QuarantineStatus.DELETED,
    }
    allowed = session.scalars(select(MailListEntry.value)).all()
    assert allowed == ["factures@fournisseur.fr"]
    other = browser.get(f"/customers/{world.cpaas.id}/mail")
    assert other.status_code == 403
