"""Disputes and late-payment penalty invoices on stored invoices."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from operateur.accounts.audit import set_actor
from operateur.accounts.permissions import system_actor
from operateur.billing import collection, documents, invoicing, payments, statements
from operateur.billing.models import Dispute, DisputeStatus, Invoice, InvoiceStatus
from operateur.catalog.terms import PaymentMethod
from operateur.errors import InvalidInput
from tests.integration.conftest import Builder, commit_while_waited_for

ALL_REFERENCES = {"invoice_date", "invoice_number", "amount", "reason", "evidence"}


def _first_invoice(
    build: Builder,
    session: Session,
    factory: sessionmaker[Session],
    offer: str,
    items: list[tuple[str, int]],
) -> tuple[int, Invoice]:
    customer = build.customer(payment_method=PaymentMethod.SEPA_DIRECT_DEBIT)
    build.contract(customer, offer, date(2026, 1, 1), items)
    session.commit()
    invoicing.run_period(factory, build.operator_id, "2026-01")
    session.expire_all()
    invoice = session.scalars(select(Invoice).where(Invoice.customer_id == customer.id)).one()
    return customer.id, invoice


# SPEC: BIL-06
def test_flat_ten_percent_penalty_after_seven_days_invoiced_once(
    build: Builder, session: Session, session_factory: sessionmaker[Session]
) -> None:
    customer_id, invoice = _first_invoice(
        build, session, session_factory, "crm-voip", [("crm.licence", 2)]
    )
    # 2 licences x 39.00 for January and February: 156.00 HT, 187.20 TTC, due 7 Feb [000 §6]
    assert (invoice.total_gross, invoice.due_date) == (Decimal("187.20"), date(2026, 2, 7))
    # 7 days late: not yet the 10 %, but the 40.00 recovery indemnity is due from the first day
    [indemnity] = collection.issue_penalty_invoices(session, customer_id, date(2026, 2, 14))
    assert [(line.code, line.net_amount) for line in indemnity.lines] == [
        ("recovery_indemnity", Decimal("40.00")),
    ]
    [penalty] = collection.issue_penalty_invoices(session, customer_id, date(2026, 2, 20))
    # 13 days late > 7: 10 % of 187.20 = 18.72; the indemnity was already claimed; no VAT
    assert [(line.code, line.net_amount) for line in penalty.lines] == [
        ("late_interest", Decimal("18.72")),
    ]
    assert penalty.total_vat == Decimal("0") and penalty.total_gross == Decimal("18.72")
    assert collection.issue_penalty_invoices(session, customer_id, date(2026, 2, 20)) == []
    assert collection.issue_penalty_invoices(session, customer_id, date(2026, 3, 20)) == []


# SPEC: BIL-06, BIL-08
def test_ecb_plus_ten_points_from_the_due_date(
    build: Builder, session: Session, session_factory: sessionmaker[Session]
) -> None:
    customer_id, invoice = _first_invoice(
        build, session, session_factory, "cpaas", [("option.caps.monthly", 1)]
    )
    # January 150 + February 150 + shortfall 50 under the 200 minimum = 350 HT, 420 TTC
    assert invoice.total_gross == Decimal("420.00")
    assert invoice.due_date == date(2026, 3, 2)  # 30 days from issue
    [penalty] = collection.issue_penalty_invoices(session, customer_id, date(2026, 4, 1))
    # 30 days at ECB 2.15 % (in force on 1 Jan 2026) + 10 = 12.15 %:
    # 420 x 12.15 % x 30 / 365 = 4.1942 -> 4.19; plus 40.00
    assert penalty.total_gross == Decimal("44.19")


# SPEC: BIL-07
def test_admissible_dispute_holds_the_amount_then_a_credit_note_settles_it(
    build: Builder, session: Session, session_factory: sessionmaker[Session]
) -> None:
    customer_id, invoice = _first_invoice(
        build, session, session_factory, "cpaas", [("option.caps.monthly", 1)]
    )
    payments.record_payment(
        session,
        customer_id,
        amount=Decimal("300.00"),
        method="transfer",
        received_on=date(2026, 2, 9),
        reference="VIR-300",
    )
    dispute = collection.file_dispute(
        session,
        customer_id,
        invoice.id,
        filed_on=date(2026, 2, 10),
        channel="email",
        contested_amount=Decimal("120.00"),
        reason="minimum facturé à tort",
        references=ALL_REFERENCES,
    )
    assert dispute.status is DisputeStatus.OPEN
    assert invoice.amount_disputed == Decimal("120.00")
    assert payments.outstanding(invoice) == Decimal("0")
    # nothing is late while the contested part is held
    assert collection.late_invoices(session, customer_id, date(2026, 4, 1)) == []
    resolved = collection.resolve_dispute(
        session, dispute, upheld=True, resolved_on=date(2026, 3, 1)
    )
    assert resolved.status is DisputeStatus.UPHELD
    assert invoice.amount_credited == Decimal("120.00")  # credit note of 100.00 HT
    assert invoice.status is InvoiceStatus.PAID


# SPEC: BIL-07
def test_a_dispute_outside_the_terms_is_refused_with_every_reason(
    build: Builder, session: Session, session_factory: sessionmaker[Session]
) -> None:
    customer_id, invoice = _first_invoice(
        build, session, session_factory, "cpaas", [("option.caps.monthly", 1)]
    )
    dispute = collection.file_dispute(
        session,
        customer_id,
        invoice.id,
        filed_on=date(2026, 4, 15),
        channel="phone",
        contested_amount=Decimal("50.00"),
        reason="trop cher",
        references={"reason"},
    )
    assert dispute.status is DisputeStatus.REFUSED
    # 60 days from issue by e-mail with the invoice references, uncontested part paid [002 §12.6]
    assert {"out_of_time", "wrong_channel", "missing_references", "uncontested_part_unpaid"} <= set(
        dispute.refusal_reasons
    )
    assert invoice.amount_disputed == Decimal("0")


# SPEC: BIL-06
def test_a_partly_credited_late_invoice_bears_interest_on_what_is_left(
    build: Builder, session: Session, session_factory: sessionmaker[Session]
) -> None:
    customer_id, invoice = _first_invoice(
        build, session, session_factory, "cpaas", [("option.caps.monthly", 1)]
    )
    # 350 HT / 420 TTC due 2 March; a credit note of 100 HT (120 TTC) leaves 300 TTC owed,
    # less than the invoice's 350 HT: the penalty is still computed, not refused
    invoicing.credit_note(
        session, invoice, reason="geste", issue_date=date(2026, 2, 10), amount_net=Decimal("100")
    )
    [late] = collection.late_invoices(session, customer_id, date(2026, 4, 1))
    # 30 days at ECB 2.15 % + 10 = 12.15 % on 300: 300 x 12.15 % x 30 / 365 = 2.9959 -> 3.00
    assert (late.penalty.interest, late.penalty.indemnity) == (Decimal("3.00"), Decimal("40.00"))


# SPEC: BIL-07
def test_disputes_hold_only_what_is_unpaid_and_contest_each_euro_once(
    build: Builder, session: Session, session_factory: sessionmaker[Session]
) -> None:
    customer_id, invoice = _first_invoice(
        build, session, session_factory, "cpaas", [("option.caps.monthly", 1)]
    )
    payments.record_payment(
        session,
        customer_id,
        amount=Decimal("300.00"),
        method="transfer",
        received_on=date(2026, 2, 9),
        reference="VIR-300-TWICE",
    )

    def contest(amount: str) -> Dispute:
        return collection.file_dispute(
            session,
            customer_id,
            invoice.id,
            filed_on=date(2026, 2, 10),
            channel="email",
            contested_amount=Decimal(amount),
            reason="minimum facturé à tort",
            references=ALL_REFERENCES,
        )

    assert contest("120.00").status is DisputeStatus.OPEN
    # another 120.00 of the 420.00, already paid: admissible, but there is nothing more to
    # hold out of collection than the 120.00 unpaid (the contested part only is suspended)
    second = contest("120.00")
    assert (second.status, second.held_amount) == (DisputeStatus.OPEN, Decimal("0"))
    assert invoice.amount_disputed == Decimal("120.00")
    assert payments.outstanding(invoice) == Decimal("0")
    # 240.00 is already contested: 200.00 more would contest more than the invoice
    with pytest.raises(InvalidInput) as refused:
        contest("200.00")
    assert refused.value.field == "contested_amount"


# SPEC: BIL-07, BIL-06
def test_an_upheld_dispute_of_a_penalty_invoice_is_credited_without_vat(
    build: Builder, session: Session, session_factory: sessionmaker[Session]
) -> None:
    customer_id, _ = _first_invoice(
        build, session, session_factory, "cpaas", [("option.caps.monthly", 1)]
    )
    [penalty] = collection.issue_penalty_invoices(session, customer_id, date(2026, 4, 1))
    assert (penalty.total_vat, penalty.total_gross) == (Decimal("0"), Decimal("44.19"))
    dispute = collection.file_dispute(
        session,
        customer_id,
        penalty.id,
        filed_on=date(2026, 4, 2),
        channel="email",
        contested_amount=Decimal("44.19"),
        reason="retard dû à un prélèvement non présenté",
        references=ALL_REFERENCES,
    )
    collection.resolve_dispute(session, dispute, upheld=True, resolved_on=date(2026, 4, 3))
    note = session.get(Invoice, dispute.credit_note_id)
    assert note is not None
    # the credit note corrects an invoice outside the scope of VAT: it carries no VAT either
    assert (note.total_net, note.total_vat, note.total_gross) == (
        Decimal("44.19"),
        Decimal("0"),
        Decimal("44.19"),
    )
    assert {line.vat_category for line in note.lines} == {"E"}
    assert penalty.status is InvoiceStatus.CREDITED
    # and its e-invoice states why there is no VAT, as EN 16931 requires (BR-E-10)
    documents.validate_cii(documents.cii_xml(statements.invoice_document(session, note)))


# SPEC: BIL-06
def test_two_penalty_runs_at_once_issue_one_penalty_invoice(
    committed_factory: sessionmaker[Session],
) -> None:
    """The CLI and the API asked for the same day's penalties at the same time: the second
    waits for the first and finds its penalty invoice (no second 40 € indemnity)."""
    with committed_factory() as session:
        set_actor(session, system_actor("test"))
        build = Builder(session)
        customer_id, _ = _first_invoice(
            build, session, committed_factory, "cpaas", [("option.caps.monthly", 1)]
        )
        session.commit()
    issued: list[int] = []

    def run(session: Session) -> None:
        set_actor(session, system_actor("test"))
        issued.append(
            len(collection.issue_penalty_invoices(session, customer_id, date(2026, 4, 1)))
        )

    def second_runs() -> None:
        with committed_factory() as second:
            run(second)
            second.commit()

    first = committed_factory()
    try:
        run(first)
        commit_while_waited_for(first, second_runs)
    finally:
        first.close()
    assert issued == [1, 0]
    with committed_factory() as session:
        penalties = session.scalars(select(Invoice).where(Invoice.purpose.like("penalty:%"))).all()
        assert [p.total_gross for p in penalties] == [Decimal("44.19")]


@pytest.mark.parametrize(
    ("penalties_run", "interest"),
    [
        # 120.00 late 3 March - 1 May, 60 days at ECB 2.15 % + 10 = 12.15 %: 2.3967 -> 2.40
        (True, Decimal("2.40")),
        # held 10 February - 1 April: only 2 April - 1 May count, 30 days: 1.1984 -> 1.20
        (False, Decimal("1.20")),
    ],
)
# SPEC: BIL-07
def test_a_rejected_dispute_bears_penalties_for_the_held_period_only_if_the_terms_say_so(
    build: Builder,
    session: Session,
    session_factory: sessionmaker[Session],
    penalties_run: bool,
    interest: Decimal,
) -> None:
    customer = build.customer(payment_method=PaymentMethod.SEPA_DIRECT_DEBIT)
    build.contract(
        customer,
        "cpaas",
        date(2026, 1, 1),
        [("option.caps.monthly", 1)],
        {"disputes": {"penalties_run_if_rejected": penalties_run}},
    )
    session.commit()
    invoicing.run_period(session_factory, build.operator_id, "2026-01")
    session.expire_all()
    invoice = session.scalars(select(Invoice).where(Invoice.customer_id == customer.id)).one()
    assert (invoice.total_gross, invoice.due_date) == (Decimal("420.00"), date(2026, 3, 2))
    payments.record_payment(
        session,
        customer.id,
        amount=Decimal("300.00"),
        method="transfer",
        received_on=date(2026, 2, 9),
        reference="VIR-300",
    )
    dispute = collection.file_dispute(
        session,
        customer.id,
        invoice.id,
        filed_on=date(2026, 2, 10),
        channel="email",
        contested_amount=Decimal("120.00"),
        reason="minimum facturé à tort",
        references=ALL_REFERENCES,
    )
    assert dispute.held_amount == Decimal("120.00")
    collection.resolve_dispute(session, dispute, upheld=False, resolved_on=date(2026, 4, 1))
    assert dispute.status is DisputeStatus.REJECTED
    [late] = collection.late_invoices(session, customer.id, date(2026, 5, 1))
    assert (late.penalty.interest, late.penalty.indemnity) == (interest, Decimal("40.00"))
    [penalty] = collection.issue_penalty_invoices(session, customer.id, date(2026, 5, 1))
    assert penalty.total_gross == interest + Decimal("40.00")
