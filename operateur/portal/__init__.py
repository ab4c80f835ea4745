"""The web portal: the customers' space and the operator's back office, server-rendered pages
(Jinja2, plain HTML forms, no script) served by the same application as the API.

``install(app)`` adds the pages, the static files, the security headers and the portal's own
error pages (the API keeps its problem documents).
"""

from __future__ import annotations

from urllib.parse import urlsplit

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

from operateur.errors import OperateurError, Unauthenticated
from operateur.http.problems import status_of
from operateur.i18n import Text
from operateur.portal import (
    account_pages,
    auth,
    backoffice,
    customer,
    disputes_pages,
    lookup_pages,
    mail_pages,
    orders_pages,
    privacy_pages,
    sms_pages,
    support_pages,
    voice_pages,
)
from operateur.portal.render import redirect, render, safe_next
from operateur.portal.security import (
    CsrfRefused,
    LoginRequired,
    SecurityHeaders,
    is_portal_path,
    page_lang,
)

ERROR_TITLES = {
    400: Text("Requête invalide", "Bad request"),
    403: Text("Accès refusé", "Access denied"),
    404: Text("Page introuvable", "Page not found"),
    405: Text("Méthode non autorisée", "Method not allowed"),
    409: Text("Action impossible", "Action not possible"),
    422: Text("Donnée invalide", "Invalid input"),
}


def error_page(request: Request, status: int, message: str) -> Response:
    title = ERROR_TITLES.get(status, ERROR_TITLES[400]).render(page_lang(request))
    return render(
        request, "error.html", {"status": status, "title": title, "message": message}, status=status
    )


def install(app: FastAPI) -> None:
    """Serve the portal from ``app`` (after the API's routers and error handlers)."""
    for module in (
        auth,
        customer,
        account_pages,
        disputes_pages,
        orders_pages,
        privacy_pages,
        sms_pages,
        mail_pages,
        support_pages,
        voice_pages,
        backoffice,
        lookup_pages,
    ):
        app.include_router(module.router)
    app.mount("/static", StaticFiles(packages=[("operateur.portal", "static")]), name="static")
    app.add_middleware(SecurityHeaders)

    api_error = app.exception_handlers[OperateurError]
    api_validation = app.exception_handlers[RequestValidationError]
    api_http = app.exception_handlers[StarletteHTTPException]

    async def on_login_required(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, LoginRequired)
        return RedirectResponse(f"/login?next={safe_next(exc.next_path)}", status_code=303)

    async def on_csrf(request: Request, exc: Exception) -> Response:
        text = Text(
            fr="Formulaire refusé : jeton de sécurité absent ou périmé. Rechargez la page.",
            en="Form refused: security token missing or stale. Reload the page.",
        )
        return error_page(request, 403, text.render(page_lang(request)))

    async def on_error(request: Request, exc: Exception) -> Response:
        if not is_portal_path(request.url.path):
            return await api_error(request, exc)  # type: ignore[misc, no-any-return]
        assert isinstance(exc, OperateurError)
        if isinstance(exc, Unauthenticated):
            return RedirectResponse("/login", status_code=303)
        return error_page(request, status_of(exc), exc.render(page_lang(request)))

    async def on_validation(request: Request, exc: Exception) -> Response:
        if not is_portal_path(request.url.path):
            return await api_validation(request, exc)  # type: ignore[misc, no-any-return]
        assert isinstance(exc, RequestValidationError)
        lang = page_lang(request)
        first = exc.errors()[0] if exc.errors() else {}
        fields = ".".join(
            str(p) for p in first.get("loc", ()) if p not in ("body", "query", "path")
        )
        text = Text(fr="Champ {field} : {reason}", en="Field {field}: {reason}").render(
            lang, field=fields or "?", reason=first.get("msg", "")
        )
        if request.method == "POST":
            back = urlsplit(request.headers.get("referer", "/"))
            path = back.path + (f"?{back.query}" if back.query else "")
            return redirect(request, safe_next(path), flash=text, level="error")
        return error_page(request, 422, text)

    async def on_http(request: Request, exc: Exception) -> Response:
        if not is_portal_path(request.url.path):
            return await api_http(request, exc)  # type: ignore[misc, no-any-return]
        assert isinstance(exc, StarletteHTTPException)
        title = ERROR_TITLES.get(exc.status_code, ERROR_TITLES[400]).render(page_lang(request))
        return error_page(request, exc.status_code, title)

    app.add_exception_handler(LoginRequired, on_login_required)
    app.add_exception_handler(CsrfRefused, on_csrf)
    app.add_exception_handler(OperateurError, on_error)
    app.add_exception_handler(RequestValidationError, on_validation)
    app.add_exception_handler(StarletteHTTPException, on_http)
