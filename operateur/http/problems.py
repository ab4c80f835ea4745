"""RFC 9457 problem details for every error the API returns."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from operateur.errors import (
    Conflict,
    Forbidden,
    InvalidInput,
    NotFound,
    OperateurError,
    Unauthenticated,
)
from operateur.i18n import Text, pick_lang

PROBLEM_JSON = "application/problem+json"

STATUS_BY_ERROR: list[tuple[type[OperateurError], int]] = [
    (InvalidInput, 422),
    (NotFound, 404),
    (Conflict, 409),
    (Unauthenticated, 401),
    (Forbidden, 403),
]

TITLES: dict[int, Text] = {
    400: Text(fr="Requête invalide", en="Bad request"),
    401: Text(fr="Authentification requise", en="Authentication required"),
    403: Text(fr="Accès refusé", en="Forbidden"),
    404: Text(fr="Introuvable", en="Not found"),
    405: Text(fr="Méthode non autorisée", en="Method not allowed"),
    409: Text(fr="Conflit", en="Conflict"),
    422: Text(fr="Donnée invalide", en="Invalid input"),
    500: Text(fr="Erreur interne", en="Internal error"),
}


def status_of(error: OperateurError) -> int:
    for cls, status in STATUS_BY_ERROR:
        if isinstance(error, cls):
            return status
    return 400


def problem(status: int, lang: str, body: dict[str, Any]) -> JSONResponse:
    title = TITLES.get(status, TITLES[400]).render(lang)
    content = {"type": "about:blank", "title": title, "status": status} | body
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return JSONResponse(content, status_code=status, media_type=PROBLEM_JSON, headers=headers)


def _field_path(loc: tuple[Any, ...] | list[Any]) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "header", "cookie")]
    return ".".join(parts) or "request"


def install(app: FastAPI) -> None:
    async def on_operateur_error(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, OperateurError)
        lang = pick_lang(request.headers.get("accept-language"))
        body = exc.as_dict(lang) | {"detail": exc.render(lang)}
        return problem(status_of(exc), lang, body)

    async def on_validation_error(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        lang = pick_lang(request.headers.get("accept-language"))
        errors = [
            {"field": _field_path(err.get("loc", ())), "reason": str(err.get("msg", ""))}
            for err in exc.errors()
        ]
        first = errors[0] if errors else {"field": "request", "reason": ""}
        detail = Text(fr="Champ {field} : {reason}", en="Field {field}: {reason}").render(
            lang, **first
        )
        body = {
            "code": "invalid_input",
            "field": first["field"],
            "message": detail,
            "detail": detail,
            "errors": errors,
        }
        return problem(422, lang, body)

    async def on_http_error(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, StarletteHTTPException)
        lang = pick_lang(request.headers.get("accept-language"))
        title = TITLES.get(exc.status_code, TITLES[400]).render(lang)
        body = {"code": f"http_{exc.status_code}", "message": title, "detail": title}
        return problem(exc.status_code, lang, body)

    app.add_exception_handler(OperateurError, on_operateur_error)
    app.add_exception_handler(RequestValidationError, on_validation_error)
    app.add_exception_handler(StarletteHTTPException, on_http_error)
