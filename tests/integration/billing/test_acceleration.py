"""One late invoice makes every open invoice due (BIL-06 [000 §6; 004 §9.3, §9.5]): penalties
and dunning count those invoices as due from that day."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from operateur.billing import collection, invoicing
from operateur.billing.models import Invoice
from operateur.catalog.terms import PaymentMethod
from operateur.contracts import dunning
from operateur.portal import queries
from tests.integration.conftest import Builder


def _two_months_unpaid(
    build: Builder, session: Session, factory: sessionmaker[Session], *, accelerate: bool
) -> tuple[int, Invoice, Invoice]:
    customer = build.customer(payment_method=PaymentMethod.TRANSFER)
    overrides: dict[str, object] = (
        {} if accelerate else {"late_payment": {"accelerate_all_open_invoices": False}}
    )
    build.contract(customer, "crm-voip", date(2026, 1, 1), [("crm.licence", 2)], overrides)
    session.commit()
    invoicing.run_period(factory, build.operator_id, "2026-01")
    invoicing.run_period(factory, build.operator_id, "2026-02")
    session.expire_all()
    january, february = session.scalars(
        select(Invoice).where(Invoice.customer_id == customer.id).order_by(Invoice.id)
    ).all()
    # [000 §6] due 7 days after issue: January 187.20 TTC due 7 Feb; February 93.60 TTC,
    # issued 28 Feb, due 7 Mar
    assert (january.total_gross, january.due_date) == (Decimal("187.20"), date(2026, 2, 7))
    assert (february.issue_date, february.total_gross, february.due_date) == (
        date(2026, 2, 28),
        Decimal("93.60"),
        date(2026, 3, 7),
    )
    return customer.id, january, february


# SPEC: BIL-06
def test_an_invoice_issued_while_another_is_late_is_due_at_once(
    build: Builder, session: Session, session_factory: sessionmaker[Session]
) -> None:
    customer_id, january, february = _two_months_unpaid(
        build, session, session_factory, accelerate=True
    )
    # January unpaid since 8 Feb: every open invoice is due; February from its issue
    assert collection.due_dates(session, customer_id, date(2026, 3, 10)) == {
        january.id: date(2026, 2, 7),
        february.id: date(2026, 2, 28),
    }
    late = {
        row.invoice.id: row
        for row in collection.late_invoices(session, customer_id, date(2026, 3, 10))
    }
    # February is 10 days late on 10 March, more than 7: 10 % of 93.60 = 9.36, plus 40.00
    assert late[february.id].penalty.days_late == 10
    assert (late[february.id].penalty.interest, late[february.id].penalty.indemnity) == (
        Decimal("9.36"),
        Decimal("40.00"),
    )
    # January: 31 days late, 10 % of 187.20 = 18.72, plus 40.00
    assert late[january.id].penalty.interest == Decimal("18.72")


# SPEC: BIL-06
def test_without_the_clause_each_invoice_keeps_its_own_due_date(
    build: Builder, session: Session, session_factory: sessionmaker[Session]
) -> None:
    customer_id, january, february = _two_months_unpaid(
        build, session, session_factory, accelerate=False
    )
    assert collection.due_dates(session, customer_id, date(2026, 3, 10))[february.id] == date(
        2026, 3, 7
    )
    late = {
        row.invoice.id: row
        for row in collection.late_invoices(session, customer_id, date(2026, 3, 10))
    }
    # 3 days late, not more than 7: only the 40.00 indemnity
    assert late[february.id].penalty.days_late == 3
    assert (late[february.id].penalty.interest, late[february.id].penalty.indemnity) == (
        Decimal("0.00"),
        Decimal("40.00"),
    )


# SPEC: BIL-06
def test_a_late_invoice_of_another_contract_does_not_accelerate_this_one(
    build: Builder, session: Session, session_factory: sessionmaker[Session]
) -> None:
    # [000 §6] "le défaut ... de paiement à l'échéance de toute somme due au titre du contrat
    # entraînera ... l'exigibilité immédiate de toutes les sommes restantes dues par le Client
    # au titre du contrat": a contract's clause reads the sums of that contract only
    customer = build.customer(payment_method=PaymentMethod.TRANSFER)
    late_one = build.contract(customer, "crm-voip", date(2026, 1, 1), [("crm.licence", 2)])
    other = build.contract(customer, "crm-voip", date(2026, 2, 1), [("crm.licence", 2)])
    session.commit()
    invoicing.run_period(session_factory, build.operator_id, "2026-01")
    invoicing.run_period(session_factory, build.operator_id, "2026-02")
    session.expire_all()
    [other_february] = session.scalars(select(Invoice).where(Invoice.contract_id == other.id)).all()
    late_january = session.scalars(
        select(Invoice).where(Invoice.contract_id == late_one.id).order_by(Invoice.id)
    ).first()
    assert late_january is not None and late_january.due_date == date(2026, 2, 7)
    assert other_february.due_date == date(2026, 3, 7)
    due = collection.due_dates(session, customer.id, date(2026, 3, 5))
    # the first contract's January invoice, unpaid since 8 February, makes its own February
    # invoice due; the other contract's invoice stays due on its own date
    assert due[other_february.id] == date(2026, 3, 7)
    assert collection.late_invoices(session, customer.id, date(2026, 3, 5)) != []
    assert other_february.id not in {
        row.invoice.id for row in collection.late_invoices(session, customer.id, date(2026, 3, 5))
    }


# SPEC: BIL-06, CTR-06
def test_dunning_reminds_an_accelerated_invoice_from_the_day_it_became_due(
    build: Builder, session: Session, session_factory: sessionmaker[Session]
) -> None:
    customer_id, january, february = _two_months_unpaid(
        build, session, session_factory, accelerate=True
    )
    taken = dunning.run(session, date(2026, 3, 5))
    # February is due from its issue on 28 Feb: reminded on 1 March, before its own 7 March
    assert f"reminder:{february.number}" in taken
    reminder = session.scalars(
        select(dunning.DunningStep).where(
            dunning.DunningStep.invoice_id == february.id,
            dunning.DunningStep.step == "reminder",
        )
    ).one()
    assert reminder.on == date(2026, 3, 1)


# SPEC: BIL-06, CTR-06
def test_dunning_without_the_clause_waits_for_the_invoice_own_due_date(
    build: Builder, session: Session, session_factory: sessionmaker[Session]
) -> None:
    customer_id, january, february = _two_months_unpaid(
        build, session, session_factory, accelerate=False
    )
    taken = dunning.run(session, date(2026, 3, 5))
    assert f"reminder:{january.number}" in taken
    assert f"reminder:{february.number}" not in taken


# SPEC: BIL-06
def test_the_portal_shows_an_accelerated_invoice_as_overdue(
    build: Builder, session: Session, session_factory: sessionmaker[Session]
) -> None:
    customer_id, january, february = _two_months_unpaid(
        build, session, session_factory, accelerate=True
    )
    # on 3 March February (93.60, its own due date 7 March) is already due: the customer's
    # overdue figure counts it, and the staff's dunning queue lists it as late since 28 Feb
    money = queries.balance(session, customer_id, date(2026, 3, 3))
    assert money.overdue == Decimal("280.80")
    assert [i.number for i in money.late_invoices] == [january.number, february.number]
    queue = {row.invoice.id: row for row in queries.dunning_queue(session, None, date(2026, 3, 3))}
    assert queue[february.id].days_late == 3
    assert queue[february.id].plan.reminder_on == date(2026, 3, 1)


# SPEC: BIL-06
def test_the_portal_keeps_the_own_due_date_without_the_clause(
    build: Builder, session: Session, session_factory: sessionmaker[Session]
) -> None:
    customer_id, january, february = _two_months_unpaid(
        build, session, session_factory, accelerate=False
    )
    money = queries.balance(session, customer_id, date(2026, 3, 3))
    assert money.overdue == Decimal("187.20")
    queue = {row.invoice.id for row in queries.dunning_queue(session, None, date(2026, 3, 3))}
    assert january.id in queue and february.id not in queue
