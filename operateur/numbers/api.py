"""REST endpoints of the number inventory."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, status

from operateur.accounts import service as accounts
from operateur.accounts.permissions import Actor, Permission
from operateur.config import Settings
from operateur.http.deps import LangDep, SessionDep, require
from operateur.numbers import service as numbers
from operateur.numbers.models import NumberStatus, NumberTier
from operateur.numbers.schemas import AssignIn, ClassifyOut, NumberOut, NumbersIn

router = APIRouter(tags=["numbers"])


@router.get("/numbers/classify", response_model=ClassifyOut)
def classify(
    number: str, actor: Annotated[Actor, require(Permission.NUMBERS_READ)], lang: LangDep
) -> ClassifyOut:
    info = numbers.classify_number(number)
    return ClassifyOut(
        raw=info.raw,
        e164=info.e164,
        kind=info.kind.value,
        region=info.region,
        is_emergency=info.is_emergency,
        description=info.description.render(lang),
    )


@router.get("/numbers", response_model=list[NumberOut])
def list_stock(
    actor: Annotated[Actor, require(Permission.NUMBERS_INVENTORY)],
    session: SessionDep,
    status_: Annotated[NumberStatus | None, Query(alias="status")] = None,
    kind: str | None = None,
    tier: NumberTier | None = None,
    limit: Annotated[int, Query(ge=1, le=5000)] = 500,
) -> list[NumberOut]:
    rows = numbers.list_stock(session, status=status_, kind=kind, tier=tier, limit=limit)
    return [NumberOut.model_validate(n) for n in rows]


@router.post("/numbers", response_model=list[NumberOut], status_code=status.HTTP_201_CREATED)
def add_to_stock(
    body: NumbersIn,
    actor: Annotated[Actor, require(Permission.NUMBERS_INVENTORY)],
    session: SessionDep,
) -> list[NumberOut]:
    rows = numbers.add_to_stock(session, body.numbers, body.tier)
    return [NumberOut.model_validate(n) for n in rows]


@router.get("/customers/{customer_id}/numbers", response_model=list[NumberOut])
def list_customer_numbers(
    customer_id: int,
    actor: Annotated[Actor, require(Permission.NUMBERS_READ)],
    session: SessionDep,
) -> list[NumberOut]:
    return [
        NumberOut.model_validate(n) for n in numbers.list_customer_numbers(session, customer_id)
    ]


@router.post(
    "/customers/{customer_id}/numbers",
    response_model=NumberOut,
    status_code=status.HTTP_201_CREATED,
)
def assign_number(
    customer_id: int,
    body: AssignIn,
    actor: Annotated[Actor, require(Permission.NUMBERS_ASSIGN)],
    session: SessionDep,
) -> NumberOut:
    customer = accounts.get_customer(session, customer_id)
    number = numbers.assign_random(
        session, customer, kind=body.kind, tier=body.tier, line_id=body.line_id
    )
    return NumberOut.model_validate(number)


@router.post("/customers/{customer_id}/numbers/{number_id}/release", response_model=NumberOut)
def release_number(
    customer_id: int,
    number_id: int,
    request: Request,
    actor: Annotated[Actor, require(Permission.NUMBERS_ASSIGN)],
    session: SessionDep,
) -> NumberOut:
    settings: Settings = request.app.state.settings
    number = numbers.get_customer_number(session, customer_id, number_id)
    return NumberOut.model_validate(
        numbers.release(session, number, settings.number_quarantine_days)
    )
