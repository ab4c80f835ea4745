"""Suspension under the terms: billing stops during a suspension only where the terms say so
(CTR-06, BIL-06), and staff suspend in CTR-06's order (formal notice, its delay, then
suspension; at once for the urgent causes of the terms)."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from operateur.billing import invoicing, payments
from operateur.billing.models import Invoice, LineSource
from operateur.catalog.terms import PaymentMethod, SuspensionCause
from operateur.contracts import dunning, lifecycle, suspension, termination
from operateur.contracts import service as contracts
from operateur.contracts.models import ContractStatus
from operateur.errors import Conflict
from tests.integration.conftest import Builder


def _invoices(session: Session, customer_id: int) -> list[Invoice]:
    session.expire_all()
    return list(
        session.scalars(
            select(Invoice).where(Invoice.customer_id == customer_id).order_by(Invoice.id)
        )
    )


def _lines(invoice: Invoice) -> list[tuple[str, str, str]]:
    return [
        (line.source.value, line.code, str(line.net_amount.quantize(Decimal("0.01"))))
        for line in invoice.lines
    ]


# SPEC: CTR-06, BIL-06, BIL-02, BIL-01
def test_no_subscription_is_billed_for_suspended_days_when_the_terms_stop_billing(
    build: Builder, session: Session, session_factory: sessionmaker[Session]
) -> None:
    customer = build.customer(payment_method=PaymentMethod.SEPA_DIRECT_DEBIT)
    contract = build.contract(
        customer,
        "centrex",
        date(2026, 1, 1),
        [("centrex.line", 2)],
        overrides={"suspension": {"billing_continues": False}},
    )
    assert contracts.terms_of(contract).suspension.billing_continues is False
    session.commit()
    invoicing.run_period(session_factory, build.operator_id, "2026-01")
    # Centrex lines are 29.90 TTC [001 §11.1] -> 24.916667 HT a month, billed in advance
    # [001 §11.2]: January and February, 24.9167 x 2 = 49.83 each
    [january] = _invoices(session, customer.id)
    assert [amount for _, _, amount in _lines(january)] == ["49.83", "49.83"]

    # fraud is urgent under the Centrex terms: suspended at once on 10 February, back on the
    # 20th -> 10 to 19 February suspended, 10 days
    suspension.suspend_in_order(
        session,
        contract,
        cause=SuspensionCause.FRAUD,
        reason="appels suspects",
        on=date(2026, 2, 10),
    )
    lifecycle.restore(session, contract, reason="sécurisé", on=date(2026, 2, 20))
    session.commit()
    invoicing.run_period(session_factory, build.operator_id, "2026-02")
    february = _invoices(session, customer.id)[1]
    # March in advance 49.83; February was billed in advance: its 10 suspended days come back
    # prorata by days of February as BIL-02 prorates: 24.916667 x 10/28 = 8.8988, x 2 = 17.80
    assert _lines(february) == [
        ("subscription", "centrex.line", "49.83"),
        ("credit", "centrex.line", "-17.80"),
    ]
    assert february.total_net == Decimal("32.03")

    # suspended again from 25 March, still suspended when March is invoiced: 25-31 March
    # (7/31: 24.916667 x 7/31 = 5.6263, x 2 = 11.25) credited; April billed in advance
    suspension.suspend_in_order(
        session, contract, cause=SuspensionCause.FRAUD, reason="récidive", on=date(2026, 3, 25)
    )
    session.commit()
    invoicing.run_period(session_factory, build.operator_id, "2026-03")
    march = _invoices(session, customer.id)[2]
    assert [amount for _, _, amount in _lines(march)] == ["49.83", "-11.25"]
    assert march.total_net == Decimal("38.58")
    # restored on 3 April: 1-2 April (2/30: 1.6611 x 2 = 3.32) credited on the April invoice
    lifecycle.restore(session, contract, reason="sécurisé", on=date(2026, 4, 3))
    session.commit()
    invoicing.run_period(session_factory, build.operator_id, "2026-04")
    april = _invoices(session, customer.id)[3]
    assert [amount for _, _, amount in _lines(april)] == ["49.83", "-3.32"]
    assert april.total_net == Decimal("46.51")


@pytest.mark.parametrize(
    ("offer", "item"),
    [
        ("centrex", "centrex.line"),
        ("crm-voip", "crm.licence"),
        ("cpaas", "numbers.geographic"),
        ("telecom", "fixed.line"),
        ("mail-security", "mail_in.mailbox"),
    ],
)
# SPEC: CTR-06, BIL-06
def test_the_shipped_offers_keep_billing_during_a_suspension(
    build: Builder,
    session: Session,
    session_factory: sessionmaker[Session],
    offer: str,
    item: str,
) -> None:
    suspended_customer = build.customer(name="Suspendu")
    twin_customer = build.customer(name="Jumeau")
    suspended = build.contract(suspended_customer, offer, date(2026, 1, 1), [(item, 3)])
    build.contract(twin_customer, offer, date(2026, 1, 1), [(item, 3)])
    # every shipped offer says the sums due keep being invoiced during a suspension
    assert contracts.terms_of(suspended).suspension.billing_continues is True
    lifecycle.suspend(
        session, suspended, cause=SuspensionCause.FRAUD, reason="test", on=date(2026, 1, 10)
    )
    lifecycle.restore(session, suspended, reason="test", on=date(2026, 1, 20))
    session.commit()
    invoicing.run_period(session_factory, build.operator_id, "2026-01")
    [billed] = _invoices(session, suspended_customer.id)
    [twin] = _invoices(session, twin_customer.id)
    assert billed.total_net == twin.total_net > 0
    assert all(line.source is not LineSource.CREDIT for line in billed.lines)


# SPEC: CTR-06
def test_a_non_urgent_cause_needs_a_formal_notice_and_its_business_day_delay(
    build: Builder, session: Session
) -> None:
    customer = build.customer()
    contract = build.contract(
        customer, "crm-voip", date(2026, 3, 2), [("crm.licence", 1)], overrides={"inactivity": None}
    )
    breach = SuspensionCause.CONTRACT_BREACH
    # [000 §4.4] a breach is not an urgency: no suspension without a written formal notice
    with pytest.raises(Conflict) as refused:
        suspension.suspend_in_order(
            session, contract, cause=breach, reason="usage interdit", on=date(2026, 5, 4)
        )
    assert refused.value.code == "formal_notice_required"
    assert "une mise en demeure doit d'abord être envoyée" in refused.value.render("fr")
    assert "a formal notice must be sent first" in refused.value.render("en")

    # notice on Thursday 7 May 2026; [000 §4.4] 2 business days: Friday 8 May is a public
    # holiday (Victoire 1945), then the weekend -> Monday 11 (1), Tuesday 12 May (2)
    notice = suspension.formal_notice(
        session, contract, cause=breach, notified_on=date(2026, 5, 7), summary="usage interdit"
    )
    assert notice.opens_on == date(2026, 5, 12)
    with pytest.raises(Conflict) as early:
        suspension.suspend_in_order(
            session, contract, cause=breach, reason="usage interdit", on=date(2026, 5, 11)
        )
    assert early.value.code == "cure_delay_running"
    assert "2 jours ouvrés" in early.value.render("fr")
    assert "à compter du 12/05/2026" in early.value.render("fr")
    assert "possible from 2026-05-12" in early.value.render("en")
    # a notice for another cause does not open this one
    with pytest.raises(Conflict):
        suspension.suspend_in_order(
            session,
            contract,
            cause=SuspensionCause.NON_PAYMENT,
            reason="impayé",
            on=date(2026, 5, 12),
        )
    done = suspension.suspend_in_order(
        session, contract, cause=breach, reason="usage interdit", on=date(2026, 5, 12)
    )
    assert (done.cause, done.starts_on) == ("contract_breach", date(2026, 5, 12))
    assert contract.status is ContractStatus.SUSPENDED


# SPEC: CTR-06
def test_urgent_causes_suspend_at_once_and_a_cured_notice_no_longer_counts(
    build: Builder, session: Session
) -> None:
    customer = build.customer()
    contract = build.contract(
        customer, "crm-voip", date(2026, 3, 2), [("crm.licence", 1)], overrides={"inactivity": None}
    )
    # [000 §4.4] fraud is one of the urgent causes: no notice needed
    urgent = suspension.suspend_in_order(
        session, contract, cause=SuspensionCause.FRAUD, reason="fraude", on=date(2026, 4, 1)
    )
    assert urgent.starts_on == date(2026, 4, 1)
    lifecycle.restore(session, contract, reason="levée", on=date(2026, 4, 2))
    # a formal notice for a breach (CTR-07), cured before its delay ran: nothing to suspend for
    notice = termination.breach_notice(
        session, contract, notified_on=date(2026, 4, 6), breach="usage interdit"
    )
    termination.end_event(session, notice, date(2026, 4, 7))
    with pytest.raises(Conflict) as refused:
        suspension.suspend_in_order(
            session,
            contract,
            cause=SuspensionCause.CONTRACT_BREACH,
            reason="usage interdit",
            on=date(2026, 4, 20),
        )
    assert refused.value.code == "formal_notice_required"


# SPEC: CTR-06, BIL-06
def test_a_staff_suspension_for_non_payment_counts_the_dunning_formal_notice(
    build: Builder, session: Session, session_factory: sessionmaker[Session]
) -> None:
    """The mail offer puts a formal notice before a suspension, with an 8-day delay: the dunning
    formal notice of a still unpaid invoice is that notice; once paid, it no longer counts."""
    customer = build.customer()
    contract = build.contract(
        customer, "mail-security", date(2026, 1, 5), [("mail_in.mailbox", 10)]
    )
    session.commit()
    invoicing.run_period(session_factory, build.operator_id, "2026-01")
    [invoice] = _invoices(session, customer.id)
    late = invoice.due_date + timedelta(days=1)
    with pytest.raises(Conflict) as early:
        suspension.suspend_in_order(
            session, contract, cause=SuspensionCause.NON_PAYMENT, reason="impayé", on=late
        )
    assert early.value.code == "formal_notice_required"
    assert f"formal_notice:{invoice.number}" in dunning.run(session, late)
    with pytest.raises(Conflict) as waiting:
        suspension.suspend_in_order(
            session,
            contract,
            cause=SuspensionCause.NON_PAYMENT,
            reason="impayé",
            on=late + timedelta(days=7),
        )
    assert waiting.value.code == "cure_delay_running"
    assert waiting.value.details["allowed_from"] == (late + timedelta(days=8)).isoformat()
    payments.record_payment(
        session,
        customer.id,
        amount=invoice.total_gross,
        method="transfer",
        received_on=late + timedelta(days=3),
        reference="VIR-RETARD",
    )
    with pytest.raises(Conflict) as cured:
        suspension.suspend_in_order(
            session,
            contract,
            cause=SuspensionCause.NON_PAYMENT,
            reason="impayé",
            on=late + timedelta(days=8),
        )
    assert cured.value.code == "formal_notice_required"
    assert contract.status is ContractStatus.ACTIVE
