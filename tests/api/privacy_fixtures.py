"""Privacy objects of a tenant of the API test world: a security incident that affected it
(SEC-02) and a data subject's request (PRIV-01), so that every route naming one has one to
reach (or to be refused)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.orm import Session

from operateur.accounts.models import Customer
from operateur.db import utcnow
from operateur.privacy import incidents
from operateur.privacy import subject_requests as requests
from operateur.privacy.models import BreachNature, RequestKind


def privacy_objects(session: Session, customer: Customer) -> dict[str, int]:
    now = utcnow()
    incident = incidents.record(
        session,
        detected_at=now - timedelta(hours=1),
        nature=BreachNature.CONFIDENTIALITY,
        description=f"Incident of {customer.name}",
        affected=[incidents.Affected(customer.id, True)],
        now=now,
        operator_id=customer.operator_id,
        recorded_by="test",
    )
    request = requests.record(
        session,
        customer,
        kind=RequestKind.ACCESS,
        subject_name="Jeanne Martin",
        subject_contact="jeanne@example.fr",
        received_at=now,
        now=now,
    )
    return {"incident_id": incident.id, "data_request_id": request.id}
