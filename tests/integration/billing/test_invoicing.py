"""The billing run, with amounts checked to the cent against hand computations."""

from __future__ import annotations

import copy
import threading
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from operateur.accounts import service as accounts
from operateur.accounts.audit import set_actor
from operateur.accounts.models import Operator
from operateur.accounts.permissions import system_actor
from operateur.accounts.schemas import OperatorIn
from operateur.billing import invoicing, statements
from operateur.billing.models import (
    Invoice,
    InvoiceLine,
    LineSource,
    PendingCharge,
    PeriodUsage,
    UsageKind,
    UsageRecord,
    UsageStatus,
)
from operateur.catalog.terms import PaymentMethod
from operateur.contracts.models import Contract
from operateur.errors import Conflict
from tests.integration.conftest import Builder, new_siren


def _invoices(session: Session, customer_id: int) -> list[Invoice]:
    session.expire_all()
    return list(
        session.scalars(
            select(Invoice).where(Invoice.customer_id == customer_id).order_by(Invoice.id)
        )
    )


def _call(contract: Contract, call_id: str, cost: str, day: int = 5) -> UsageRecord:
    """A rated 60-second call to a French fixed number, started on ``day`` January 2026."""
    return UsageRecord(
        source="test",
        external_id=call_id,
        kind=UsageKind.VOICE,
        customer_id=contract.customer_id,
        contract_id=contract.id,
        account="acc",
        caller="+33199000001",
        callee="+33140000000",
        started_at=datetime(2026, 1, day, 10, tzinfo=UTC),
        disposition="ANSWERED",
        billable_seconds=60,
        billed_seconds=60,
        period="2026-01",
        status=UsageStatus.RATED,
        destination="France fixe",
        cost=Decimal(cost),
    )


def _lines(invoice: Invoice) -> list[tuple[str, str]]:
    return [(line.code, str(line.net_amount.quantize(Decimal("0.01")))) for line in invoice.lines]


# SPEC: BIL-01, BIL-02, BIL-04, BIL-05, BIL-11, BIL-17
def test_first_centrex_invoice_prorata_in_advance_ttc_prices_and_surcharge(
    build: Builder, session: Session, session_factory: sessionmaker[Session]
) -> None:
    customer = build.customer(payment_method=PaymentMethod.TRANSFER)
    build.contract(
        customer,
        "centrex",
        date(2026, 3, 10),
        [("centrex.access_fee", 2), ("centrex.line", 2)],
    )
    session.commit()
    invoicing.run_period(session_factory, build.operator_id, "2026-03")
    [march] = _invoices(session, customer.id)
    # Centrex prices are TTC [001 §11.1]: HT = TTC / 1.2.
    # access fee 60.00 TTC -> 50.0000 HT, x2 = 100.00
    # line 29.90 TTC -> 24.916667 HT a month; 10-31 March = 22/31 -> 17.6828, x2 = 35.37
    # April in advance: 24.9167 x2 = 49.83
    # surcharge for paying by transfer instead of SEPA debit: 10.00 HT [001 §11.2]
    assert _lines(march) == [
        ("centrex.access_fee", "100.00"),
        ("centrex.line", "35.37"),
        ("centrex.line", "49.83"),
        ("payment_method_surcharge", "10.00"),
    ]
    assert march.total_net == Decimal("195.20")
    assert march.total_vat == Decimal("39.04")
    assert march.total_gross == Decimal("234.24")
    assert march.issue_date == date(2026, 3, 31)  # BIL-03 last day of the month
    assert march.due_date == date(2026, 4, 10)  # BIL-04 10 days from issue [001 §11.2]
    assert march.number == "F2026-000001"

    invoicing.run_period(session_factory, build.operator_id, "2026-04")
    april = _invoices(session, customer.id)[1]
    # May in advance 49.83 + surcharge 10.00 = 59.83; VAT 11.97; TTC 71.80
    assert _lines(april) == [("centrex.line", "49.83"), ("payment_method_surcharge", "10.00")]
    assert (april.total_net, april.total_vat, april.total_gross) == (
        Decimal("59.83"),
        Decimal("11.97"),
        Decimal("71.80"),
    )
    assert april.number == "F2026-000002"


# SPEC: BIL-08, BIL-09, BIL-01
def test_cpaas_usage_in_arrears_and_minimum_commitment_shortfall(
    build: Builder, session: Session, session_factory: sessionmaker[Session]
) -> None:
    customer = build.customer(payment_method=PaymentMethod.SEPA_DIRECT_DEBIT)
    contract = build.contract(customer, "cpaas", date(2026, 1, 1), [("numbers.geographic", 2)])
    for n, cost in enumerate(["10.000000", "2.345678"]):
        session.add(_call(contract, f"call-{n}", cost))
    session.commit()
    invoicing.run_period(session_factory, build.operator_id, "2026-01")
    [january] = _invoices(session, customer.id)
    # January and February numbers: 2 x 1.00 each; usage 12.345678 -> 12.35
    # minimum 200.00 HT [002 §24.4]: January counts 2.00 + 12.35 = 14.35 -> shortfall 185.65
    assert _lines(january) == [
        ("numbers.geographic", "2.00"),
        ("numbers.geographic", "2.00"),
        ("usage.voice", "12.35"),
        ("minimum_commitment", "185.65"),
    ]
    assert january.total_net == Decimal("202.00")
    assert january.total_gross == Decimal("242.40")
    assert january.due_date == date(2026, 3, 2)  # BIL-04 30 days from issue [002 §12.3.2]
    totals = session.scalars(select(PeriodUsage).where(PeriodUsage.contract_id == contract.id))
    assert [(t.calls, t.cost, t.invoice_id) for t in totals] == [
        (2, Decimal("12.345678"), january.id)
    ]


# SPEC: BIL-03, CTR-03
def test_annual_mail_contract_invoiced_on_the_last_day_of_the_first_month(
    build: Builder, session: Session, session_factory: sessionmaker[Session]
) -> None:
    customer = build.customer()
    build.contract(
        customer, "mail-security", date(2026, 2, 1), [("mail_in.mailbox", 25), ("mail.domain", 2)]
    )
    session.commit()
    for period in ["2026-01", "2026-02", "2026-03", "2026-12", "2027-01"]:
        invoicing.run_period(session_factory, build.operator_id, period)
    [first] = _invoices(session, customer.id)
    # 25 mailboxes x 1.20 x 12 = 360.00; 2 domains x 2.00 x 12 = 48.00
    assert _lines(first) == [("mail_in.mailbox", "360.00"), ("mail.domain", "48.00")]
    assert first.issue_date == date(2026, 2, 28)
    assert first.due_date == date(2026, 3, 30)  # 30 days from receipt [003 §6.2]
    invoicing.run_period(session_factory, build.operator_id, "2027-02")
    assert len(_invoices(session, customer.id)) == 2


# SPEC: BIL-11
def test_eu_business_customer_is_invoiced_under_reverse_charge(
    build: Builder, session: Session, session_factory: sessionmaker[Session]
) -> None:
    customer = build.customer(country="BE", vat_number="BE0403170701")
    build.contract(customer, "cpaas", date(2026, 5, 1), [("option.caps.monthly", 1)])
    session.commit()
    invoicing.run_period(session_factory, build.operator_id, "2026-05")
    [invoice] = _invoices(session, customer.id)
    assert invoice.reverse_charge is True
    assert invoice.total_vat == Decimal("0")
    assert {line.vat_category for line in invoice.lines} == {"AE"}


# SPEC: BIL-16
def test_pending_credits_are_deducted_from_the_next_invoice(
    build: Builder, session: Session, session_factory: sessionmaker[Session]
) -> None:
    customer = build.customer()
    contract = build.contract(customer, "crm-voip", date(2026, 6, 1), [("crm.licence", 3)])
    session.add(
        PendingCharge(
            customer_id=customer.id,
            contract_id=contract.id,
            source=LineSource.CREDIT,
            code="sla.credit",
            description="Avoir SLA mai",
            amount=Decimal("-15.00"),
            idempotency_key="sla:1",
        )
    )
    session.commit()
    invoicing.run_period(session_factory, build.operator_id, "2026-06")
    [june] = _invoices(session, customer.id)
    # June and July licences 3 x 39.00 each = 117.00 + 117.00, credit -15.00
    assert _lines(june) == [
        ("crm.licence", "117.00"),
        ("crm.licence", "117.00"),
        ("sla.credit", "-15.00"),
    ]
    assert june.total_net == Decimal("219.00")
    invoicing.run_period(session_factory, build.operator_id, "2026-07")
    july = _invoices(session, customer.id)[1]
    assert "sla.credit" not in {line.code for line in july.lines}


def test_a_rerun_issues_nothing_and_numbers_have_no_gaps(
    build: Builder, session: Session, session_factory: sessionmaker[Session]
) -> None:
    for n in range(5):
        build.contract(
            build.customer(name=f"C{n}"), "crm-voip", date(2026, 1, 1), [("crm.licence", 1)]
        )
    session.commit()
    first = invoicing.run_period(session_factory, build.operator_id, "2026-01", chunk_size=2)
    again = invoicing.run_period(session_factory, build.operator_id, "2026-01", chunk_size=2)
    assert len(first.issued) == 5 and again.issued == [] and again.skipped == 5
    numbers = sorted(session.scalars(select(Invoice.number)))
    assert numbers == [f"F2026-{n:06d}" for n in range(1, 6)]


# SPEC: BIL-03
def test_each_operator_numbers_its_own_invoices(
    build: Builder, session: Session, session_factory: sessionmaker[Session], tmp_path: Path
) -> None:
    """Two operators on one platform: each bills its month, each from F2026-000001."""
    other = copy.copy(build)
    other.operator_id = accounts.create_operator(
        session,
        OperatorIn(
            name="Second Opérateur",
            legal_form="SAS",
            siren=new_siren(),
            address_line="2 quai du Test",
            postal_code="33000",
            city="Bordeaux",
            email="contact@second-operateur.fr",
            iban="FR7630004000031234567890143",  # shown on invoices paid by transfer
            bic="BNPAFRPPXXX",
        ),
    ).id
    first = session.get(Operator, build.operator_id)
    assert first is not None
    first.iban, first.bic = "FR7630006000011234567890189", "AGRIFRPPXXX"
    for builder in (build, other):
        builder.contract(builder.customer(), "crm-voip", date(2026, 1, 1), [("crm.licence", 1)])
    session.commit()
    for builder in (build, other):
        assert (
            len(invoicing.run_period(session_factory, builder.operator_id, "2026-01").issued) == 1
        )
    invoices = session.scalars(select(Invoice).order_by(Invoice.operator_id)).all()
    assert [(i.operator_id, i.number) for i in invoices] == [
        (build.operator_id, "F2026-000001"),
        (other.operator_id, "F2026-000001"),
    ]
    pdfs = {statements.invoice_pdf(session, i, tmp_path) for i in invoices}
    assert len(pdfs) == 2  # each operator's own document, not the other's under the same name


def test_an_issued_invoice_is_immutable(
    build: Builder, session: Session, session_factory: sessionmaker[Session]
) -> None:
    customer = build.customer()
    build.contract(customer, "crm-voip", date(2026, 1, 1), [("crm.licence", 1)])
    session.commit()
    invoicing.run_period(session_factory, build.operator_id, "2026-01")
    [invoice] = _invoices(session, customer.id)
    invoice.total_net = Decimal("1")
    with pytest.raises(Conflict):
        session.flush()
    session.rollback()
    line = session.scalars(select(InvoiceLine)).first()
    assert line is not None
    session.delete(line)
    with pytest.raises(Conflict):
        session.flush()


def test_a_bad_period_names_the_field(
    build: Builder, session_factory: sessionmaker[Session]
) -> None:
    with pytest.raises(Exception) as error:
        invoicing.run_period(session_factory, build.operator_id, "2026-13")
    assert getattr(error.value, "field", None) == "period"


def test_corrections_are_credit_notes_in_the_same_sequence(
    build: Builder, session: Session, session_factory: sessionmaker[Session]
) -> None:
    customer = build.customer()
    build.contract(customer, "crm-voip", date(2026, 1, 1), [("crm.licence", 1)])
    session.commit()
    invoicing.run_period(session_factory, build.operator_id, "2026-01")
    [invoice] = _invoices(session, customer.id)
    # January + February licences: 78.00 HT, 93.60 TTC
    partial = invoicing.credit_note(
        session,
        invoice,
        reason="geste commercial",
        issue_date=date(2026, 2, 3),
        amount_net=Decimal("10.00"),
    )
    assert partial.kind.value == "credit_note" and partial.number == "F2026-000002"
    assert partial.total_gross == Decimal("12.00")
    assert invoice.amount_credited == Decimal("12.00")
    with pytest.raises(Exception) as error:
        invoicing.credit_note(
            session,
            invoice,
            reason="trop",
            issue_date=date(2026, 2, 3),
            amount_net=Decimal("70.00"),
        )
    assert getattr(error.value, "field", None) == "amount_net"
    rest = invoicing.credit_note(
        session,
        invoice,
        reason="solde",
        issue_date=date(2026, 2, 4),
        amount_net=Decimal("68.00"),
    )
    assert rest.total_gross == Decimal("81.60")
    assert invoice.status.value == "credited"


def test_concurrent_runs_issue_each_invoice_once_with_gapless_numbers(
    committed_factory: sessionmaker[Session],
) -> None:
    """Two billing runs of the same period race on separate connections: every contract is
    invoiced once and the numbers run 1..N without a gap."""
    with committed_factory() as session:
        set_actor(session, system_actor("test"))
        build = Builder(session)
        for n in range(12):
            build.contract(
                build.customer(name=f"C{n}"), "crm-voip", date(2026, 1, 1), [("crm.licence", 1)]
            )
        session.commit()
        operator_id = build.operator_id
    errors: list[BaseException] = []
    barrier = threading.Barrier(2)

    def run() -> None:
        barrier.wait()
        try:
            invoicing.run_period(committed_factory, operator_id, "2026-01", chunk_size=3)
        except BaseException as error:  # reported below
            errors.append(error)

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    with committed_factory() as session:
        numbers = sorted(session.scalars(select(Invoice.number)))
        contracts_invoiced = list(session.scalars(select(Invoice.contract_id)))
    assert numbers == [f"F2026-{n:06d}" for n in range(1, 13)]
    assert len(set(contracts_invoiced)) == 12


# SPEC: BIL-01, BIL-09
def test_usage_reported_after_its_month_was_invoiced_is_billed_on_the_next_invoice(
    build: Builder, session: Session, session_factory: sessionmaker[Session]
) -> None:
    customer = build.customer(payment_method=PaymentMethod.SEPA_DIRECT_DEBIT)
    contract = build.contract(customer, "cpaas", date(2026, 1, 1), [("numbers.geographic", 2)])
    session.add(_call(contract, "on-time", "10.000000"))
    session.commit()
    invoicing.run_period(session_factory, build.operator_id, "2026-01")
    session.add(_call(contract, "late", "3.004000", day=31))  # a January call sent in February
    session.commit()
    invoicing.run_period(session_factory, build.operator_id, "2026-02")
    january, february = _invoices(session, customer.id)
    assert ("usage.voice", "10.00") in _lines(january)
    assert ("usage.voice", "3.00") in _lines(february)  # 3.004 rounded, billed once
    totals = session.scalars(
        select(PeriodUsage).where(PeriodUsage.contract_id == contract.id).order_by(PeriodUsage.id)
    )
    assert [(t.calls, t.invoice_id) for t in totals] == [(1, january.id), (1, february.id)]


# SPEC: BIL-09
def test_a_rated_usage_record_cannot_be_changed(build: Builder, session: Session) -> None:
    customer = build.customer()
    contract = build.contract(customer, "cpaas", date(2026, 1, 1), [("numbers.geographic", 1)])
    call = _call(contract, "call", "1.000000")
    session.add(call)
    session.flush()
    call.cost = Decimal("0.5")
    with pytest.raises(Conflict) as raised:
        session.flush()
    assert raised.value.code == "usage_record_immutable"


# SPEC: BIL-10
def test_prepaid_usage_paid_from_the_wallet_is_not_invoiced_again(
    build: Builder, session: Session, session_factory: sessionmaker[Session]
) -> None:
    customer = build.customer(payment_method=PaymentMethod.PREPAID)
    contract = build.contract(customer, "cpaas", date(2026, 1, 1), [("numbers.geographic", 2)])
    session.add(_call(contract, "paid-from-wallet", "10.000000"))
    session.commit()
    invoicing.run_period(session_factory, build.operator_id, "2026-01")
    [january] = _invoices(session, customer.id)
    assert [code for code, _ in _lines(january)][:2] == ["numbers.geographic"] * 2
    assert "usage.voice" not in [code for code, _ in _lines(january)]


# SPEC: BIL-10, BIL-13
def test_prepaid_usage_is_never_invoiced_early_either(
    build: Builder, session: Session, session_factory: sessionmaker[Session]
) -> None:
    customer = build.customer(payment_method=PaymentMethod.PREPAID)
    contract = build.contract(
        customer,
        "cpaas",
        date(2026, 1, 1),
        [("numbers.geographic", 1)],
        overrides={"billing": {"early_invoicing_threshold": "5.00"}},
    )
    session.add(_call(contract, "paid-from-wallet-early", "10.000000"))
    session.flush()
    # 10.00 of usage is above the 5.00 threshold, but the wallet has already paid it
    assert invoicing.interim_invoice(session, contract, date(2026, 1, 20)) is None
