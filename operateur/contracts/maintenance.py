"""CTR-06 planned maintenance: staff announce a window, each contract concerned is checked
against its own terms, and the scheduler suspends and restores the accepted ones.

# CTR-06 [002 §13.1.5] « mise en œuvre d'opération de maintenance [...] Le Prestataire fera
# ses meilleurs efforts pour réaliser ces opérations de maintenance sur des plages horaires non
# ouvrées (après 20h00 (heure française) en semaine, samedi, dimanche, jours fériés français)
# [...] Ces interruptions de Service seront signalées au Client par e-mail au moins sept (sept)
# jours ouvrables avant toute suspension. »

A contract accepts a window when its terms provide planned maintenance (``maintenance_notice``),
the window starts at least that notice after the announcement (business days, public holidays
skipped), stays out of the terms' ``maintenance_business_hours`` when
``maintenance_outside_business_hours`` says so, and asks a partial suspension only where the
terms allow one. Otherwise the contract is refused with the reason, and nothing is sent to its
customer. The accepted contracts' customers get the announcement by email and webhook; from
``starts_at`` the scheduler (:func:`apply_due`, every tick) suspends them with
``SuspensionCause.MAINTENANCE`` and from ``ends_at`` restores them; both steps are recorded per
contract, so a run repeated or overlapping changes nothing twice.

Offers without ``maintenance_notice`` (every offer but cpaas today) have no planned-maintenance
clause: a window refuses their contracts. A maintenance suspension of such a contract stays
possible only the way its terms allow any suspension — ``suspension.suspend_in_order`` with the
cause ``maintenance``: at once where the terms list it as urgent (cpaas, the clause's "en cas
d'urgence"), otherwise after a formal notice and its delay.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from operateur.accounts.models import Customer
from operateur.catalog.service import get_offer
from operateur.catalog.terms import Service, SuspensionCause, Weekday
from operateur.contracts import lifecycle, notices
from operateur.contracts.models import (
    Contract,
    ContractStatus,
    MaintenanceContract,
    MaintenanceStatus,
    MaintenanceWindow,
    Suspension,
    SuspensionScope,
)
from operateur.contracts.service import terms_of
from operateur.db import utcnow
from operateur.domain.calendar import PARIS, TimeWindow, aware_input
from operateur.errors import Conflict, InvalidInput, NotFound
from operateur.i18n import Text

_WEEKDAYS = tuple(Weekday)  # mon=0 ... sun=6, as date.weekday()


@dataclass(frozen=True)
class Refusal:
    """Why a contract's terms refuse a maintenance window."""

    code: str
    reason: Text


def reason_of(window: MaintenanceWindow) -> Text:
    return Text(fr=window.reason_fr, en=window.reason_en)


def check(
    contract: Contract,
    *,
    starts_at: datetime,
    ends_at: datetime,
    announced_at: datetime,
    scope: SuspensionScope,
) -> Refusal | None:
    """The contract's terms on a window announced at ``announced_at``: None when they accept
    it, else the refusal with its reason."""
    terms = terms_of(contract).suspension
    if terms.maintenance_notice is None:
        return Refusal(
            "no_planned_maintenance",
            Text(
                fr="Les conditions du contrat ne prévoient pas de maintenance programmée.",
                en="The contract's terms provide no planned maintenance.",
            ),
        )
    if scope is not SuspensionScope.FULL and not terms.partial_allowed:
        return Refusal(
            "partial_not_allowed",
            Text(
                fr="Les conditions du contrat ne prévoient pas de suspension partielle.",
                en="The contract's terms provide no partial suspension.",
            ),
        )
    # CTR-06 [002 §13.1.5] announced at least the terms' notice before the suspension
    earliest = terms.maintenance_notice.after(announced_at.astimezone(PARIS).date())
    if starts_at.astimezone(PARIS).date() < earliest:
        delay = notices.delay(terms.maintenance_notice)
        return Refusal(
            "maintenance_notice",
            Text(
                fr=f"La maintenance doit être annoncée {delay.fr} avant : annoncée le "
                f"{notices.fr(announced_at.astimezone(PARIS).date())}, elle peut commencer "
                f"au plus tôt le {notices.fr(earliest)}.",
                en=f"The maintenance must be announced {delay.en} ahead: announced on "
                f"{notices.en(announced_at.astimezone(PARIS).date())}, it may start on "
                f"{notices.en(earliest)} at the earliest.",
            ),
        )
    if terms.maintenance_outside_business_hours:
        hours = terms.maintenance_business_hours
        if hours is None:  # frozen before the term existed: the hours are not known
            return Refusal(
                "business_hours_unknown",
                Text(
                    fr="Les conditions du contrat excluent les heures ouvrées sans les définir.",
                    en="The contract's terms exclude business hours without defining them.",
                ),
            )
        window = TimeWindow(
            frozenset(_WEEKDAYS.index(day) for day in hours.days),
            ((hours.start, hours.end),),
            exclude_holidays=hours.exclude_public_holidays,
            tz=ZoneInfo(hours.timezone),
        )
        opening = window.next_opening(starts_at)
        if opening < ends_at:
            return Refusal(
                "business_hours",
                Text(
                    fr=f"La maintenance doit avoir lieu hors des heures ouvrées "
                    f"({hours.start:%H:%M}–{hours.end:%H:%M}) : la fenêtre les chevauche le "
                    f"{notices.fr_at(opening)}.",
                    en=f"The maintenance must take place outside business hours "
                    f"({hours.start:%H:%M}–{hours.end:%H:%M}): the window overlaps them on "
                    f"{notices.en_at(opening)}.",
                ),
            )
    return None


def _concerned(
    session: Session,
    *,
    operator_id: int | None,
    offer_id: str | None,
    contract_ids: list[int],
    services: list[Service],
) -> list[Contract]:
    """The contracts a window names: listed ones, or every contract in service of an offer;
    with ``services``, only contracts whose offer provides one of them."""
    found: list[Contract] = []
    for contract_id in contract_ids:
        contract = session.get(Contract, contract_id)
        customer = session.get(Customer, contract.customer_id) if contract else None
        if (
            contract is None
            or customer is None
            or (operator_id is not None and customer.operator_id != operator_id)
        ):
            raise NotFound(
                Text(fr="Contrat {id} introuvable.", en="Contract {id} not found."),
                code="contract_not_found",
                field="contract_ids",
                details={"id": contract_id},
            )
        found.append(contract)
    if offer_id is not None:
        get_offer(offer_id)
        query = select(Contract).where(
            Contract.offer_id == offer_id, Contract.status.in_(lifecycle.LIVE)
        )
        if operator_id is not None:
            query = query.join(Customer, Customer.id == Contract.customer_id).where(
                Customer.operator_id == operator_id
            )
        listed = {c.id for c in found}
        found += [c for c in session.scalars(query.order_by(Contract.id)) if c.id not in listed]
    if services:
        found = [c for c in found if set(services) & set(get_offer(c.offer_id).services)]
    return found


def announce(
    session: Session,
    *,
    starts_at: datetime,
    ends_at: datetime,
    reason: Text,
    offer_id: str | None = None,
    contract_ids: list[int] | None = None,
    services: list[Service] | None = None,
    scope: SuspensionScope = SuspensionScope.FULL,
    operator_id: int | None = None,
    announced_by: str = "",
    announced_at: datetime | None = None,
) -> MaintenanceWindow:
    """Record a maintenance window, check each contract concerned against its terms, and tell
    the customers of the accepted ones (email and webhook)."""
    starts_at, ends_at = aware_input(starts_at, "starts_at"), aware_input(ends_at, "ends_at")
    now = aware_input(announced_at, "announced_at") if announced_at else utcnow()
    if ends_at <= starts_at:
        raise InvalidInput(
            Text(fr="La fin précède le début.", en="The end precedes the start."), field="ends_at"
        )
    if starts_at <= now:
        raise InvalidInput(
            Text(fr="La maintenance doit être à venir.", en="The maintenance must be ahead."),
            field="starts_at",
        )
    if not reason.fr.strip() or not reason.en.strip():
        raise InvalidInput(
            Text(
                fr="Donnez la raison en français et en anglais.",
                en="Give the reason in French and English.",
            ),
            field="reason",
        )
    if offer_id is None and not contract_ids:
        raise InvalidInput(
            Text(
                fr="Nommez une offre ou des contrats concernés.",
                en="Name an offer or the contracts concerned.",
            ),
            field="contract_ids",
        )
    contracts = _concerned(
        session,
        operator_id=operator_id,
        offer_id=offer_id,
        contract_ids=list(contract_ids or []),
        services=list(services or []),
    )
    if not contracts:
        raise InvalidInput(
            Text(
                fr="Aucun contrat en service n'est concerné par cette maintenance.",
                en="No contract in service is concerned by this maintenance.",
            ),
            field="contract_ids",
        )
    window = MaintenanceWindow(
        operator_id=operator_id,
        offer_id=offer_id,
        services=[s.value for s in services or []],
        scope=scope,
        starts_at=starts_at,
        ends_at=ends_at,
        reason_fr=reason.fr.strip(),
        reason_en=reason.en.strip(),
        announced_at=now,
        announced_by=announced_by,
        status=MaintenanceStatus.PLANNED,
        cancel_reason="",
    )
    session.add(window)
    session.flush()
    for contract in contracts:
        refusal: Refusal | None
        if contract.status not in lifecycle.LIVE:
            refusal = Refusal(
                "not_in_service",
                Text(
                    fr=f"Le contrat n'est pas en service ({contract.status.value}).",
                    en=f"The contract is not in service ({contract.status.value}).",
                ),
            )
        else:
            refusal = check(
                contract, starts_at=starts_at, ends_at=ends_at, announced_at=now, scope=scope
            )
        session.add(
            MaintenanceContract(
                window_id=window.id,
                contract_id=contract.id,
                customer_id=contract.customer_id,
                accepted=refusal is None,
                refusal_code=refusal.code if refusal else None,
                refusal={"fr": refusal.reason.fr, "en": refusal.reason.en} if refusal else {},
            )
        )
        if refusal is None:
            notices.maintenance_planned(
                session,
                contract,
                window_id=window.id,
                starts_at=starts_at,
                ends_at=ends_at,
                scope=scope,
                why=reason_of(window),
            )
    session.flush()
    return window


def rows(session: Session, window: MaintenanceWindow) -> list[MaintenanceContract]:
    return list(
        session.scalars(
            select(MaintenanceContract)
            .where(MaintenanceContract.window_id == window.id)
            .order_by(MaintenanceContract.id)
        )
    )


def get_window(session: Session, window_id: int, operator_id: int | None) -> MaintenanceWindow:
    """A window by id; staff of an operator only reach their operator's windows (those
    announced from the command line for every operator name other operators' contracts)."""
    window = session.get(MaintenanceWindow, window_id)
    if window is None or (operator_id is not None and window.operator_id != operator_id):
        raise NotFound(
            Text(fr="Maintenance {id} introuvable.", en="Maintenance {id} not found."),
            code="maintenance_not_found",
            details={"id": window_id},
        )
    return window


def list_windows(session: Session, operator_id: int | None) -> list[MaintenanceWindow]:
    query = select(MaintenanceWindow).order_by(MaintenanceWindow.starts_at.desc())
    if operator_id is not None:
        query = query.where(MaintenanceWindow.operator_id == operator_id)
    return list(session.scalars(query))


def for_customer(
    session: Session, customer_id: int
) -> list[tuple[MaintenanceWindow, MaintenanceContract]]:
    """The windows that concern a customer: those accepted for one of its contracts."""
    return [
        (window, row)
        for window, row in session.execute(
            select(MaintenanceWindow, MaintenanceContract)
            .join(MaintenanceContract, MaintenanceContract.window_id == MaintenanceWindow.id)
            .where(
                MaintenanceContract.customer_id == customer_id,
                MaintenanceContract.accepted.is_(True),
            )
            .order_by(MaintenanceWindow.starts_at.desc(), MaintenanceContract.id)
        ).all()
    ]


def _start(session: Session, window: MaintenanceWindow, now: datetime) -> None:
    """Suspend each accepted contract still in service (once: ``suspension_id`` records it)."""
    why = notices.join(
        Text(
            fr=f"Maintenance programmée jusqu'au {notices.fr_at(window.ends_at)}.",
            en=f"Planned maintenance until {notices.en_at(window.ends_at)}.",
        ),
        reason_of(window),
    )
    for row in rows(session, window):
        if not row.accepted or row.started_at is not None:
            continue
        row.started_at = now
        contract = session.get(Contract, row.contract_id)
        if contract is None or contract.status not in lifecycle.LIVE:
            continue
        suspension = lifecycle.suspend(
            session,
            contract,
            cause=SuspensionCause.MAINTENANCE,
            reason=f"CTR-06 planned maintenance #{window.id}",
            scope=window.scope,
            on=window.starts_at.astimezone(PARIS).date(),
            why=why,
        )
        row.suspension_id = suspension.id
    window.status = MaintenanceStatus.STARTED


def _end(session: Session, window: MaintenanceWindow, now: datetime) -> None:
    """Lift the suspensions made for the window (once: ``ended_at`` records it). A contract
    also suspended for another cause stays suspended: only the maintenance suspension ends."""
    for row in rows(session, window):
        if row.suspension_id is None or row.ended_at is not None:
            continue
        row.ended_at = now
        suspension = session.get(Suspension, row.suspension_id)
        contract = session.get(Contract, row.contract_id)
        if suspension is None or contract is None or suspension.lifted_at is not None:
            continue  # already lifted by staff meanwhile
        day = min(now, window.ends_at).astimezone(PARIS).date()
        others = [
            s for s in lifecycle.open_suspensions(session, contract.id) if s.id != suspension.id
        ]
        if contract.status is ContractStatus.SUSPENDED and not others:
            lifecycle.restore(
                session,
                contract,
                reason=f"CTR-06 end of planned maintenance #{window.id}",
                on=day,
                why=Text(
                    fr="Fin de la maintenance programmée.", en="End of the planned maintenance."
                ),
            )
        else:
            suspension.lifted_at = now
            suspension.lifted_on = max(day, suspension.starts_on or day)


def apply_due(session: Session, now: datetime, *, clock: datetime | None = None) -> list[str]:
    """Start the windows whose start has come and end those whose end has: what the scheduler
    runs on every tick. A window that passed entirely while the scheduler was down suspended
    nobody and is simply closed.

    ``clock``: the real time when ``now`` is a past moment replayed (``scheduler run-once
    --as-of``, a catch-up): the windows started by ``now`` are applied, but one already over by
    the clock suspends nobody now — it is closed (its suspensions, if any, ended)."""
    over_by = max(now, clock or now)
    done: list[str] = []
    due = session.scalars(
        select(MaintenanceWindow)
        .where(
            MaintenanceWindow.status.in_((MaintenanceStatus.PLANNED, MaintenanceStatus.STARTED)),
            MaintenanceWindow.starts_at <= now,
        )
        .order_by(MaintenanceWindow.starts_at)
        .with_for_update()  # one of the scheduler and a cancellation at a time (see cancel)
    )
    for window in list(due):
        if window.status is MaintenanceStatus.PLANNED and over_by < window.ends_at:
            _start(session, window, now)
            done.append(f"maintenance_started:{window.id}")
        if over_by >= window.ends_at:
            _end(session, window, over_by)
            window.status = MaintenanceStatus.DONE
            done.append(f"maintenance_done:{window.id}")
    session.flush()
    return done


def cancel(
    session: Session, window: MaintenanceWindow, *, reason: str, now: datetime | None = None
) -> MaintenanceWindow:
    """Call a window off: before its start the customers are told it is cancelled; during it
    the suspensions end now (the restoration notice tells them)."""
    at = now or utcnow()
    # the window as it is now, locked: a scheduler run starting it meanwhile is waited for, and
    # the suspensions it made are then ended (else they would outlive a cancelled window)
    session.refresh(window, with_for_update=True)
    if window.status in (MaintenanceStatus.DONE, MaintenanceStatus.CANCELLED):
        raise Conflict(
            Text(
                fr="La maintenance {id} est déjà terminée ou annulée.",
                en="Maintenance {id} is already over or cancelled.",
            ),
            code="maintenance_closed",
            details={"id": window.id, "status": window.status.value},
        )
    if window.status is MaintenanceStatus.STARTED:
        _end(session, window, at)
    else:
        why = Text(fr=reason, en=reason)
        for row in rows(session, window):
            contract = session.get(Contract, row.contract_id)
            if row.accepted and contract is not None:
                notices.maintenance_cancelled(
                    session,
                    contract,
                    window_id=window.id,
                    starts_at=window.starts_at,
                    ends_at=window.ends_at,
                    why=why,
                )
    window.status = MaintenanceStatus.CANCELLED
    window.cancelled_at = at
    window.cancel_reason = reason
    session.flush()
    return window
