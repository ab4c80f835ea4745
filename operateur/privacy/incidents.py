"""SEC-02, SEC-03: the security-incident register.

# SEC-02 [003 §15.4] the security-incident log is available to the customer on request.
# SEC-03 [000 §7.5] incidents affecting customer data are reported within 72 hours.

Staff record an incident (when it was detected, its nature, a description) and the customers it
affects, saying for each whether its data is affected. For those, the notification deadline is
the detection plus the shortest ``security.breach_notification_hours`` of the customer's served
contracts (``privacy.terms.governing_terms``). Staff then notify: each affected customer not yet
told gets an email per contact (its language, French by default) and a ``security.incident``
webhook event, and ``notified_at`` is recorded — notifying again tells nobody twice. A daily
job emails the operator the notifications still pending, past their deadline or not, and the
overdue list shows every customer not told by its deadline. A customer's administrators read
the incidents that affected their customer, never the other customers affected.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from operateur.accounts.models import Customer, Operator
from operateur.contracts import notices
from operateur.domain.calendar import PARIS, aware_input
from operateur.errors import InvalidInput, NotFound
from operateur.i18n import Text
from operateur.notifications import service as notifications
from operateur.privacy.models import BreachNature, IncidentCustomer, SecurityIncident
from operateur.privacy.rules import notification_deadline
from operateur.privacy.terms import governing_terms

EVENT = "security.incident"

NATURES: dict[BreachNature, Text] = {
    BreachNature.CONFIDENTIALITY: Text(
        fr="atteinte à la confidentialité (accès ou divulgation non autorisés)",
        en="confidentiality breach (unauthorised access or disclosure)",
    ),
    BreachNature.INTEGRITY: Text(
        fr="atteinte à l'intégrité (modification non autorisée)",
        en="integrity breach (unauthorised alteration)",
    ),
    BreachNature.AVAILABILITY: Text(
        fr="atteinte à la disponibilité (perte ou indisponibilité)",
        en="availability breach (loss or unavailability)",
    ),
    BreachNature.NONE: Text(
        fr="incident sans atteinte aux données", en="incident with no effect on data"
    ),
}


@dataclass(frozen=True)
class Affected:
    customer_id: int
    data_affected: bool


def _customer(session: Session, customer_id: int, operator_id: int | None, field: str) -> Customer:
    customer = session.get(Customer, customer_id)
    if customer is None or (operator_id is not None and customer.operator_id != operator_id):
        raise NotFound(
            Text(fr="Client {id} introuvable.", en="Customer {id} not found."),
            code="customer_not_found",
            field=field,
            details={"id": customer_id},
        )
    return customer


def record(
    session: Session,
    *,
    detected_at: datetime,
    nature: BreachNature,
    description: str,
    affected: list[Affected],
    now: datetime,
    operator_id: int | None = None,
    recorded_by: str = "",
) -> SecurityIncident:
    """Enter an incident in the register with the customers it affects, and the deadline to
    tell each customer whose data is affected (SEC-03, from its contracts' terms)."""
    detected_at = aware_input(detected_at, "detected_at")
    if detected_at > now:
        raise InvalidInput(
            Text(
                fr="La détection ne peut pas être dans le futur.",
                en="The detection cannot be in the future.",
            ),
            field="detected_at",
        )
    if not description.strip():
        raise InvalidInput(
            Text(fr="Décrivez l'incident.", en="Describe the incident."), field="description"
        )
    if not affected:
        raise InvalidInput(
            Text(
                fr="Nommez au moins un client concerné.",
                en="Name at least one affected customer.",
            ),
            field="customers",
        )
    seen: set[int] = set()
    for i, item in enumerate(affected):
        if item.customer_id in seen:
            raise InvalidInput(
                Text(fr="Le client {id} est cité deux fois.", en="Customer {id} is listed twice."),
                field=f"customers[{i}].customer_id",
                details={"id": item.customer_id},
            )
        seen.add(item.customer_id)
    if nature is BreachNature.NONE and any(item.data_affected for item in affected):
        raise InvalidInput(
            Text(
                fr="Un incident sans atteinte aux données n'affecte les données d'aucun client.",
                en="An incident with no effect on data affects no customer's data.",
            ),
            field="nature",
        )
    incident = SecurityIncident(
        operator_id=operator_id,
        detected_at=detected_at,
        nature=nature,
        description=description.strip(),
        recorded_by=recorded_by,
        recorded_at=now,
    )
    session.add(incident)
    session.flush()
    for i, item in enumerate(affected):
        field = f"customers[{i}].customer_id"
        _customer(session, item.customer_id, operator_id, field)
        deadline = (
            notification_deadline(
                detected_at, governing_terms(session, item.customer_id, field=field)
            )
            if item.data_affected
            else None
        )
        session.add(
            IncidentCustomer(
                incident_id=incident.id,
                customer_id=item.customer_id,
                data_affected=item.data_affected,
                deadline_at=deadline,
                notified_by="",
            )
        )
    session.flush()
    return incident


def rows(session: Session, incident: SecurityIncident) -> list[IncidentCustomer]:
    return list(
        session.scalars(
            select(IncidentCustomer)
            .where(IncidentCustomer.incident_id == incident.id)
            .order_by(IncidentCustomer.id)
        )
    )


def get_incident(session: Session, incident_id: int, operator_id: int | None) -> SecurityIncident:
    """An incident by id; staff of an operator reach only their operator's incidents."""
    incident = session.get(SecurityIncident, incident_id)
    if incident is None or (operator_id is not None and incident.operator_id != operator_id):
        raise NotFound(
            Text(fr="Incident {id} introuvable.", en="Incident {id} not found."),
            code="incident_not_found",
            details={"id": incident_id},
        )
    return incident


def list_incidents(session: Session, operator_id: int | None) -> list[SecurityIncident]:
    query = select(SecurityIncident).order_by(SecurityIncident.detected_at.desc())
    if operator_id is not None:
        query = query.where(SecurityIncident.operator_id == operator_id)
    return list(session.scalars(query))


def _message(incident: SecurityIncident, row: IncidentCustomer) -> tuple[Text, Text]:
    nature = NATURES[incident.nature]
    detected = Text(fr=notices.fr_at(incident.detected_at), en=notices.en_at(incident.detected_at))
    if row.data_affected:
        subject = Text(
            fr=f"Incident de sécurité n° {incident.id} affectant vos données",
            en=f"Security incident #{incident.id} affecting your data",
        )
        effect = Text(
            fr="Des données de votre entreprise sont concernées.",
            en="Data of your company is affected.",
        )
    else:
        subject = Text(
            fr=f"Incident de sécurité n° {incident.id}",
            en=f"Security incident #{incident.id}",
        )
        effect = Text(
            fr="Les données de votre entreprise ne sont pas concernées.",
            en="No data of your company is affected.",
        )
    body = Text(
        fr=f"Bonjour,\n\nNous avons détecté le {detected.fr} un incident de sécurité : "
        f"{nature.fr}. {effect.fr}\n\nDescription : {incident.description}\n\n"
        "Le registre des incidents de sécurité qui concernent votre entreprise est consultable "
        "dans votre espace client (rubrique « Données personnelles »).\n",
        en=f"Hello,\n\nOn {detected.en} we detected a security incident: {nature.en}. "
        f"{effect.en}\n\nDescription: {incident.description}\n\n"
        "The register of the security incidents that concern your company is in your customer "
        'space ("Personal data").\n',
    )
    return subject, body


def notify(
    session: Session,
    incident: SecurityIncident,
    *,
    now: datetime,
    by: str = "",
    customer_ids: list[int] | None = None,
) -> list[IncidentCustomer]:
    """Tell each affected customer not told yet (or only those of ``customer_ids``): email to
    its contacts in their language and a ``security.incident`` webhook event; ``notified_at``
    recorded. The customers told already are left alone: calling again notifies nobody twice.
    Returns the rows notified by this call."""
    all_rows = rows(session, incident)
    if customer_ids is not None:
        known = {row.customer_id for row in all_rows}
        for i, customer_id in enumerate(customer_ids):
            if customer_id not in known:
                raise NotFound(
                    Text(
                        fr="Le client {id} n'est pas concerné par cet incident.",
                        en="Customer {id} is not affected by this incident.",
                    ),
                    code="customer_not_affected",
                    field=f"customer_ids[{i}]",
                    details={"id": customer_id},
                )
    told: list[IncidentCustomer] = []
    for row in all_rows:
        if row.notified_at is not None:
            continue
        if customer_ids is not None and row.customer_id not in customer_ids:
            continue
        subject, body = _message(incident, row)
        notifications.notify(
            session,
            row.customer_id,
            event=EVENT,
            subject=subject,
            body=body,
            data={
                "key": f"incident:{incident.id}:customer:{row.customer_id}",
                "incident_id": incident.id,
                "detected_at": incident.detected_at,
                "nature": incident.nature.value,
                "data_affected": row.data_affected,
                "deadline_at": row.deadline_at,
                "description": incident.description,
            },
            contacts="admin,technical",
        )
        row.notified_at = now
        row.notified_by = by
        told.append(row)
    session.flush()
    return told


def late(row: IncidentCustomer, now: datetime) -> bool:
    """SEC-03: a customer whose data is affected and who was not told by the deadline."""
    if not row.data_affected or row.deadline_at is None:
        return False
    told = row.notified_at
    return (told is None and now > row.deadline_at) or (told is not None and told > row.deadline_at)


def overdue(
    session: Session, operator_id: int | None, now: datetime
) -> list[tuple[SecurityIncident, IncidentCustomer]]:
    """Every affected customer not told by its deadline (still untold, or told late), soonest
    deadline first."""
    query = (
        select(SecurityIncident, IncidentCustomer)
        .join(IncidentCustomer, IncidentCustomer.incident_id == SecurityIncident.id)
        .where(IncidentCustomer.data_affected.is_(True), IncidentCustomer.deadline_at < now)
        .order_by(IncidentCustomer.deadline_at, IncidentCustomer.id)
    )
    if operator_id is not None:
        query = query.where(SecurityIncident.operator_id == operator_id)
    return [(i, row) for i, row in session.execute(query).all() if late(row, now)]


def for_customer(
    session: Session, customer_id: int
) -> list[tuple[SecurityIncident, IncidentCustomer]]:
    """The incidents that affected a customer, with its own row only (never the others')."""
    return [
        (incident, row)
        for incident, row in session.execute(
            select(SecurityIncident, IncidentCustomer)
            .join(IncidentCustomer, IncidentCustomer.incident_id == SecurityIncident.id)
            .where(IncidentCustomer.customer_id == customer_id)
            .order_by(SecurityIncident.detected_at.desc(), SecurityIncident.id.desc())
        ).all()
    ]


def get_for_customer(
    session: Session, customer_id: int, incident_id: int
) -> tuple[SecurityIncident, IncidentCustomer]:
    found = session.execute(
        select(SecurityIncident, IncidentCustomer)
        .join(IncidentCustomer, IncidentCustomer.incident_id == SecurityIncident.id)
        .where(IncidentCustomer.customer_id == customer_id, SecurityIncident.id == incident_id)
    ).first()
    if found is None:
        raise NotFound(
            Text(fr="Incident {id} introuvable.", en="Incident {id} not found."),
            code="incident_not_found",
            details={"id": incident_id},
        )
    return found[0], found[1]


def pending(
    session: Session,
) -> list[tuple[SecurityIncident, IncidentCustomer, Customer]]:
    """The customers whose data an incident affects and who were not told yet."""
    return [
        (incident, row, customer)
        for incident, row, customer in session.execute(
            select(SecurityIncident, IncidentCustomer, Customer)
            .join(IncidentCustomer, IncidentCustomer.incident_id == SecurityIncident.id)
            .join(Customer, Customer.id == IncidentCustomer.customer_id)
            .where(IncidentCustomer.data_affected.is_(True), IncidentCustomer.notified_at.is_(None))
            .order_by(IncidentCustomer.deadline_at, IncidentCustomer.id)
        ).all()
    ]


def pending_alerts(session: Session, as_of: date) -> int:
    """Email each operator the customers it still has to tell of an
    incident, each with its deadline, flagged when it is past at the start of ``as_of`` or
    falls during that day (the job's own cadence: tomorrow's reminder would come too late). Once per
    operator and day; returns how many alerts were queued."""
    at = datetime.combine(as_of, time(0), PARIS)
    by_operator: dict[int, list[tuple[SecurityIncident, IncidentCustomer, Customer]]] = {}
    for incident, row, customer in pending(session):
        by_operator.setdefault(customer.operator_id, []).append((incident, row, customer))
    queued = 0
    for operator_id, items in sorted(by_operator.items()):
        operator = session.get(Operator, operator_id)
        if operator is None:
            continue
        lines_fr: list[str] = []
        lines_en: list[str] = []
        for incident, row, customer in items:
            assert row.deadline_at is not None
            past = row.deadline_at < at
            today = not past and row.deadline_at < at + timedelta(days=1)
            lines_fr.append(
                f"- incident n° {incident.id}, client {customer.name} (n° {customer.id}) : "
                f"à prévenir avant le {notices.fr_at(row.deadline_at)}"
                + (" — DÉLAI DÉPASSÉ" if past else " — À PRÉVENIR AUJOURD'HUI" if today else "")
            )
            lines_en.append(
                f"- incident #{incident.id}, customer {customer.name} (#{customer.id}): "
                f"to notify by {notices.en_at(row.deadline_at)}"
                + (" — DEADLINE PASSED" if past else " — DUE TODAY" if today else "")
            )
        body = (
            "Clients à prévenir d'un incident de sécurité affectant leurs données (SEC-03) :\n"
            + "\n".join(lines_fr)
            + "\n\n---\n\nCustomers to notify of a security incident affecting their data "
            "(SEC-03):\n" + "\n".join(lines_en) + "\n"
        )
        notifications.email(
            session,
            to=operator.email,
            subject=f"[operateur] {len(items)} notification(s) d'incident de sécurité en attente"
            f" / security incident notification(s) pending",
            body=body,
            idempotency_key=f"security.pending:{operator_id}:{as_of.isoformat()}",
        )
        queued += 1
    session.flush()
    return queued


def alert_staff(session: Session, as_of: date) -> None:
    """The scheduler's daily job (``pending_alerts``)."""
    pending_alerts(session, as_of)
