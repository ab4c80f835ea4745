"""VOX-01 [001 §6] suspended destinations: the operator suspends a destination (an E.164
prefix), for one offer or for all, from a date announced by email to the customers concerned;
call control refuses calls to it from that date until it is lifted."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from operateur.catalog.service import get_offer
from operateur.catalog.terms import VOICE_SERVICES
from operateur.contracts.lifecycle import LIVE
from operateur.contracts.models import Contract
from operateur.db import utcnow
from operateur.errors import Conflict, InvalidInput, NotFound
from operateur.i18n import Text
from operateur.notifications.service import notify
from operateur.voice.models import DestinationSuspension

EVENT = "voice.destination_suspended"


def _prefix(raw: str) -> str:
    prefix = raw.strip().removeprefix("+")
    if not (prefix.isdigit() and 1 <= len(prefix) <= 15 and not prefix.startswith("0")):
        raise InvalidInput(
            Text(
                fr="« {value} » : un préfixe E.164 est fait de 1 à 15 chiffres, sans 0 initial.",
                en="“{value}”: an E.164 prefix is 1 to 15 digits, not starting with 0.",
            ),
            field="prefix",
            details={"value": raw},
        )
    return prefix


def suspend_destination(
    session: Session,
    *,
    prefix: str,
    reason: str,
    effective_at: datetime,
    offer_id: str | None = None,
) -> DestinationSuspension:
    """Suspend calls to ``prefix`` from ``effective_at`` and tell every customer with a live
    voice contract concerned, by email (VOX-01 [001 §6])."""
    if effective_at.tzinfo is None:
        raise InvalidInput(
            Text(fr="La date doit porter son fuseau.", en="The time needs its UTC offset."),
            field="effective_at",
        )
    if offer_id is not None:
        get_offer(offer_id)
    if not reason.strip():
        raise InvalidInput(
            Text(fr="Motif obligatoire.", en="A reason is required."), field="reason"
        )
    prefix = _prefix(prefix)
    existing = _in_force(session, prefix, offer_id)
    if existing is not None:
        if existing.effective_at == effective_at and existing.reason == reason.strip():
            return existing  # a retried request: no second record, no second email
        raise Conflict(
            Text(
                fr="La destination +{prefix} est déjà suspendue (suspension {id}) : levez-la "
                "avant d'en annoncer une autre.",
                en="Destination +{prefix} is already suspended (suspension {id}): lift it "
                "before announcing another one.",
            ),
            code="destination_already_suspended",
            field="prefix",
            details={"prefix": prefix, "id": existing.id},
        )
    row = DestinationSuspension(
        prefix=prefix, offer_id=offer_id, reason=reason.strip(), effective_at=effective_at
    )
    session.add(row)
    session.flush()
    when = effective_at.isoformat(timespec="minutes")
    customers = sorted(
        {
            contract.customer_id
            for contract in session.scalars(select(Contract).where(Contract.status.in_(LIVE)))
            if (offer_id is None or contract.offer_id == offer_id)
            and VOICE_SERVICES & set(get_offer(contract.offer_id).services)
        }
    )
    for customer_id in customers:
        notify(
            session,
            customer_id,
            event=EVENT,
            subject=Text(
                fr=f"Suspension des appels vers +{row.prefix}",
                en=f"Calls to +{row.prefix} suspended",
            ),
            body=Text(
                fr=f"Les appels vers la destination +{row.prefix} seront suspendus à partir du "
                f"{when}. Motif : {row.reason}",
                en=f"Calls to destination +{row.prefix} will be suspended from {when}. "
                f"Reason: {row.reason}",
            ),
            data={"key": f"{EVENT}:{row.id}:{customer_id}", "prefix": row.prefix, "from": when},
        )
    return row


def _in_force(session: Session, prefix: str, offer_id: str | None) -> DestinationSuspension | None:
    """The suspension not lifted of ``prefix`` for ``offer_id`` (None: all offers), if any.
    On PostgreSQL two identical requests at once wait for each other (a transaction-scoped
    advisory lock on the destination), so the second finds the first; SQLite has one writer."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(
            text("SELECT pg_advisory_xact_lock(hashtext(:key))"),
            {"key": f"destination-suspension:{prefix}:{offer_id or '*'}"},
        )
    query = select(DestinationSuspension).where(
        DestinationSuspension.prefix == prefix, DestinationSuspension.lifted_at.is_(None)
    )
    query = query.where(
        DestinationSuspension.offer_id.is_(None)
        if offer_id is None
        else DestinationSuspension.offer_id == offer_id
    )
    return session.scalars(query.order_by(DestinationSuspension.id)).first()


def lift_destination(session: Session, suspension_id: int) -> DestinationSuspension:
    row = session.get(DestinationSuspension, suspension_id)
    if row is None:
        raise NotFound(
            Text(fr="Suspension {id} introuvable.", en="Suspension {id} not found."),
            code="destination_suspension_not_found",
            details={"id": suspension_id},
        )
    if row.lifted_at is None:
        row.lifted_at = utcnow()
        session.flush()
    return row


def list_destinations(
    session: Session, *, include_lifted: bool = False
) -> list[DestinationSuspension]:
    query = select(DestinationSuspension).order_by(DestinationSuspension.id)
    if not include_lifted:
        query = query.where(DestinationSuspension.lifted_at.is_(None))
    return list(session.scalars(query))
