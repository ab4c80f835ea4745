"""REST endpoints of the contracts context, all below the customer they belong to."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated

from fastapi import APIRouter, status
from sqlalchemy.orm import Session

from operateur.accounts import service as accounts
from operateur.accounts.permissions import Actor, Permission
from operateur.catalog.terms import Service
from operateur.contracts import (
    equipment,
    lifecycle,
    maintenance,
    notices,
    price_changes,
    renewal,
    suspension,
    termination,
)
from operateur.contracts import service as contracts
from operateur.contracts.models import MaintenanceWindow, NoticeKind
from operateur.contracts.schemas import (
    ActivateIn,
    ContractEventOut,
    ContractIn,
    ContractNoticeIn,
    ContractNoticeOut,
    ContractOut,
    CustomerMaintenanceOut,
    EquipmentIn,
    EquipmentOut,
    EquipmentReturnIn,
    InspectionIn,
    LicenceChangeIn,
    LicenceChangeOut,
    LineIn,
    LineOut,
    MaintenanceContractOut,
    MaintenanceIn,
    MaintenanceOut,
    NoticeEndIn,
    OperatorTerminationIn,
    OverridesIn,
    ReasonIn,
    RightIn,
    ScheduleOut,
    SignIn,
    SubscriptionIn,
    SubscriptionOut,
    SuspendIn,
    SuspensionTerminationIn,
    TerminateIn,
    TerminationIn,
    TerminationOut,
    UsageDecisionOut,
    schedule_out,
)
from operateur.errors import Forbidden, InvalidInput
from operateur.http.deps import LangDep, SessionDep, require
from operateur.i18n import Text

router = APIRouter(prefix="/customers/{customer_id}")

Reader = Annotated[Actor, require(Permission.CONTRACTS_READ)]
Writer = Annotated[Actor, require(Permission.CONTRACTS_WRITE)]


@router.get("/contracts", response_model=list[ContractOut], tags=["contracts"])
def list_contracts(customer_id: int, actor: Reader, session: SessionDep) -> list[ContractOut]:
    return [ContractOut.model_validate(c) for c in contracts.list_contracts(session, customer_id)]


@router.post(
    "/contracts",
    response_model=ContractOut,
    status_code=status.HTTP_201_CREATED,
    tags=["contracts"],
)
def create_contract(
    customer_id: int, body: ContractIn, actor: Writer, session: SessionDep
) -> ContractOut:
    customer = accounts.get_customer(session, customer_id)
    contract = contracts.create_contract(session, customer, body.offer_id, body.overrides)
    return ContractOut.model_validate(contract)


@router.get("/contracts/{contract_id}", response_model=ContractOut, tags=["contracts"])
def get_contract(
    customer_id: int, contract_id: int, actor: Reader, session: SessionDep
) -> ContractOut:
    return ContractOut.model_validate(contracts.get_contract(session, customer_id, contract_id))


@router.get("/contracts/{contract_id}/schedule", response_model=ScheduleOut, tags=["contracts"])
def contract_schedule(
    customer_id: int,
    contract_id: int,
    actor: Reader,
    session: SessionDep,
    lang: LangDep,
    as_of: date | None = None,
) -> ScheduleOut:
    """The current term's end, the last day to give notice and what happens at renewal."""
    contract = contracts.get_contract(session, customer_id, contract_id)
    return schedule_out(contracts.contract_schedule(contract, as_of or date.today()), lang)


@router.put("/contracts/{contract_id}/overrides", response_model=ContractOut, tags=["contracts"])
def set_overrides(
    customer_id: int, contract_id: int, body: OverridesIn, actor: Writer, session: SessionDep
) -> ContractOut:
    contract = contracts.get_contract(session, customer_id, contract_id)
    return ContractOut.model_validate(contracts.set_overrides(session, contract, body.overrides))


@router.post("/contracts/{contract_id}/sign", response_model=ContractOut, tags=["contracts"])
def sign_contract(
    customer_id: int, contract_id: int, body: SignIn, actor: Writer, session: SessionDep
) -> ContractOut:
    contract = contracts.get_contract(session, customer_id, contract_id)
    return ContractOut.model_validate(
        contracts.sign(session, contract, body.signed_by, body.signed_at)
    )


@router.post("/contracts/{contract_id}/activate", response_model=ContractOut, tags=["contracts"])
def activate_contract(
    customer_id: int, contract_id: int, body: ActivateIn, actor: Writer, session: SessionDep
) -> ContractOut:
    contract = contracts.get_contract(session, customer_id, contract_id)
    return ContractOut.model_validate(contracts.activate(session, contract, body.activated_on))


@router.get(
    "/contracts/{contract_id}/subscriptions",
    response_model=list[SubscriptionOut],
    tags=["contracts"],
)
def list_subscriptions(
    customer_id: int, contract_id: int, actor: Reader, session: SessionDep
) -> list[SubscriptionOut]:
    contract = contracts.get_contract(session, customer_id, contract_id)
    return [
        SubscriptionOut.model_validate(s) for s in contracts.list_subscriptions(session, contract)
    ]


@router.post(
    "/contracts/{contract_id}/subscriptions",
    response_model=SubscriptionOut,
    status_code=status.HTTP_201_CREATED,
    tags=["contracts"],
)
def add_subscription(
    customer_id: int, contract_id: int, body: SubscriptionIn, actor: Writer, session: SessionDep
) -> SubscriptionOut:
    contract = contracts.get_contract(session, customer_id, contract_id)
    return SubscriptionOut.model_validate(contracts.add_subscription(session, contract, body))


@router.get("/lines", response_model=list[LineOut], tags=["lines"])
def list_lines(customer_id: int, actor: Reader, session: SessionDep) -> list[LineOut]:
    return [LineOut.model_validate(line) for line in contracts.list_lines(session, customer_id)]


@router.post("/lines", response_model=LineOut, status_code=status.HTTP_201_CREATED, tags=["lines"])
def create_line(
    customer_id: int,
    body: LineIn,
    actor: Annotated[Actor, require(Permission.LINES_WRITE)],
    session: SessionDep,
) -> LineOut:
    return LineOut.model_validate(contracts.create_line(session, customer_id, body))


@router.get("/lines/{line_id}", response_model=LineOut, tags=["lines"])
def get_line(customer_id: int, line_id: int, actor: Reader, session: SessionDep) -> LineOut:
    return LineOut.model_validate(contracts.get_line(session, customer_id, line_id))


@router.get("/equipment", response_model=list[EquipmentOut], tags=["equipment"])
def list_equipment(customer_id: int, actor: Reader, session: SessionDep) -> list[EquipmentOut]:
    return [EquipmentOut.model_validate(e) for e in contracts.list_equipment(session, customer_id)]


@router.post(
    "/equipment",
    response_model=EquipmentOut,
    status_code=status.HTTP_201_CREATED,
    tags=["equipment"],
)
def add_equipment(
    customer_id: int,
    body: EquipmentIn,
    actor: Annotated[Actor, require(Permission.EQUIPMENT_WRITE)],
    session: SessionDep,
) -> EquipmentOut:
    return EquipmentOut.model_validate(contracts.add_equipment(session, customer_id, body))


@router.get("/equipment/{equipment_id}", response_model=EquipmentOut, tags=["equipment"])
def get_equipment(
    customer_id: int, equipment_id: int, actor: Reader, session: SessionDep
) -> EquipmentOut:
    return EquipmentOut.model_validate(contracts.get_equipment(session, customer_id, equipment_id))


@router.post("/equipment/{equipment_id}/return", response_model=EquipmentOut, tags=["equipment"])
def return_equipment(
    customer_id: int,
    equipment_id: int,
    body: EquipmentReturnIn,
    actor: Annotated[Actor, require(Permission.EQUIPMENT_WRITE)],
    session: SessionDep,
) -> EquipmentOut:
    item = contracts.get_equipment(session, customer_id, equipment_id)
    return EquipmentOut.model_validate(equipment.record_return(session, item, body.returned_on))


@router.post("/contracts/{contract_id}/suspend", response_model=ContractOut, tags=["contracts"])
def suspend_contract(
    customer_id: int, contract_id: int, body: SuspendIn, actor: Writer, session: SessionDep
) -> ContractOut:
    """Suspend the contract, whole or in part where its terms allow, in CTR-06's order: at once
    for an urgent cause of the terms, otherwise after a formal notice and its delay."""
    contract = contracts.get_contract(session, customer_id, contract_id)
    suspension.suspend_in_order(
        session, contract, cause=body.cause, reason=body.reason, scope=body.scope, on=body.on
    )
    return ContractOut.model_validate(contract)


@router.post("/contracts/{contract_id}/restore", response_model=ContractOut, tags=["contracts"])
def restore_contract(
    customer_id: int, contract_id: int, body: ReasonIn, actor: Writer, session: SessionDep
) -> ContractOut:
    contract = contracts.get_contract(session, customer_id, contract_id)
    lifecycle.restore(session, contract, reason=body.reason)
    return ContractOut.model_validate(contract)


@router.post("/contracts/{contract_id}/terminate", response_model=ContractOut, tags=["contracts"])
def terminate_contract(
    customer_id: int, contract_id: int, body: TerminateIn, actor: Writer, session: SessionDep
) -> ContractOut:
    contract = contracts.get_contract(session, customer_id, contract_id)
    lifecycle.terminate(session, contract, on=body.on, reason=body.reason)
    return ContractOut.model_validate(contract)


@router.get(
    "/contracts/{contract_id}/events", response_model=list[ContractEventOut], tags=["contracts"]
)
def contract_events(
    customer_id: int, contract_id: int, actor: Reader, session: SessionDep
) -> list[ContractEventOut]:
    contract = contracts.get_contract(session, customer_id, contract_id)
    return [ContractEventOut.model_validate(e) for e in lifecycle.history(session, contract.id)]


@router.get("/services/{service}/usable", response_model=UsageDecisionOut, tags=["contracts"])
def service_usable(
    customer_id: int,
    service: Service,
    actor: Reader,
    session: SessionDep,
    lang: LangDep,
    international: bool = False,
) -> UsageDecisionOut:
    """May this customer use this service now? The one check the engines ask."""
    decision = lifecycle.may_use(session, customer_id, service, international=international)
    return UsageDecisionOut(
        service=service,
        allowed=decision.allowed,
        code=decision.code,
        reason=decision.reason.render(lang),
        contract_id=decision.contract_id,
    )


# --- termination and rights (CTR-05, CTR-06, CTR-07, CTR-11, CTR-13, CTR-14) ------------------


def _termination_out(request: termination.TerminationRequest, lang: str) -> TerminationOut:
    return TerminationOut(
        ends_on=request.ends_on,
        earliest_end=request.earliest,
        end_without_fee=request.without_fee,
        early_termination=request.owed.kind.value,
        amount_excl_vat=request.owed.amount,
        months=request.owed.months.quantize(Decimal("0.0001")),
        explanation=request.owed.explanation.render(lang),
    )


@router.get(
    "/contracts/{contract_id}/termination-quote",
    response_model=TerminationOut,
    tags=["contracts"],
)
def termination_quote(
    customer_id: int,
    contract_id: int,
    actor: Reader,
    session: SessionDep,
    lang: LangDep,
    received_on: date | None = None,
    ends_on: date | None = None,
) -> TerminationOut:
    """When a termination received on ``received_on`` (default today) would end the contract,
    and what it would cost under the terms (nothing is recorded)."""
    contract = contracts.get_contract(session, customer_id, contract_id)
    day = received_on or lifecycle.today()
    return _termination_out(termination.plan_termination(session, contract, day, ends_on), lang)


@router.post(
    "/contracts/{contract_id}/termination", response_model=TerminationOut, tags=["contracts"]
)
def request_termination(
    customer_id: int,
    contract_id: int,
    body: TerminationIn,
    actor: Writer,
    session: SessionDep,
    lang: LangDep,
) -> TerminationOut:
    """Record the customer's termination (CTR-03/05); an early end invoices the terms' amount."""
    contract = contracts.get_contract(session, customer_id, contract_id)
    request = termination.request_termination(
        session, contract, received_on=body.received_on, ends_on=body.ends_on, reason=body.reason
    )
    return _termination_out(request, lang)


@router.get(
    "/contracts/{contract_id}/notices",
    response_model=list[ContractNoticeOut],
    tags=["contracts"],
)
def list_notices(
    customer_id: int, contract_id: int, actor: Reader, session: SessionDep
) -> list[ContractNoticeOut]:
    contract = contracts.get_contract(session, customer_id, contract_id)
    found = termination.list_notices(session, contract)
    return [ContractNoticeOut.model_validate(n) for n in found]


@router.post(
    "/contracts/{contract_id}/notices",
    response_model=ContractNoticeOut,
    status_code=status.HTTP_201_CREATED,
    tags=["contracts"],
)
def add_notice(
    customer_id: int, contract_id: int, body: ContractNoticeIn, actor: Writer, session: SessionDep
) -> ContractNoticeOut:
    """Record a breach notice, a force majeure event, an operator outage, a price change, or a
    formal notice before suspension (CTR-06)."""
    contract = contracts.get_contract(session, customer_id, contract_id)
    notified = body.notified_on or body.started_on
    if body.kind is NoticeKind.BREACH:
        notice = termination.breach_notice(
            session,
            contract,
            notified_on=notified,
            breach=body.summary,
            by_operator=body.by_operator,
        )
    elif body.kind is NoticeKind.FORCE_MAJEURE:
        notice = termination.force_majeure(
            session,
            contract,
            started_on=body.started_on,
            notified_on=notified,
            description=body.summary,
            by_operator=body.by_operator,
        )
    elif body.kind is NoticeKind.OPERATOR_OUTAGE:
        notice = termination.operator_outage(
            session, contract, started_on=body.started_on, description=body.summary
        )
    elif body.kind is NoticeKind.SUSPENSION:
        if body.cause is None:
            raise InvalidInput(
                Text(
                    fr="Une mise en demeure avant suspension en précise la cause.",
                    en="A formal notice before suspension names its cause.",
                ),
                field="cause",
            )
        notice = suspension.formal_notice(
            session, contract, cause=body.cause, notified_on=notified, summary=body.summary
        )
    elif body.kind is NoticeKind.PRICE_CHANGE:
        notice = price_changes.announce(
            session,
            contract,
            notified_on=notified,
            effective_on=body.effective_on or body.started_on,
            rises=body.rises,
            summary=body.summary,
        )
    elif body.kind is NoticeKind.INACTIVITY:
        raise InvalidInput(
            Text(
                fr="L'inactivité est constatée par la plateforme.",
                en="Inactivity is found by the platform.",
            ),
            field="kind",
        )
    else:
        raise InvalidInput(
            Text(
                fr="Ce préavis se donne par sa propre route (suspension-termination, "
                "operator-termination).",
                en="This notice is given through its own route (suspension-termination, "
                "operator-termination).",
            ),
            field="kind",
        )
    return ContractNoticeOut.model_validate(notice)


@router.post(
    "/contracts/{contract_id}/notices/{notice_id}/end",
    response_model=ContractNoticeOut,
    tags=["contracts"],
)
def end_notice(
    customer_id: int,
    contract_id: int,
    notice_id: int,
    body: NoticeEndIn,
    actor: Writer,
    session: SessionDep,
) -> ContractNoticeOut:
    """The breach is remedied, the force majeure or the outage is over."""
    contract = contracts.get_contract(session, customer_id, contract_id)
    notice = termination.get_notice(session, contract, notice_id)
    return ContractNoticeOut.model_validate(termination.end_event(session, notice, body.ended_on))


@router.post(
    "/contracts/{contract_id}/notices/{notice_id}/terminate",
    response_model=ContractOut,
    tags=["contracts"],
)
def terminate_with_right(
    customer_id: int,
    contract_id: int,
    notice_id: int,
    body: RightIn,
    actor: Writer,
    session: SessionDep,
) -> ContractOut:
    """Terminate under the right the notice opened, without early-termination amount."""
    contract = contracts.get_contract(session, customer_id, contract_id)
    notice = termination.get_notice(session, contract, notice_id)
    if notice.kind is NoticeKind.PRICE_CHANGE:
        price_changes.terminate_for_price_rise(session, contract, notice, on=body.on)
    else:
        termination.terminate_with_right(session, contract, notice, on=body.on, reason=body.reason)
    return ContractOut.model_validate(contract)


@router.post(
    "/contracts/{contract_id}/suspension-termination",
    response_model=ContractNoticeOut,
    status_code=status.HTTP_201_CREATED,
    tags=["contracts"],
)
def terminate_after_suspension(
    customer_id: int,
    contract_id: int,
    body: SuspensionTerminationIn,
    actor: Annotated[Actor, require(Permission.CONTRACTS_TERMINATE)],
    session: SessionDep,
) -> ContractNoticeOut:
    """CTR-06 [004 §11.4] either party terminates a contract totally suspended for the terms'
    period, with the terms' notice; refused before, naming the first possible day."""
    if body.by_operator and not actor.is_staff:
        raise Forbidden(
            Text(
                fr="Seul le personnel de l'opérateur donne ce préavis au nom de l'opérateur.",
                en="Only the operator's staff give this notice on the operator's behalf.",
            ),
            code="operator_side_only",
        )
    today = lifecycle.today()
    if not actor.is_staff and body.notified_on not in (None, today):
        # [004 §11.4] "un (1) mois après l'envoi": the customer's notice is sent now; a date
        # in the past would shorten (or skip) the month. Staff record letters received earlier.
        raise InvalidInput(
            Text(
                fr=f"Votre préavis est daté du jour de son envoi ({notices.fr(today)}).",
                en=f"Your notice is dated the day it is sent ({notices.en(today)}).",
            ),
            field="notified_on",
            details={"today": today.isoformat()},
        )
    contract = contracts.get_contract(session, customer_id, contract_id)
    notice = termination.terminate_after_suspension(
        session,
        contract,
        notified_on=body.notified_on or today,
        reason=body.reason,
        by_operator=actor.is_staff if body.by_operator is None else body.by_operator,
    )
    return ContractNoticeOut.model_validate(notice)


@router.post(
    "/contracts/{contract_id}/operator-termination",
    response_model=ContractNoticeOut,
    status_code=status.HTTP_201_CREATED,
    tags=["contracts"],
)
def operator_termination(
    customer_id: int,
    contract_id: int,
    body: OperatorTerminationIn,
    actor: Writer,
    session: SessionDep,
) -> ContractNoticeOut:
    """CTR-07 [004 §12.2] the operator terminates in one of the clause's specific cases, with
    the terms' notice in business days; a breach of the customer invoices the terms'
    early-termination amount (CTR-05)."""
    contract = contracts.get_contract(session, customer_id, contract_id)
    notice = termination.operator_termination(
        session,
        contract,
        case=body.case,
        notified_on=body.notified_on or lifecycle.today(),
        reason=body.reason,
    )
    return ContractNoticeOut.model_validate(notice)


# --- licence changes (CTR-04) and equipment inspection (CTR-10) -------------------------------


@router.get(
    "/contracts/{contract_id}/licence-changes",
    response_model=list[LicenceChangeOut],
    tags=["contracts"],
)
def list_licence_changes(
    customer_id: int, contract_id: int, actor: Reader, session: SessionDep
) -> list[LicenceChangeOut]:
    contract = contracts.get_contract(session, customer_id, contract_id)
    return [LicenceChangeOut.model_validate(c) for c in renewal.list_changes(session, contract)]


@router.post(
    "/contracts/{contract_id}/licence-changes",
    response_model=LicenceChangeOut,
    status_code=status.HTTP_201_CREATED,
    tags=["contracts"],
)
def request_licence_change(
    customer_id: int,
    contract_id: int,
    body: LicenceChangeIn,
    actor: Writer,
    session: SessionDep,
) -> LicenceChangeOut:
    """A licence-count change, effective at a renewal as the terms say (CTR-04)."""
    contract = contracts.get_contract(session, customer_id, contract_id)
    sub = contracts.get_subscription(session, contract, body.subscription_id)
    change = renewal.request_change(
        session, contract, sub, body.quantity, body.requested_on or lifecycle.today()
    )
    return LicenceChangeOut.model_validate(change)


@router.post(
    "/equipment/{equipment_id}/inspection", response_model=EquipmentOut, tags=["equipment"]
)
def inspect_equipment(
    customer_id: int,
    equipment_id: int,
    body: InspectionIn,
    actor: Annotated[Actor, require(Permission.EQUIPMENT_WRITE)],
    session: SessionDep,
) -> EquipmentOut:
    """CTR-10 returned provided equipment inspected: refunded minus depreciation, or not."""
    item = contracts.get_equipment(session, customer_id, equipment_id)
    equipment.inspect(
        session, item, inspected_on=body.inspected_on, good_condition=body.good_condition
    )
    return EquipmentOut.model_validate(item)


# --- planned maintenance (CTR-06 [002 §13.1.5]) -------------------------------------------------

operator_router = APIRouter(prefix="/maintenance", tags=["maintenance"])

Maintainer = Annotated[Actor, require(Permission.MAINTENANCE_MANAGE)]


def _maintenance_out(session: Session, window: MaintenanceWindow, lang: str) -> MaintenanceOut:
    return MaintenanceOut(
        id=window.id,
        status=window.status,
        starts_at=window.starts_at,
        ends_at=window.ends_at,
        offer_id=window.offer_id,
        services=window.services,
        scope=window.scope,
        reason=maintenance.reason_of(window).render(lang),
        announced_at=window.announced_at,
        cancelled_at=window.cancelled_at,
        contracts=[
            MaintenanceContractOut(
                contract_id=row.contract_id,
                customer_id=row.customer_id,
                accepted=row.accepted,
                refusal_code=row.refusal_code,
                refusal=row.refusal.get(lang) if row.refusal else None,
                suspended=row.suspension_id is not None,
            )
            for row in maintenance.rows(session, window)
        ],
    )


@operator_router.post("", response_model=MaintenanceOut, status_code=status.HTTP_201_CREATED)
def announce_maintenance(
    body: MaintenanceIn, actor: Maintainer, session: SessionDep, lang: LangDep
) -> MaintenanceOut:
    """Announce a maintenance window: each contract concerned is accepted or refused under its
    own terms (notice in business days, business hours); accepted customers are told."""
    window = maintenance.announce(
        session,
        starts_at=body.starts_at,
        ends_at=body.ends_at,
        reason=Text(fr=body.reason_fr, en=body.reason_en),
        offer_id=body.offer_id,
        contract_ids=body.contract_ids,
        services=body.services,
        scope=body.scope,
        operator_id=actor.operator_id,
        announced_by=actor.label,
    )
    return _maintenance_out(session, window, lang)


@operator_router.get("", response_model=list[MaintenanceOut])
def list_maintenance(actor: Maintainer, session: SessionDep, lang: LangDep) -> list[MaintenanceOut]:
    return [
        _maintenance_out(session, w, lang)
        for w in maintenance.list_windows(session, actor.operator_id)
    ]


@operator_router.get("/{window_id}", response_model=MaintenanceOut)
def get_maintenance(
    window_id: int, actor: Maintainer, session: SessionDep, lang: LangDep
) -> MaintenanceOut:
    window = maintenance.get_window(session, window_id, actor.operator_id)
    return _maintenance_out(session, window, lang)


@operator_router.post("/{window_id}/cancel", response_model=MaintenanceOut)
def cancel_maintenance(
    window_id: int, body: ReasonIn, actor: Maintainer, session: SessionDep, lang: LangDep
) -> MaintenanceOut:
    """Call a window off; the customers concerned are told (or restored if it had started)."""
    window = maintenance.get_window(session, window_id, actor.operator_id)
    maintenance.cancel(session, window, reason=body.reason)
    return _maintenance_out(session, window, lang)


@router.get("/maintenance", response_model=list[CustomerMaintenanceOut], tags=["maintenance"])
def customer_maintenance(
    customer_id: int, actor: Reader, session: SessionDep, lang: LangDep
) -> list[CustomerMaintenanceOut]:
    """The planned maintenance windows that suspend one of the customer's contracts."""
    return [
        CustomerMaintenanceOut(
            id=window.id,
            status=window.status,
            starts_at=window.starts_at,
            ends_at=window.ends_at,
            scope=window.scope,
            reason=maintenance.reason_of(window).render(lang),
            contract_id=row.contract_id,
        )
        for window, row in maintenance.for_customer(session, customer_id)
    ]
