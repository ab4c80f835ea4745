"""SEC-01 [003 §4]: the number of administrator accounts a customer may have is a term of its
contract (``security.max_admin_accounts``; none: as many as needed)."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy.orm import Session

from operateur.accounts import service as accounts
from operateur.accounts.models import Role
from operateur.accounts.permissions import system_actor
from operateur.accounts.schemas import UserIn
from operateur.errors import Conflict
from tests.integration.conftest import Builder

PASSWORD = "correct horse battery"


def _add(session: Session, build: Builder, customer_id: int, email: str, role: Role) -> int:
    return accounts.create_user(
        session,
        system_actor(),
        operator_id=build.operator_id,
        customer_id=customer_id,
        data=UserIn(email=email, display_name=email, password=PASSWORD, role=role),
    ).id


# SPEC: SEC-01
def test_administrator_accounts_stop_at_the_terms_number(session: Session, build: Builder) -> None:
    customer = build.customer(name="Limité")
    build.contract(
        customer, "telecom", date(2026, 1, 5), [], overrides={"security": {"max_admin_accounts": 2}}
    )
    first = _add(session, build, customer.id, "a1@limite.fr", Role.CUSTOMER_ADMIN)
    _add(session, build, customer.id, "a2@limite.fr", Role.CUSTOMER_ADMIN)
    with pytest.raises(Conflict) as refused:
        _add(session, build, customer.id, "a3@limite.fr", Role.CUSTOMER_ADMIN)
    assert refused.value.field == "role"
    assert "2" in refused.value.render("fr") and "2" in refused.value.render("en")
    _add(session, build, customer.id, "u1@limite.fr", Role.CUSTOMER_USER)  # users: no limit
    accounts.deactivate_user(session, accounts.get_user(session, customer.id, first))
    _add(session, build, customer.id, "a3@limite.fr", Role.CUSTOMER_ADMIN)  # a free seat


# SPEC: SEC-01
def test_as_many_administrators_as_needed_when_the_terms_say_so(
    session: Session, build: Builder
) -> None:
    customer = build.customer(name="Libre")
    contract = build.contract(customer, "mail-security", date(2026, 1, 5), [])
    from operateur.contracts.service import terms_of

    assert terms_of(contract).security.max_admin_accounts is None  # [003 §4.1]
    for n in range(5):
        _add(session, build, customer.id, f"admin{n}@libre.fr", Role.CUSTOMER_ADMIN)
