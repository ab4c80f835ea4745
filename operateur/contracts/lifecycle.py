"""The contract state machine and the one question every engine asks: may this customer use
this service now?

    draft ─start_trial→ trial (CTR-12) ─sign→ signed
    draft ─sign→ signed ─activate→ active ─suspend→ suspended ─restore→ active
    active, suspended ─give_notice→ notice_given ─terminate→ terminated ─purge→ purged
    trial, signed or any live state ─terminate→ terminated

Each transition checks where the contract stands, records who, when and why in a
``ContractEvent`` (and in the audit log), refuses an illegal move with the states named, and
tells the customer (email and webhook, ``operateur.contracts.notices``). A suspension is whole,
or partial where the terms allow it (CTR-06): only international calls, outbound calls, SMS or
mail. Termination closes what ends with the contract (CTR-09 access, CTR-10 equipment).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from operateur.catalog.service import get_offer
from operateur.catalog.terms import Service, SuspensionCause
from operateur.contracts import after_end, equipment, notices
from operateur.contracts.models import (
    Contract,
    ContractEvent,
    ContractNotice,
    ContractStatus,
    MaintenanceContract,
    MaintenanceWindow,
    NoticeKind,
    Suspension,
    SuspensionScope,
)
from operateur.contracts.service import (
    end_subscriptions,
    list_subscriptions,
    record_transition,
    terms_of,
)
from operateur.db import utcnow
from operateur.domain.calendar import PARIS
from operateur.errors import Conflict, InvalidInput
from operateur.i18n import Text, as_text

LIVE = (ContractStatus.ACTIVE, ContractStatus.SUSPENDED, ContractStatus.NOTICE_GIVEN)
USABLE = (ContractStatus.TRIAL, *LIVE)  # a free trial gives access before signature (CTR-12)

# the states each transition may start from
TRANSITIONS: dict[str, tuple[ContractStatus, ...]] = {
    "start_trial": (ContractStatus.DRAFT,),
    "suspend": (ContractStatus.ACTIVE, ContractStatus.NOTICE_GIVEN, ContractStatus.SUSPENDED),
    "restore": (ContractStatus.SUSPENDED,),
    "give_notice": (ContractStatus.ACTIVE, ContractStatus.SUSPENDED),
    "terminate": (ContractStatus.TRIAL, ContractStatus.SIGNED, *LIVE),
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


def today() -> date:
    return datetime.now(PARIS).date()


def start_trial(session: Session, contract: Contract, *, on: date) -> ContractEvent:
    """CTR-12 [002 §6.2] free access to the services before signature, for the terms' trial
    length; signing during the trial makes the contract signed, otherwise it ends."""
    orders = terms_of(contract).orders
    if not orders.free_trial_before_signature or orders.free_trial_days is None:
        raise InvalidInput(
            Text(
                fr="Les conditions de l'offre ne prévoient pas d'essai gratuit.",
                en="The offer's terms provide no free trial.",
            ),
            field="trial",
        )
    ends = on + timedelta(days=orders.free_trial_days - 1)
    event = _move(
        session,
        contract,
        "start_trial",
        ContractStatus.TRIAL,
        f"free trial from {on.isoformat()} to {ends.isoformat()}",
        {"from": on.isoformat(), "until": ends.isoformat()},
    )
    contract.trial_ends_on = ends
    session.flush()
    notices.send(
        session,
        contract,
        "contract.trial_started",
        subject=Text(
            fr=f"Essai gratuit — contrat {contract.reference}",
            en=f"Free trial — contract {contract.reference}",
        ),
        body=Text(
            fr=f"Votre accès d'essai gratuit est ouvert du {notices.fr(on)} au "
            f"{notices.fr(ends)} inclus. Signez les annexes avant cette date pour continuer.",
            en=f"Your free trial access is open from {notices.en(on)} to {notices.en(ends)} "
            "included. Sign the annexes by then to continue.",
        ),
        key=f"trial:{contract.id}",
        data={"from": on, "until": ends},
    )
    return event


def end_trials(session: Session, as_of: date) -> list[str]:
    """Trials over without a signature end the contract."""
    done: list[str] = []
    for contract in list(
        session.scalars(
            select(Contract).where(
                Contract.status == ContractStatus.TRIAL, Contract.trial_ends_on < as_of
            )
        )
    ):
        assert contract.trial_ends_on is not None
        terminate(
            session,
            contract,
            on=contract.trial_ends_on,
            reason="CTR-12 free trial over without signature",
            why=Text(
                fr="L'essai gratuit est terminé sans signature des annexes.",
                en="The free trial ended without the annexes being signed.",
            ),
        )
        done.append(f"trial_ended:{contract.reference}")
    return done


def suspend(
    session: Session,
    contract: Contract,
    *,
    cause: SuspensionCause,
    reason: str,
    scope: SuspensionScope = SuspensionScope.FULL,
    on: date | None = None,
    why: Text | None = None,
) -> Suspension:
    """Suspend the contract, whole or — where its terms allow — in part (CTR-06), and tell the
    customer ``why`` (default: the reason) and from when (``on``, default today)."""
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
        starts_on=on or today(),
    )
    session.add(suspension)
    session.flush()
    notices.suspended(
        session,
        contract,
        suspension_id=suspension.id,
        cause=cause,
        scope=scope,
        on=on or today(),
        why=why or as_text(reason),
    )
    return suspension


def open_suspensions(session: Session, contract_id: int) -> list[Suspension]:
    return list(
        session.scalars(
            select(Suspension).where(
                Suspension.contract_id == contract_id, Suspension.lifted_at.is_(None)
            )
        )
    )


def held_by_maintenance(session: Session, contract_id: int) -> dict[int, MaintenanceWindow]:
    """The contract's suspensions a running planned-maintenance window holds, by id, with the
    window: only its end or its cancellation lifts them (``maintenance``), never a restore for
    another cause — CTR-06 [002 §13.1.5] the service is interrupted for the whole window."""
    return {
        suspension_id: window
        for suspension_id, window in session.execute(
            select(MaintenanceContract.suspension_id, MaintenanceWindow)
            .join(MaintenanceWindow, MaintenanceWindow.id == MaintenanceContract.window_id)
            .join(Suspension, Suspension.id == MaintenanceContract.suspension_id)
            .where(
                MaintenanceContract.contract_id == contract_id,
                MaintenanceContract.ended_at.is_(None),
                Suspension.lifted_at.is_(None),
            )
        ).all()
        if suspension_id is not None
    }


def _lift(session: Session, suspensions: list[Suspension], on: date) -> None:
    """End these suspensions: service (and billing, CTR-06) runs again from ``on``."""
    for suspension in suspensions:
        suspension.lifted_at = utcnow()
        suspension.lifted_on = max(on, suspension.starts_on or on)


def restore(
    session: Session,
    contract: Contract,
    *,
    reason: str,
    on: date | None = None,
    why: Text | None = None,
) -> ContractEvent:
    """Lift every suspension (e.g. on payment, CTR-06 [004 §9.5]) from ``on`` (default today).
    A termination given for the total suspension lapses: the service resumed. The suspensions
    of a planned-maintenance window still running stay (:func:`held_by_maintenance`): the
    others are lifted and the contract stays suspended until the window ends."""
    day = on or today()
    held = held_by_maintenance(session, contract.id)
    if held:
        return _restore_around_maintenance(session, contract, held, reason=reason, on=day, why=why)
    withdrawn = _withdraw_suspension_termination(session, contract, day)
    back = ContractStatus.NOTICE_GIVEN if contract.ends_on else ContractStatus.ACTIVE
    event = _move(session, contract, "restore", back, reason)
    _lift(session, open_suspensions(session, contract.id), day)
    session.flush()
    why = why or as_text(reason)
    if withdrawn is not None:
        why = notices.join(
            why,
            Text(
                fr=f"La résiliation notifiée le {notices.fr(withdrawn.notified_on)} pour "
                "suspension totale du service n'a plus d'objet : le contrat continue.",
                en=f"The termination notified on {notices.en(withdrawn.notified_on)} for the "
                "total suspension of the service no longer applies: the contract goes on.",
            ),
        )
    notices.restored(session, contract, event_id=event.id, on=day, why=why)
    return event


def _restore_around_maintenance(
    session: Session,
    contract: Contract,
    held: dict[int, MaintenanceWindow],
    *,
    reason: str,
    on: date,
    why: Text | None,
) -> ContractEvent:
    """A restore while a maintenance window holds the contract: the suspensions for other
    causes end, the service stays suspended until the window's end (the customer is told
    both); with nothing else to lift, the restore is refused, naming the window."""
    until = max(held.values(), key=lambda w: w.ends_at)
    others = [s for s in open_suspensions(session, contract.id) if s.id not in held]
    if not others:
        raise Conflict(
            Text(
                fr="Le contrat {ref} est suspendu pour la maintenance programmée n° {id} "
                "jusqu'au {end_fr} : il est rétabli à sa fin ou à son annulation.",
                en="Contract {ref} is suspended for planned maintenance #{id} until {end_en}: "
                "it is restored when it ends or is cancelled.",
            ),
            code="maintenance_in_progress",
            details={
                "ref": contract.reference,
                "id": until.id,
                "end_fr": notices.fr_at(until.ends_at),
                "end_en": notices.en_at(until.ends_at),
            },
        )
    event = _move(
        session,
        contract,
        "restore",
        ContractStatus.SUSPENDED,
        reason,
        {"lifted": sorted(s.id for s in others), "kept": sorted(held)},
    )
    _lift(session, others, on)
    session.flush()
    causes = sorted({s.cause for s in others})
    notices.send(
        session,
        contract,
        "contract.suspension_lifted",
        subject=Text(
            fr=f"Levée d'une suspension — contrat {contract.reference}",
            en=f"Suspension lifted — contract {contract.reference}",
        ),
        body=notices.join(
            Text(
                fr=f"La suspension pour {', '.join(notices.CAUSES[c].fr for c in causes)} est "
                f"levée le {notices.fr(on)}. Le service reste interrompu pour la maintenance "
                f"programmée jusqu'au {notices.fr_at(until.ends_at)} ; il sera rétabli à sa "
                "fin.",
                en=f"The suspension for {', '.join(notices.CAUSES[c].en for c in causes)} is "
                f"lifted on {notices.en(on)}. The service stays interrupted for the planned "
                f"maintenance until {notices.en_at(until.ends_at)}; it is restored when it "
                "ends.",
            ),
            why or as_text(reason),
        ),
        key=f"restore:{contract.id}:{event.id}",
        data={"on": on, "causes": causes, "until": until.ends_at, "reason": reason},
    )
    return event


def _withdraw_suspension_termination(
    session: Session, contract: Contract, on: date
) -> ContractNotice | None:
    """CTR-06 [004 §11.4] the termination after a total suspension is given "à défaut de
    reprise des Services": when the service resumes by the contract's last day, the notice lapses
    — the contract no longer ends, its subscriptions run on as before the notice."""
    notice = session.scalar(
        select(ContractNotice)
        .where(
            ContractNotice.contract_id == contract.id,
            ContractNotice.kind == NoticeKind.TOTAL_SUSPENSION,
            ContractNotice.used_on.is_not(None),
            ContractNotice.ended_on.is_(None),
        )
        .order_by(ContractNotice.id.desc())
    )
    if notice is None or contract.ends_on is None:
        return None
    if on > contract.ends_on:
        return None  # the service came back after the last day: the termination took effect
    if notice.details.get("ends_on") != contract.ends_on.isoformat():
        return None  # the contract ends for another notice given since
    before = notice.details.get("subscription_ends", {})
    for sub in list_subscriptions(session, contract):
        if str(sub.id) in before:
            previous = before[str(sub.id)]
            sub.end_date = date.fromisoformat(previous) if previous else None
    contract.ends_on = None
    notice.ended_on = on
    session.flush()
    return notice


def require_no_notice(contract: Contract) -> None:
    """Refuse a second notice: the contract already ends on ``ends_on`` (suspended meanwhile
    or not), and a new notice would move its end."""
    if contract.ends_on is not None:
        raise Conflict(
            Text(
                fr="Le contrat {ref} a déjà reçu une résiliation : il prend fin le {end}.",
                en="Contract {ref} is already under notice: it ends on {end}.",
            ),
            code="notice_already_given",
            details={"ref": contract.reference, "end": contract.ends_on.isoformat()},
        )


def give_notice(
    session: Session,
    contract: Contract,
    *,
    received_on: date,
    ends_on: date,
    reason: str,
    why: Text | None = None,
    inform: bool = True,
) -> ContractEvent:
    """Record a notice of termination: the contract is served until ``ends_on``. A suspended
    contract stays suspended (CTR-06: a notice cures nothing); restoring it later brings it
    back to ``notice_given``. ``inform=False``: the customer is not told (terms that do not
    provide it, CTR-08)."""
    require_no_notice(contract)
    if ends_on < received_on:
        raise InvalidInput(
            Text(fr="La fin précède le préavis.", en="The end precedes the notice."),
            field="ends_on",
        )
    suspended = contract.status is ContractStatus.SUSPENDED
    event = _move(
        session,
        contract,
        "give_notice",
        ContractStatus.SUSPENDED if suspended else ContractStatus.NOTICE_GIVEN,
        reason,
        {"received_on": received_on.isoformat(), "ends_on": ends_on.isoformat()},
    )
    contract.notice_given_on = received_on
    contract.ends_on = ends_on
    end_subscriptions(session, contract, ends_on)
    session.flush()
    if inform:
        notices.notice_received(
            session, contract, received_on=received_on, ends_on=ends_on, why=why or as_text(reason)
        )
    return event


def terminate(
    session: Session,
    contract: Contract,
    *,
    on: date,
    reason: str,
    why: Text | None = None,
    inform: bool = True,
) -> ContractEvent:
    """End the contract on ``on`` (its last day): subscriptions stop, the access and the
    equipment follow the terms (CTR-09, CTR-10), and the customer is told what comes next
    (unless ``inform=False``: terms that do not provide it, CTR-08)."""
    event = _move(
        session, contract, "terminate", ContractStatus.TERMINATED, reason, {"on": on.isoformat()}
    )
    contract.terminated_on = on
    end_subscriptions(session, contract, on)
    after = notices.join(
        *[
            part
            for part in (
                after_end.on_termination(session, contract, on),
                equipment.on_termination(session, contract, on),
            )
            if part is not None
        ]
    )
    session.flush()
    if inform:
        notices.terminated(
            session, contract, on=on, why=why or as_text(reason), after=after if after.fr else None
        )
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
    session: Session,
    customer_id: int,
    service: Service,
    *,
    international: bool = False,
    inbound: bool = False,
    contract_id: int | None = None,
) -> UsageDecision:
    """The single check the voice, SMS and mail engines ask before serving a customer: a live
    contract covering ``service``, not suspended for it (``international``: a call abroad;
    ``inbound``: a call received, which suspensions of outbound calls do not bar).
    ``contract_id``: the use is under that contract (a line's, a message's), so only that
    contract counts — a suspension of one contract is not bypassed through another one."""
    query = select(Contract).where(Contract.customer_id == customer_id, Contract.status.in_(USABLE))
    if contract_id is not None:
        query = query.where(Contract.id == contract_id)
    contracts = list(session.scalars(query))
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
            or (
                service in VOICE_SERVICES
                and not inbound
                and s.scope is SuspensionScope.OUTBOUND_CALLS
            )
            or (
                service in VOICE_SERVICES
                and international
                and not inbound
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
