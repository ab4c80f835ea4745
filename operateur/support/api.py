"""REST endpoints of the support context: tickets below their customer, the staff's queue,
monthly quotas and loss declarations."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response, status
from sqlalchemy.orm import Session

from operateur.accounts.permissions import Actor, Permission
from operateur.config import Settings
from operateur.contracts import service as contracts
from operateur.http.deps import SessionDep, request_now, require
from operateur.support import service as support
from operateur.support.models import Ticket, TicketAttachment, TicketStatus
from operateur.support.schemas import (
    AttachmentOut,
    CloseIn,
    LossIn,
    LossOut,
    MessageIn,
    MessageOut,
    QuotaOut,
    SlaOut,
    TicketDetailOut,
    TicketIn,
    TicketOut,
)

router = APIRouter(tags=["support"])

Reader = Annotated[Actor, require(Permission.CUSTOMER_READ)]
Opener = Annotated[Actor, require(Permission.TICKETS_OPEN)]
Answerer = Annotated[Actor, require(Permission.TICKETS_ANSWER)]

# Files served back as their own type; anything else is a download of opaque bytes.
SAFE_TYPES = frozenset(
    {"application/pdf", "image/png", "image/jpeg", "image/gif", "text/plain", "text/csv"}
)


def detail_out(session: Session, ticket: Ticket, now: datetime) -> TicketDetailOut:
    clock = support.sla(session, ticket, now)
    return TicketDetailOut.model_validate(
        {
            **TicketOut.model_validate(ticket).model_dump(),
            "sla": SlaOut(
                first_response_due=clock.due,
                first_response_at=clock.responded_at,
                business_seconds_left=clock.business_seconds_left,
                business_seconds_taken=clock.business_seconds_taken,
                met=clock.met,
                support_open_now=clock.open_now,
            ),
            "messages": [MessageOut.model_validate(m) for m in support.messages(session, ticket)],
            "attachments": [
                AttachmentOut.model_validate(a) for a in support.attachments(session, ticket)
            ],
        }
    )


@router.get("/customers/{customer_id}/tickets", response_model=list[TicketOut])
def list_tickets(
    customer_id: int,
    actor: Reader,
    session: SessionDep,
    status_: Annotated[TicketStatus | None, Query(alias="status")] = None,
) -> list[TicketOut]:
    rows = support.list_tickets(session, customer_id, status=status_)
    return [TicketOut.model_validate(t) for t in rows]


@router.post(
    "/customers/{customer_id}/tickets",
    response_model=TicketDetailOut,
    status_code=status.HTTP_201_CREATED,
)
def open_ticket(
    customer_id: int, body: TicketIn, request: Request, actor: Opener, session: SessionDep
) -> TicketDetailOut:
    """Open a question or an incident (SUP-01); an incident's first-response deadline is
    counted in support hours (SUP-02)."""
    now = request_now(request)
    ticket = support.open_ticket(
        session,
        customer_id,
        contract_id=body.contract_id,
        kind=body.kind,
        severity=body.severity,
        service=body.service,
        subject=body.subject,
        body=body.body,
        now=now,
    )
    return detail_out(session, ticket, now)


@router.get("/customers/{customer_id}/tickets/{ticket_id}", response_model=TicketDetailOut)
def get_ticket(
    customer_id: int, ticket_id: int, request: Request, actor: Reader, session: SessionDep
) -> TicketDetailOut:
    ticket = support.get_ticket(session, customer_id, ticket_id)
    return detail_out(session, ticket, request_now(request))


@router.post(
    "/customers/{customer_id}/tickets/{ticket_id}/messages",
    response_model=MessageOut,
    status_code=status.HTTP_201_CREATED,
)
def add_message(
    customer_id: int,
    ticket_id: int,
    body: MessageIn,
    request: Request,
    actor: Opener,
    session: SessionDep,
) -> MessageOut:
    """A message on the ticket; the staff's first one is the first response (SUP-02)."""
    ticket = support.get_ticket(session, customer_id, ticket_id)
    message = support.add_message(session, ticket, body.body, now=request_now(request))
    return MessageOut.model_validate(message)


@router.post(
    "/customers/{customer_id}/tickets/{ticket_id}/attachments",
    response_model=AttachmentOut,
    status_code=status.HTTP_201_CREATED,
)
async def add_attachment(
    customer_id: int,
    ticket_id: int,
    request: Request,
    actor: Opener,
    session: SessionDep,
    filename: Annotated[str, Query(max_length=200)] = "piece-jointe",
) -> AttachmentOut:
    """Join a file to the ticket: the request body is the file, its Content-Type the type."""
    ticket = support.get_ticket(session, customer_id, ticket_id)
    settings: Settings = request.app.state.settings
    data = await request.body()
    attachment = support.add_attachment(
        session,
        ticket,
        filename=filename,
        content_type=request.headers.get("content-type", "application/octet-stream"),
        data=data,
        data_dir=settings.data_dir,
        max_bytes=settings.support_attachment_max_bytes,
    )
    return AttachmentOut.model_validate(attachment)


@router.get(
    "/customers/{customer_id}/tickets/{ticket_id}/attachments/{attachment_id}",
    response_class=Response,
    responses={200: {"content": {"application/octet-stream": {}}}},
)
def get_attachment(
    customer_id: int,
    ticket_id: int,
    attachment_id: int,
    request: Request,
    actor: Reader,
    session: SessionDep,
) -> Response:
    ticket = support.get_ticket(session, customer_id, ticket_id)
    attachment = support.get_attachment(session, ticket, attachment_id)
    settings: Settings = request.app.state.settings
    return attachment_response(attachment, support.read_attachment(attachment, settings.data_dir))


def attachment_response(attachment: TicketAttachment, data: bytes) -> Response:
    """A file of a ticket as a download, never rendered inline by the browser."""
    media = attachment.content_type if attachment.content_type in SAFE_TYPES else None
    return Response(
        data,
        media_type=media or "application/octet-stream",
        headers={
            "Content-Disposition": f'attachment; filename="{attachment.filename}"',
            "X-Content-Type-Options": "nosniff",
        },
    )


@router.post("/customers/{customer_id}/tickets/{ticket_id}/close", response_model=TicketOut)
def close_ticket(
    customer_id: int,
    ticket_id: int,
    body: CloseIn,
    request: Request,
    actor: Opener,
    session: SessionDep,
) -> TicketOut:
    """Close the ticket; only the staff say it was caused by the customer, which bills the
    terms' fee (SUP-03)."""
    ticket = support.get_ticket(session, customer_id, ticket_id)
    support.close_ticket(
        session, ticket, outcome=body.outcome, reason=body.reason, now=request_now(request)
    )
    return TicketOut.model_validate(ticket)


@router.get("/customers/{customer_id}/support/quota", response_model=list[QuotaOut])
def quota(
    customer_id: int,
    request: Request,
    actor: Reader,
    session: SessionDep,
    period: Annotated[str | None, Query(pattern=r"^\d{4}-\d{2}$")] = None,
) -> list[QuotaOut]:
    """Requests used this month against the quota of each contract's terms (SUP-03)."""
    month = period or support.period_of(request_now(request))
    rows = []
    for contract in contracts.list_contracts(session, customer_id):
        usage = support.quota_usage(session, contract, month)
        rows.append(
            QuotaOut(
                contract_id=usage.contract_id,
                period=usage.period,
                users=usage.users,
                quota=usage.quota,
                used=usage.used,
                beyond=usage.beyond,
                fee_beyond=usage.fee_beyond,
            )
        )
    return rows


@router.get("/support/tickets", response_model=list[TicketOut])
def staff_queue(
    actor: Answerer, session: SessionDep, include_closed: bool = False
) -> list[TicketOut]:
    """The staff's queue, the nearest first-response deadline first."""
    rows = support.queue(session, actor.operator_id, include_closed=include_closed)
    return [TicketOut.model_validate(t) for t in rows]


@router.get("/customers/{customer_id}/loss-declarations", response_model=list[LossOut])
def list_declarations(customer_id: int, actor: Reader, session: SessionDep) -> list[LossOut]:
    return [LossOut.model_validate(d) for d in support.list_declarations(session, customer_id)]


@router.post(
    "/customers/{customer_id}/loss-declarations",
    response_model=LossOut,
    status_code=status.HTTP_201_CREATED,
)
def declare_loss(
    customer_id: int,
    body: LossIn,
    request: Request,
    actor: Annotated[Actor, require(Permission.LOSS_DECLARE)],
    session: SessionDep,
) -> LossOut:
    """Declare lost or stolen credentials, SIM or equipment, with the time of the declaration;
    the service is suspended when asked (SUP-04)."""
    declaration = support.declare_loss(
        session,
        customer_id,
        kind=body.kind,
        theft=body.theft,
        contract_id=body.contract_id,
        line_id=body.line_id,
        equipment_id=body.equipment_id,
        user_id=body.user_id,
        api_key_id=body.api_key_id,
        occurred_at=body.occurred_at,
        details=body.details,
        suspend=body.suspend,
        now=request_now(request),
    )
    return LossOut.model_validate(declaration)
