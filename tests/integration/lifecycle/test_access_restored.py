"""CTR-09: a customer who signs a new contract during the read-only window after termination
gets its administrators' roles back, and the scheduled end of access leaves them alone."""

from __future__ import annotations

from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from operateur import scheduler
from operateur.accounts import service as accounts
from operateur.accounts.models import Role
from operateur.accounts.permissions import system_actor
from operateur.accounts.schemas import UserIn
from operateur.contracts import lifecycle
from operateur.contracts import service as contracts
from tests.integration.conftest import Builder


def _auth(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


# SPEC: CTR-09
def test_a_new_contract_in_the_read_only_window_gives_the_admins_their_role_back(
    build: Builder,
    session: Session,
    session_factory: sessionmaker[Session],
    client: TestClient,
) -> None:
    customer = build.customer()
    actor = system_actor("test")
    base = {"operator_id": build.operator_id, "customer_id": customer.id}
    admin = accounts.create_user(
        session,
        actor,
        **base,
        data=UserIn(
            email="cheffe@client.fr",
            display_name="Cheffe",
            password="correct horse battery",
            role=Role.CUSTOMER_ADMIN,
        ),
    )
    admin_key_row, admin_key = accounts.create_api_key(
        session, actor, **base, name="admin", role=Role.CUSTOMER_ADMIN
    )
    today = lifecycle.today()
    ended = build.contract(customer, "crm-voip", today - timedelta(days=60), [])
    # ended yesterday: [000 §10] the administrators keep a read-only access for 48 hours
    lifecycle.terminate(session, ended, on=today - timedelta(days=1), reason="fin")
    session.commit()
    path = f"/api/v1/customers/{customer.id}"
    contact = {"name": "x", "email": "x@client.fr"}
    assert (
        client.post(f"{path}/contacts", headers=_auth(admin_key), json=contact).status_code == 403
    )
    demoted = session.get(type(admin), admin.id, populate_existing=True)
    assert demoted is not None and demoted.role is Role.CUSTOMER_USER

    # the customer signs a new contract within the 48 hours
    renewed = contracts.create_contract(session, customer, "crm-voip", {})
    contracts.sign(session, renewed, "Cheffe")
    session.commit()
    session.refresh(admin)
    session.refresh(admin_key_row)
    assert (admin.role, admin_key_row.role) == (Role.CUSTOMER_ADMIN, Role.CUSTOMER_ADMIN)
    assert (
        client.post(f"{path}/contacts", headers=_auth(admin_key), json=contact).status_code == 201
    )

    # the day the 48 hours would have ended, nothing is closed: the customer is live again
    executed = scheduler.run_once(session_factory, today + timedelta(days=2))
    assert f"close_access:{(today + timedelta(days=2)).isoformat()}" in executed
    assert client.get(f"{path}/contracts", headers=_auth(admin_key)).status_code == 200
    session.refresh(admin)
    assert admin.active is True and admin.role is Role.CUSTOMER_ADMIN
