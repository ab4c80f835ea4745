"""A small world for API tests: one operator, its staff, and two customers A and B, each with
an administrator, a user, an API key, a contract, a line, a number and a piece of equipment."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from operateur.accounts import service as accounts
from operateur.accounts.models import Role
from operateur.accounts.permissions import system_actor
from operateur.accounts.schemas import ContactIn, CustomerIn, OperatorIn, UserIn
from operateur.billing import invoicing, wallets
from operateur.contracts import service as contracts
from operateur.contracts.models import EquipmentMode, LineKind
from operateur.contracts.schemas import EquipmentIn, LineIn, SubscriptionIn
from operateur.numbers import service as numbers
from operateur.numbers.models import NumberTier
from operateur.orders import service as orders
from operateur.orders.schemas import OrderIn, SubscriptionItem
from operateur.support import service as support
from operateur.support.models import Severity, TicketKind
from tests.api.privacy_fixtures import privacy_objects
from tests.api.sms_fixtures import sms_objects
from tests.api.voice_ops_fixtures import address_proof, voice_ops_objects

PASSWORD = "correct horse battery"


@dataclass
class Tenant:
    id: int
    name: str
    admin_email: str
    admin_key: str
    user_key: str
    ids: dict[str, int] = field(default_factory=dict)


@dataclass
class World:
    operator_id: int
    staff_key: str
    staff_email: str
    a: Tenant
    b: Tenant


def auth(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def _tenant(
    session: Session, operator_id: int, n: int, siren: str, iban: str, data_dir: Path
) -> Tenant:
    actor = system_actor("test")
    customer = accounts.create_customer(
        session,
        operator_id,
        CustomerIn(
            name=f"Client {n}",
            legal_form="SAS",
            siren=siren,
            address_line=f"{n} rue de la Paix",
            postal_code="75002",
            city="Paris",
            email=f"compta@client{n}.fr",
            iban=iban,
        ),
    )
    contact = accounts.add_contact(
        session, customer, ContactIn(name=f"Contact {n}", email=f"contact@client{n}.fr")
    )
    admin = accounts.create_user(
        session,
        actor,
        operator_id=operator_id,
        customer_id=customer.id,
        data=UserIn(
            email=f"admin@client{n}.fr",
            display_name=f"Admin {n}",
            password=PASSWORD,
            role=Role.CUSTOMER_ADMIN,
        ),
    )
    user = accounts.create_user(
        session,
        actor,
        operator_id=operator_id,
        customer_id=customer.id,
        data=UserIn(
            email=f"user@client{n}.fr",
            display_name=f"User {n}",
            password=PASSWORD,
            role=Role.CUSTOMER_USER,
        ),
    )
    admin_key_row, admin_key = accounts.create_api_key(
        session,
        actor,
        operator_id=operator_id,
        customer_id=customer.id,
        name="admin",
        role=Role.CUSTOMER_ADMIN,
    )
    _, user_key = accounts.create_api_key(
        session,
        actor,
        operator_id=operator_id,
        customer_id=customer.id,
        name="user",
        role=Role.CUSTOMER_USER,
    )
    contract = contracts.create_contract(session, customer, "centrex", {})
    contracts.sign(session, contract, "Signataire")
    contracts.activate(session, contract, date.today())
    subscription = contracts.add_subscription(
        session, contract, SubscriptionIn(item_code=CENTREX_LINE_ITEM, quantity=2)
    )
    line = contracts.create_line(
        session,
        customer.id,
        LineIn(contract_id=contract.id, kind=LineKind.CENTREX, label="Accueil"),
    )
    equipment = contracts.add_equipment(
        session,
        customer.id,
        EquipmentIn(
            contract_id=contract.id,
            serial=f"SN-{n}",
            model="Yealink T54W",
            mode=EquipmentMode.RENTAL,
            value="180.00",
            delivered_on=date.today(),
        ),
    )
    invoice = invoicing.invoice_contract(session, contract, date.today().replace(day=1))
    assert invoice is not None
    wallets.open_wallet(session, customer.id)
    numbers.add_to_stock(session, [f"+3319900000{n}"], NumberTier.STANDARD)
    address_proof(session, customer)  # VOX-14: French numbers need a proof of address
    number = numbers.assign_random(
        session, customer, kind="geographic", tier=NumberTier.STANDARD, line_id=line.id
    )
    ticket = support.open_ticket(
        session,
        customer.id,
        contract_id=contract.id,
        kind=TicketKind.QUESTION,
        severity=Severity.NORMAL,
        service="centrex",
        subject=f"Question {n}",
        body="?",
    )
    attachment = support.add_attachment(
        session,
        ticket,
        filename="capture.png",
        content_type="image/png",
        data=b"png",
        data_dir=data_dir,
        max_bytes=1000,
    )
    order = orders.place(  # CTR-12 an order waiting for review
        session,
        customer.id,
        OrderIn(contract_id=contract.id, items=[SubscriptionItem(item_code="centrex.line")]),
    )
    return Tenant(
        id=customer.id,
        name=customer.name,
        admin_email=admin.email,
        admin_key=admin_key,
        user_key=user_key,
        ids={
            "contact_id": contact.id,
            "user_id": user.id,
            "key_id": admin_key_row.id,
            "contract_id": contract.id,
            "subscription_id": subscription.id,
            "line_id": line.id,
            "equipment_id": equipment.id,
            "number_id": number.id,
            "invoice_id": invoice.id,
            "ticket_id": ticket.id,
            "attachment_id": attachment.id,
            "order_id": order.id,
            **sms_objects(session, customer.id, contract.id),
            **voice_ops_objects(session, customer, line.id, number.id, data_dir),
            **privacy_objects(session, customer),  # SEC-02, PRIV-01
        },
    )


CENTREX_LINE_ITEM = "centrex.line"


@dataclass
class OperatorStaff:
    """An operator on the platform with its staff administrator and a staff API key."""

    operator_id: int
    staff_user_id: int
    staff_email: str
    staff_key: str


def operator_with_staff(
    session: Session, *, name: str, siren: str, domain: str, staff_name: str = "Admin"
) -> OperatorStaff:
    """A new operator (contact@``domain``), its administrator (admin@``domain``) and a staff
    API key."""
    operator = accounts.create_operator(
        session,
        OperatorIn(
            name=name,
            legal_form="SAS",
            siren=siren,
            address_line="1 place du Test",
            postal_code="69001",
            city="Lyon",
            email=f"contact@{domain}",
        ),
    )
    staff = accounts.create_user(
        session,
        system_actor(),
        operator_id=operator.id,
        customer_id=None,
        data=UserIn(
            email=f"admin@{domain}",
            display_name=staff_name,
            password=PASSWORD,
            role=Role.ADMIN,
        ),
    )
    _, staff_key = accounts.create_api_key(
        session,
        system_actor(),
        operator_id=operator.id,
        customer_id=None,
        name="staff",
        role=Role.ADMIN,
    )
    return OperatorStaff(operator.id, staff.id, staff.email, staff_key)


@pytest.fixture
def world(session: Session, tmp_path: Path) -> World:
    operator = operator_with_staff(
        session, name="Opérateur Test", siren="732829320", domain="operateur-test.fr"
    )
    a = _tenant(
        session, operator.operator_id, 1, "552100554", "FR7630006000011234567890189", tmp_path
    )
    b = _tenant(
        session, operator.operator_id, 2, "542065479", "FR7630004000031234567890143", tmp_path
    )
    session.commit()
    return World(
        operator_id=operator.operator_id,
        staff_key=operator.staff_key,
        staff_email=operator.staff_email,
        a=a,
        b=b,
    )
