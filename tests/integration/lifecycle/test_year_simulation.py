"""A year and more of the scheduler, day by day, for one customer on each of the five offers.

Every customer signs on Monday 5 January 2026 and pays each invoice the day after it is issued,
except one invoice per offer. The scheduler (every job, the month-end billing runs included)
runs each day from the signature to 20 January 2027, then the notifications due are delivered
to a real SMTP server on loopback. The dates below are computed by hand from the offers' seed
clauses; the test checks them against what the platform did and what it wrote to the customers.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from email.message import EmailMessage

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from operateur import scheduler
from operateur.accounts import service as accounts
from operateur.accounts.models import Customer, Role
from operateur.accounts.permissions import system_actor
from operateur.accounts.schemas import ContactIn, UserIn
from operateur.billing import payments
from operateur.billing.models import Invoice, InvoiceKind
from operateur.billing.usage import CallData, record_call
from operateur.contracts import renewal, termination
from operateur.contracts import service as contracts
from operateur.contracts.equipment import record_return
from operateur.contracts.models import (
    Contract,
    ContractEvent,
    ContractStatus,
    Equipment,
    EquipmentMode,
    EquipmentStatus,
    Line,
    LineKind,
    Subscription,
)
from operateur.contracts.schemas import EquipmentIn, LineIn, SubscriptionIn
from operateur.domain.calendar import PARIS
from operateur.notifications.service import deliver_due
from operateur.testing.smtp import SmtpSink
from tests.integration.conftest import Builder
from tests.integration.lifecycle.conftest import body

SIGNED = date(2026, 1, 5)  # a Monday
LAST = date(2027, 1, 20)


@dataclass
class Customer5:
    offer: str
    customer: Customer
    contract: Contract
    line: Line | None
    unpaid_period: str  # the period invoice left unpaid
    paid_late_on: date | None  # when it is finally paid (None: never)
    calls_until: date | None  # the last day the customer uses the service (None: all along)
    actions: dict[date, list[Callable[[], None]]] = field(default_factory=dict)

    def mail(self, sink: SmtpSink) -> list[EmailMessage]:
        return sink.to(f"admin@{self.offer}.example")

    def billing_mail(self, sink: SmtpSink) -> list[EmailMessage]:
        return sink.to(f"compta@{self.offer}.example")


def _setup(build: Builder, session: Session, offer: str, activated: date) -> Customer5:
    customer = build.customer(name=f"Client {offer}")
    for role, who in (("admin", "admin"), ("billing", "compta")):
        accounts.add_contact(
            session,
            customer,
            ContactIn(name=who, email=f"{who}@{offer}.example", role=role),
        )
    contract = contracts.create_contract(session, customer, offer, {})
    contracts.sign(session, contract, "Signataire", datetime.combine(SIGNED, time(10), PARIS))
    contracts.activate(session, contract, activated)
    return Customer5(offer, customer, contract, None, "", None, None)


def _subscribe(session: Session, who: Customer5, code: str, quantity: int) -> Subscription:
    return contracts.add_subscription(
        session, who.contract, SubscriptionIn(item_code=code, quantity=quantity)
    )


def _line(session: Session, who: Customer5, kind: LineKind) -> None:
    who.line = contracts.create_line(
        session, who.customer.id, LineIn(contract_id=who.contract.id, kind=kind, label="Accueil")
    )


def _equipment(
    session: Session, who: Customer5, serial: str, mode: EquipmentMode, value: str
) -> Equipment:
    return contracts.add_equipment(
        session,
        who.customer.id,
        EquipmentIn(
            contract_id=who.contract.id,
            serial=serial,
            model="Terminal",
            mode=mode,
            value=Decimal(value),
            delivered_on=who.contract.activated_on,
        ),
    )


def _pay_what_is_due(session: Session, who: Customer5, day: date) -> None:
    """Pay every invoice issued before ``day``, but the one left unpaid until its day."""
    for invoice in payments.open_invoices(session, who.customer.id):
        if invoice.kind is not InvoiceKind.INVOICE or invoice.issue_date >= day:
            continue
        late = invoice.period == who.unpaid_period and invoice.purpose == "period"
        if late and (who.paid_late_on is None or day < who.paid_late_on):
            continue
        left = payments.outstanding(invoice)
        if left > 0:
            payments.record_payment(
                session,
                who.customer.id,
                amount=left,
                method="transfer",
                received_on=day,
                reference=f"VIR-{invoice.number}",
                allocations=[payments.Allocation(invoice.id, left)],
            )


def _call(session: Session, who: Customer5, day: date) -> None:
    assert who.line is not None
    start = datetime.combine(day, time(11), PARIS).astimezone(UTC)
    record_call(
        session,
        CallData(
            source="sim",
            call_id=f"{who.offer}-{day.isoformat()}",
            account=who.line.sip_username,
            caller="+33140000000",
            callee="+33612345678",
            start=start,
            answer=None,
            end=start + timedelta(seconds=20),
            disposition="NO ANSWER",
        ),
    )


def _invoice(session: Session, who: Customer5, purpose: str, period: str | None = None) -> Invoice:
    stmt = select(Invoice).where(Invoice.contract_id == who.contract.id, Invoice.purpose == purpose)
    if period is not None:
        stmt = stmt.where(Invoice.period == period)
    return session.scalars(stmt).one()


def _mail_on(messages: list[EmailMessage], subject: str) -> EmailMessage:
    found = [m for m in messages if m["Subject"] == subject]
    assert len(found) == 1, (subject, [m["Subject"] for m in messages])
    return found[0]


def _events(session: Session, who: Customer5) -> list[tuple[str, str]]:
    return [
        (e.transition, e.to_status)
        for e in session.scalars(
            select(ContractEvent)
            .where(ContractEvent.contract_id == who.contract.id)
            .order_by(ContractEvent.id)
        )
    ]


# SPEC: CTR-02, CTR-03, CTR-04, CTR-05, CTR-06, CTR-08, CTR-09, CTR-10, BIL-06
def test_a_year_of_the_scheduler_for_each_offer(
    build: Builder,
    session: Session,
    session_factory: sessionmaker[Session],
    smtp_sink: SmtpSink,
) -> None:
    # --- the five customers -----------------------------------------------------------------
    crm = _setup(build, session, "crm-voip", SIGNED)
    _line(session, crm, LineKind.AGENT)
    licences = _subscribe(session, crm, "crm.licence", 2)
    admin = accounts.create_user(
        session,
        system_actor("test"),
        operator_id=build.operator_id,
        customer_id=crm.customer.id,
        data=UserIn(
            email="chef@crm-voip.example",
            display_name="Chef",
            password="correct horse battery",
            role=Role.CUSTOMER_ADMIN,
        ),
    )
    _, crm_key = accounts.create_api_key(
        session,
        system_actor("test"),
        operator_id=build.operator_id,
        customer_id=crm.customer.id,
        name="export",
        role=Role.CUSTOMER_ADMIN,
    )
    crm.unpaid_period, crm.paid_late_on, crm.calls_until = (
        "2026-03",
        date(2026, 4, 10),
        date(2026, 6, 10),
    )
    crm.actions[date(2026, 2, 19)] = [
        lambda: renewal.request_change(session, crm.contract, licences, 4, date(2026, 2, 19))
    ]
    crm.actions[date(2026, 4, 22)] = [
        lambda: renewal.request_change(
            session,
            crm.contract,
            session.scalars(
                select(Subscription).where(
                    Subscription.contract_id == crm.contract.id, Subscription.quantity == 4
                )
            ).one(),
            3,
            date(2026, 4, 22),
        )
    ]

    centrex = _setup(build, session, "centrex", SIGNED)
    _line(session, centrex, LineKind.CENTREX)
    _subscribe(session, centrex, "centrex.line", 2)
    provided = _equipment(session, centrex, "SN-PROV", EquipmentMode.PROVISION, "120.00")
    rented = _equipment(session, centrex, "SN-RENT", EquipmentMode.RENTAL, "180.00")
    centrex.unpaid_period = "2026-04"  # never paid
    centrex.actions[date(2026, 6, 8)] = [lambda: record_return(session, provided, date(2026, 6, 8))]

    cpaas = _setup(build, session, "cpaas", SIGNED)
    _line(session, cpaas, LineKind.TRUNK)
    _subscribe(session, cpaas, "option.caps.monthly", 1)
    cpaas.unpaid_period, cpaas.paid_late_on = "2026-02", date(2026, 4, 2)
    cpaas.actions[date(2027, 1, 20)] = [
        lambda: termination.request_termination(
            session,
            cpaas.contract,
            received_on=date(2027, 1, 20),
            ends_on=date(2027, 4, 20),
            reason="lettre recommandée du client",
        )
    ]

    mail = _setup(build, session, "mail-security", SIGNED)
    _subscribe(session, mail, "mail_in.mailbox", 50)
    _subscribe(session, mail, "mail.domain", 1)
    mail.unpaid_period, mail.paid_late_on = "2026-01", date(2026, 3, 13)
    mail.actions[date(2026, 12, 21)] = [
        lambda: termination.request_termination(
            session, mail.contract, received_on=date(2026, 12, 21), reason="non reconduction"
        )
    ]

    telecom = _setup(build, session, "telecom", date(2026, 1, 12))  # installed a week later
    _line(session, telecom, LineKind.CENTREX)
    _subscribe(session, telecom, "fixed.line", 2)
    router = _equipment(session, telecom, "SN-ROUTER", EquipmentMode.RENTAL, "150.00")
    telecom.unpaid_period = "2026-06"  # never paid
    session.commit()
    everyone = (crm, centrex, cpaas, mail, telecom)

    # --- day by day -------------------------------------------------------------------------
    day = SIGNED
    while day <= LAST:
        for who in everyone:
            for action in who.actions.get(day, []):
                action()
            _pay_what_is_due(session, who, day)
            session.refresh(who.contract)
            uses = who.calls_until is None or day <= who.calls_until
            calling = day.weekday() == 2 or day == who.calls_until  # Wednesdays
            if who.line and who.contract.status is ContractStatus.ACTIVE and uses and calling:
                _call(session, who, day)
        session.commit()
        scheduler.run_once(session_factory, day)
        if day == date(2026, 6, 20):
            # [000 §5, chosen 10 days' notice]: the term running on 20 June is 5 June - 4 July;
            # notice must reach the operator 10 days before 5 July: by 25 June
            plan = contracts.contract_schedule(crm.contract, day)
            assert plan is not None
            assert (plan.term_start, plan.term_end, plan.notice_deadline) == (
                date(2026, 6, 5),
                date(2026, 7, 4),
                date(2026, 6, 25),
            )
        day += timedelta(days=1)
    assert scheduler.run_once(session_factory, LAST) == []  # once per date
    deliver_due(session_factory)
    session.expire_all()

    # --- crm-voip [000] ---------------------------------------------------------------------
    # CTR-02 [000 §5] the commitment starts at activation, 5 January; one-month terms renewed
    # tacitly: 5 Feb, 5 Mar, 5 Apr, 5 May, 5 Jun, 5 Jul.
    renewals = [e for e in _events(session, crm) if e[0] == "renew"]
    assert len(renewals) == 6
    crm_mail = crm.mail(smtp_sink)
    renewed = [
        body(m)
        for m in crm_mail
        if m["Subject"] == f"Reconduction du contrat {crm.contract.reference}"
    ]
    assert [text.split("reconduit tacitement le ")[1][:10] for text in renewed] == [
        "05/02/2026",
        "05/03/2026",
        "05/04/2026",
        "05/05/2026",
        "05/06/2026",
        "05/07/2026",
    ]
    assert "le 05/07/2026 pour 1 mois, jusqu'au 04/08/2026 inclus" in renewed[-1]
    # CTR-04 [000 §5] 4 licences asked on 19 February (before the 20th): at the next renewal,
    # 5 March — applied on 28 February, before the run that bills March in advance.
    # 3 licences asked on 22 April (after the 20th): not at 5 May but at 5 June.
    subs = session.scalars(
        select(Subscription)
        .where(Subscription.contract_id == crm.contract.id)
        .order_by(Subscription.id)
    ).all()
    assert [(s.quantity, s.start_date, s.end_date) for s in subs] == [
        (2, date(2026, 1, 5), date(2026, 3, 4)),
        (4, date(2026, 3, 5), date(2026, 6, 4)),
        (3, date(2026, 6, 5), date(2026, 7, 10)),
    ]
    feb = _invoice(session, crm, "period", "2026-02")
    assert sorted(
        (line.quantity, line.description[-23:]) for line in feb.lines if line.code == "crm.licence"
    ) == [
        (Decimal(2), "01/03/2026 – 04/03/2026"),
        (Decimal(4), "05/03/2026 – 31/03/2026"),
    ]
    # BIL-04 [000 §6] the March invoice is due 7 days after its receipt (31 March): 7 April;
    # CTR-06 [000 §6] suspended on the first late day without formal notice, 8 April; paid on
    # 10 April: restored that day (termination would have come 15 days on, 23 April).
    march = _invoice(session, crm, "period", "2026-03")
    assert march.due_date == date(2026, 4, 7)
    crm_billing = crm.billing_mail(smtp_sink)
    reminder = _mail_on(crm_billing, f"Rappel : facture {march.number} impayée")
    assert "le contrat sera résilié le 23/04/2026" in body(reminder)
    suspended = _mail_on(crm_mail, f"Suspension du contrat {crm.contract.reference}")
    assert "à compter du 08/04/2026, pour défaut de paiement" in body(suspended)
    restored = _mail_on(crm_mail, f"Rétablissement du contrat {crm.contract.reference}")
    assert "rétabli depuis le 10/04/2026" in body(restored)
    # CTR-08 [000 §10] last call on 10 June: one month without use ends the contract on
    # 10 July; CTR-09 [000 §10, §7.4] read-only access for 48 h after that day (until 13 July
    # 00:00), end-customer data deleted 60 days after the end: 8 September.
    session.refresh(crm.contract)
    assert crm.contract.terminated_on == date(2026, 7, 10)
    assert crm.contract.status is ContractStatus.PURGED
    ended = _mail_on(crm_mail, f"Fin du contrat {crm.contract.reference}")
    text = body(ended)
    assert "Aucune utilisation du service depuis le 10/06/2026" in text
    assert "Seul un nouveau contrat permettra de reprendre le service." in text
    assert "lecture seule jusqu'au 13/07/2026 à 00:00" in text
    assert "effacées définitivement le 08/09/2026" in text
    purged = _mail_on(crm_mail, f"Effacement des données du contrat {crm.contract.reference}")
    assert "effacées définitivement le 08/09/2026" in body(purged)
    assert [e for e in _events(session, crm) if e[0] in ("terminate", "purge")] == [
        ("terminate", "terminated"),
        ("purge", "purged"),
    ]
    session.refresh(admin)
    assert admin.active is False and admin.role is Role.CUSTOMER_USER
    assert accounts.authenticate_token(session, crm_key) is None

    # --- centrex [001] ----------------------------------------------------------------------
    # BIL-04 [001 §11.2] the April invoice is due 10 days after its issue (30 April): 10 May.
    # CTR-06 [001 §19] reminder and formal notice on 11 May; suspension once the reminder has
    # gone unanswered 15 days after the due date: 25 May; termination when still uncured
    # 7 days later: 1 June.
    april = _invoice(session, centrex, "period", "2026-04")
    assert april.due_date == date(2026, 5, 10)
    centrex_billing = centrex.billing_mail(smtp_sink)
    formal = _mail_on(centrex_billing, f"Mise en demeure : facture {april.number} impayée")
    assert "Mise en demeure du 11/05/2026" in body(formal)
    assert "le service sera suspendu le 25/05/2026" in body(formal)
    centrex_mail = centrex.mail(smtp_sink)
    suspended = _mail_on(centrex_mail, f"Suspension du contrat {centrex.contract.reference}")
    assert "à compter du 25/05/2026" in body(suspended)
    session.refresh(centrex.contract)
    assert centrex.contract.terminated_on == date(2026, 6, 1)
    # CTR-05 [001 §20] the remaining monthly fees to the term are due at once: 36 months from
    # the signature (CTR-02 [001 §10] acceptance) end on 4 January 2029; the fees billing has
    # not invoiced (calendar months, BIL-01) are 2–30 June 2026 (29/30), July 2026 – December
    # 2028 (30 months) and 1–4 January 2029 (4/31) of 2 lines × 29.90 TTC / 1.20 = 49.8333 HT
    # a month: 49.8333 × 31.0957 = 1 549.60 HT.
    fee = _invoice(session, centrex, f"early_termination:{centrex.contract.id}")
    assert (fee.issue_date, fee.total_net) == (date(2026, 6, 1), Decimal("1549.60"))
    ended = _mail_on(centrex_mail, f"Fin du contrat {centrex.contract.reference}")
    text = body(ended)
    assert "1 549,60 € HT" in text
    # CTR-10 [001 §12.5] equipment back within 10 days of the end: by 11 June
    assert "Merci de restituer au plus tard le 11/06/2026" in text
    # the rented handset never came back: invoiced at its value on 12 June
    session.refresh(rented)
    assert rented.status is EquipmentStatus.LOST
    lost = session.get(Invoice, rented.settlement_invoice_id)
    assert lost is not None
    assert (lost.issue_date, lost.total_net) == (date(2026, 6, 12), Decimal("180.00"))
    # the provided handset came back on 8 June; not inspected within 45 days (by 23 July), it
    # is refunded on 24 July minus 20 % for its one started year: 96.00 HT
    session.refresh(provided)
    refund = session.get(Invoice, provided.settlement_invoice_id)
    assert refund is not None and refund.kind is InvoiceKind.CREDIT_NOTE
    assert (refund.issue_date, refund.total_net) == (date(2026, 7, 24), Decimal("96.00"))
    assert _mail_on(centrex_billing, "Remboursement du matériel SN-PROV")
    assert _mail_on(centrex_billing, "Matériel SN-RENT non restitué")

    # --- cpaas [002] ------------------------------------------------------------------------
    # BIL-04 [002 §12.3.2] the February invoice is due 30 days after its issue (28 Feb):
    # 30 March. CTR-06 [002 §12.5] suspended from the first late day, 31 March, without any
    # formality; termination beyond 8 days late (7 April) avoided by the payment of 2 April.
    february = _invoice(session, cpaas, "period", "2026-02")
    assert february.due_date == date(2026, 3, 30)
    cpaas_mail = cpaas.mail(smtp_sink)
    suspended = _mail_on(cpaas_mail, f"Suspension du contrat {cpaas.contract.reference}")
    assert "à compter du 31/03/2026" in body(suspended)
    assert "résilié le 07/04/2026" in body(suspended)
    assert "rétabli depuis le 02/04/2026" in body(
        _mail_on(cpaas_mail, f"Rétablissement du contrat {cpaas.contract.reference}")
    )
    # CTR-03 [002 §8] 12 months from the signature of the annexes (5 January 2026), renewed
    # tacitly for 12 months on 5 January 2027, notice being due 3 months before: by 5 October.
    assert ("renew", "active") in _events(session, cpaas)
    renewed = _mail_on(cpaas_mail, f"Reconduction du contrat {cpaas.contract.reference}")
    assert "reconduit tacitement le 05/01/2027 pour 12 mois, jusqu'au 04/01/2028 inclus" in body(
        renewed
    )
    # CTR-05 [002 §17.1, §17.6, §24.4.5] terminated for convenience on 20 January 2027 with
    # 3 months' notice (end 20 April 2027): the higher of the subscriptions (150 HT) and the
    # minimum commitment (200 HT) is due for what billing has not invoiced to 4 January 2028
    # (calendar months, BIL-01): 21–30 April 2027 (10/30), May – December 2027 (8 months),
    # 1–4 January 2028 (4/31): 200 × 8.4624 = 1 692.47 HT.
    fee = _invoice(session, cpaas, f"early_termination:{cpaas.contract.id}")
    assert (fee.issue_date, fee.total_net) == (date(2027, 1, 20), Decimal("1692.47"))
    session.refresh(cpaas.contract)
    assert (cpaas.contract.status, cpaas.contract.ends_on) == (
        ContractStatus.NOTICE_GIVEN,
        date(2027, 4, 20),
    )
    notice = _mail_on(cpaas_mail, f"Résiliation du contrat {cpaas.contract.reference}")
    assert "Le service est assuré jusqu'au 20/04/2027 inclus." in body(notice)
    assert "1 692,47 € HT" in body(notice)

    # --- mail-security [003] ----------------------------------------------------------------
    # BIL-03 [003 §6.2] the annual invoice is issued on 31 January, due 30 days after its
    # receipt: 2 March. CTR-06 [003 §6.3] formal notice on 3 March; suspension 8 days after
    # it (chosen): 11 March; termination 15 days after the due date (17 March) avoided by the
    # payment of 13 March.
    annual = _invoice(session, mail, "period", "2026-01")
    assert annual.due_date == date(2026, 3, 2)
    mail_mail = mail.mail(smtp_sink)
    suspended = _mail_on(mail_mail, f"Suspension du contrat {mail.contract.reference}")
    assert "à compter du 11/03/2026" in body(suspended)
    assert "résilié le 17/03/2026" in body(suspended)
    assert "rétabli depuis le 13/03/2026" in body(
        _mail_on(mail_mail, f"Rétablissement du contrat {mail.contract.reference}")
    )
    # CTR-03 [003 §3.3] 12 months from 5 January 2026; notice 15 days before the term: by
    # 21 December 2026 — received that day, the contract ends with its term on 4 January 2027,
    # with nothing due and nothing refunded (CTR-05 [003 §3.3]).
    session.refresh(mail.contract)
    assert (mail.contract.status, mail.contract.terminated_on) == (
        ContractStatus.TERMINATED,
        date(2027, 1, 4),
    )
    notice = _mail_on(mail_mail, f"Résiliation du contrat {mail.contract.reference}")
    assert "Le service est assuré jusqu'au 04/01/2027 inclus." in body(notice)
    assert "les sommes déjà versées restent acquises" in body(notice)
    assert "Le contrat a pris fin le 04/01/2027." in body(
        _mail_on(mail_mail, f"Fin du contrat {mail.contract.reference}")
    )
    assert not [e for e in _events(session, mail) if e[0] == "renew"]

    # --- telecom [004] ----------------------------------------------------------------------
    # BIL-04 [004 §9.2, §0] the June invoice (30 June) is due 10 business days later: 1, 2, 3,
    # 6, 7, 8, 9, 10, 13 and — 14 July being a public holiday — 15 July. CTR-06 [004 §9.3]
    # suspended from the first late day, 16 July; CTR-07 [004 §12.2] terminated 5 business
    # days after the due date: 16, 17, 20, 21, 22 July.
    june = _invoice(session, telecom, "period", "2026-06")
    assert june.due_date == date(2026, 7, 15)
    telecom_mail = telecom.mail(smtp_sink)
    assert "à compter du 16/07/2026" in body(
        _mail_on(telecom_mail, f"Suspension du contrat {telecom.contract.reference}")
    )
    session.refresh(telecom.contract)
    assert telecom.contract.terminated_on == date(2026, 7, 22)
    # CTR-02 [004 §3] 36 months from the installation (12 January 2026) end on 11 January
    # 2029; CTR-05 [004 §3] every remaining month is due: from 23 July 2026, 29 months (to
    # 23 December 2028) and 20 days of a 31-day month, × 2 lines × 25.00 HT:
    # 50 × (29 + 20/31) = 1 482.26 HT.
    fee = _invoice(session, telecom, f"early_termination:{telecom.contract.id}")
    assert (fee.issue_date, fee.total_net) == (date(2026, 7, 22), Decimal("1482.26"))
    # CTR-10 [004 §1.4.1] the router is due back within 5 calendar days (27 July); not
    # returned, it is invoiced at its new value on 28 July
    session.refresh(router)
    assert router.return_due_on == date(2026, 7, 27)
    lost = session.get(Invoice, router.settlement_invoice_id)
    assert lost is not None
    assert (lost.issue_date, lost.total_net) == (date(2026, 7, 28), Decimal("150.00"))

    # no email went twice, and every piece of equipment is settled
    sent = [(m["To"], m["Subject"], body(m)) for m in smtp_sink.messages]
    assert len(sent) == len(set(sent))
    out = select(Equipment.id).where(Equipment.status == EquipmentStatus.DELIVERED)
    assert session.scalar(out) is None
