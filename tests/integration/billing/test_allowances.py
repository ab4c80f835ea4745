"""Calls included in plans, and the abuse of unlimited plans (BIL-15)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from operateur.billing import allowances, invoicing, usage
from operateur.billing.models import Invoice
from operateur.catalog.terms import PaymentMethod
from operateur.contracts import service as contracts
from operateur.contracts.models import Contract, LineKind
from operateur.contracts.schemas import LineIn
from tests.integration.conftest import Builder

DECK = """prefix,destination,price_per_minute,connection_fee,steps,min_seconds
33,France,0.05,0,60/60,0
44,Royaume-Uni,0.20,0,60/60,0
"""


def _mobile_customer(build: Builder, session: Session, name: str) -> tuple[int, Contract]:
    customer = build.customer(name=name, payment_method=PaymentMethod.SEPA_DIRECT_DEBIT)
    contract = build.contract(customer, "telecom", date(2026, 1, 1), [("mobile.line", 2)])
    line = contracts.create_line(
        session, customer.id, LineIn(contract_id=contract.id, kind=LineKind.MOBILE, label="M")
    )
    start = datetime(2026, 1, 8, 9, tzinfo=UTC)
    for n, (callee, minutes) in enumerate([("+33140000000", 10), ("+442079460000", 5)]):
        usage.record_call(
            session,
            usage.CallData(
                source="test",
                call_id=f"{name}-{n}",
                account=line.sip_username,
                caller="+33199000001",
                callee=callee,
                start=start,
                answer=start,
                end=start + timedelta(minutes=minutes),
                disposition="ANSWERED",
            ),
        )
    return customer.id, contract


def _usage_lines(session: Session, customer_id: int) -> list[tuple[str, Decimal]]:
    invoice = session.scalars(select(Invoice).where(Invoice.customer_id == customer_id)).one()
    return [
        (line.code, line.net_amount)
        for line in invoice.lines
        if line.code.startswith(("usage", "allowance", "unlimited"))
    ]


# SPEC: BIL-15, BIL-09
def test_unlimited_plan_includes_calls_to_france_until_abused(
    build: Builder, session: Session, session_factory: sessionmaker[Session]
) -> None:
    usage.publish_deck(session, DECK, name="Telecom", offer_id="telecom")
    normal, _ = _mobile_customer(build, session, "normal")
    abuser, contract = _mobile_customer(build, session, "abuser")
    allowances.flag_unlimited_abuse(
        session, contract, "2026-01", lines=2, evidence="fraud rule: 900 distinct numbers"
    )
    session.commit()
    invoicing.run_period(session_factory, build.operator_id, "2026-01")
    session.expire_all()
    # 10 min to France at 0.05 = 0.50 (included); 5 min to the UK at 0.20 = 1.00 (billed)
    assert _usage_lines(session, normal) == [
        ("usage.voice", Decimal("0.50")),
        ("usage.voice", Decimal("1.00")),
        ("allowance", Decimal("-0.50")),
    ]
    # abused: everything at metered prices, plus 200.00 HT per line x 2 [004 §7.1.2]
    assert _usage_lines(session, abuser) == [
        ("usage.voice", Decimal("0.50")),
        ("usage.voice", Decimal("1.00")),
        ("unlimited_abuse", Decimal("400.00")),
    ]


# SPEC: BIL-15
def test_after_an_abuse_the_flat_rate_does_not_come_back(
    build: Builder, session: Session, session_factory: sessionmaker[Session]
) -> None:
    """[004 §7.1.2] "sans droit de retour à une offre Illimitée forfaitisée": the month after
    the abuse is billed at metered prices too, without a second fee per line."""
    usage.publish_deck(session, DECK, name="Telecom", offer_id="telecom")
    abuser, contract = _mobile_customer(build, session, "abuser")
    allowances.flag_unlimited_abuse(
        session, contract, "2026-01", lines=2, evidence="fraud rule: 900 distinct numbers"
    )
    session.commit()
    invoicing.run_period(session_factory, build.operator_id, "2026-01")
    line = contracts.list_lines(session, abuser)[0]
    start = datetime(2026, 2, 10, 9, tzinfo=UTC)
    usage.record_call(
        session,
        usage.CallData(
            source="test",
            call_id="abuser-february",
            account=line.sip_username,
            caller="+33199000001",
            callee="+33140000000",
            start=start,
            answer=start,
            end=start + timedelta(minutes=20),
            disposition="ANSWERED",
        ),
    )
    session.commit()
    invoicing.run_period(session_factory, build.operator_id, "2026-02")
    session.expire_all()
    february = session.scalars(
        select(Invoice).where(Invoice.customer_id == abuser, Invoice.period == "2026-02")
    ).one()
    usage_lines = [
        (line.code, line.net_amount)
        for line in february.lines
        if line.code.startswith(("usage", "allowance", "unlimited"))
    ]
    # 20 min to France at 0.05 = 1.00, billed: no deduction, no second 200 € per line
    assert usage_lines == [("usage.voice", Decimal("1.00"))]


def test_finite_allowance_includes_its_minutes_at_the_average_price() -> None:
    pool = allowances.Pool(seconds=600, unlimited=False, prefixes=("33",))
    # 10 included minutes out of 40 covered minutes costing 2.00: a quarter, 0.50
    assert allowances.included_cost(pool, 2400, Decimal("2.00"), unlimited_void=False) == Decimal(
        "0.50"
    )
    assert allowances.included_cost(pool, 300, Decimal("0.25"), unlimited_void=False) == Decimal(
        "0.25"
    )


CENTREX_DECK = """prefix,destination,price_per_minute,connection_fee,steps,min_seconds
331,France fixe,0.012,0,60/60,0
44,Royaume-Uni,0.24,0,60/60,0
"""


# SPEC: BIL-13
def test_out_of_plan_usage_above_the_threshold_is_invoiced_early(
    build: Builder, session: Session, session_factory: sessionmaker[Session]
) -> None:
    usage.publish_deck(session, CENTREX_DECK, name="Centrex", offer_id="centrex")
    customer = build.customer(payment_method=PaymentMethod.SEPA_DIRECT_DEBIT)
    contract = build.contract(customer, "centrex", date(2026, 1, 1), [("centrex.line", 1)])
    line = contracts.create_line(
        session, customer.id, LineIn(contract_id=contract.id, kind=LineKind.CENTREX, label="L")
    )
    start = datetime(2026, 1, 8, 9, tzinfo=UTC)

    def call(n: int, callee: str, minutes: int) -> None:
        usage.record_call(
            session,
            usage.CallData(
                source="test",
                call_id=f"c{n}",
                account=line.sip_username,
                caller="+33199000001",
                callee=callee,
                start=start,
                answer=start,
                end=start + timedelta(minutes=minutes),
                disposition="ANSWERED",
            ),
        )

    call(1, "+442079460000", 500)  # 500 min x 0.24 TTC = 120.00 TTC = 100.00 HT
    call(2, "+33140000000", 600)  # included in the Centrex plan
    assert invoicing.interim_invoice(session, contract, date(2026, 1, 15)) is None
    call(3, "+442079460001", 400)  # 96.00 TTC more: out of plan 180.00 HT > 150.00 [001 §11.2]
    interim = invoicing.interim_invoice(session, contract, date(2026, 1, 20))
    assert interim is not None
    # UK 216.00 TTC -> 180.00 HT; France 7.20 TTC -> 6.00 HT, deducted as included
    assert [(x.code, x.net_amount) for x in interim.lines] == [
        ("usage.voice", Decimal("6.00")),
        ("usage.voice", Decimal("180.00")),
        ("allowance", Decimal("-6.00")),
    ]
    assert interim.purpose == "interim:2026-01:1"
    assert invoicing.interim_invoice(session, contract, date(2026, 1, 21)) is None
    session.commit()
    invoicing.run_period(session_factory, build.operator_id, "2026-01")
    session.expire_all()
    monthly = session.scalars(
        select(Invoice).where(Invoice.customer_id == customer.id, Invoice.purpose == "period")
    ).one()
    assert "usage.voice" not in {x.code for x in monthly.lines}
