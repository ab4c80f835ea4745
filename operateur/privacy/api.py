"""REST endpoints of the privacy context: the security-incident register (SEC-02, SEC-03) and
the data subjects' requests (PRIV-01)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query, status
from sqlalchemy.orm import Session

from operateur.accounts import service as accounts
from operateur.accounts.permissions import Actor, Permission
from operateur.domain.calendar import PARIS
from operateur.http.deps import LangDep, SessionDep, request_now, require
from operateur.privacy import incidents
from operateur.privacy import subject_requests as requests
from operateur.privacy.models import (
    DataSubjectRequest,
    IncidentCustomer,
    RequestStatus,
    SecurityIncident,
)
from operateur.privacy.schemas import (
    CustomerIncidentOut,
    DataRequestAnswerIn,
    DataRequestIn,
    DataRequestOut,
    IncidentCustomerOut,
    IncidentIn,
    IncidentOut,
    NotifyIn,
    OverdueIncidentOut,
)

router = APIRouter(prefix="/customers/{customer_id}")
operator_router = APIRouter()

IncidentsManager = Annotated[Actor, require(Permission.INCIDENTS_MANAGE)]
IncidentsReader = Annotated[Actor, require(Permission.INCIDENTS_READ)]
RequestsManager = Annotated[Actor, require(Permission.DATA_REQUESTS)]
RequestsReviewer = Annotated[Actor, require(Permission.DATA_REQUESTS_REVIEW)]
Now = Annotated[datetime, Depends(request_now)]


# --- the register, for staff (SEC-02, SEC-03) --------------------------------------------------


def _incident_out(
    session: Session, incident: SecurityIncident, lang: str, now: datetime
) -> IncidentOut:
    return IncidentOut(
        id=incident.id,
        detected_at=incident.detected_at,
        nature=incident.nature,
        nature_label=incidents.NATURES[incident.nature].render(lang),
        description=incident.description,
        recorded_at=incident.recorded_at,
        recorded_by=incident.recorded_by,
        customers=[
            IncidentCustomerOut(
                customer_id=row.customer_id,
                data_affected=row.data_affected,
                deadline_at=row.deadline_at,
                notified_at=row.notified_at,
                late=incidents.late(row, now),
            )
            for row in incidents.rows(session, incident)
        ],
    )


@operator_router.post(
    "/security-incidents",
    response_model=IncidentOut,
    status_code=status.HTTP_201_CREATED,
    tags=["security incidents"],
)
def record_incident(
    body: IncidentIn, actor: IncidentsManager, session: SessionDep, lang: LangDep, now: Now
) -> IncidentOut:
    """Enter an incident and the customers it affects; the deadline to tell each customer whose
    data is affected comes from its contracts' ``security.breach_notification_hours``."""
    incident = incidents.record(
        session,
        detected_at=body.detected_at,
        nature=body.nature,
        description=body.description,
        affected=[incidents.Affected(c.customer_id, c.data_affected) for c in body.customers],
        now=now,
        operator_id=actor.operator_id,
        recorded_by=actor.label,
    )
    return _incident_out(session, incident, lang, now)


@operator_router.get(
    "/security-incidents", response_model=list[IncidentOut], tags=["security incidents"]
)
def list_incidents(
    actor: IncidentsManager, session: SessionDep, lang: LangDep, now: Now
) -> list[IncidentOut]:
    return [
        _incident_out(session, incident, lang, now)
        for incident in incidents.list_incidents(session, actor.operator_id)
    ]


@operator_router.get(
    "/security-incidents/overdue",
    response_model=list[OverdueIncidentOut],
    tags=["security incidents"],
)
def overdue_incidents(
    actor: IncidentsManager, session: SessionDep, now: Now
) -> list[OverdueIncidentOut]:
    """SEC-03: the affected customers not told by their deadline (still untold, or told late)."""
    out: list[OverdueIncidentOut] = []
    for incident, row in incidents.overdue(session, actor.operator_id, now):
        assert row.deadline_at is not None
        out.append(
            OverdueIncidentOut(
                incident_id=incident.id,
                customer_id=row.customer_id,
                detected_at=incident.detected_at,
                deadline_at=row.deadline_at,
                notified_at=row.notified_at,
            )
        )
    return out


@operator_router.get(
    "/security-incidents/{incident_id}", response_model=IncidentOut, tags=["security incidents"]
)
def get_incident(
    incident_id: int, actor: IncidentsManager, session: SessionDep, lang: LangDep, now: Now
) -> IncidentOut:
    incident = incidents.get_incident(session, incident_id, actor.operator_id)
    return _incident_out(session, incident, lang, now)


@operator_router.post(
    "/security-incidents/{incident_id}/notify",
    response_model=IncidentOut,
    tags=["security incidents"],
)
def notify_incident(
    incident_id: int,
    body: NotifyIn,
    actor: IncidentsManager,
    session: SessionDep,
    lang: LangDep,
    now: Now,
) -> IncidentOut:
    """Tell the affected customers not told yet (email in their language, webhook event);
    those told already are not told again."""
    incident = incidents.get_incident(session, incident_id, actor.operator_id)
    incidents.notify(session, incident, now=now, by=actor.label, customer_ids=body.customer_ids)
    return _incident_out(session, incident, lang, now)


# --- what a customer sees (SEC-02 [003 §15.4]) -------------------------------------------------


def _customer_incident_out(
    incident: SecurityIncident, row: IncidentCustomer, lang: str
) -> CustomerIncidentOut:
    return CustomerIncidentOut(
        id=incident.id,
        detected_at=incident.detected_at,
        nature=incident.nature,
        nature_label=incidents.NATURES[incident.nature].render(lang),
        description=incident.description,
        data_affected=row.data_affected,
        deadline_at=row.deadline_at,
        notified_at=row.notified_at,
    )


@router.get(
    "/security-incidents", response_model=list[CustomerIncidentOut], tags=["security incidents"]
)
def customer_incidents(
    customer_id: int, actor: IncidentsReader, session: SessionDep, lang: LangDep
) -> list[CustomerIncidentOut]:
    """The security incidents that affected the customer (never the other customers named)."""
    return [
        _customer_incident_out(incident, row, lang)
        for incident, row in incidents.for_customer(session, customer_id)
    ]


@router.get(
    "/security-incidents/{incident_id}",
    response_model=CustomerIncidentOut,
    tags=["security incidents"],
)
def customer_incident(
    customer_id: int, incident_id: int, actor: IncidentsReader, session: SessionDep, lang: LangDep
) -> CustomerIncidentOut:
    incident, row = incidents.get_for_customer(session, customer_id, incident_id)
    return _customer_incident_out(incident, row, lang)


# --- data subjects' requests (PRIV-01) ---------------------------------------------------------


def _request_out(request: DataSubjectRequest, lang: str, now: datetime) -> DataRequestOut:
    return DataRequestOut(
        id=request.id,
        customer_id=request.customer_id,
        kind=request.kind,
        kind_label=requests.KINDS[request.kind].render(lang),
        subject_name=request.subject_name,
        subject_contact=request.subject_contact,
        details=request.details,
        received_at=request.received_at,
        due_on=request.due_on,
        status=request.status,
        answered_at=request.answered_at,
        answered_by=request.answered_by,
        note=request.note,
        late=requests.late(request, now.astimezone(PARIS).date()),
        tools=requests.tools(request),
    )


@router.get("/data-requests", response_model=list[DataRequestOut], tags=["data requests"])
def list_data_requests(
    customer_id: int,
    actor: RequestsManager,
    session: SessionDep,
    lang: LangDep,
    now: Now,
    state: Annotated[RequestStatus | None, Query(alias="status")] = None,
    overdue: bool = False,
) -> list[DataRequestOut]:
    """The customer's requests, newest first; ``overdue=true``: those open past their due day."""
    found = (
        requests.overdue(session, now.astimezone(PARIS).date(), customer_id=customer_id)
        if overdue
        else requests.list_requests(session, customer_id, state)
    )
    return [_request_out(r, lang, now) for r in found]


@router.post(
    "/data-requests",
    response_model=DataRequestOut,
    status_code=status.HTTP_201_CREATED,
    tags=["data requests"],
)
def record_data_request(
    customer_id: int,
    body: DataRequestIn,
    actor: RequestsManager,
    session: SessionDep,
    lang: LangDep,
    now: Now,
) -> DataRequestOut:
    """Register a data subject's request; due by the customer's contracts' delay."""
    request = requests.record(
        session,
        accounts.get_customer(session, customer_id),
        kind=body.kind,
        subject_name=body.subject_name,
        subject_contact=body.subject_contact,
        received_at=body.received_at or now,
        now=now,
        details=body.details,
        recorded_by=actor.label,
    )
    return _request_out(request, lang, now)


@router.get(
    "/data-requests/{data_request_id}", response_model=DataRequestOut, tags=["data requests"]
)
def get_data_request(
    customer_id: int,
    data_request_id: int,
    actor: RequestsManager,
    session: SessionDep,
    lang: LangDep,
    now: Now,
) -> DataRequestOut:
    return _request_out(requests.get_request(session, customer_id, data_request_id), lang, now)


@router.post(
    "/data-requests/{data_request_id}/answer",
    response_model=DataRequestOut,
    tags=["data requests"],
)
def answer_data_request(
    customer_id: int,
    data_request_id: int,
    body: DataRequestAnswerIn,
    actor: RequestsManager,
    session: SessionDep,
    lang: LangDep,
    now: Now,
) -> DataRequestOut:
    """Close an open request: answered (what was done) or rejected (why, in ``note``)."""
    request = requests.get_request(session, customer_id, data_request_id)
    requests.close(
        session,
        request,
        rejected=body.outcome == "rejected",
        note=body.note,
        now=now,
        answered_at=body.answered_at,
        by=actor.label,
    )
    return _request_out(request, lang, now)


@operator_router.get(
    "/data-requests/overdue", response_model=list[DataRequestOut], tags=["data requests"]
)
def overdue_data_requests(
    actor: RequestsReviewer, session: SessionDep, lang: LangDep, now: Now
) -> list[DataRequestOut]:
    """PRIV-01: every customer's requests still open after their due day, oldest due first."""
    return [
        _request_out(r, lang, now)
        for r in requests.overdue(
            session, now.astimezone(PARIS).date(), operator_id=actor.operator_id
        )
    ]
