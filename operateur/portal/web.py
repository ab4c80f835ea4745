"""Helpers shared by the portal's pages: the clock, form parsing, the navigation, and running
an action so that it either commits and says so, or changes nothing and says why."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from typing import Any, TypeVar

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse
from pydantic import BaseModel, ValidationError
from sqlalchemy.orm import Session

from operateur.accounts.audit import set_actor
from operateur.accounts.permissions import Actor
from operateur.domain.calendar import PARIS
from operateur.errors import InvalidInput, OperateurError
from operateur.http.deps import request_now
from operateur.i18n import Text
from operateur.portal.render import redirect
from operateur.portal.security import check_csrf, page_lang

M = TypeVar("M", bound=BaseModel)


def portal_router() -> APIRouter:
    """A router of portal pages: out of the API schema, every form checked for its token."""
    return APIRouter(include_in_schema=False, dependencies=[Depends(check_csrf)])


def now(request: Request) -> datetime:
    """The current time, or the application's clock when one is set (tests)."""
    return request_now(request)


def today(request: Request) -> date:
    return now(request).astimezone(PARIS).date()


def model(cls: type[M], data: dict[str, Any]) -> M:
    """Build an input model from form fields; a bad field is an ``InvalidInput`` naming it."""
    cleaned = {k: (v if v != "" else None) for k, v in data.items()}
    cleaned = {k: v for k, v in cleaned.items() if v is not None}
    try:
        return cls.model_validate(cleaned)
    except ValidationError as error:
        first = error.errors()[0]
        field = ".".join(str(p) for p in first.get("loc", ())) or "form"
        raise InvalidInput(
            Text(fr="Champ {field} : {reason}", en="Field {field}: {reason}"),
            field=field,
            details={"field": field, "reason": first.get("msg", "")},
        ) from None


def act(
    request: Request,
    session: Session,
    *,
    back: str,
    done: Text,
    run: Callable[[], object],
    reason: str | None = None,
    to: str | None = None,
) -> RedirectResponse:
    """Run a change: on success go to ``to`` (or ``back``) saying ``done``; on a refusal roll
    everything back and return to ``back`` with the reason."""
    lang = page_lang(request)
    actor = getattr(request.state, "actor", None)
    if reason is not None and isinstance(actor, Actor):
        set_actor(session, actor, reason)
    try:
        run()
        session.flush()
    except OperateurError as error:
        session.rollback()
        field = f" [{error.field}]" if error.field else ""
        return redirect(request, back, flash=error.render(lang) + field, level="error")
    return redirect(request, to or back, flash=done.render(lang))
