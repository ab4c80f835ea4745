"""Rendering of portal pages: Jinja2 templates in French or English, value formatting, and
one-shot flash messages carried by a cookie from an action to the page it leads to."""

from __future__ import annotations

import base64
import enum
import json
from collections.abc import Callable, Mapping
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from functools import lru_cache
from typing import Any
from urllib.parse import urlsplit

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse
from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from markupsafe import Markup

from operateur.domain.calendar import PARIS
from operateur.i18n import Lang, Text
from operateur.portal.labels import label
from operateur.portal.nav import staff_nav
from operateur.portal.security import CSRF_FIELD, csrf_token, page_lang, set_csrf_cookie

FLASH_COOKIE = "operateur_flash"


@lru_cache(maxsize=1)
def environment() -> Environment:
    env = Environment(
        loader=PackageLoader("operateur.portal", "templates"),
        autoescape=select_autoescape(["html"]),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    return env


# --- formatting --------------------------------------------------------------------------------


def _group(digits: str, sep: str) -> str:
    out: list[str] = []
    while len(digits) > 3:
        out.insert(0, digits[-3:])
        digits = digits[:-3]
    out.insert(0, digits)
    return sep.join(out)


def number(value: Decimal | int | None, lang: Lang, places: int = 0) -> str:
    if value is None:
        return "—"
    quantum = Decimal(1).scaleb(-places)
    amount = Decimal(value).quantize(quantum, rounding=ROUND_HALF_UP)
    sign = "-" if amount < 0 else ""
    whole, _, fraction = f"{abs(amount):f}".partition(".")
    if lang == "en":
        text = _group(whole, ",") + (f".{fraction}" if fraction else "")
    else:
        text = _group(whole, "\u202f") + (f",{fraction}" if fraction else "")
    return sign + text


def money(value: Decimal | int | None, lang: Lang) -> str:
    """1 234,56 € in French, €1,234.56 in English (amounts rounded to the cent)."""
    if value is None:
        return "—"
    text = number(value, lang, 2)
    if lang == "en":
        return f"-€{text[1:]}" if text.startswith("-") else f"€{text}"
    return f"{text}\u00a0€"


def day(value: date | None, lang: Lang) -> str:
    if value is None:
        return "—"
    if isinstance(value, datetime):
        value = value.astimezone(PARIS).date()
    return value.isoformat() if lang == "en" else value.strftime("%d/%m/%Y")


def moment(value: datetime | None, lang: Lang) -> str:
    """A time shown in Paris time, where the contracts' rules are evaluated."""
    if value is None:
        return "—"
    local = value.astimezone(PARIS)
    return local.strftime("%Y-%m-%d %H:%M") if lang == "en" else local.strftime("%d/%m/%Y %H:%M")


def duration(seconds: int | None, lang: Lang) -> str:
    """3 h 05 min (hours and minutes, rounded down to the minute)."""
    if seconds is None:
        return "—"
    minutes = abs(seconds) // 60
    return f"{minutes // 60}\u00a0h\u00a0{minutes % 60:02d}\u00a0min"


# --- flash messages --------------------------------------------------------------------------


def _encode(messages: list[dict[str, str]]) -> str:
    return base64.urlsafe_b64encode(json.dumps(messages).encode()).decode()


def _decode(raw: str | None) -> list[dict[str, str]]:
    if not raw:
        return []
    try:
        data = json.loads(base64.urlsafe_b64decode(raw.encode()))
    except (ValueError, TypeError):
        return []
    if not isinstance(data, list):
        return []
    return [
        {"level": str(m.get("level", "info")), "text": str(m.get("text", ""))}
        for m in data[:5]
        if isinstance(m, dict)
    ]


def safe_next(target: str | None, default: str = "/") -> str:
    """A local path to go back to, never another site."""
    if not target:
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return default
    return target


def redirect(
    request: Request, to: str, *, flash: str | None = None, level: str = "ok"
) -> RedirectResponse:
    """303 to a local page, with a one-shot message shown there."""
    response = RedirectResponse(safe_next(to), status_code=303)
    if flash:
        response.set_cookie(
            FLASH_COOKIE,
            _encode([{"level": level, "text": flash}]),
            max_age=120,
            httponly=True,
            samesite="lax",
            path="/",
        )
    return response


def _value(item: object) -> str:
    return str(item.value) if isinstance(item, enum.Enum) else str(item)


# --- pages -----------------------------------------------------------------------------------


def translator(lang: Lang) -> Callable[[str, str], str]:
    def t(fr: str, en: str) -> str:
        return en if lang == "en" else fr

    return t


def render(
    request: Request, template: str, context: Mapping[str, Any] | None = None, *, status: int = 200
) -> HTMLResponse:
    """Render a page in the visitor's language with its CSRF token and pending messages."""
    lang = page_lang(request)
    token = csrf_token(request)
    flashes = _decode(request.cookies.get(FLASH_COOKIE))
    actor = getattr(request.state, "actor", None)
    values: dict[str, Any] = {
        "request": request,
        "lang": lang,
        "t": translator(lang),
        "tx": lambda text, **params: (
            text.render(lang, **params) if isinstance(text, Text) else text
        ),
        "label": lambda value: label(value, lang),
        "labels": lambda values: ", ".join(label(v, lang) for v in values),
        "options": lambda values: [(_value(v), label(v, lang)) for v in values],
        "money": lambda value: money(value, lang),
        "number": lambda value, places=0: number(value, lang, places),
        "day": lambda value: day(value, lang),
        "moment": lambda value: moment(value, lang),
        "duration": lambda value: duration(value, lang),
        "csrf_field": Markup(
            f'<input type="hidden" name="{CSRF_FIELD}" value="{Markup.escape(token)}">'
        ),
        "flashes": flashes,
        "actor": actor,
        "staff_links": staff_nav(actor) if actor is not None and actor.is_staff else [],
        "path": request.url.path,
        "current": request.url.path + (f"?{request.url.query}" if request.url.query else ""),
    }
    values.update(context or {})
    html = environment().get_template(template).render(values)
    response = HTMLResponse(html, status_code=status)
    set_csrf_cookie(request, response)
    if flashes:
        response.delete_cookie(FLASH_COOKIE, path="/")
    return response
