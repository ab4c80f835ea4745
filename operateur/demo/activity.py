"""Activity of the demo customers, so that the portal's pages show something: calls over the
last weeks (usage charts), last month's invoices from the real billing code — paid on their due
date when it has passed, so the first scheduler run does not take the demo customers through
dunning —, support tickets, a pending SMS sender request, an order waiting for review and a
quarantined mail.

Every step is idempotent: calls are stored once per call id, invoices once per contract and
period, payments once per invoice (their reference names it), and the rest is created only when
its demo marker is not found.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from operateur.accounts import service as accounts
from operateur.accounts.audit import actor_of, set_actor
from operateur.accounts.models import Customer
from operateur.accounts.permissions import Actor
from operateur.billing import invoicing, payments, usage
from operateur.billing.models import Invoice, InvoiceKind, InvoiceStatus, RateDeck
from operateur.catalog.service import get_offer
from operateur.contracts import service as contracts
from operateur.contracts.models import Contract, LineKind
from operateur.db import utcnow
from operateur.mail import quarantine
from operateur.mail.models import Direction, FilterLog, QuarantinedMessage
from operateur.orders import service as orders
from operateur.orders.models import Order, OrderChannel
from operateur.orders.schemas import LineItem, OrderIn, SubscriptionItem
from operateur.sms import service as sms
from operateur.sms.models import SmsSender
from operateur.support import service as support
from operateur.support.models import Severity, Ticket, TicketKind

# Demo rate decks (prices per minute excl. VAT) for the offers with calls billed by usage.
DECK = (
    "prefix,destination,price_per_minute,connection_fee,steps,min_seconds\n"
    "33,France fixe,0.0150,0,60/60,0\n"
    "336,France mobile,0.0450,0,60/60,0\n"
    "337,France mobile,0.0450,0,60/60,0\n"
    "32,Belgique,0.0800,0,60/60,0\n"
)
DECK_OFFERS = ("centrex", "cpaas", "crm-voip", "telecom")
CALLERS_DIALLED = ("+33140000000", "+33612345678", "+33472000000", "+3225000000")
SOURCE = "demo"
VOICE_LINES = (LineKind.CENTREX, LineKind.TRUNK, LineKind.AGENT, LineKind.MOBILE)
# Calls a working day on the lines of the busiest demo customers; one or two for the others.
CALLS_PER_DAY = {"boulangerie-martin": 3, "dupont-conseil": 6, "horizon-appels": 8}


def _customer(session: Session, operator_id: int, slug: str) -> Customer | None:
    return session.scalar(
        select(Customer).where(
            Customer.operator_id == operator_id, Customer.email == f"comptabilite@{slug}.fr"
        )
    )


def _contract(session: Session, customer: Customer) -> Contract | None:
    return next(iter(contracts.list_contracts(session, customer.id)), None)


def _as(session: Session, email: str) -> None:
    """Make the next changes in the name of a demo user (the audit log and tickets name
    them); the caller restores its own actor afterwards."""
    user = accounts.find_user_by_email(session, email)
    if user is not None:
        set_actor(
            session,
            Actor(
                kind="user",
                id=user.id,
                label=user.email,
                role=user.role,
                operator_id=user.operator_id,
                customer_id=user.customer_id,
            ),
        )


def decks(session: Session) -> int:
    """A rate deck per offer billing calls by usage, unless one is published already."""
    created = 0
    for offer in DECK_OFFERS:
        found = session.scalar(
            select(RateDeck.id).where(RateDeck.offer_id == offer, RateDeck.active.is_(True))
        )
        if found is None:
            usage.publish_deck(session, DECK, name=f"Démo {offer} 2026", offer_id=offer)
            created += 1
    return created


def calls(session: Session, operator_id: int, now: datetime) -> int:
    """Calls of the last five weeks on the voice lines of every demo customer (once per call
    id): the usage charts have something to show, and no demo contract looks unused to the
    inactivity rule of its terms (CTR-08)."""
    batch: list[usage.CallData] = []
    for customer in session.scalars(
        select(Customer).where(Customer.operator_id == operator_id).order_by(Customer.id)
    ):
        slug = customer.email.partition("@")[2].removesuffix(".fr")
        per_day = CALLS_PER_DAY.get(slug, 1)
        lines = [
            line for line in contracts.list_lines(session, customer.id) if line.kind in VOICE_LINES
        ]
        if not lines:
            continue
        for day in range(1, 36):
            if (now - timedelta(days=day)).weekday() == 6:
                continue  # the demo customers rest on Sundays
            for n in range(per_day + day % 3):
                begin = (now - timedelta(days=day)).replace(
                    hour=8 + (n * 3 + day) % 10, minute=(n * 17) % 60, second=0, microsecond=0
                )
                answered = (n + day) % 7 != 0
                seconds = 30 + ((n + 1) * (day + 3) * 37) % 600
                batch.append(
                    usage.CallData(
                        source=SOURCE,
                        call_id=f"demo-{slug}-{begin:%Y%m%d}-{n}",
                        account=lines[n % len(lines)].sip_username,
                        caller="+33199000001",
                        callee=CALLERS_DIALLED[(n + day) % len(CALLERS_DIALLED)],
                        start=begin,
                        answer=begin + timedelta(seconds=6) if answered else None,
                        end=begin + timedelta(seconds=6 + (seconds if answered else 0)),
                        disposition="ANSWERED" if answered else "NO ANSWER",
                    )
                )
    return sum(1 for stored in usage.record_calls(session, batch) if stored.new)


def invoices(session: Session, operator_id: int, today: date) -> int:
    """Last month's invoices of every demo contract, by the billing run's own code."""
    period_start = (today.replace(day=1) - timedelta(days=1)).replace(day=1)
    ids = invoicing.billable_contracts(session, operator_id, period_start)
    return len(invoicing.invoice_contracts(session, ids, period_start))


def settled_invoices(session: Session, operator_id: int, today: date) -> int:
    """The demo customers pay on time: each invoice whose due date has passed by ``today`` is
    paid on its due date, by the customer's payment method, with the payments' own code."""
    paid = 0
    for invoice in session.scalars(
        select(Invoice)
        .where(
            Invoice.operator_id == operator_id,
            Invoice.kind == InvoiceKind.INVOICE,
            Invoice.status == InvoiceStatus.ISSUED,
            Invoice.due_date <= today,
        )
        .order_by(Invoice.id)
    ).all():
        left = payments.outstanding(invoice)
        customer = session.get(Customer, invoice.customer_id)
        if left <= 0 or customer is None:
            continue
        payments.record_payment(
            session,
            invoice.customer_id,
            amount=left,
            method=customer.payment_method.value,
            received_on=invoice.due_date,
            reference=f"DEMO-{invoice.number}",
            allocations=[payments.Allocation(invoice_id=invoice.id, amount=left)],
        )
        paid += 1
    return paid


def tickets(session: Session, operator_id: int, now: datetime) -> int:
    """An open incident and an answered question (SUP-01, SUP-02)."""
    created = 0
    previous = actor_of(session)
    wanted = (
        (
            "dupont-conseil",
            TicketKind.INCIDENT,
            Severity.HIGH,
            "cpaas_voice",
            "Appels sortants refusés par intermittence",
            "Depuis ce matin, environ un appel sur dix vers les mobiles échoue en 503.",
            None,
        ),
        (
            "boulangerie-martin",
            TicketKind.QUESTION,
            Severity.NORMAL,
            None,
            "Renvoi d'appel le dimanche",
            "Comment renvoyer l'accueil vers le portable du gérant le dimanche ?",
            "Depuis votre poste : *21* suivi du numéro, puis # ; #21# pour l'annuler.",
        ),
    )
    for slug, kind, severity, service, subject, body, answer in wanted:
        customer = _customer(session, operator_id, slug)
        contract = _contract(session, customer) if customer else None
        if customer is None or contract is None:
            continue
        if session.scalar(
            select(Ticket.id).where(Ticket.customer_id == customer.id, Ticket.subject == subject)
        ):
            continue
        chosen = service or get_offer(contract.offer_id).services[0].value
        _as(session, f"admin@{slug}.fr")
        ticket = support.open_ticket(
            session,
            customer.id,
            contract_id=contract.id,
            kind=kind,
            severity=severity,
            service=chosen,
            subject=subject,
            body=body,
            now=now - timedelta(hours=2),
        )
        if answer is not None:
            _as(session, "support@operateur-demo.fr")
            support.add_message(session, ticket, answer, now=now - timedelta(hours=1))
        set_actor(session, previous, session.info.get("reason"))
        created += 1
    return created


def sender_request(session: Session, operator_id: int) -> int:
    """A custom SMS sender waiting for the staff's review (SMS-05)."""
    customer = _customer(session, operator_id, "dupont-conseil")
    if customer is None or sms.find_context(session, customer.id) is None:
        return 0
    if session.scalar(select(SmsSender.id).where(SmsSender.customer_id == customer.id)):
        return 0
    sms.request_sender(session, customer.id, "DUPONTCONS")
    return 1


def order(session: Session, operator_id: int, now: datetime) -> int:
    """Two more lines ordered from the portal by the bakery, waiting for review (CTR-12)."""
    customer = _customer(session, operator_id, "boulangerie-martin")
    contract = _contract(session, customer) if customer else None
    if customer is None or contract is None:
        return 0
    if session.scalar(select(Order.id).where(Order.customer_id == customer.id)):
        return 0
    data = OrderIn(
        contract_id=contract.id,
        channel=OrderChannel.PORTAL,
        items=[
            SubscriptionItem(item_code="centrex.line", quantity=1),
            LineItem(kind=LineKind.CENTREX, label="Laboratoire"),
        ],
    )
    previous = actor_of(session)
    _as(session, "admin@boulangerie-martin.fr")
    orders.place(session, customer.id, data, on=now)
    set_actor(session, previous, session.info.get("reason"))
    return 1


def quarantined_mail(session: Session, operator_id: int, now: datetime) -> int:
    """A supplier's invoice held as spam for the law firm, to release (MAIL-03)."""
    customer = _customer(session, operator_id, "leroy-avocats")
    if customer is None:
        return 0
    if session.scalar(
        select(QuarantinedMessage.id).where(QuarantinedMessage.customer_id == customer.id)
    ):
        return 0
    held = 0
    for n, (sender, subject, score) in enumerate(
        (
            ("factures@fournisseur-papeterie.fr", "Votre facture de novembre", 7.5),
            ("promo@offres-miracle.example", "Gagnez un iPhone", 14.2),
        )
    ):
        log = FilterLog(
            customer_id=customer.id,
            direction=Direction.INBOUND,
            at=now - timedelta(hours=3 + n),
            gateway="demo",
            mail_from=sender,
            rcpt_tos=["maitre.leroy@leroy-avocats.fr"],
            size=18_000,
            action="quarantine",
            score=score,
            symbols=["BAYES_SPAM"],
        )
        session.add(log)
        session.flush()
        quarantine.hold(
            session,
            customer_id=customer.id,
            log_id=log.id,
            spool_name=f"demo-{customer.id}-{n}",
            mail_from=sender,
            recipient="maitre.leroy@leroy-avocats.fr",
            subject=subject,
            score=score,
            symbols=["BAYES_SPAM"],
            virus=False,
            now=now - timedelta(hours=3 + n),
        )
        held += 1
    return held


def load(session: Session, operator_id: int, now: datetime | None = None) -> int:
    """Create whatever demo activity is missing; return how many objects were created."""
    now = now or utcnow()
    today = now.astimezone(UTC).date()
    return (
        decks(session)
        + calls(session, operator_id, now)
        + invoices(session, operator_id, today)
        + settled_invoices(session, operator_id, today)
        + tickets(session, operator_id, now)
        + sender_request(session, operator_id)
        + order(session, operator_id, now)
        + quarantined_mail(session, operator_id, now)
    )
