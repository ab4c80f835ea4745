"""REST endpoints of the contracts context, all below the customer they belong to."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, status

from operateur.accounts import service as accounts
from operateur.accounts.permissions import Actor, Permission
from operateur.catalog.terms import Service
from operateur.contracts import lifecycle
from operateur.contracts import service as contracts
from operateur.contracts.schemas import (
    ActivateIn,
    ContractEventOut,
    ContractIn,
    ContractOut,
    EquipmentIn,
    EquipmentOut,
    EquipmentReturnIn,
    LineIn,
    LineOut,
    NoticeIn,
    OverridesIn,
    ReasonIn,
    ScheduleOut,
    SignIn,
    SubscriptionIn,
    SubscriptionOut,
    SuspendIn,
    TerminateIn,
    UsageDecisionOut,
    schedule_out,
)
from operateur.http.deps import LangDep, SessionDep, require

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
    equipment = contracts.get_equipment(session, customer_id, equipment_id)
    return EquipmentOut.model_validate(
        contracts.record_equipment_return(session, equipment, body.returned_on)
    )


@router.post("/contracts/{contract_id}/suspend", response_model=ContractOut, tags=["contracts"])
def suspend_contract(
    customer_id: int, contract_id: int, body: SuspendIn, actor: Writer, session: SessionDep
) -> ContractOut:
    """Suspend the contract, whole or in part where its terms allow (CTR-06)."""
    contract = contracts.get_contract(session, customer_id, contract_id)
    lifecycle.suspend(session, contract, cause=body.cause, reason=body.reason, scope=body.scope)
    return ContractOut.model_validate(contract)


@router.post("/contracts/{contract_id}/restore", response_model=ContractOut, tags=["contracts"])
def restore_contract(
    customer_id: int, contract_id: int, body: ReasonIn, actor: Writer, session: SessionDep
) -> ContractOut:
    contract = contracts.get_contract(session, customer_id, contract_id)
    lifecycle.restore(session, contract, reason=body.reason)
    return ContractOut.model_validate(contract)


@router.post("/contracts/{contract_id}/notice", response_model=ContractOut, tags=["contracts"])
def give_notice(
    customer_id: int, contract_id: int, body: NoticeIn, actor: Writer, session: SessionDep
) -> ContractOut:
    contract = contracts.get_contract(session, customer_id, contract_id)
    lifecycle.give_notice(
        session, contract, received_on=body.received_on, ends_on=body.ends_on, reason=body.reason
    )
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
