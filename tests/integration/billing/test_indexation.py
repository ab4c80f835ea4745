"""Annual Syntec revision of subscription prices (CTR-13)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy.orm import Session

from operateur.billing import indexation
from operateur.contracts import service as contracts
from operateur.errors import InvalidInput
from tests.integration.conftest import Builder


# SPEC: CTR-13
def test_prices_follow_the_syntec_index_on_each_anniversary(
    build: Builder, session: Session
) -> None:
    customer = build.customer()
    contract = build.contract(customer, "telecom", date(2025, 3, 1), [("fixed.line", 1)])
    with pytest.raises(InvalidInput):  # no index recorded yet: the command says which
        indexation.apply_revisions(session, date(2026, 3, 1))
    # illustrative index values (the operator enters the published ones)
    indexation.record_index(session, "syntec", "2025-03", Decimal("300.0"), "test")
    indexation.record_index(session, "syntec", "2026-01", Decimal("306.0"), "test")
    assert indexation.apply_revisions(session, date(2026, 2, 28)) == []
    [revision] = indexation.apply_revisions(session, date(2026, 3, 1))
    # P = 25.00 x 306 / 300 = 25.5000
    assert revision.new_price == Decimal("25.5000")
    assert indexation.apply_revisions(session, date(2026, 3, 2)) == []  # once per anniversary
    indexation.record_index(session, "syntec", "2027-02", Decimal("312.0"), "test")
    [second] = indexation.apply_revisions(session, date(2027, 3, 1))
    # always from P0 and S0: 25.00 x 312 / 300 = 26.0000
    assert second.p0 == Decimal("25.00") and second.new_price == Decimal("26.0000")
    [sub] = contracts.list_subscriptions(session, contract)
    assert sub.unit_price_mrc == Decimal("26.0000")


# SPEC: CTR-13
def test_contracts_without_an_index_clause_keep_their_prices(
    build: Builder, session: Session
) -> None:
    customer = build.customer()
    contract = build.contract(customer, "crm-voip", date(2025, 3, 1), [("crm.licence", 1)])
    indexation.record_index(session, "syntec", "2025-03", Decimal("300.0"), "test")
    indexation.record_index(session, "syntec", "2026-02", Decimal("330.0"), "test")
    assert indexation.apply_revisions(session, date(2026, 3, 1)) == []
    [sub] = contracts.list_subscriptions(session, contract)
    assert sub.unit_price_mrc == Decimal("39.00")
