"""Rate decks and usage stored once, rated, rejected with a reason (BIL-09)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from operateur.billing import invoicing, usage
from operateur.billing.models import Invoice, RateDeck, UsageRecord, UsageStatus
from operateur.contracts import service as contracts
from operateur.contracts.models import LineKind
from operateur.contracts.schemas import LineIn
from operateur.errors import InvalidInput
from tests.integration.conftest import Builder

DECK = """prefix,destination,price_per_minute,connection_fee,steps,min_seconds
33,France fixe,0.012,0,60/60,0
336,France mobile,0.05,0.01,30/6,0
"""


# SPEC: BIL-09, BIL-01
def test_usage_is_rated_once_billed_in_arrears_and_bad_rows_are_kept(
    build: Builder, session: Session, session_factory: sessionmaker[Session]
) -> None:
    usage.publish_deck(session, DECK, name="CPaaS 2026", offer_id="cpaas")
    customer = build.customer()
    contract = build.contract(customer, "cpaas", date(2026, 1, 1), [])
    line = contracts.create_line(
        session, customer.id, LineIn(contract_id=contract.id, kind=LineKind.TRUNK, label="API")
    )
    account = line.sip_username
    csv = (
        "call_id,account,caller,callee,start,answer,end,disposition\n"
        f"c1,{account},+33199000001,+33140000000,2026-01-05T10:00:00Z,2026-01-05T10:00:05Z,"
        "2026-01-05T10:01:10Z,ANSWERED\n"
        f"c2,{account},+33199000001,+33612345678,2026-01-05T11:00:00Z,2026-01-05T11:00:02Z,"
        "2026-01-05T11:00:40Z,ANSWERED\n"
        f"c3,{account},+33199000001,+33612345678,2026-01-05T12:00:00Z,,"
        "2026-01-05T12:00:20Z,NO ANSWER\n"
        "c4,nobody,+33199000001,+33140000000,2026-01-05T13:00:00Z,2026-01-05T13:00:01Z,"
        "2026-01-05T13:00:31Z,ANSWERED\n"
        f"c5,{account},+33199000001,+33140000000,not-a-date,,2026-01-05T13:00:31Z,ANSWERED\n"
    )
    report = usage.import_usage_csv(session, csv, source="csv")
    assert report.stored == 4 and report.duplicates == 0
    assert {r["call_id"]: r["reason"] for r in report.rejected} == {
        "c4": "unknown_account",
        "c5": "invalid_time",
    }
    again = usage.import_usage_csv(session, csv, source="csv")
    assert again.stored == 0 and again.duplicates == 4
    rows = {u.external_id: u for u in session.scalars(select(UsageRecord))}
    # c1: 65 s at 60/60 -> 120 s billed x 0.012/min = 0.024000
    assert (rows["c1"].billed_seconds, rows["c1"].cost) == (120, Decimal("0.024000"))
    # c2: 38 s at 30/6 -> 42 s x 0.05/min = 0.035 + 0.01 connection = 0.045000
    assert (rows["c2"].billed_seconds, rows["c2"].cost) == (42, Decimal("0.045000"))
    assert rows["c3"].cost == Decimal("0") and rows["c3"].status is UsageStatus.RATED
    assert rows["c4"].status is UsageStatus.REJECTED
    session.commit()
    invoicing.run_period(session_factory, build.operator_id, "2026-01")
    session.expire_all()
    invoice = session.scalars(select(Invoice).where(Invoice.customer_id == customer.id)).one()
    # France fixe 0.024 -> 0.02; France mobile 0.045 -> 0.05 (then the 200 € minimum)
    usage_lines = [(x.description, x.net_amount) for x in invoice.lines if x.source == "usage"]
    assert [amount for _, amount in usage_lines] == [Decimal("0.02"), Decimal("0.05")]


# SPEC: BIL-09
def test_a_deck_with_bad_rows_changes_nothing_and_names_every_row(session: Session) -> None:
    bad = DECK + "x1,Nowhere,0.1,0,60/60,0\n34,Espagne,-0.1,0,60/60,0\n35,Portugal,0.1,0,60/0,0\n"
    with pytest.raises(InvalidInput) as error:
        usage.publish_deck(session, bad, name="broken", offer_id="cpaas")
    assert [row["line"] for row in error.value.details["rows"]] == [4, 5, 6]
    assert session.scalars(select(RateDeck)).all() == []
