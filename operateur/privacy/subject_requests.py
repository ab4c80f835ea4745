"""PRIV-01: the register of data subjects' requests.

# PRIV-01 [000 §7.4; 003 §15.1] data subjects' rights — access, rectification, erasure,
# objection — answered within the contract's delay (30 days).

A customer's administrator, or staff on its behalf, records a request (its kind, who asks and
how to reach them, when it was received); it is due on the day of reception + the shortest
``retention.data_subject_response_days`` of the customer's served contracts (calendar days).
It is then answered (what was done) or rejected (why): ``open -> answered | rejected``, once.
The platform's own tools perform the actions: the data export answers access (portal
``/customers/{id}/export``), the profile and contacts pages rectification and erasure of the
customer's contacts (``/customers/{id}/profile``, ``/users``); ``TOOLS`` links them.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from operateur.accounts.models import Customer
from operateur.domain.calendar import PARIS, aware_input
from operateur.errors import Conflict, InvalidInput, NotFound
from operateur.i18n import Text
from operateur.privacy.models import DataSubjectRequest, RequestKind, RequestStatus
from operateur.privacy.rules import response_due
from operateur.privacy.terms import governing_terms

#: The portal pages that carry out each kind of request (paths below ``/customers/{id}``).
TOOLS: dict[RequestKind, tuple[str, ...]] = {
    RequestKind.ACCESS: ("/export",),  # the whole data of the customer, as JSON files
    RequestKind.RECTIFICATION: ("/profile", "/users"),  # contacts, users, identity
    RequestKind.ERASURE: ("/profile", "/users"),  # remove a contact, disable a user
    RequestKind.OBJECTION: ("/profile",),  # a contact no longer told of events
}

KINDS: dict[RequestKind, Text] = {
    RequestKind.ACCESS: Text("Accès", "Access"),
    RequestKind.RECTIFICATION: Text("Rectification", "Rectification"),
    RequestKind.ERASURE: Text("Effacement", "Erasure"),
    RequestKind.OBJECTION: Text("Opposition", "Objection"),
}

STATUSES: dict[RequestStatus, Text] = {
    RequestStatus.OPEN: Text("En cours", "Open"),
    RequestStatus.ANSWERED: Text("Répondue", "Answered"),
    RequestStatus.REJECTED: Text("Refusée", "Rejected"),
}


def tools(request: DataSubjectRequest) -> list[str]:
    return [f"/customers/{request.customer_id}{path}" for path in TOOLS[request.kind]]


def _required(value: str, field: str, what: Text) -> str:
    if not value.strip():
        raise InvalidInput(Text(fr=f"Indiquez {what.fr}.", en=f"Give {what.en}."), field=field)
    return value.strip()


def record(
    session: Session,
    customer: Customer,
    *,
    kind: RequestKind,
    subject_name: str,
    subject_contact: str,
    received_at: datetime,
    now: datetime,
    details: str = "",
    recorded_by: str = "",
) -> DataSubjectRequest:
    """Register a request and the day it is due by, from the customer's contracts' terms."""
    received_at = aware_input(received_at, "received_at")
    if received_at > now:
        raise InvalidInput(
            Text(
                fr="La réception ne peut pas être dans le futur.",
                en="The reception cannot be in the future.",
            ),
            field="received_at",
        )
    name = _required(
        subject_name, "subject_name", Text("le nom de la personne", "the person's name")
    )
    contact = _required(
        subject_contact,
        "subject_contact",
        Text("comment joindre la personne", "how to reach the person"),
    )
    due = response_due(received_at, governing_terms(session, customer.id, field="customer_id"))
    request = DataSubjectRequest(
        customer_id=customer.id,
        kind=kind,
        subject_name=name,
        subject_contact=contact,
        details=details.strip(),
        received_at=received_at,
        due_on=due,
        status=RequestStatus.OPEN,
        recorded_by=recorded_by,
        answered_by="",
        note="",
    )
    session.add(request)
    session.flush()
    return request


def get_request(session: Session, customer_id: int, request_id: int) -> DataSubjectRequest:
    request = session.get(DataSubjectRequest, request_id)
    if request is None or request.customer_id != customer_id:
        raise NotFound(
            Text(fr="Demande {id} introuvable.", en="Request {id} not found."),
            code="data_request_not_found",
            details={"id": request_id},
        )
    return request


def list_requests(
    session: Session, customer_id: int, status: RequestStatus | None = None
) -> list[DataSubjectRequest]:
    query = select(DataSubjectRequest).where(DataSubjectRequest.customer_id == customer_id)
    if status is not None:
        query = query.where(DataSubjectRequest.status == status)
    return list(
        session.scalars(
            query.order_by(DataSubjectRequest.received_at.desc(), DataSubjectRequest.id.desc())
        )
    )


def close(
    session: Session,
    request: DataSubjectRequest,
    *,
    rejected: bool,
    note: str,
    now: datetime,
    answered_at: datetime | None = None,
    by: str = "",
) -> DataSubjectRequest:
    """Answer (what was done) or reject (why) an open request, once."""
    if request.status is not RequestStatus.OPEN:
        raise Conflict(
            Text(
                fr="La demande {id} est déjà close ({status}).",
                en="Request {id} is already closed ({status}).",
            ),
            code="data_request_closed",
            field="status",
            details={"id": request.id, "status": request.status.value},
        )
    at = aware_input(answered_at, "answered_at") if answered_at is not None else now
    if at > now:
        raise InvalidInput(
            Text(fr="La réponse ne peut pas être dans le futur.", en="The answer cannot be ahead."),
            field="answered_at",
        )
    if at < request.received_at:
        raise InvalidInput(
            Text(
                fr="La réponse précède la réception de la demande.",
                en="The answer precedes the reception of the request.",
            ),
            field="answered_at",
        )
    if rejected:
        text = _required(note, "note", Text("la raison du refus", "the reason for the refusal"))
    else:
        text = note.strip()
    request.status = RequestStatus.REJECTED if rejected else RequestStatus.ANSWERED
    request.answered_at = at
    request.answered_by = by
    request.note = text
    session.flush()
    return request


def late(request: DataSubjectRequest, today: date) -> bool:
    """PRIV-01: open past its due day, or answered after it."""
    if request.status is RequestStatus.OPEN:
        return today > request.due_on
    assert request.answered_at is not None
    return request.answered_at.astimezone(PARIS).date() > request.due_on


def overdue(
    session: Session, today: date, *, operator_id: int | None = None, customer_id: int | None = None
) -> list[DataSubjectRequest]:
    """The requests still open after their due day, oldest due first."""
    query = select(DataSubjectRequest).where(
        DataSubjectRequest.status == RequestStatus.OPEN, DataSubjectRequest.due_on < today
    )
    if customer_id is not None:
        query = query.where(DataSubjectRequest.customer_id == customer_id)
    if operator_id is not None:
        query = query.join(Customer, Customer.id == DataSubjectRequest.customer_id).where(
            Customer.operator_id == operator_id
        )
    return list(session.scalars(query.order_by(DataSubjectRequest.due_on, DataSubjectRequest.id)))
