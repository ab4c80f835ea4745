"""Every reminder, formal notice, suspension, restoration and termination reaches the customer
by email (real SMTP server on loopback) and webhook, naming the contract, the reason, the dates
and the amounts."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from operateur.billing import payments
from operateur.billing.models import Invoice
from operateur.contracts import lifecycle
from operateur.contracts.models import ContractStatus
from operateur.domain.money import format_eur
from operateur.notifications import service as notifications
from operateur.testing.smtp import SmtpSink
from operateur.testing.webhooks import WebhookReceiver
from tests.integration.conftest import Builder
from tests.integration.lifecycle.conftest import body, contacts, run_days, subjects


# SPEC: CTR-06, BIL-06
def test_unpaid_invoice_notices_suspension_and_restoration_by_email_and_webhook(
    build: Builder,
    session: Session,
    session_factory: sessionmaker[Session],
    smtp_sink: SmtpSink,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("OPERATEUR_WEBHOOK_ALLOW_PRIVATE_TARGETS", "true")
    customer = build.customer()
    contacts(session, customer)
    contract = build.contract(customer, "centrex", date(2026, 1, 5), [("centrex.line", 2)])
    with WebhookReceiver() as receiver:
        _, secret = notifications.add_endpoint(session, customer.id, receiver.url, ["contract.*"])
        session.commit()
        run_days(session_factory, date(2026, 1, 31), date(2026, 2, 26))
        invoice = session.scalars(select(Invoice).where(Invoice.customer_id == customer.id)).one()
        # BIL-04 [001 §11.2] due 10 days after the issue on 31 January
        assert invoice.due_date == date(2026, 2, 10)
        amount = format_eur(invoice.total_gross)
        # [001 §19] reminder and formal notice on the first late day, 11 February; suspension
        # 15 days after the due date: 25 February; termination if uncured 7 days later: 4 March
        billing = smtp_sink.to("compta@client.fr")
        assert subjects(billing) == [
            f"Rappel : facture {invoice.number} impayée",
            f"Mise en demeure : facture {invoice.number} impayée",
            f"Suspension du contrat {contract.reference}",
        ]
        reminder, formal, suspended = (body(m) for m in billing)
        assert f"échue le 10/02/2026, reste impayée pour {amount}" in reminder
        assert "le service sera suspendu le 25/02/2026" in reminder
        assert "Mise en demeure du 11/02/2026" in formal
        assert "le contrat sera résilié le 04/03/2026" in formal
        assert f"Contrat {contract.reference} (Centrex VoIP)" in suspended
        assert "à compter du 25/02/2026, pour défaut de paiement" in suspended
        assert f"la facture {invoice.number}, échue le 10/02/2026" in suspended
        assert "résilié le 04/03/2026" in suspended
        # the suspension is not sent twice to the administrative contact either
        assert subjects(smtp_sink.to("admin@client.fr")) == [
            f"Suspension du contrat {contract.reference}"
        ]
        session.refresh(contract)
        assert contract.status is ContractStatus.SUSPENDED
        payments.record_payment(
            session,
            customer.id,
            amount=invoice.total_gross,
            method="transfer",
            received_on=date(2026, 2, 27),
            reference="VIR-27",
        )
        session.commit()
        run_days(session_factory, date(2026, 2, 27), date(2026, 2, 27))
        restored = smtp_sink.to("admin@client.fr")[-1]
        assert restored["Subject"] == f"Rétablissement du contrat {contract.reference}"
        assert "rétabli depuis le 27/02/2026" in body(restored)
        events = [r.json() for r in receiver.requests]
    assert [e["event"] for e in events] == ["contract.suspended", "contract.restored"]
    assert events[0]["data"]["on"] == "2026-02-25"
    assert events[0]["data"]["cause"] == "non_payment"
    assert events[0]["data"]["contract"] == contract.reference
    assert all(
        r.headers["X-Operateur-Signature"] == notifications.signature(secret, r.body)
        for r in receiver.requests
    )


# SPEC: CTR-06, CTR-09, CTR-10
def test_termination_email_in_english_names_what_follows(
    build: Builder,
    session: Session,
    session_factory: sessionmaker[Session],
    smtp_sink: SmtpSink,
) -> None:
    customer = build.customer()
    customer.lang = "en"
    contacts(session, customer, lang="en")
    contract = build.contract(customer, "crm-voip", date(2026, 3, 2), [("crm.licence", 3)])
    lifecycle.terminate(session, contract, on=date(2026, 3, 20), reason="customer request")
    session.commit()
    notifications.deliver_due(session_factory)
    [message] = smtp_sink.to("admin@client.fr")
    text = body(message)
    assert message["Subject"] == f"Contract {contract.reference} terminated"
    assert "The contract ended on 2026-03-20." in text
    assert "customer request" in text
    # [000 §10] 48 h of read-only access after the last day; [000 §7.4] deletion after 60 days
    assert "read-only access until 2026-03-23 00:00 (Paris)" in text
    assert "permanently deleted on 2026-05-19" in text
