"""REST endpoints of the accounts context: login, customers, contacts, users, API keys, audit."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response, status

from operateur.accounts import audit
from operateur.accounts import service as accounts
from operateur.accounts.models import Customer, CustomerStatus
from operateur.accounts.permissions import ROLE_PERMISSIONS, Actor, Permission
from operateur.accounts.schemas import (
    ApiKeyCreatedOut,
    ApiKeyIn,
    ApiKeyOut,
    AuditEventOut,
    ContactIn,
    ContactOut,
    CustomerIn,
    CustomerOut,
    CustomerPatch,
    LoginIn,
    LoginOut,
    MeOut,
    UserIn,
    UserOut,
)
from operateur.config import Settings
from operateur.contracts import service as contracts
from operateur.errors import InvalidInput, NotFound, Unauthenticated
from operateur.http.deps import SESSION_COOKIE, ActorDep, SessionDep, require
from operateur.i18n import Text

router = APIRouter()


def _operator_id(actor: Actor) -> int:
    if actor.operator_id is None:
        raise InvalidInput(Text(fr="Opérateur inconnu.", en="Unknown operator."), field="operator")
    return actor.operator_id


def customer_out(customer: Customer) -> CustomerOut:
    return CustomerOut.model_validate(
        {
            **{c: getattr(customer, c) for c in CustomerOut.model_fields if c != "iban_masked"},
            "iban_masked": accounts.mask_iban(customer.iban),
        }
    )


# --- authentication --------------------------------------------------------------------------


@router.post("/auth/login", response_model=LoginOut, tags=["auth"])
def login(body: LoginIn, request: Request, response: Response, session: SessionDep) -> LoginOut:
    settings: Settings = request.app.state.settings
    user = accounts.find_user_by_email(session, body.email)
    single = bool(
        user is not None
        and user.customer_id is not None
        and contracts.single_session_required(session, user.customer_id)
    )
    try:
        row, token, user = accounts.login(
            session,
            body.email,
            body.password,
            session_hours=settings.session_hours,
            max_failures=settings.login_max_failures,
            lockout_minutes=settings.login_lockout_minutes,
            single_session=single,
            client_ip=request.client.host if request.client else None,
        )
    except Unauthenticated:
        session.commit()  # the failed-attempt count and any lock-out must outlive the refusal
        raise
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=settings.session_hours * 3600,
        httponly=True,
        secure=settings.cookie_secure,
        samesite="lax",
    )
    return LoginOut(token=token, expires_at=row.expires_at, user=UserOut.model_validate(user))


@router.post("/auth/logout", status_code=status.HTTP_204_NO_CONTENT, tags=["auth"])
def logout(actor: ActorDep, session: SessionDep, response: Response) -> Response:
    accounts.logout(session, actor)
    response.delete_cookie(SESSION_COOKIE)
    response.status_code = status.HTTP_204_NO_CONTENT
    return response


@router.get("/auth/me", response_model=MeOut, tags=["auth"])
def me(actor: ActorDep) -> MeOut:
    return MeOut(
        kind=actor.kind,
        label=actor.label,
        role=actor.role,
        customer_id=actor.customer_id,
        permissions=sorted(p.value for p in ROLE_PERMISSIONS[actor.role]),
    )


# --- customers -------------------------------------------------------------------------------


@router.get("/customers", response_model=list[CustomerOut], tags=["customers"])
def list_customers(
    actor: Annotated[Actor, require(Permission.CUSTOMERS_LIST)],
    session: SessionDep,
    status_: Annotated[CustomerStatus | None, Query(alias="status")] = None,
    q: str | None = None,
) -> list[CustomerOut]:
    rows = accounts.list_customers(session, actor.operator_id, status=status_, search=q)
    return [customer_out(c) for c in rows]


@router.post(
    "/customers",
    response_model=CustomerOut,
    status_code=status.HTTP_201_CREATED,
    tags=["customers"],
)
def create_customer(
    body: CustomerIn,
    actor: Annotated[Actor, require(Permission.CUSTOMERS_CREATE)],
    session: SessionDep,
) -> CustomerOut:
    return customer_out(accounts.create_customer(session, _operator_id(actor), body))


@router.get("/customers/{customer_id}", response_model=CustomerOut, tags=["customers"])
def get_customer(
    customer_id: int,
    actor: Annotated[Actor, require(Permission.CUSTOMER_READ)],
    session: SessionDep,
) -> CustomerOut:
    return customer_out(accounts.get_customer(session, customer_id))


@router.patch("/customers/{customer_id}", response_model=CustomerOut, tags=["customers"])
def update_customer(
    customer_id: int,
    body: CustomerPatch,
    actor: Annotated[Actor, require(Permission.CUSTOMER_PROFILE_WRITE)],
    session: SessionDep,
) -> CustomerOut:
    customer = accounts.get_customer(session, customer_id)
    return customer_out(accounts.update_customer(session, actor, customer, body))


@router.get(
    "/customers/{customer_id}/contacts", response_model=list[ContactOut], tags=["customers"]
)
def list_contacts(
    customer_id: int,
    actor: Annotated[Actor, require(Permission.CUSTOMER_READ)],
    session: SessionDep,
) -> list[ContactOut]:
    return [ContactOut.model_validate(c) for c in accounts.list_contacts(session, customer_id)]


@router.post(
    "/customers/{customer_id}/contacts",
    response_model=ContactOut,
    status_code=status.HTTP_201_CREATED,
    tags=["customers"],
)
def add_contact(
    customer_id: int,
    body: ContactIn,
    actor: Annotated[Actor, require(Permission.CUSTOMER_PROFILE_WRITE)],
    session: SessionDep,
) -> ContactOut:
    customer = accounts.get_customer(session, customer_id)
    return ContactOut.model_validate(accounts.add_contact(session, customer, body))


@router.delete(
    "/customers/{customer_id}/contacts/{contact_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    tags=["customers"],
)
def remove_contact(
    customer_id: int,
    contact_id: int,
    actor: Annotated[Actor, require(Permission.CUSTOMER_PROFILE_WRITE)],
    session: SessionDep,
) -> Response:
    accounts.remove_contact(session, accounts.get_contact(session, customer_id, contact_id))
    return Response(status_code=status.HTTP_204_NO_CONTENT)


# --- users -----------------------------------------------------------------------------------


@router.get("/customers/{customer_id}/users", response_model=list[UserOut], tags=["users"])
def list_users(
    customer_id: int,
    actor: Annotated[Actor, require(Permission.USERS_MANAGE)],
    session: SessionDep,
) -> list[UserOut]:
    customer = accounts.get_customer(session, customer_id)
    rows = accounts.list_users(session, customer.operator_id, customer_id)
    return [UserOut.model_validate(u) for u in rows]


@router.post(
    "/customers/{customer_id}/users",
    response_model=UserOut,
    status_code=status.HTTP_201_CREATED,
    tags=["users"],
)
def create_user(
    customer_id: int,
    body: UserIn,
    actor: Annotated[Actor, require(Permission.USERS_MANAGE)],
    session: SessionDep,
) -> UserOut:
    customer = accounts.get_customer(session, customer_id)
    user = accounts.create_user(
        session, actor, operator_id=customer.operator_id, customer_id=customer_id, data=body
    )
    return UserOut.model_validate(user)


@router.post(
    "/customers/{customer_id}/users/{user_id}/deactivate",
    response_model=UserOut,
    tags=["users"],
)
def deactivate_user(
    customer_id: int,
    user_id: int,
    actor: Annotated[Actor, require(Permission.USERS_MANAGE)],
    session: SessionDep,
) -> UserOut:
    user = accounts.get_user(session, customer_id, user_id)
    return UserOut.model_validate(accounts.deactivate_user(session, user))


@router.get("/staff/users", response_model=list[UserOut], tags=["users"])
def list_staff(
    actor: Annotated[Actor, require(Permission.STAFF_MANAGE)], session: SessionDep
) -> list[UserOut]:
    rows = accounts.list_users(session, _operator_id(actor), None)
    return [UserOut.model_validate(u) for u in rows]


@router.post(
    "/staff/users", response_model=UserOut, status_code=status.HTTP_201_CREATED, tags=["users"]
)
def create_staff(
    body: UserIn,
    actor: Annotated[Actor, require(Permission.STAFF_MANAGE)],
    session: SessionDep,
) -> UserOut:
    user = accounts.create_user(
        session, actor, operator_id=_operator_id(actor), customer_id=None, data=body
    )
    return UserOut.model_validate(user)


# --- API keys --------------------------------------------------------------------------------


@router.get("/customers/{customer_id}/api-keys", response_model=list[ApiKeyOut], tags=["api keys"])
def list_api_keys(
    customer_id: int,
    actor: Annotated[Actor, require(Permission.USERS_MANAGE)],
    session: SessionDep,
) -> list[ApiKeyOut]:
    customer = accounts.get_customer(session, customer_id)
    rows = accounts.list_api_keys(session, customer.operator_id, customer_id)
    return [ApiKeyOut.model_validate(k) for k in rows]


@router.post(
    "/customers/{customer_id}/api-keys",
    response_model=ApiKeyCreatedOut,
    status_code=status.HTTP_201_CREATED,
    tags=["api keys"],
)
def create_api_key(
    customer_id: int,
    body: ApiKeyIn,
    actor: Annotated[Actor, require(Permission.USERS_MANAGE)],
    session: SessionDep,
) -> ApiKeyCreatedOut:
    customer = accounts.get_customer(session, customer_id)
    row, key = accounts.create_api_key(
        session,
        actor,
        operator_id=customer.operator_id,
        customer_id=customer_id,
        name=body.name,
        role=body.role,
    )
    return ApiKeyCreatedOut.model_validate(
        {**ApiKeyOut.model_validate(row).model_dump(), "key": key}
    )


@router.delete(
    "/customers/{customer_id}/api-keys/{key_id}", response_model=ApiKeyOut, tags=["api keys"]
)
def revoke_api_key(
    customer_id: int,
    key_id: int,
    actor: Annotated[Actor, require(Permission.USERS_MANAGE)],
    session: SessionDep,
) -> ApiKeyOut:
    key = accounts.get_api_key(session, customer_id, key_id)
    return ApiKeyOut.model_validate(accounts.revoke_api_key(session, key))


# --- audit log -------------------------------------------------------------------------------


@router.get("/audit", response_model=list[AuditEventOut], tags=["audit"])
def operator_audit(
    actor: Annotated[Actor, require(Permission.AUDIT_READ)],
    session: SessionDep,
    customer_id: int | None = None,
    who: str | None = None,
    action: str | None = None,
    entity: str | None = None,
    entity_id: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[AuditEventOut]:
    operator_id = _operator_id(actor)
    if customer_id is not None and accounts.get_customer(session, customer_id).operator_id != (
        operator_id
    ):  # SEC-02: another operator's customer is not found, as through its own paths
        raise NotFound(
            Text(fr="Client {id} introuvable.", en="Customer {id} not found."),
            code="customer_not_found",
            details={"id": customer_id},
        )
    rows = audit.query(
        session,
        audit.AuditQuery(
            operator_id=operator_id,  # SEC-02: never another operator's events
            customer_id=customer_id,
            actor_label=who,
            action=action,
            entity=entity,
            entity_id=entity_id,
            since=since,
            until=until,
            limit=limit,
        ),
    )
    return [AuditEventOut.model_validate(e) for e in rows]


@router.get("/customers/{customer_id}/audit", response_model=list[AuditEventOut], tags=["audit"])
def customer_audit(
    customer_id: int,
    actor: Annotated[Actor, require(Permission.CUSTOMER_AUDIT_READ)],
    session: SessionDep,
    action: str | None = None,
    entity: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[AuditEventOut]:
    rows = audit.query(
        session,
        audit.AuditQuery(
            operator_id=actor.operator_id,  # SEC-02: besides Require's check of the customer
            customer_id=customer_id,
            action=action,
            entity=entity,
            since=since,
            until=until,
            limit=limit,
        ),
    )
    return [AuditEventOut.model_validate(e) for e in rows]
