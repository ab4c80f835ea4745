"""REST endpoints of fraud alerts, for staff (VOX-06, BIL-13, BIL-15)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter

from operateur.accounts.permissions import Actor, Permission
from operateur.fraud import service as fraud
from operateur.fraud.models import AlertKind, AlertStatus
from operateur.fraud.schemas import AlertOut, ResolveIn, RunIn
from operateur.http.deps import SessionDep, require

router = APIRouter(tags=["fraud"])

Manager = Annotated[Actor, require(Permission.FRAUD_MANAGE)]


@router.get("/fraud/alerts", response_model=list[AlertOut])
def list_alerts(
    actor: Manager,
    session: SessionDep,
    status: AlertStatus | None = None,
    customer_id: int | None = None,
    kind: AlertKind | None = None,
) -> list[AlertOut]:
    rows = fraud.list_alerts(session, status=status, customer_id=customer_id, kind=kind)
    return [AlertOut.model_validate(a) for a in rows]


@router.get("/fraud/alerts/{alert_id}", response_model=AlertOut)
def get_alert(alert_id: int, actor: Manager, session: SessionDep) -> AlertOut:
    return AlertOut.model_validate(fraud.get_alert(session, alert_id))


@router.post("/fraud/alerts/{alert_id}/resolve", response_model=AlertOut)
def resolve_alert(alert_id: int, body: ResolveIn, actor: Manager, session: SessionDep) -> AlertOut:
    alert = fraud.resolve(
        session,
        fraud.get_alert(session, alert_id),
        by=actor.label,
        resolution=body.resolution,
        lift_restriction=body.lift_restriction,
        reported=body.reported,
    )
    return AlertOut.model_validate(alert)


@router.post("/fraud/run", response_model=list[AlertOut])
def run_detectors(body: RunIn, actor: Manager, session: SessionDep) -> list[AlertOut]:
    """Run the detectors now for a date (the scheduler does it every day)."""
    return [AlertOut.model_validate(a) for a in fraud.run(session, body.as_of)]
