"""Demo-like data for the browser journeys: an operator and its staff, two customers on the
Centrex and CPaaS offers with their administrators, lines, equipment, a month of calls and an
issued invoice each."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

from sqlalchemy.orm import Session, sessionmaker

from operateur.accounts import service as accounts
from operateur.accounts.audit import set_actor
from operateur.accounts.models import Role
from operateur.accounts.permissions import system_actor
from operateur.accounts.schemas import ContactIn, CustomerIn, OperatorIn, UserIn
from operateur.billing import invoicing, usage
from operateur.billing.models import Invoice
from operateur.catalog.terms import PaymentMethod
from operateur.contracts import service as contracts
from operateur.contracts.models import EquipmentMode, LineKind
from operateur.contracts.schemas import EquipmentIn, LineIn, SubscriptionIn
from operateur.demo import activity as demo
from operateur.domain.calendar import PARIS

STAFF_PASSWORD = "operateur-demo"
CUSTOMER_PASSWORD = "client-demo-2026"
STAFF_EMAIL = "admin@operateur-demo.fr"
DECK = (
    "prefix,destination,price_per_minute,connection_fee,steps,min_seconds\n"
    "33,France,0.02,0,60/60,0\n"
)


@dataclass
class Customer:
    id: int
    name: str
    admin_email: str
    contract_id: int
    invoice_ids: list[int] = field(default_factory=list)


@dataclass
class World:
    operator_id: int
    centrex: Customer  # Boulangerie Martin
    cpaas: Customer  # Dupont Conseil (incident SLA of 4 business hours)
    draft_contract_id: int  # a Centrex draft of the Boulangerie, for the staff journey
    mail: Customer | None = None  # Cabinet Leroy Avocats, with the demo's quarantined mail


def _mail_customer(session: Session, operator_id: int) -> Customer:
    """A law firm on the mail-security offer (the demo's activity holds two of its mails)."""
    customer = accounts.create_customer(
        session,
        operator_id,
        CustomerIn(
            name="Cabinet Leroy Avocats",
            legal_form="SELARL",
            siren="800000036",
            address_line="5 cours de l'Intendance",
            postal_code="33000",
            city="Bordeaux",
            email="comptabilite@leroy-avocats.fr",
            payment_method=PaymentMethod.TRANSFER,
        ),
    )
    accounts.create_user(
        session,
        system_actor("demo"),
        operator_id=operator_id,
        customer_id=customer.id,
        data=UserIn(
            email="admin@leroy-avocats.fr",
            display_name="Maître Leroy",
            password=CUSTOMER_PASSWORD,
            role=Role.CUSTOMER_ADMIN,
        ),
    )
    contract = contracts.create_contract(session, customer, "mail-security", {})
    contracts.sign(
        session, contract, "Maître Leroy", datetime.combine(date(2026, 2, 1), time(9), PARIS)
    )
    contracts.activate(session, contract, date(2026, 2, 1))
    for code, quantity in (("mail_in.mailbox", 5), ("mail.domain", 1)):
        contracts.add_subscription(
            session, contract, SubscriptionIn(item_code=code, quantity=quantity)
        )
    return Customer(customer.id, customer.name, "admin@leroy-avocats.fr", contract.id)


def _customer(
    session: Session,
    operator_id: int,
    *,
    name: str,
    slug: str,
    siren: str,
    offer: str,
    items: list[tuple[str, int]],
    line: tuple[LineKind, str],
    activated: date,
) -> Customer:
    customer = accounts.create_customer(
        session,
        operator_id,
        CustomerIn(
            name=name,
            legal_form="SARL",
            siren=siren,
            address_line="3 avenue de la République",
            postal_code="75011",
            city="Paris",
            email=f"comptabilite@{slug}.fr",
            iban="FR7630006000011234567890189",
            payment_method=PaymentMethod.SEPA_DIRECT_DEBIT,
        ),
    )
    accounts.add_contact(
        session, customer, ContactIn(name=f"Direction {name}", email=f"direction@{slug}.fr")
    )
    for email, role in (
        (f"admin@{slug}.fr", Role.CUSTOMER_ADMIN),
        (f"utilisateur@{slug}.fr", Role.CUSTOMER_USER),
    ):
        accounts.create_user(
            session,
            system_actor("demo"),
            operator_id=operator_id,
            customer_id=customer.id,
            data=UserIn(email=email, display_name=email, password=CUSTOMER_PASSWORD, role=role),
        )
    contract = contracts.create_contract(session, customer, offer, {})
    contracts.sign(
        session, contract, f"Direction {name}", datetime.combine(activated, time(10), tzinfo=PARIS)
    )
    contracts.activate(session, contract, activated)
    for code, quantity in items:
        contracts.add_subscription(
            session, contract, SubscriptionIn(item_code=code, quantity=quantity)
        )
    created = contracts.create_line(
        session, customer.id, LineIn(contract_id=contract.id, kind=line[0], label=line[1])
    )
    contracts.add_equipment(
        session,
        customer.id,
        EquipmentIn(
            contract_id=contract.id,
            serial=f"SN-{slug}",
            model="Yealink T54W",
            mode=EquipmentMode.RENTAL,
            value=Decimal("189.00"),
            delivered_on=activated,
        ),
    )
    # a few answered calls over the last weeks, for the usage charts
    start = datetime.now(UTC).replace(hour=9, minute=0, second=0, microsecond=0)
    for n in range(12):
        begin = start - timedelta(days=n * 2 + 1)
        usage.record_call(
            session,
            usage.CallData(
                source="demo",
                call_id=f"{slug}-{n}",
                account=created.sip_username,
                caller="+33199000001",
                callee="+33140000000",
                start=begin,
                answer=begin + timedelta(seconds=5),
                end=begin + timedelta(seconds=65 + 30 * n),
                disposition="ANSWERED",
            ),
        )
    return Customer(customer.id, name, f"admin@{slug}.fr", contract.id)


def build(factory: sessionmaker[Session], *, activity: bool = False) -> World:
    """Create the world and issue last month's invoices with the real billing run; with
    ``activity``, also the demo's order waiting for review, sender request and quarantined
    mails (``operateur.demo.activity``), for the browser journeys."""
    with factory() as session:
        set_actor(session, system_actor("demo"))
        operator = accounts.create_operator(
            session,
            OperatorIn(
                name="Opérateur Démo",
                legal_form="SAS",
                siren="732829320",
                address_line="12 rue des Télécoms",
                postal_code="69003",
                city="Lyon",
                email="contact@operateur-demo.fr",
                iban="FR7630004000031234567890143",  # shown on invoices paid by transfer
                bic="BNPAFRPP",
            ),
        )
        for offer in ("centrex", "cpaas"):
            usage.publish_deck(session, DECK, name=f"{offer} 2026", offer_id=offer)
        accounts.create_user(
            session,
            system_actor("demo"),
            operator_id=operator.id,
            customer_id=None,
            data=UserIn(
                email=STAFF_EMAIL,
                display_name="Camille Admin",
                password=STAFF_PASSWORD,
                role=Role.ADMIN,
            ),
        )
        centrex = _customer(
            session,
            operator.id,
            name="Boulangerie Martin",
            slug="boulangerie-martin",
            siren="800000010",
            offer="centrex",
            items=[("centrex.access_fee", 2), ("centrex.line", 2)],
            line=(LineKind.CENTREX, "Accueil"),
            activated=date(2026, 3, 1),
        )
        cpaas = _customer(
            session,
            operator.id,
            name="Dupont Conseil",
            slug="dupont-conseil",
            siren="800000028",
            offer="cpaas",
            items=[("option.caps.monthly", 1)],
            line=(LineKind.TRUNK, "Plateforme API"),
            activated=date(2026, 1, 15),
        )
        customer = accounts.get_customer(session, centrex.id)
        draft = contracts.create_contract(session, customer, "centrex", {})
        world = World(operator.id, centrex, cpaas, draft.id)
        if activity:
            world.mail = _mail_customer(session, operator.id)
        session.commit()
    last_month = (date.today().replace(day=1) - timedelta(days=1)).strftime("%Y-%m")
    invoicing.run_period(factory, world.operator_id, last_month, actor=system_actor("demo"))
    with factory() as session:
        for c in (world.centrex, world.cpaas):
            c.invoice_ids = [
                i.id for i in session.query(Invoice).filter(Invoice.customer_id == c.id)
            ]
        if activity:
            set_actor(session, system_actor("demo"))
            moment = datetime.now(UTC)
            demo.sender_request(session, world.operator_id)
            demo.order(session, world.operator_id, moment)
            demo.quarantined_mail(session, world.operator_id, moment)
            session.commit()
    return world
