"""SEC-01 [001 §17] "one connection at a time per identifier": the rule of the Centrex terms
holds as long as the contract is served — during its notice period too."""

from __future__ import annotations

from datetime import date

from sqlalchemy.orm import Session

from operateur.accounts import service as accounts
from operateur.accounts.models import Role
from operateur.accounts.permissions import system_actor
from operateur.accounts.schemas import UserIn
from operateur.contracts import lifecycle
from operateur.contracts import service as contracts
from tests.integration.conftest import Builder

PASSWORD = "correct horse battery"


def _open(session: Session, customer_id: int, email: str) -> str:
    _row, token, _user = accounts.login(
        session,
        email,
        PASSWORD,
        session_hours=8,
        max_failures=5,
        lockout_minutes=15,
        single_session=contracts.single_session_required(session, customer_id),
    )
    return token


# SPEC: SEC-01
def test_one_connection_at_a_time_during_the_notice_period(
    session: Session, build: Builder
) -> None:
    customer = build.customer(name="Boulangerie")
    contract = build.contract(customer, "centrex", date(2026, 1, 5), [])
    assert contracts.terms_of(contract).security.single_session
    lifecycle.give_notice(
        session,
        contract,
        received_on=date(2026, 3, 2),
        ends_on=date(2026, 6, 30),
        reason="customer's notice",
        inform=False,
    )
    accounts.create_user(
        session,
        system_actor(),
        operator_id=build.operator_id,
        customer_id=customer.id,
        data=UserIn(
            email="gerant@boulangerie.fr",
            display_name="Gérant",
            password=PASSWORD,
            role=Role.CUSTOMER_ADMIN,
        ),
    )
    first = _open(session, customer.id, "gerant@boulangerie.fr")
    second = _open(session, customer.id, "gerant@boulangerie.fr")
    assert accounts.authenticate_token(session, second) is not None
    assert accounts.authenticate_token(session, first) is None  # the earlier connection ended
