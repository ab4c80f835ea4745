"""Request dependencies: the unit of work, the caller, and the single access check."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from datetime import datetime
from typing import Annotated

import anyio.to_thread
from fastapi import Depends, Request
from sqlalchemy.orm import Session, sessionmaker

from operateur.accounts import service as accounts
from operateur.accounts.audit import set_actor
from operateur.accounts.models import Customer
from operateur.accounts.permissions import Actor, Permission
from operateur.db import utcnow
from operateur.errors import Forbidden, NotFound, Unauthenticated
from operateur.i18n import Lang, Text, pick_lang

SESSION_COOKIE = "operateur_session"


async def db_session(request: Request) -> AsyncIterator[Session]:
    """One transaction per request: committed when the handler returns, rolled back on error.

    Async so that opening the session (no I/O: it connects on first use) costs no trip to the
    worker threads; committing or rolling back goes to a worker thread when the session did
    start a transaction, and is done in place when it did not (nothing to send)."""
    factory: sessionmaker[Session] = request.app.state.session_factory
    session = factory()
    try:
        yield session
    except BaseException:
        await _finish(session, _rollback_and_close)
        raise
    await _finish(session, _commit_and_close)


def _commit_and_close(session: Session) -> None:
    try:
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def _rollback_and_close(session: Session) -> None:
    try:
        session.rollback()
    finally:
        session.close()


async def _finish(session: Session, finish: Callable[[Session], None]) -> None:
    if session.in_transaction():  # a connection or pending objects: database I/O
        await anyio.to_thread.run_sync(finish, session)  # shielded from cancellation
    else:
        finish(session)


SessionDep = Annotated[Session, Depends(db_session, scope="function")]


def request_lang(request: Request) -> Lang:
    return pick_lang(request.headers.get("accept-language"))


LangDep = Annotated[Lang, Depends(request_lang)]


# Methods that change nothing: the only ones where the API accepts the portal's session cookie.
SAFE_METHODS = frozenset({"GET", "HEAD"})


def _credential(request: Request) -> str | None:
    """The caller's token: a bearer header, or the session cookie for reads only.

    A browser sends the cookie with any request another site makes it send; the portal's forms
    are guarded by their CSRF token, but the JSON API has none. So a write to the API needs the
    token in the Authorization header, which another site cannot set (SEC-01)."""
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    if request.method in SAFE_METHODS:
        return request.cookies.get(SESSION_COOKIE)
    return None


def current_actor(request: Request, session: SessionDep) -> Actor:
    token = _credential(request)
    actor = accounts.authenticate_token(session, token) if token else None
    if actor is None:
        refusal = accounts.token_refusal(session, token) if token else None
        if refusal is not None:  # SEC-01: a genuine key told why it no longer works
            raise refusal
        raise Unauthenticated(
            Text(
                fr="Identifiant de session ou clé d'API manquant ou invalide.",
                en="Missing or invalid session token or API key.",
            ),
            code="unauthenticated",
        )
    set_actor(session, actor)
    request.state.actor = actor
    return actor


ActorDep = Annotated[Actor, Depends(current_actor)]


class Require:
    """The one place where permissions and tenancy are enforced.

    ``Depends(Require(Permission.X))`` checks that the caller's role grants X and, when the route
    has a ``{customer_id}`` path parameter, that the caller may reach that customer: staff of the
    customer's operator, or a credential of that very customer. Every service lookup below a
    customer path then filters by that customer id, so an object of another customer is never
    found through it.
    """

    def __init__(self, permission: Permission) -> None:
        self.permission = permission

    def __call__(self, request: Request, actor: ActorDep, session: SessionDep) -> Actor:
        if not actor.has(self.permission):
            raise Forbidden(
                Text(
                    fr="Votre rôle ne permet pas cette action ({permission}).",
                    en="Your role does not allow this action ({permission}).",
                ),
                code="permission_denied",
                details={"permission": self.permission.value},
            )
        raw = request.path_params.get("customer_id")
        if raw is not None:
            customer_id = int(raw)
            if not actor.may_access_customer(customer_id):
                raise Forbidden(
                    Text(
                        fr="Ce client n'est pas le vôtre.",
                        en="This customer is not yours.",
                    ),
                    code="tenant_forbidden",
                )
            customer = session.get(Customer, customer_id)
            if customer is None or (
                actor.operator_id is not None and customer.operator_id != actor.operator_id
            ):
                raise NotFound(
                    Text(fr="Client {id} introuvable.", en="Customer {id} not found."),
                    code="customer_not_found",
                    details={"id": customer_id},
                )
        return actor


def require(permission: Permission) -> object:
    """``actor: Annotated[Actor, require(Permission.X)]`` in a route signature."""
    return Depends(Require(permission))


def request_now(request: Request) -> datetime:
    """The current time, or the application's clock when one is set (tests, demos)."""
    clock = getattr(request.app.state, "clock", None)
    return clock() if clock is not None else utcnow()
