"""REST endpoints of the number inventory."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, status

from operateur.accounts import service as accounts
from operateur.accounts.permissions import Actor, Permission
from operateur.config import Settings
from operateur.http.deps import LangDep, SessionDep, request_now, require
from operateur.numbers import directory, portability, rio
from operateur.numbers import service as numbers
from operateur.numbers.models import NumberStatus, NumberTier, PortRequest
from operateur.numbers.schemas import (
    AddressProofIn,
    AddressProofOut,
    AliasIn,
    AssignIn,
    ClassifyOut,
    DirectoryIn,
    DirectoryOut,
    DonorAnswerIn,
    NumberOut,
    NumbersIn,
    PortIn,
    PortOut,
    PublicNumberOut,
    RioCheckOut,
)

router = APIRouter(tags=["numbers"])
public_router = APIRouter(tags=["public"])


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
        session,
        customer,
        kind=body.kind,
        tier=body.tier,
        line_id=body.line_id,
        contract_id=body.contract_id,
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


# --- VOX-14 proofs of address and alias numbers ---------------------------------------------


@router.get("/customers/{customer_id}/address-proofs", response_model=list[AddressProofOut])
def list_address_proofs(
    customer_id: int,
    actor: Annotated[Actor, require(Permission.CUSTOMER_READ)],
    session: SessionDep,
) -> list[AddressProofOut]:
    return [
        AddressProofOut.model_validate(p) for p in numbers.list_address_proofs(session, customer_id)
    ]


@router.post(
    "/customers/{customer_id}/address-proofs",
    response_model=AddressProofOut,
    status_code=status.HTTP_201_CREATED,
)
def record_address_proof(
    customer_id: int,
    body: AddressProofIn,
    actor: Annotated[Actor, require(Permission.CUSTOMER_IDENTITY_WRITE)],
    session: SessionDep,
) -> AddressProofOut:
    proof = numbers.record_address_proof(
        session,
        accounts.get_customer(session, customer_id),
        document=body.document,
        reference=body.reference,
        received_on=body.received_on,
        checked_by=actor.label,
    )
    return AddressProofOut.model_validate(proof)


@router.post(
    "/customers/{customer_id}/numbers/aliases",
    response_model=NumberOut,
    status_code=status.HTTP_201_CREATED,
)
def assign_alias(
    customer_id: int,
    body: AliasIn,
    actor: Annotated[Actor, require(Permission.NUMBERS_ASSIGN)],
    session: SessionDep,
) -> NumberOut:
    number = numbers.assign_alias(
        session,
        accounts.get_customer(session, customer_id),
        kind=body.kind,
        line_ids=body.line_ids,
        tier=body.tier,
    )
    return NumberOut.model_validate(number)


# --- VOX-15 portability ----------------------------------------------------------------------


@router.get("/numbers/check-rio", response_model=RioCheckOut)
def check_rio(
    rio_code: Annotated[str, Query(alias="rio")],
    number: str,
    actor: Annotated[Actor, require(Permission.NUMBERS_READ)],
    lang: LangDep,
) -> RioCheckOut:
    """Whether a RIO is well formed and matches the number (VOX-15)."""
    return RioCheckOut.model_validate(rio.check(rio_code, number).as_dict(lang))


def _port_out(request: PortRequest, lang: str) -> PortOut:
    out = PortOut.model_validate(request)
    if request.reason is not None:
        out.reason_text = portability.REASONS[request.reason].render(lang)
    return out


@router.get("/customers/{customer_id}/port-requests", response_model=list[PortOut])
def list_port_requests(
    customer_id: int,
    actor: Annotated[Actor, require(Permission.PORTING_REQUEST)],
    session: SessionDep,
    lang: LangDep,
) -> list[PortOut]:
    return [_port_out(r, lang) for r in portability.list_requests(session, customer_id)]


@router.post(
    "/customers/{customer_id}/port-requests",
    response_model=PortOut,
    status_code=status.HTTP_201_CREATED,
)
def request_port_in(
    customer_id: int,
    body: PortIn,
    actor: Annotated[Actor, require(Permission.PORTING_REQUEST)],
    session: SessionDep,
    lang: LangDep,
) -> PortOut:
    """Ask to port a number in; an ineligible request says why and assigns a new number."""
    request = portability.request_port_in(
        session,
        accounts.get_customer(session, customer_id),
        number=body.number,
        rio_code=body.rio,
        line_id=body.line_id,
        holder_name=body.holder_name,
    )
    return _port_out(request, lang)


@router.get("/customers/{customer_id}/port-requests/{port_id}", response_model=PortOut)
def get_port_request(
    customer_id: int,
    port_id: int,
    actor: Annotated[Actor, require(Permission.PORTING_REQUEST)],
    session: SessionDep,
    lang: LangDep,
) -> PortOut:
    return _port_out(portability.get_request(session, customer_id, port_id), lang)


@router.post("/customers/{customer_id}/port-requests/{port_id}/answer", response_model=PortOut)
def record_donor_answer(
    customer_id: int,
    port_id: int,
    body: DonorAnswerIn,
    actor: Annotated[Actor, require(Permission.PORTING_MANAGE)],
    session: SessionDep,
    lang: LangDep,
    http: Request,
) -> PortOut:
    """The donor operator's answer: refused with its reason, or the date and time slot (not
    past by the application's clock)."""
    request = portability.record_donor_answer(
        session,
        portability.get_request(session, customer_id, port_id),
        accepted=body.accepted,
        reason=body.reason,
        scheduled_on=body.scheduled_on,
        slot_start=body.slot_start,
        slot_end=body.slot_end,
        now=request_now(http),
    )
    return _port_out(request, lang)


@router.post("/customers/{customer_id}/port-requests/{port_id}/cancel", response_model=PortOut)
def cancel_port_request(
    customer_id: int,
    port_id: int,
    actor: Annotated[Actor, require(Permission.PORTING_REQUEST)],
    session: SessionDep,
    lang: LangDep,
) -> PortOut:
    request = portability.cancel(session, portability.get_request(session, customer_id, port_id))
    return _port_out(request, lang)


# --- VOX-17 public identification ----------------------------------------------------------


@router.get(
    "/customers/{customer_id}/numbers/{number_id}/directory", response_model=DirectoryOut | None
)
def get_directory_entry(
    customer_id: int,
    number_id: int,
    actor: Annotated[Actor, require(Permission.NUMBERS_READ)],
    session: SessionDep,
) -> DirectoryOut | None:
    """What the public lookup shows for the number (null when nothing is recorded)."""
    number = numbers.get_customer_number(session, customer_id, number_id)
    entry = directory.get_entry(session, number)
    return DirectoryOut.model_validate(entry) if entry else None


@router.put("/customers/{customer_id}/numbers/{number_id}/directory", response_model=DirectoryOut)
def set_directory_entry(
    customer_id: int,
    number_id: int,
    body: DirectoryIn,
    actor: Annotated[Actor, require(Permission.DIRECTORY_WRITE)],
    session: SessionDep,
) -> DirectoryOut:
    number = numbers.get_customer_number(session, customer_id, number_id)
    entry = directory.set_entry(session, number, directory.EntryData(**body.model_dump()))
    return DirectoryOut.model_validate(entry)


@public_router.get("/public/numbers/{number}", response_model=PublicNumberOut)
def public_lookup(number: str, session: SessionDep) -> PublicNumberOut:
    """Free and unauthenticated (VOX-17): who is behind a number that called or texted you.
    Nothing is shown for a number not published."""
    e164, entry = directory.lookup(session, number)
    return PublicNumberOut(
        number=e164,
        service_name=entry.service_name,
        description=entry.description,
        provider=entry.provider,
        website=entry.website,
        address=entry.address,
        complaint_contact=entry.complaint_contact,
    )
