"""Support pages: a customer's tickets with their business-hours clock (SUP-01..03), the
staff's queue, and the declaration of lost or stolen items (SUP-04)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import Form, Request, UploadFile
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.orm import Session

from operateur.accounts import service as accounts
from operateur.accounts.permissions import Actor, Permission
from operateur.catalog.service import get_offer
from operateur.config import Settings
from operateur.contracts import service as contracts
from operateur.contracts.models import ContractStatus
from operateur.domain.calendar import PARIS
from operateur.errors import InvalidInput, OperateurError
from operateur.http.deps import SessionDep
from operateur.i18n import Text
from operateur.portal.customer import space
from operateur.portal.render import redirect, render
from operateur.portal.security import allowed, page_lang
from operateur.portal.web import act, now, portal_router
from operateur.support import rules
from operateur.support import service as support
from operateur.support.api import attachment_response
from operateur.support.models import LossKind, Severity, Ticket, TicketKind, TicketOutcome

router = portal_router()

Reader = Annotated[Actor, allowed(Permission.CUSTOMER_READ)]
Opener = Annotated[Actor, allowed(Permission.TICKETS_OPEN)]
Answerer = Annotated[Actor, allowed(Permission.TICKETS_ANSWER, staff_only=True)]


def _service_choices(session: Session, customer_id: int) -> list[tuple[str, str, str]]:
    """(value, contract reference, service) for each service of each open contract."""
    choices = []
    for contract in contracts.list_contracts(session, customer_id):
        if contract.status not in contracts.OPEN_STATES:
            continue
        for service in get_offer(contract.offer_id).services:
            choices.append((f"{contract.id}:{service.value}", contract.reference, service.value))
    return choices


def _clock(session: Session, ticket: Ticket, request: Request) -> rules.SlaClock:
    return support.sla(session, ticket, now(request))


@router.get("/customers/{customer_id}/tickets", response_class=HTMLResponse)
def tickets_page(
    customer_id: int, request: Request, actor: Reader, session: SessionDep
) -> Response:
    moment = now(request)
    tickets = support.list_tickets(session, customer_id)
    period = support.period_of(moment)
    quotas = [
        (contract, support.quota_usage(session, contract, period))
        for contract in contracts.list_contracts(session, customer_id)
        if contract.status is not ContractStatus.TERMINATED
    ]
    return render(
        request,
        "support/tickets.html",
        space(
            session,
            actor,
            customer_id,
            tickets=[(t, _clock(session, t, request)) for t in tickets],
            quotas=quotas,
            choices=_service_choices(session, customer_id),
            kinds=list(TicketKind),
            severities=list(Severity),
            may_open=actor.has(Permission.TICKETS_OPEN),
            period=period,
        ),
    )


async def _store_files(
    request: Request, session: Session, ticket: Ticket, files: list[UploadFile]
) -> None:
    settings: Settings = request.app.state.settings
    for upload in files:
        if not upload.filename:
            continue
        data = await upload.read()
        if not data:
            continue
        support.add_attachment(
            session,
            ticket,
            filename=upload.filename,
            content_type=upload.content_type or "application/octet-stream",
            data=data,
            data_dir=settings.data_dir,
            max_bytes=settings.support_attachment_max_bytes,
        )


@router.post("/customers/{customer_id}/tickets")
async def open_ticket(
    customer_id: int,
    request: Request,
    actor: Opener,
    session: SessionDep,
    target: Annotated[str, Form(max_length=60)],
    kind: Annotated[TicketKind, Form()],
    severity: Annotated[Severity, Form()],
    subject: Annotated[str, Form(max_length=200)],
    body: Annotated[str, Form(max_length=20_000)],
    files: Annotated[list[UploadFile] | None, Form()] = None,
) -> Response:
    """Open a ticket (SUP-01) about one service of one contract, with its attachments."""
    back = f"/customers/{customer_id}/tickets"
    lang = page_lang(request)
    contract_part, _, service = target.partition(":")
    try:
        if not contract_part.isdigit():
            raise InvalidInput(
                Text(fr="Choisissez le service.", en="Choose the service."), field="target"
            )
        ticket = support.open_ticket(
            session,
            customer_id,
            contract_id=int(contract_part),
            kind=kind,
            severity=severity,
            service=service,
            subject=subject,
            body=body,
            now=now(request),
        )
        await _store_files(request, session, ticket, files or [])
        session.flush()
    except OperateurError as error:
        session.rollback()
        return redirect(request, back, flash=error.render(lang), level="error")
    return redirect(
        request,
        f"{back}/{ticket.id}",
        flash=Text(fr="Ticket {ref} ouvert.", en="Ticket {ref} opened.").render(
            lang, ref=ticket.reference
        ),
    )


@router.get("/customers/{customer_id}/tickets/{ticket_id}", response_class=HTMLResponse)
def ticket_page(
    customer_id: int, ticket_id: int, request: Request, actor: Reader, session: SessionDep
) -> Response:
    ticket = support.get_ticket(session, customer_id, ticket_id)
    contract = contracts.get_contract(session, customer_id, ticket.contract_id)
    terms = contracts.terms_of(contract)
    return render(
        request,
        "support/ticket.html",
        space(
            session,
            actor,
            customer_id,
            ticket=ticket,
            contract=contract,
            clock=_clock(session, ticket, request),
            hours=terms.support.hours,
            response=terms.sla.incident.response if terms.sla and terms.sla.incident else None,
            messages=support.messages(session, ticket),
            attachments=support.attachments(session, ticket),
            charges=support.ticket_charges(session, ticket),
            may_write=actor.has(Permission.TICKETS_OPEN) or actor.has(Permission.TICKETS_ANSWER),
            staff=actor.is_staff and actor.has(Permission.TICKETS_ANSWER),
            outcomes=list(TicketOutcome),
            wrong_ticket_fee=terms.support.wrong_ticket_fee,
        ),
    )


@router.post("/customers/{customer_id}/tickets/{ticket_id}/messages")
async def reply(
    customer_id: int,
    ticket_id: int,
    request: Request,
    actor: Annotated[Actor, allowed(Permission.CUSTOMER_READ)],
    session: SessionDep,
    body: Annotated[str, Form(max_length=20_000)],
    files: Annotated[list[UploadFile] | None, Form()] = None,
) -> Response:
    """A message on the ticket: the staff's first one stops the SLA clock (SUP-02)."""
    back = f"/customers/{customer_id}/tickets/{ticket_id}"
    lang = page_lang(request)
    if not (actor.has(Permission.TICKETS_OPEN) or actor.has(Permission.TICKETS_ANSWER)):
        return redirect(
            request,
            back,
            flash=Text(
                fr="Votre rôle ne permet pas de répondre.", en="Your role may not reply."
            ).render(lang),
            level="error",
        )
    try:
        ticket = support.get_ticket(session, customer_id, ticket_id)
        support.add_message(session, ticket, body, now=now(request))
        await _store_files(request, session, ticket, files or [])
        session.flush()
    except OperateurError as error:
        session.rollback()
        return redirect(request, back, flash=error.render(lang), level="error")
    return redirect(
        request, back, flash=Text(fr="Message envoyé.", en="Message sent.").render(lang)
    )


@router.post("/customers/{customer_id}/tickets/{ticket_id}/close")
def close_ticket(
    customer_id: int,
    ticket_id: int,
    request: Request,
    actor: Opener,
    session: SessionDep,
    reason: Annotated[str, Form(max_length=2000)],
    outcome: Annotated[TicketOutcome, Form()] = TicketOutcome.RESOLVED,
) -> Response:
    ticket = support.get_ticket(session, customer_id, ticket_id)
    return act(
        request,
        session,
        back=f"/customers/{customer_id}/tickets/{ticket_id}",
        done=Text(fr="Ticket clos.", en="Ticket closed."),
        run=lambda: support.close_ticket(
            session, ticket, outcome=outcome, reason=reason, now=now(request)
        ),
    )


@router.get("/customers/{customer_id}/tickets/{ticket_id}/attachments/{attachment_id}")
def attachment(
    customer_id: int,
    ticket_id: int,
    attachment_id: int,
    request: Request,
    actor: Reader,
    session: SessionDep,
) -> Response:
    ticket = support.get_ticket(session, customer_id, ticket_id)
    found = support.get_attachment(session, ticket, attachment_id)
    settings: Settings = request.app.state.settings
    return attachment_response(found, support.read_attachment(found, settings.data_dir))


@router.get("/staff/tickets", response_class=HTMLResponse)
def staff_queue(
    request: Request, actor: Answerer, session: SessionDep, all: bool = False
) -> Response:
    """The staff's queue, the nearest first-response deadline first (SUP-02)."""
    tickets = support.queue(session, actor.operator_id, include_closed=all)
    names = {c.id: c.name for c in accounts.list_customers(session, actor.operator_id)}
    return render(
        request,
        "support/queue.html",
        {
            "tickets": [
                (t, _clock(session, t, request), names.get(t.customer_id, "")) for t in tickets
            ],
            "show_all": all,
        },
    )


# --- lost or stolen items (SUP-04) -----------------------------------------------------------


@router.get("/customers/{customer_id}/losses", response_class=HTMLResponse)
def losses_page(
    customer_id: int,
    request: Request,
    actor: Annotated[Actor, allowed(Permission.LOSS_DECLARE)],
    session: SessionDep,
) -> Response:
    customer = accounts.get_customer(session, customer_id)
    items: list[tuple[str, str, str]] = []  # (group, value, label)
    for line in contracts.list_lines(session, customer_id):
        items.append(("sim", f"sim:{line.id}", f"{line.label} ({line.kind.value})"))
    for equipment in contracts.list_equipment(session, customer_id):
        items.append(
            ("equipment", f"equipment:{equipment.id}", f"{equipment.model} — {equipment.serial}")
        )
    for user in accounts.list_users(session, customer.operator_id, customer_id):
        if user.active:
            items.append(
                ("credentials", f"credentials:{user.id}", f"{user.display_name} <{user.email}>")
            )
    for key in accounts.list_api_keys(session, customer.operator_id, customer_id):
        if key.revoked_at is None:
            items.append(("api_key", f"api_key:{key.id}", f"{key.name} ({key.public_id})"))
    return render(
        request,
        "support/losses.html",
        space(
            session,
            actor,
            customer_id,
            items=items,
            contracts=[
                c
                for c in contracts.list_contracts(session, customer_id)
                if c.status
                in (ContractStatus.ACTIVE, ContractStatus.SUSPENDED, ContractStatus.NOTICE_GIVEN)
            ],
            declarations=support.list_declarations(session, customer_id),
        ),
    )


@router.post("/customers/{customer_id}/losses")
def declare_loss(
    customer_id: int,
    request: Request,
    actor: Annotated[Actor, allowed(Permission.LOSS_DECLARE)],
    session: SessionDep,
    item: Annotated[str, Form(max_length=40)],
    theft: Annotated[bool, Form()] = False,
    suspend: Annotated[bool, Form()] = False,
    contract_id: Annotated[str, Form(max_length=20)] = "",
    occurred_at: Annotated[str, Form(max_length=20)] = "",
    details: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    """Record the declaration now — the customer is liable until this moment — and suspend
    the service when asked (SUP-04)."""
    back = f"/customers/{customer_id}/losses"
    kind_part, _, id_part = item.partition(":")
    lang = page_lang(request)
    try:
        kind = LossKind(kind_part)
        if not id_part.isdigit():
            raise ValueError(item)
        occurred = (
            datetime.fromisoformat(occurred_at).replace(tzinfo=PARIS) if occurred_at else None
        )
    except ValueError:
        return redirect(
            request,
            back,
            flash=Text(fr="Choisissez l'élément perdu ou volé.", en="Choose the lost item.").render(
                lang
            ),
            level="error",
        )
    target = int(id_part)
    moment = now(request)
    return act(
        request,
        session,
        back=back,
        done=Text(
            fr=f"Déclaration enregistrée le {moment.astimezone(PARIS):%d/%m/%Y à %H:%M}.",
            en=f"Declaration recorded at {moment.astimezone(PARIS):%Y-%m-%d %H:%M}.",
        ),
        run=lambda: support.declare_loss(
            session,
            customer_id,
            kind=kind,
            theft=theft,
            contract_id=int(contract_id) if contract_id.isdigit() else None,
            line_id=target if kind is LossKind.SIM else None,
            equipment_id=target if kind is LossKind.EQUIPMENT else None,
            user_id=target if kind is LossKind.CREDENTIALS else None,
            api_key_id=target if kind is LossKind.API_KEY else None,
            occurred_at=occurred,
            details=details,
            suspend=suspend,
            now=moment,
        ),
    )
