"""The contract state machine and the one question every engine asks: may this customer use
this service now?

    draft ─sign→ signed ─activate→ active ─suspend→ suspended ─restore→ active
    active, suspended ─give_notice→ notice_given ─terminate→ terminated ─purge→ purged
    signed or any live state ─terminate→ terminated

Each transition checks where the contract stands, records who, when and why in a
``ContractEvent`` (and in the audit log), and refuses an illegal move with the states named.
A suspension is whole, or partial where the terms allow it (CTR-06): only international calls,
outbound calls, SMS or mail.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from operateur.catalog.service import get_offer
from operateur.catalog.terms import Service, SuspensionCause
from operateur.contracts.models import (
    Contract,
    ContractEvent,
    ContractStatus,
    Suspension,
    SuspensionScope,
)
from operateur.contracts.service import end_subscriptions, record_transition, terms_of
from operateur.db import utcnow
from operateur.errors import InvalidInput
from operateur.i18n import Text

LIVE = (ContractStatus.ACTIVE, ContractStatus.SUSPENDED, ContractStatus.NOTICE_GIVEN)

# the states each transition may start from
TRANSITIONS: dict[str, tuple[ContractStatus, ...]] = {
    "suspend": (ContractStatus.ACTIVE, ContractStatus.NOTICE_GIVEN, ContractStatus.SUSPENDED),
    "restore": (ContractStatus.SUSPENDED,),
    "give_notice": (ContractStatus.ACTIVE, ContractStatus.SUSPENDED),
    "terminate": (ContractStatus.SIGNED, *LIVE),
    "purge": (ContractStatus.TERMINATED,),
}


def _move(
    session: Session,
    contract: Contract,
    transition: str,
    target: ContractStatus,
    reason: str,
    details: dict[str, Any] | None = None,
) -> ContractEvent:
    return record_transition(
        session, contract, transition, TRANSITIONS[transition], target, reason, details
    )


def suspend(
    session: Session,
    contract: Contract,
    *,
    cause: SuspensionCause,
    reason: str,
    scope: SuspensionScope = SuspensionScope.FULL,
) -> Suspension:
    """Suspend the contract, whole or — where its terms allow — in part (CTR-06)."""
    terms = terms_of(contract).suspension
    if scope is not SuspensionScope.FULL and not terms.partial_allowed:
        raise InvalidInput(
            Text(
                fr="Les conditions du contrat ne prévoient pas de suspension partielle.",
                en="The contract's terms provide no partial suspension.",
            ),
            field="scope",
        )
    _move(
        session,
        contract,
        "suspend",
        ContractStatus.SUSPENDED,
        reason,
        {"cause": cause.value, "scope": scope.value},
    )
    suspension = Suspension(
        contract_id=contract.id,
        customer_id=contract.customer_id,
        cause=cause.value,
        scope=scope,
        reason=reason,
    )
    session.add(suspension)
    session.flush()
    return suspension


def open_suspensions(session: Session, contract_id: int) -> list[Suspension]:
    return list(
        session.scalars(
            select(Suspension).where(
                Suspension.contract_id == contract_id, Suspension.lifted_at.is_(None)
            )
        )
    )


def restore(session: Session, contract: Contract, *, reason: str) -> ContractEvent:
    """Lift every suspension (e.g. on payment, CTR-06 [004 §9.5])."""
    back = ContractStatus.NOTICE_GIVEN if contract.ends_on else ContractStatus.ACTIVE
    event = _move(session, contract, "restore", back, reason)
    for suspension in open_suspensions(session, contract.id):
        suspension.lifted_at = utcnow()
    session.flush()
    return event


def give_notice(
    session: Session, contract: Contract, *, received_on: date, ends_on: date, reason: str
) -> ContractEvent:
    """Record a notice of termination: the contract is served until ``ends_on``."""
    if ends_on < received_on:
        raise InvalidInput(
            Text(fr="La fin précède le préavis.", en="The end precedes the notice."),
            field="ends_on",
        )
    event = _move(
        session,
        contract,
        "give_notice",
        ContractStatus.NOTICE_GIVEN,
        reason,
        {"received_on": received_on.isoformat(), "ends_on": ends_on.isoformat()},
    )
    contract.notice_given_on = received_on
    contract.ends_on = ends_on
    end_subscriptions(session, contract, ends_on)
    for suspension in open_suspensions(session, contract.id):
        suspension.lifted_at = utcnow()
    session.flush()
    return event


def terminate(session: Session, contract: Contract, *, on: date, reason: str) -> ContractEvent:
    event = _move(
        session, contract, "terminate", ContractStatus.TERMINATED, reason, {"on": on.isoformat()}
    )
    contract.terminated_on = on
    end_subscriptions(session, contract, on)
    session.flush()
    return event


def history(session: Session, contract_id: int) -> list[ContractEvent]:
    return list(
        session.scalars(
            select(ContractEvent)
            .where(ContractEvent.contract_id == contract_id)
            .order_by(ContractEvent.id)
        )
    )


# --- may this customer use this service now? ------------------------------------------------


@dataclass(frozen=True)
class UsageDecision:
    allowed: bool
    code: str
    reason: Text
    contract_id: int | None = None


SCOPE_OF_SERVICE: dict[Service, SuspensionScope] = {
    Service.SMS: SuspensionScope.SMS,
    Service.MAIL_IN: SuspensionScope.MAIL,
    Service.MAIL_OUT: SuspensionScope.MAIL,
}

VOICE_SERVICES = frozenset(
    {
        Service.VOICE_OUTBOUND,
        Service.CENTREX,
        Service.CPAAS_VOICE,
        Service.FIXED,
        Service.MOBILE,
        Service.CRM,
    }
)


def may_use(
    session: Session, customer_id: int, service: Service, *, international: bool = False
) -> UsageDecision:
    """The single check the voice, SMS and mail engines ask before serving a customer: a live
    contract covering ``service``, not suspended for it (``international``: a call abroad)."""
    contracts = list(
        session.scalars(
            select(Contract).where(Contract.customer_id == customer_id, Contract.status.in_(LIVE))
        )
    )
    covering = [c for c in contracts if service in get_offer(c.offer_id).services]
    if not covering:
        return UsageDecision(
            False,
            "no_contract",
            Text(
                fr="Aucun contrat en cours ne couvre ce service.",
                en="No live contract covers this service.",
            ),
        )
    refusal: UsageDecision | None = None
    for contract in covering:
        blocking = [
            s
            for s in open_suspensions(session, contract.id)
            if s.scope is SuspensionScope.FULL
            or (s.scope is SCOPE_OF_SERVICE.get(service))
            or (service in VOICE_SERVICES and s.scope is SuspensionScope.OUTBOUND_CALLS)
            or (
                service in VOICE_SERVICES
                and international
                and s.scope is SuspensionScope.INTERNATIONAL_CALLS
            )
        ]
        if not blocking:
            return UsageDecision(
                True, "allowed", Text(fr="Service ouvert.", en="Service open."), contract.id
            )
        refusal = UsageDecision(
            False,
            f"suspended_{blocking[0].cause}",
            Text(
                fr=f"Service suspendu ({blocking[0].cause}).",
                en=f"Service suspended ({blocking[0].cause}).",
            ),
            contract.id,
        )
    assert refusal is not None
    return refusal
