"""Support tickets: the first-response deadline in support hours (SUP-01, SUP-02), the monthly
quota and the fees handed to billing (SUP-03)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from operateur.accounts import service as accounts
from operateur.accounts.audit import set_actor
from operateur.accounts.models import Role
from operateur.accounts.permissions import Actor, system_actor
from operateur.accounts.schemas import UserIn
from operateur.billing import invoicing
from operateur.billing.models import Invoice, PendingCharge
from operateur.catalog.service import get_offer, parse_offer
from operateur.domain.calendar import PARIS
from operateur.errors import Conflict, Forbidden, InvalidInput
from operateur.notifications.models import OutboxMessage
from operateur.support import service as support
from operateur.support.models import Severity, Ticket, TicketKind, TicketOutcome, TicketStatus
from tests.integration.conftest import Builder


def paris(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=PARIS)


def customer_actor(customer_id: int) -> Actor:
    return Actor(
        kind="user",
        id=99,
        label="client@example.fr",
        role=Role.CUSTOMER_ADMIN,
        operator_id=1,
        customer_id=customer_id,
    )


def staff_actor() -> Actor:
    return Actor(kind="user", id=98, label="support@operateur.fr", role=Role.SUPPORT, operator_id=1)


def incident(
    session: Session, customer_id: int, contract_id: int, at: datetime, service: str
) -> Ticket:
    set_actor(session, customer_actor(customer_id))
    return support.open_ticket(
        session,
        customer_id,
        contract_id=contract_id,
        kind=TicketKind.INCIDENT,
        severity=Severity.CRITICAL,
        service=service,
        subject="Plus d'appels sortants",
        body="Tous nos appels échouent depuis 10 h.",
        now=at,
    )


# SPEC: SUP-01, SUP-02
def test_an_incident_is_due_four_support_hours_later_weekends_and_holidays_excluded(
    build: Builder, session: Session
) -> None:
    customer = build.customer()
    contract = build.contract(customer, "cpaas", date(2026, 1, 5), [])
    # Friday 16:00: one hour on Friday, three on Monday
    friday = incident(session, customer.id, contract.id, paris(2026, 11, 20, 16), "cpaas_voice")
    assert friday.first_response_due == paris(2026, 11, 23, 12)
    # Friday 22 May 2026 16:00: Monday 25 May is Whit Monday, so Tuesday 12:00
    before_holiday = incident(
        session, customer.id, contract.id, paris(2026, 5, 22, 16), "cpaas_voice"
    )
    assert before_holiday.first_response_due == paris(2026, 5, 26, 12)
    # opened at night: the clock starts at 09:00
    night = incident(session, customer.id, contract.id, paris(2026, 11, 24, 2, 30), "sms")
    assert night.first_response_due == paris(2026, 11, 24, 13)
    assert night.period == "2026-11"


# SPEC: SUP-02
def test_a_question_or_an_offer_without_incident_sla_has_no_deadline(
    build: Builder, session: Session
) -> None:
    customer = build.customer()
    cpaas = build.contract(customer, "cpaas", date(2026, 1, 5), [])
    centrex = build.contract(customer, "centrex", date(2026, 1, 5), [])
    set_actor(session, customer_actor(customer.id))
    question = support.open_ticket(
        session,
        customer.id,
        contract_id=cpaas.id,
        kind=TicketKind.QUESTION,
        severity=Severity.LOW,
        service="sms",
        subject="Facture",
        body="Comment lire ma facture ?",
        now=paris(2026, 11, 24, 10),
    )
    assert question.first_response_due is None
    no_sla = incident(session, customer.id, centrex.id, paris(2026, 11, 24, 10), "centrex")
    assert no_sla.first_response_due is None


# SPEC: SUP-02
def test_the_clock_counts_support_hours_and_stops_at_the_first_staff_answer(
    build: Builder, session: Session
) -> None:
    customer = build.customer()
    contract = build.contract(customer, "cpaas", date(2026, 1, 5), [])
    ticket = incident(session, customer.id, contract.id, paris(2026, 11, 20, 16), "cpaas_voice")
    saturday = support.sla(session, ticket, paris(2026, 11, 21, 10))
    assert saturday.business_seconds_left == 3 * 3600
    assert not saturday.open_now
    monday = support.sla(session, ticket, paris(2026, 11, 23, 10, 30))
    assert monday.business_seconds_left == 5400
    # the customer adds a detail: the clock still runs
    support.add_message(session, ticket, "Toujours en panne.", now=paris(2026, 11, 23, 10, 40))
    assert ticket.first_response_at is None
    late = support.sla(session, ticket, paris(2026, 11, 23, 13))
    assert late.business_seconds_left == -3600
    assert late.met is False
    set_actor(session, staff_actor())
    support.add_message(session, ticket, "Nous intervenons.", now=paris(2026, 11, 23, 11))
    assert ticket.status is TicketStatus.ANSWERED
    # the customer is told by email, in its language, with the answer
    [mail] = session.scalars(
        select(OutboxMessage).where(OutboxMessage.event == "ticket.answered")
    ).all()
    assert mail.recipient == customer.email
    assert ticket.reference in mail.subject and "Nous intervenons." in (mail.body or "")
    answered = support.sla(session, ticket, paris(2026, 11, 24, 9))
    assert answered.met is True
    assert answered.business_seconds_taken == 3 * 3600  # Fri 16-17, Mon 9-11
    assert answered.business_seconds_left is None


# SPEC: SUP-03
def test_requests_beyond_one_fifth_of_the_mailboxes_are_billed_40_each_once(
    build: Builder, session: Session
) -> None:
    customer = build.customer()
    contract = build.contract(
        customer,
        "mail-security",
        date(2026, 9, 1),
        [("mail_in.mailbox", 25), ("mail_out.mailbox", 25), ("mail.domain", 1)],
    )
    tickets = []
    for day in range(1, 8):  # seven requests in October 2026
        set_actor(session, customer_actor(customer.id))
        tickets.append(
            support.open_ticket(
                session,
                customer.id,
                contract_id=contract.id,
                kind=TicketKind.QUESTION,
                severity=Severity.NORMAL,
                service="mail_in",
                subject=f"Question {day}",
                body="Un message a été bloqué.",
                now=paris(2026, 10, day + 4, 10),
            )
        )
    set_actor(session, staff_actor())
    # the operator's own incident is not a request of the quota
    support.close_ticket(
        session, tickets[2], outcome=TicketOutcome.OPERATOR_FAULT, reason="panne passerelle"
    )
    usage = support.quota_usage(session, contract, "2026-10")
    assert (usage.users, usage.quota, usage.used, usage.beyond) == (25, 5, 6, 1)
    charges = support.charge_over_quota(session, "2026-10")
    assert [(c.amount, c.code) for c in charges] == [(Decimal("40.00"), "support.over_quota")]
    assert tickets[6].reference in charges[0].description  # the sixth request that counts
    assert support.charge_over_quota(session, "2026-10") == []  # idempotent
    invoice = invoicing.invoice_contract(session, contract, date(2026, 11, 1))
    assert invoice is not None
    lines = {line.code: line.net_amount for line in invoice.lines}
    assert lines["support.over_quota"] == Decimal("40.00")


# SPEC: SUP-03
def test_without_items_the_quota_counts_the_active_portal_users(
    build: Builder, session: Session
) -> None:
    customer = build.customer()
    contract = build.contract(customer, "mail-security", date(2026, 9, 1), [])
    for n in range(10):
        accounts.create_user(
            session,
            system_actor("test"),
            operator_id=build.operator_id,
            customer_id=customer.id,
            data=UserIn(
                email=f"u{n}@quota.fr",
                display_name=f"U{n}",
                password="0123456789ab",
                role=Role.CUSTOMER_USER,
            ),
        )
    contract.terms = {
        **contract.terms,
        "support": {**contract.terms["support"], "quota_user_items": []},
    }
    assert support.quota_usage(session, contract, "2026-10").quota == 2


# SPEC: SUP-03
def test_a_ticket_closed_as_caused_by_the_customer_bills_the_terms_fee_once(
    build: Builder, session: Session
) -> None:
    customer = build.customer()
    contract = build.contract(customer, "cpaas", date(2026, 1, 5), [])
    ticket = incident(session, customer.id, contract.id, paris(2026, 11, 24, 10), "sms")
    with pytest.raises(Forbidden):  # only the operator qualifies the cause
        support.close_ticket(
            session, ticket, outcome=TicketOutcome.CAUSED_BY_CUSTOMER, reason="c'est vous"
        )
    set_actor(session, staff_actor())
    support.close_ticket(
        session,
        ticket,
        outcome=TicketOutcome.CAUSED_BY_CUSTOMER,
        reason="Votre serveur refusait nos connexions.",
    )
    charges = session.scalars(
        select(PendingCharge).where(PendingCharge.contract_id == contract.id)
    ).all()
    assert [(c.amount, c.code) for c in charges] == [(Decimal("100.00"), "support.wrong_ticket")]
    with pytest.raises(Conflict):
        support.close_ticket(session, ticket, outcome=TicketOutcome.RESOLVED, reason="encore")
    with pytest.raises(Conflict):
        support.add_message(session, ticket, "Et maintenant ?")
    assert session.scalars(select(Invoice)).all() == []


# SPEC: SUP-01
def test_a_ticket_names_a_service_of_its_contract(build: Builder, session: Session) -> None:
    customer = build.customer()
    contract = build.contract(customer, "centrex", date(2026, 1, 5), [])
    set_actor(session, customer_actor(customer.id))
    with pytest.raises(InvalidInput) as error:
        support.open_ticket(
            session,
            customer.id,
            contract_id=contract.id,
            kind=TicketKind.QUESTION,
            severity=Severity.LOW,
            service="sms",
            subject="SMS",
            body="?",
        )
    assert error.value.field == "service"


# SPEC: SUP-01
def test_attachments_are_stored_under_the_data_dir(
    build: Builder, session: Session, tmp_path: Path
) -> None:
    customer = build.customer()
    contract = build.contract(customer, "cpaas", date(2026, 1, 5), [])
    ticket = incident(session, customer.id, contract.id, paris(2026, 11, 24, 10), "sms")
    data = b"%PDF-1.4 capture"
    attachment = support.add_attachment(
        session,
        ticket,
        filename="../../etc/capture écran.pdf",
        content_type="application/pdf",
        data=data,
        data_dir=tmp_path,
        max_bytes=1000,
    )
    assert attachment.filename == "capture écran.pdf"
    assert (tmp_path / attachment.path).read_bytes() == data
    assert attachment.path.startswith(f"support/{customer.id}/")
    assert support.read_attachment(attachment, tmp_path) == data
    with pytest.raises(InvalidInput):
        support.add_attachment(
            session,
            ticket,
            filename="big.bin",
            content_type="application/octet-stream",
            data=b"x" * 1001,
            data_dir=tmp_path,
            max_bytes=1000,
        )


def _attach(session: Session, ticket: Ticket, name: str, data_dir: Path) -> Path:
    found = support.add_attachment(
        session,
        ticket,
        filename=name,
        content_type="text/plain",
        data=b"trace",
        data_dir=data_dir,
        max_bytes=1000,
    )
    return data_dir / found.path


# SPEC: SUP-01
def test_an_attachment_file_lives_only_as_long_as_its_committed_row(
    build: Builder, session: Session, tmp_path: Path
) -> None:
    customer = build.customer()
    contract = build.contract(customer, "cpaas", date(2026, 1, 5), [])
    ticket = incident(session, customer.id, contract.id, paris(2026, 11, 24, 10), "sms")
    session.commit()
    # a rolled-back transaction leaves no file behind
    dropped = _attach(session, ticket, "dropped.txt", tmp_path)
    assert dropped.is_file()
    session.rollback()
    assert not dropped.exists()
    # a rolled-back savepoint drops its own file and keeps the enclosing transaction's
    kept = _attach(session, ticket, "kept.txt", tmp_path)
    with pytest.raises(RuntimeError), session.begin_nested():
        inner = _attach(session, ticket, "inner.txt", tmp_path)
        raise RuntimeError("refused")
    assert not inner.exists() and kept.is_file()
    # a committed savepoint's file goes with its enclosing transaction
    with session.begin_nested():
        nested = _attach(session, ticket, "nested.txt", tmp_path)
    session.commit()
    assert kept.is_file() and nested.is_file()
    names = {a.filename for a in support.attachments(session, ticket)}
    assert names == {"kept.txt", "nested.txt"}
    # a session closed without committing removes its file too
    orphan = _attach(session, ticket, "unsaved.txt", tmp_path)
    session.close()
    assert not orphan.exists()
    assert kept.is_file() and nested.is_file()


# SPEC: SUP-03
def test_the_items_counting_the_users_must_be_in_the_offers_price_list() -> None:
    offer = get_offer("mail-security").model_dump(mode="json")
    offer["terms"]["support"]["quota_user_items"] = ["mail_in.mailboxes"]
    with pytest.raises(InvalidInput) as error:
        parse_offer(offer, "test")
    assert error.value.field == "terms.support.quota_user_items"


# SPEC: SUP-03
def test_a_question_is_never_billed_as_a_ticket_opened_wrongly(
    build: Builder, session: Session
) -> None:
    # [002 §14.1] questions are answered free of charge; [002 §27] "Support abusif" bills a
    # ticket only "s'il s'avère que le Client était à l'origine de l'incident" (an incident).
    customer = build.customer()
    contract = build.contract(customer, "cpaas", date(2026, 1, 5), [])
    set_actor(session, customer_actor(customer.id))
    question = support.open_ticket(
        session,
        customer.id,
        contract_id=contract.id,
        kind=TicketKind.QUESTION,
        severity=Severity.NORMAL,
        service="sms",
        subject="Comment changer l'expéditeur ?",
        body="Où se règle le nom d'expéditeur ?",
        now=paris(2026, 11, 24, 10),
    )
    set_actor(session, staff_actor())
    with pytest.raises(InvalidInput) as refused:
        support.close_ticket(
            session, question, outcome=TicketOutcome.CAUSED_BY_CUSTOMER, reason="Voir la doc."
        )
    assert refused.value.field == "outcome"
    assert session.scalars(select(PendingCharge)).all() == []
    support.close_ticket(session, question, outcome=TicketOutcome.RESOLVED, reason="Voir la doc.")
    assert question.status is TicketStatus.CLOSED
    assert session.scalars(select(PendingCharge)).all() == []
