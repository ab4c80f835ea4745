"""The demo data set. ``load`` is idempotent: a second run finds everything and creates nothing.

Numbers come from ranges that phonenumbers accepts as allocated but that the demo never dials.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time
from decimal import Decimal

from schwifty import IBAN
from sqlalchemy import select
from sqlalchemy.orm import Session
from stdnum import luhn

from operateur.accounts import service as accounts
from operateur.accounts.models import Role
from operateur.accounts.permissions import system_actor
from operateur.accounts.schemas import ContactIn, CustomerIn, OperatorIn, UserIn
from operateur.catalog.terms import PaymentMethod
from operateur.contracts import service as contracts
from operateur.contracts.models import EquipmentMode, LineKind
from operateur.contracts.schemas import EquipmentIn, LineIn, SubscriptionIn
from operateur.demo import activity
from operateur.domain.calendar import PARIS
from operateur.numbers import service as numbers
from operateur.numbers.models import NumberTier, PhoneNumber


@dataclass(frozen=True)
class DemoLogin:
    role: str
    email: str
    password: str


OPERATOR_SIREN = "732829320"
STAFF_PASSWORD = "operateur-demo"
CUSTOMER_PASSWORD = "client-demo-2026"

DEMO_LOGINS = (
    DemoLogin("admin", "admin@operateur-demo.fr", STAFF_PASSWORD),
    DemoLogin("customer_admin", "admin@boulangerie-martin.fr", CUSTOMER_PASSWORD),
    DemoLogin("customer_admin", "admin@dupont-conseil.fr", CUSTOMER_PASSWORD),
)

STAFF = (
    ("admin@operateur-demo.fr", "Camille Admin", Role.ADMIN),
    ("facturation@operateur-demo.fr", "Bruno Facturation", Role.BILLING),
    ("support@operateur-demo.fr", "Sofia Support", Role.SUPPORT),
    ("reseau@operateur-demo.fr", "Nicolas Réseau", Role.NETWORK),
)


@dataclass(frozen=True)
class DemoCustomer:
    name: str
    slug: str  # e-mail domain stem
    city: str
    postal_code: str
    offer: str
    items: tuple[tuple[str, int], ...]
    lines: tuple[tuple[LineKind, str], ...] = ()
    numbers: tuple[tuple[str, NumberTier], ...] = ()
    equipment: tuple[tuple[str, EquipmentMode, str], ...] = ()
    payment_method: PaymentMethod = PaymentMethod.SEPA_DIRECT_DEBIT
    activated: date = date(2026, 3, 1)


def _siren(index: int) -> str:
    base = f"8{index:07d}"
    return base + luhn.calc_check_digit(base)


def _iban(index: int) -> str:
    return str(IBAN.generate("FR", bank_code="30004", account_code=f"{index:011d}"))


def _stock() -> list[tuple[str, NumberTier]]:
    stock: list[tuple[str, NumberTier]] = []
    for n in range(1, 41):
        stock.append((f"+331990000{n:02d}", NumberTier.STANDARD))
        stock.append((f"+334657100{n:02d}", NumberTier.STANDARD))
    for n in range(1, 11):
        stock.append((f"+339700000{n:02d}", NumberTier.STANDARD))
        stock.append((f"+338910000{n:02d}", NumberTier.STANDARD))
    stock += [
        ("+33199001000", NumberTier.SILVER),
        ("+33199002000", NumberTier.SILVER),
        ("+33199003000", NumberTier.SILVER),
        ("+33199000000", NumberTier.GOLD),
        ("+33199009999", NumberTier.GOLD),
    ]
    return stock


CUSTOMERS = (
    DemoCustomer(
        "Boulangerie Martin",
        "boulangerie-martin",
        "Paris",
        "75011",
        "centrex",
        items=(("centrex.access_fee", 3), ("centrex.line", 3), ("centrex.terminal_rental", 3)),
        lines=(
            (LineKind.CENTREX, "Accueil"),
            (LineKind.CENTREX, "Fournil"),
            (LineKind.CENTREX, "Direction"),
        ),
        numbers=(
            ("geographic", NumberTier.STANDARD),
            ("geographic", NumberTier.STANDARD),
            ("geographic", NumberTier.SILVER),
        ),
        equipment=(
            ("Yealink T54W", EquipmentMode.RENTAL, "189.00"),
            ("Yealink T54W", EquipmentMode.RENTAL, "189.00"),
        ),
    ),
    DemoCustomer(
        "Dupont Conseil",
        "dupont-conseil",
        "Lyon",
        "69002",
        "cpaas",
        items=(("option.caps.monthly", 1), ("numbers.geographic", 2)),
        lines=((LineKind.TRUNK, "Plateforme API"),),
        numbers=(("geographic", NumberTier.STANDARD), ("non_geographic", NumberTier.STANDARD)),
        activated=date(2026, 1, 15),
    ),
    DemoCustomer(
        "Centre d'Appels Horizon",
        "horizon-appels",
        "Lille",
        "59000",
        "crm-voip",
        items=(("crm.setup", 1), ("crm.licence", 12), ("crm.hosting", 1), ("numbers.caller_id", 2)),
        lines=tuple((LineKind.AGENT, f"Agent {n}") for n in range(1, 5)),
        numbers=(("geographic", NumberTier.STANDARD), ("geographic", NumberTier.STANDARD)),
        payment_method=PaymentMethod.TRANSFER,
        activated=date(2026, 9, 10),
    ),
    DemoCustomer(
        "Cabinet Leroy Avocats",
        "leroy-avocats",
        "Bordeaux",
        "33000",
        "mail-security",
        items=(("mail_in.mailbox", 25), ("mail_out.mailbox", 25), ("mail.domain", 2)),
        activated=date(2026, 2, 1),
    ),
    DemoCustomer(
        "Garage Petit & Fils",
        "garage-petit",
        "Nantes",
        "44000",
        "telecom",
        items=(("setup.line", 2), ("fixed.line", 1), ("mobile.line", 2), ("internet.access", 1)),
        lines=((LineKind.MOBILE, "Atelier"), (LineKind.MOBILE, "Dépannage")),
        numbers=(("geographic", NumberTier.STANDARD),),
        equipment=(("Livebox Pro", EquipmentMode.RENTAL, "250.00"),),
        activated=date(2026, 4, 20),
    ),
    DemoCustomer(
        "Pharmacie du Centre",
        "pharmacie-centre",
        "Toulouse",
        "31000",
        "centrex",
        items=(("centrex.access_fee", 2), ("centrex.line", 2), ("centrex.terminal_provision", 2)),
        lines=((LineKind.CENTREX, "Comptoir"), (LineKind.CENTREX, "Préparatoire")),
        numbers=(("geographic", NumberTier.GOLD), ("geographic", NumberTier.STANDARD)),
        equipment=(
            ("Gigaset N670", EquipmentMode.PROVISION, "120.00"),
            ("Gigaset N670", EquipmentMode.PROVISION, "120.00"),
        ),
        activated=date(2025, 11, 3),
    ),
    DemoCustomer(
        "Atelier Numérique",
        "atelier-numerique",
        "Rennes",
        "35000",
        "cpaas",
        items=(("option.voice_capacity.monthly", 1), ("numbers.geographic", 1)),
        lines=((LineKind.TRUNK, "Trunk SIP"),),
        numbers=(("special", NumberTier.STANDARD),),
        payment_method=PaymentMethod.PREPAID,
        activated=date(2026, 6, 1),
    ),
    DemoCustomer(
        "Transports Bernard",
        "transports-bernard",
        "Marseille",
        "13002",
        "telecom",
        items=(("setup.line", 4), ("centrex.line", 4), ("mobile.line", 6), ("mobile.sim", 6)),
        lines=tuple((LineKind.CENTREX, f"Poste {n}") for n in range(1, 5)),
        numbers=(("geographic", NumberTier.STANDARD), ("geographic", NumberTier.SILVER)),
        activated=date(2026, 5, 12),
    ),
    DemoCustomer(
        "Immobilière Roux",
        "immo-roux",
        "Nice",
        "06000",
        "mail-security",
        items=(("mail_in.mailbox", 60), ("mail.domain", 1)),
        payment_method=PaymentMethod.TRANSFER,
        activated=date(2025, 12, 1),
    ),
    DemoCustomer(
        "Clinique Vétérinaire Moreau",
        "veto-moreau",
        "Strasbourg",
        "67000",
        "centrex",
        items=(("centrex.access_fee", 4), ("centrex.line", 4), ("numbers.alias", 1)),
        lines=tuple((LineKind.CENTREX, f"Consultation {n}") for n in range(1, 5)),
        numbers=(("geographic", NumberTier.STANDARD),),
        activated=date(2026, 7, 1),
    ),
    DemoCustomer(
        "Solutions Fournier",
        "solutions-fournier",
        "Montpellier",
        "34000",
        "crm-voip",
        items=(("crm.licence", 5), ("crm.hosting", 1)),
        lines=tuple((LineKind.AGENT, f"Agent {n}") for n in range(1, 3)),
        numbers=(("geographic", NumberTier.STANDARD),),
        activated=date(2026, 10, 1),
    ),
    DemoCustomer(
        "Hôtel Les Tilleuls",
        "hotel-tilleuls",
        "Annecy",
        "74000",
        "telecom",
        items=(("setup.line", 1), ("fixed.line", 1), ("internet.access", 1), ("portal.snaic", 1)),
        lines=((LineKind.CENTREX, "Réception"),),
        numbers=(("geographic", NumberTier.STANDARD),),
        payment_method=PaymentMethod.SEPA_DIRECT_DEBIT,
        activated=date(2026, 8, 20),
    ),
)


class _Counter:
    def __init__(self) -> None:
        self.created = 0

    def add(self, n: int = 1) -> None:
        self.created += n


def _operator(session: Session, count: _Counter) -> int:
    found = accounts.find_operator_by_siren(session, OPERATOR_SIREN)
    if found is not None:
        return found.id
    count.add()
    return accounts.create_operator(
        session,
        OperatorIn(
            name="Opérateur Démo",
            legal_form="SAS",
            siren=OPERATOR_SIREN,
            address_line="12 rue des Télécoms",
            postal_code="69003",
            city="Lyon",
            email="contact@operateur-demo.fr",
            iban=_iban(1),
            bic="BNPAFRPP",
            sepa_creditor_id="FR72ZZZ123456",
        ),
    ).id


def _user(
    session: Session,
    operator_id: int,
    customer_id: int | None,
    email: str,
    name: str,
    role: Role,
    password: str,
    count: _Counter,
) -> None:
    if accounts.find_user_by_email(session, email) is not None:
        return
    accounts.create_user(
        session,
        system_actor("demo"),
        operator_id=operator_id,
        customer_id=customer_id,
        data=UserIn(email=email, display_name=name, password=password, role=role),
    )
    count.add()


def _customer(
    session: Session, operator_id: int, index: int, spec: DemoCustomer, count: _Counter
) -> None:
    siren = _siren(index)
    if accounts.find_customer_by_siren(session, operator_id, siren) is not None:
        return
    customer = accounts.create_customer(
        session,
        operator_id,
        CustomerIn(
            name=spec.name,
            legal_form="SARL",
            siren=siren,
            address_line=f"{index} avenue de la République",
            postal_code=spec.postal_code,
            city=spec.city,
            email=f"comptabilite@{spec.slug}.fr",
            phone=None,
            iban=_iban(100 + index),
            payment_method=spec.payment_method,
        ),
    )
    accounts.add_contact(
        session,
        customer,
        ContactIn(name=f"Direction {spec.name}", email=f"direction@{spec.slug}.fr"),
    )
    accounts.add_contact(
        session,
        customer,
        ContactIn(name="Comptabilité", email=f"comptabilite@{spec.slug}.fr", role="billing"),
    )
    _user(
        session,
        operator_id,
        customer.id,
        f"admin@{spec.slug}.fr",
        f"Admin {spec.name}",
        Role.CUSTOMER_ADMIN,
        CUSTOMER_PASSWORD,
        count,
    )
    _user(
        session,
        operator_id,
        customer.id,
        f"utilisateur@{spec.slug}.fr",
        f"Utilisateur {spec.name}",
        Role.CUSTOMER_USER,
        CUSTOMER_PASSWORD,
        count,
    )
    contract = contracts.create_contract(session, customer, spec.offer, {})
    contracts.sign(
        session,
        contract,
        f"Direction {spec.name}",
        datetime.combine(spec.activated, time(10), tzinfo=PARIS),
    )
    contracts.activate(session, contract, spec.activated)
    for code, quantity in spec.items:
        contracts.add_subscription(
            session, contract, SubscriptionIn(item_code=code, quantity=quantity)
        )
    line_ids = [
        contracts.create_line(
            session, customer.id, LineIn(contract_id=contract.id, kind=kind, label=label)
        ).id
        for kind, label in spec.lines
    ]
    if spec.numbers:  # VOX-14: French numbers once the address is proven
        numbers.record_address_proof(
            session,
            customer,
            document="kbis",
            reference=f"KBIS-{siren}",
            received_on=spec.activated,
            checked_by="demo",
        )
    for position, (kind, tier) in enumerate(spec.numbers):
        line_id = line_ids[position % len(line_ids)] if line_ids else None
        numbers.assign_random(session, customer, kind=kind, tier=tier, line_id=line_id)
    for position, (model, mode, value) in enumerate(spec.equipment, start=1):
        contracts.add_equipment(
            session,
            customer.id,
            EquipmentIn(
                contract_id=contract.id,
                serial=f"DEMO-{index:02d}-{position:02d}",
                model=model,
                mode=mode,
                value=Decimal(value),
                delivered_on=spec.activated,
            ),
        )
    count.add(3 + len(spec.items) + len(spec.lines) + len(spec.numbers) + len(spec.equipment))


def load(session: Session, now: datetime | None = None) -> int:
    """Create whatever part of the demo data is missing; return how many objects were created.
    ``now`` dates the demo's activity (calls, last month's invoices and their payments)."""
    count = _Counter()
    operator_id = _operator(session, count)
    for email, name, role in STAFF:
        _user(session, operator_id, None, email, name, role, STAFF_PASSWORD, count)
    present = set(session.scalars(select(PhoneNumber.e164)))
    missing = [(e164, tier) for e164, tier in _stock() if e164 not in present]
    for tier in NumberTier:
        batch = [e164 for e164, t in missing if t == tier]
        if batch:
            numbers.add_to_stock(session, batch, tier)
            count.add(len(batch))
    for index, spec in enumerate(CUSTOMERS, start=1):
        _customer(session, operator_id, index, spec, count)
    # calls, last month's invoices, tickets, an order, a sender request, a held mail
    count.add(activity.load(session, operator_id, now))
    return count.created
