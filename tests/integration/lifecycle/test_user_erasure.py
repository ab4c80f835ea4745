"""CTR-09, PRIV-02: when a customer's data is deleted after the end of its contract, its user
accounts go with it — names, addresses and passwords replaced, logins, sessions and API keys
refused — while the rows stay under their ids for the audit log (SEC-02)."""

from __future__ import annotations

from datetime import date

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from operateur import scheduler
from operateur.accounts import service as accounts
from operateur.accounts.models import AuditEvent, Customer, Role, User
from operateur.accounts.permissions import system_actor
from operateur.accounts.schemas import UserIn
from operateur.contracts import lifecycle
from operateur.contracts.models import Contract, ContractStatus
from operateur.errors import Unauthenticated
from tests.integration.conftest import Builder

PASSWORD = "correct horse battery"
ENDED = date(2026, 3, 2)
PURGED = date(2026, 5, 1)  # crm-voip: 60 days after the end [000 §7.4]


def _people(session: Session, build: Builder, customer: Customer) -> tuple[User, User, str]:
    """An administrator and a user of the customer, and a key the administrator created."""
    made = [
        accounts.create_user(
            session,
            system_actor("test"),
            operator_id=build.operator_id,
            customer_id=customer.id,
            data=UserIn(email=email, display_name=name, password=PASSWORD, role=role),
        )
        for email, name, role in (
            ("jeanne.chef@client-efface.fr", "Jeanne Chef", Role.CUSTOMER_ADMIN),
            ("paul.agent@client-efface.fr", "Paul Agent", Role.CUSTOMER_USER),
        )
    ]
    _row, token, _user = accounts.login(
        session,
        made[0].email,
        PASSWORD,
        session_hours=24 * 365,
        max_failures=5,
        lockout_minutes=15,
        single_session=False,
    )
    admin = accounts.authenticate_token(session, token)
    assert admin is not None
    _key, key = accounts.create_api_key(
        session,
        admin,
        operator_id=build.operator_id,
        customer_id=customer.id,
        name="erp",
        role=Role.CUSTOMER_USER,
    )
    return made[0], made[1], key


def _login(session: Session, email: str) -> None:
    accounts.login(
        session,
        email,
        PASSWORD,
        session_hours=8,
        max_failures=5,
        lockout_minutes=15,
        single_session=False,
    )


# SPEC: CTR-09, PRIV-02, SEC-02
def test_users_are_anonymised_when_the_customers_data_is_deleted(
    build: Builder,
    session: Session,
    session_factory: sessionmaker[Session],
    client: TestClient,
) -> None:
    customer = build.customer(name="Client effacé")
    contract = build.contract(customer, "crm-voip", date(2026, 1, 5), [])
    admin, agent, key = _people(session, build, customer)
    lifecycle.terminate(session, contract, on=ENDED, reason="fin")
    session.commit()
    ids = (admin.id, agent.id)

    scheduler.run_once(session_factory, date(2026, 4, 30))  # the day before: nothing erased
    session.expire_all()
    assert session.get(User, admin.id).email == "jeanne.chef@client-efface.fr"  # type: ignore[union-attr]

    scheduler.run_once(session_factory, PURGED)
    session.expire_all()
    assert session.get(Contract, contract.id).status is ContractStatus.PURGED  # type: ignore[union-attr]
    users = [session.get(User, i) for i in ids]
    # the rows are there, under the same ids; nothing of the persons is left in them
    for user in users:
        assert user is not None and user.active is False
        assert user.email == f"user-{user.id}@erased.invalid"
        assert "Jeanne" not in user.display_name and "Paul" not in user.display_name
        assert not user.password_hash.startswith("$argon2")
        assert user.last_login_at is None
    # no login, no session, no API key works any more
    for email in ("jeanne.chef@client-efface.fr", users[0].email):  # type: ignore[union-attr]
        with pytest.raises(Unauthenticated):
            _login(session, email)
    refused = client.get(
        f"/api/v1/customers/{customer.id}", headers={"Authorization": f"Bearer {key}"}
    )
    assert refused.status_code == 401
    # the audit log records the erasure without the data it replaced
    erasure = session.scalars(
        select(AuditEvent).where(
            AuditEvent.entity == "users",
            AuditEvent.action == "update",
            AuditEvent.entity_id.in_([str(i) for i in ids]),
            AuditEvent.after["email"].as_string().like("%@erased.invalid"),
        )
    ).all()
    assert len(erasure) == 2 and all(e.before is None for e in erasure)
    assert "Jeanne" not in str([(e.before, e.after) for e in erasure])
    history = lifecycle.history(session, contract.id)
    assert history[-1].transition == "purge" and history[-1].details["users"] == 2


# SPEC: CTR-09, PRIV-02
def test_users_stay_while_another_contract_serves_the_customer(
    build: Builder, session: Session, session_factory: sessionmaker[Session]
) -> None:
    customer = build.customer(name="Client qui reste")
    ended = build.contract(customer, "crm-voip", date(2026, 1, 5), [])
    build.contract(customer, "centrex", date(2026, 1, 5), [])
    admin, _agent, _key = _people(session, build, customer)
    lifecycle.terminate(session, ended, on=ENDED, reason="fin")
    session.commit()
    scheduler.run_once(session_factory, PURGED)
    session.expire_all()
    assert session.get(Contract, ended.id).status is ContractStatus.PURGED  # type: ignore[union-attr]
    kept = session.get(User, admin.id)
    assert kept is not None and kept.email == "jeanne.chef@client-efface.fr"
    _login(session, kept.email)  # the customer's other contract still serves it
