"""Login, logout, the language switch and the front door of the portal."""

from __future__ import annotations

from typing import Annotated

from fastapi import Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from operateur.accounts import service as accounts
from operateur.config import Settings
from operateur.contracts import service as contracts
from operateur.errors import Unauthenticated
from operateur.http.deps import SESSION_COOKIE, SessionDep
from operateur.i18n import Text
from operateur.portal.nav import home_of
from operateur.portal.render import redirect, render, safe_next
from operateur.portal.security import (
    LANG_COOKIE,
    find_actor,
    new_csrf_token,
    page_lang,
    set_csrf_cookie,
)
from operateur.portal.web import portal_router

router = portal_router()


def _demo_logins(request: Request, session: SessionDep) -> list[tuple[str, str, str]]:
    """The demo's logins, shown on the login page only when the demo data is loaded."""
    from operateur.demo.data import DEMO_LOGINS, OPERATOR_SIREN

    if accounts.find_operator_by_siren(session, OPERATOR_SIREN) is None:
        return []
    return [(login.role, login.email, login.password) for login in DEMO_LOGINS]


@router.get("/", response_class=HTMLResponse)
def front_door(request: Request, session: SessionDep) -> Response:
    actor = find_actor(request, session)
    return RedirectResponse(home_of(actor) if actor else "/login", status_code=303)


@router.get("/login", response_class=HTMLResponse)
def login_page(request: Request, session: SessionDep, next: str = "/") -> Response:
    actor = find_actor(request, session)
    if actor is not None:
        return RedirectResponse(home_of(actor), status_code=303)
    return render(
        request,
        "login.html",
        {
            "next": safe_next(next),
            "email": "",
            "error": None,
            "demo": _demo_logins(request, session),
        },
    )


@router.post("/login", response_class=HTMLResponse)
def login(
    request: Request,
    session: SessionDep,
    email: Annotated[str, Form(max_length=200)],
    password: Annotated[str, Form(max_length=500)],
    next: Annotated[str, Form(max_length=500)] = "/",
) -> Response:
    """Open a session with the accounts context's login: wrong passwords count towards the
    lock-out, and the contract's one-session rule ends the user's other sessions (SEC-01)."""
    settings: Settings = request.app.state.settings
    user = accounts.find_user_by_email(session, email)
    single = bool(
        user is not None
        and user.customer_id is not None
        and contracts.single_session_required(session, user.customer_id)
    )
    try:
        row, token, user = accounts.login(
            session,
            email,
            password,
            session_hours=settings.session_hours,
            max_failures=settings.login_max_failures,
            lockout_minutes=settings.login_lockout_minutes,
            single_session=single,
            client_ip=request.client.host if request.client else None,
        )
    except Unauthenticated as error:
        # the failed attempt is counted (the request's transaction commits)
        return render(
            request,
            "login.html",
            {
                "next": safe_next(next),
                "email": email,
                "error": error.render(page_lang(request)),
                "demo": _demo_logins(request, session),
            },
            status=401,
        )
    target = safe_next(next)
    response = RedirectResponse(
        target if target != "/" else home_of(accounts._user_actor(user, row.id)), status_code=303
    )
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=settings.session_hours * 3600,
        httponly=True,
        secure=settings.cookie_secure,
        samesite="lax",
        path="/",
    )
    set_csrf_cookie(request, response, new_csrf_token())  # a fresh token for the new session
    if LANG_COOKIE not in request.cookies and user.lang in ("fr", "en"):
        response.set_cookie(LANG_COOKIE, user.lang, max_age=365 * 86400, samesite="lax", path="/")
    return response


@router.post("/logout")
def logout(request: Request, session: SessionDep) -> Response:
    actor = find_actor(request, session)
    if actor is not None:
        accounts.logout(session, actor)
    response = redirect(
        request,
        "/login",
        flash=Text(fr="Vous êtes déconnecté.", en="You are logged out.").render(page_lang(request)),
    )
    response.delete_cookie(SESSION_COOKIE, path="/")
    set_csrf_cookie(request, response, new_csrf_token())
    return response


@router.post("/lang")
def switch_language(
    request: Request,
    lang: Annotated[str, Form(pattern="^(fr|en)$")],
    next: Annotated[str, Form(max_length=500)] = "/",
) -> Response:
    response = RedirectResponse(safe_next(next), status_code=303)
    response.set_cookie(LANG_COOKIE, lang, max_age=365 * 86400, samesite="lax", path="/")
    return response
