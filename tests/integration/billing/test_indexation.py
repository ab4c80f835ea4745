"""Annual Syntec revision of subscription prices (CTR-13)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import pytest
from sqlalchemy.orm import Session

from operateur.billing import indexation
from operateur.contracts import service as contracts
from operateur.contracts.models import ContractStatus
from operateur.contracts.schemas import SubscriptionIn
from operateur.domain.calendar import PARIS
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


# SPEC: CTR-13
def test_s0_is_the_index_in_force_when_the_contract_was_signed(
    build: Builder, session: Session
) -> None:
    """[004 §9.6.3] "So = valeur de l'indice Syntec en vigueur à la date où le présent Contrat a
    été établi": the line installed two months after signature does not move S0."""
    customer = build.customer()
    contract = contracts.create_contract(session, customer, "telecom", {})
    contracts.sign(session, contract, "Signataire", datetime(2025, 1, 15, 9, tzinfo=PARIS))
    contracts.activate(session, contract, date(2025, 3, 1))
    contracts.add_subscription(
        session, contract, SubscriptionIn(item_code="fixed.line", quantity=1)
    )
    indexation.record_index(session, "syntec", "2024-12", Decimal("300.0"), "test")
    indexation.record_index(session, "syntec", "2025-03", Decimal("303.0"), "test")
    indexation.record_index(session, "syntec", "2026-02", Decimal("306.0"), "test")
    [revision] = indexation.apply_revisions(session, date(2026, 3, 1))
    # S0 = 300 (December 2024, the latest by the signature), not March 2025's 303:
    # P = 25.00 x 306 / 300 = 25.5000
    assert (revision.s0, revision.new_price) == (Decimal("300.0"), Decimal("25.5000"))


# SPEC: CTR-13
def test_a_contract_under_notice_is_still_revised_until_it_ends(
    build: Builder, session: Session
) -> None:
    customer = build.customer()
    contract = build.contract(customer, "telecom", date(2025, 3, 1), [("fixed.line", 1)])
    contract.status = ContractStatus.NOTICE_GIVEN  # still served until ends_on
    contract.notice_given_on, contract.ends_on = date(2026, 1, 10), date(2026, 6, 30)
    indexation.record_index(session, "syntec", "2025-03", Decimal("300.0"), "test")
    indexation.record_index(session, "syntec", "2026-01", Decimal("306.0"), "test")
    [revision] = indexation.apply_revisions(session, date(2026, 3, 1))
    assert revision.new_price == Decimal("25.5000")
