"""The portal's protections: who is logged in (the session cookie of the accounts context),
CSRF tokens on every form, and the security headers of every page.

CSRF: a random token lives in the ``operateur_csrf`` cookie (SameSite=Strict) and is repeated
in a hidden field of every form; a POST whose field does not match the cookie is refused
before anything else runs (double-submit). The token changes at login and logout.
"""

from __future__ import annotations

import hmac
import secrets
from typing import Annotated

from fastapi import Depends, Request, Response
from sqlalchemy.orm import Session
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from operateur.accounts import service as accounts
from operateur.accounts.audit import set_actor
from operateur.accounts.permissions import Actor, Permission
from operateur.config import Settings
from operateur.errors import Forbidden
from operateur.http.deps import SESSION_COOKIE, Require, SessionDep
from operateur.i18n import Lang, Text

CSRF_COOKIE = "operateur_csrf"
CSRF_FIELD = "csrf_token"
LANG_COOKIE = "operateur_lang"

# Paths served by the API, its documentation and the mail gateway's signed-link pages
# (operateur/mail/web.py) keep their own behaviour; the rest is portal.
NON_PORTAL_PREFIXES = ("/api/", "/docs", "/redoc", "/openapi.json", "/metrics", "/mail/")

# No script at all: the portal is plain HTML forms; styles and images from the portal only.
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'none'"
)


def is_portal_path(path: str) -> bool:
    return not path.startswith(NON_PORTAL_PREFIXES)


class LoginRequired(Exception):
    """No valid portal session: the browser is sent to the login page."""

    def __init__(self, next_path: str) -> None:
        super().__init__(next_path)
        self.next_path = next_path


def page_lang(request: Request) -> Lang:
    """French unless the visitor chose English with the switch."""
    return "en" if request.cookies.get(LANG_COOKIE) == "en" else "fr"


# --- who is logged in ------------------------------------------------------------------------


def find_actor(request: Request, session: Session) -> Actor | None:
    """The user behind the session cookie, or None (API keys do not open the portal)."""
    token = request.cookies.get(SESSION_COOKIE)
    actor = accounts.authenticate_token(session, token) if token else None
    if actor is None or actor.kind != "user":
        return None
    set_actor(session, actor)
    request.state.actor = actor
    return actor


def portal_actor(request: Request, session: SessionDep) -> Actor:
    actor = find_actor(request, session)
    if actor is None:
        next_path = request.url.path if request.method == "GET" else "/"
        raise LoginRequired(next_path)
    return actor


PortalActor = Annotated[Actor, Depends(portal_actor)]


class Allowed:
    """A page's access check: the logged-in user, then the platform's single permission and
    tenancy check (``operateur.http.deps.Require``) on the page's ``{customer_id}``."""

    def __init__(self, permission: Permission, *, staff_only: bool = False) -> None:
        self.require = Require(permission)
        self.staff_only = staff_only

    def __call__(self, request: Request, actor: PortalActor, session: SessionDep) -> Actor:
        if self.staff_only and not actor.is_staff:
            raise Forbidden(
                Text(fr="Page réservée à l'opérateur.", en="Operator staff only."),
                code="staff_only",
            )
        return self.require(request, actor, session)


def allowed(permission: Permission, *, staff_only: bool = False) -> object:
    """``actor: Annotated[Actor, allowed(Permission.X)]`` in a page's signature."""
    return Depends(Allowed(permission, staff_only=staff_only))


# --- CSRF ------------------------------------------------------------------------------------


def new_csrf_token() -> str:
    return secrets.token_urlsafe(32)


def csrf_token(request: Request) -> str:
    """The token of this browser, creating one (set on the response by ``render``)."""
    existing = getattr(request.state, "csrf_token", None)
    if isinstance(existing, str):
        return existing
    token = request.cookies.get(CSRF_COOKIE) or new_csrf_token()
    request.state.csrf_token = token
    return token


def set_csrf_cookie(request: Request, response: Response, token: str | None = None) -> None:
    settings: Settings = request.app.state.settings
    value = token or csrf_token(request)
    if token is None and request.cookies.get(CSRF_COOKIE) == value:
        return
    response.set_cookie(
        CSRF_COOKIE,
        value,
        httponly=True,
        samesite="strict",
        secure=settings.cookie_secure,
        path="/",
    )


class CsrfRefused(Exception):
    """A form arrived without the token of this browser."""


async def check_csrf(request: Request) -> None:
    """Every unsafe request of the portal carries the token of its browser."""
    if request.method in ("GET", "HEAD", "OPTIONS"):
        return
    cookie = request.cookies.get(CSRF_COOKIE, "")
    form = await request.form()
    sent = form.get(CSRF_FIELD)
    if not cookie or not isinstance(sent, str) or not hmac.compare_digest(cookie, sent):
        raise CsrfRefused()


# --- security headers ------------------------------------------------------------------------


class SecurityHeaders:
    """Headers of every portal response: no framing, no sniffing, no scripts, no caching of
    pages that show a customer's data. Pure ASGI: the API's requests (the SIP proxy's call
    control among them) pass straight through, at no cost."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not is_portal_path(scope["path"]):
            await self.app(scope, receive, send)
            return
        static = scope["path"].startswith("/static/")
        settings: Settings = scope["app"].state.settings

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
                headers.setdefault("X-Content-Type-Options", "nosniff")
                headers.setdefault("X-Frame-Options", "DENY")
                headers.setdefault("Referrer-Policy", "same-origin")
                headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
                headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
                if not static:
                    headers.setdefault("Cache-Control", "no-store")
                if settings.cookie_secure:
                    headers.setdefault(
                        "Strict-Transport-Security", "max-age=31536000; includeSubDomains"
                    )
            await send(message)

        await self.app(scope, receive, send_with_headers)
