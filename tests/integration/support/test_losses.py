"""Lost or stolen credentials, SIM cards and equipment (SUP-04)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import pytest
from sqlalchemy.orm import Session

from operateur.accounts import service as accounts
from operateur.accounts.audit import set_actor
from operateur.accounts.models import Role
from operateur.accounts.permissions import Actor, system_actor
from operateur.accounts.schemas import UserIn
from operateur.catalog.terms import Service
from operateur.contracts import lifecycle
from operateur.contracts import service as contracts
from operateur.contracts.models import (
    ContractStatus,
    EquipmentMode,
    EquipmentStatus,
    LineKind,
    LineStatus,
)
from operateur.contracts.schemas import EquipmentIn, LineIn
from operateur.domain.calendar import PARIS
from operateur.errors import InvalidInput, NotFound
from operateur.support import service as support
from operateur.support.models import LossKind
from tests.integration.conftest import Builder


def declarer(customer_id: int) -> Actor:
    return Actor(
        kind="user",
        id=7,
        label="admin@garage.fr",
        role=Role.CUSTOMER_ADMIN,
        operator_id=1,
        customer_id=customer_id,
    )


# SPEC: SUP-04
def test_stolen_equipment_is_recorded_with_its_time_and_the_service_suspended_on_request(
    build: Builder, session: Session
) -> None:
    customer = build.customer()
    contract = build.contract(customer, "telecom", date(2026, 4, 20), [("mobile.line", 1)])
    box = contracts.add_equipment(
        session,
        customer.id,
        EquipmentIn(
            contract_id=contract.id,
            serial="LB-1",
            model="Livebox Pro",
            mode=EquipmentMode.RENTAL,
            value=Decimal("250.00"),
            delivered_on=date(2026, 4, 20),
        ),
    )
    set_actor(session, declarer(customer.id))
    declared_at = datetime(2026, 11, 24, 8, 15, tzinfo=PARIS)
    declaration = support.declare_loss(
        session,
        customer.id,
        kind=LossKind.EQUIPMENT,
        theft=True,
        equipment_id=box.id,
        occurred_at=datetime(2026, 11, 23, 22, 0, tzinfo=PARIS),
        details="Cambriolage de l'atelier",
        suspend=True,
        now=declared_at,
    )
    assert declaration.declared_at == declared_at  # liable until this moment
    assert declaration.declared_by == "admin@garage.fr"
    assert box.status is EquipmentStatus.LOST
    assert contract.status is ContractStatus.SUSPENDED
    [suspension] = lifecycle.open_suspensions(session, contract.id)
    assert suspension.cause == "credential_loss"
    assert declaration.suspension_id == suspension.id
    assert "24/11/2026 à 08:15" in suspension.reason
    assert not lifecycle.may_use(session, customer.id, Service.MOBILE).allowed


# SPEC: SUP-04
def test_a_lost_sim_without_suspension_keeps_the_service(build: Builder, session: Session) -> None:
    customer = build.customer()
    contract = build.contract(customer, "telecom", date(2026, 4, 20), [("mobile.line", 1)])
    line = contracts.create_line(
        session, customer.id, LineIn(contract_id=contract.id, kind=LineKind.MOBILE, label="Atelier")
    )
    set_actor(session, declarer(customer.id))
    support.declare_loss(session, customer.id, kind=LossKind.SIM, line_id=line.id)
    assert contract.status is ContractStatus.ACTIVE
    assert line.status is LineStatus.ACTIVE
    support.declare_loss(session, customer.id, kind=LossKind.SIM, line_id=line.id, suspend=True)
    assert contracts.get_line(session, customer.id, line.id).status is LineStatus.SUSPENDED
    assert contracts.get_contract(session, customer.id, contract.id).status is (
        ContractStatus.SUSPENDED
    )
    assert len(support.list_declarations(session, customer.id)) == 2


# SPEC: SUP-04, SEC-01
def test_lost_credentials_stop_working_at_once(build: Builder, session: Session) -> None:
    customer = build.customer()
    build.contract(customer, "cpaas", date(2026, 1, 5), [])
    user = accounts.create_user(
        session,
        system_actor("test"),
        operator_id=build.operator_id,
        customer_id=customer.id,
        data=UserIn(
            email="perdu@client.fr",
            display_name="Perdu",
            password="0123456789ab",
            role=Role.CUSTOMER_USER,
        ),
    )
    _, token, _ = accounts.login(
        session,
        "perdu@client.fr",
        "0123456789ab",
        session_hours=1,
        max_failures=5,
        lockout_minutes=5,
        single_session=False,
    )
    key_row, key = accounts.create_api_key(
        session,
        system_actor("test"),
        operator_id=build.operator_id,
        customer_id=customer.id,
        name="crm",
        role=Role.CUSTOMER_USER,
    )
    assert accounts.authenticate_token(session, token) is not None
    set_actor(session, declarer(customer.id))
    support.declare_loss(session, customer.id, kind=LossKind.CREDENTIALS, user_id=user.id)
    support.declare_loss(session, customer.id, kind=LossKind.API_KEY, api_key_id=key_row.id)
    assert accounts.authenticate_token(session, token) is None
    assert accounts.authenticate_token(session, key) is None
    assert user.active is False


# SPEC: SUP-04
def test_a_declaration_names_its_item_and_only_the_customers_own(
    build: Builder, session: Session
) -> None:
    customer = build.customer()
    other = build.customer(name="Autre")
    contract = build.contract(other, "telecom", date(2026, 4, 20), [])
    line = contracts.create_line(
        session, other.id, LineIn(contract_id=contract.id, kind=LineKind.MOBILE, label="x")
    )
    set_actor(session, declarer(customer.id))
    with pytest.raises(InvalidInput) as missing:
        support.declare_loss(session, customer.id, kind=LossKind.SIM)
    assert missing.value.field == "line_id"
    with pytest.raises(NotFound):
        support.declare_loss(session, customer.id, kind=LossKind.SIM, line_id=line.id)
    assert line.status is LineStatus.ACTIVE


# SPEC: SUP-04
def test_a_lost_sim_suspends_the_contract_of_its_line_not_another(
    build: Builder, session: Session
) -> None:
    # the service of the lost SIM is what must stop: naming another of the customer's contracts
    # would suspend that one and leave the stolen SIM working
    customer = build.customer()
    mobile = build.contract(customer, "telecom", date(2026, 4, 20), [("mobile.line", 1)])
    other = build.contract(customer, "telecom", date(2026, 4, 20), [("mobile.line", 1)])
    line = contracts.create_line(
        session, customer.id, LineIn(contract_id=mobile.id, kind=LineKind.MOBILE, label="Atelier")
    )
    set_actor(session, declarer(customer.id))
    with pytest.raises(InvalidInput) as refused:
        support.declare_loss(
            session,
            customer.id,
            kind=LossKind.SIM,
            line_id=line.id,
            contract_id=other.id,
            suspend=True,
        )
    assert refused.value.field == "contract_id"
    assert other.status is ContractStatus.ACTIVE
    assert support.list_declarations(session, customer.id) == []
