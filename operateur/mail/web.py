"""Public pages of the signed mail links (MAIL-03), outside the API: the digest's release link
and the sender's challenge. The signed token is the only credential; opening the link shows a
page with one button (so that link scanners fetching URLs release nothing), the button
releases."""

from __future__ import annotations

import html
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse

from operateur.config import Settings
from operateur.db import utcnow
from operateur.errors import OperateurError
from operateur.http.deps import LangDep, SessionDep
from operateur.i18n import Text
from operateur.mail import quarantine

router = APIRouter(prefix="/mail", include_in_schema=False)


def _settings(request: Request) -> Settings:
    settings = request.app.state.settings
    assert isinstance(settings, Settings)
    return settings


def _error(error: OperateurError, lang: str) -> HTMLResponse:
    title = Text(fr="Lien inutilisable", en="Link cannot be used").render(lang)
    status = 404 if error.code.endswith("not_found") else 400
    body = f"<p>{html.escape(error.render(lang))}</p>"
    return HTMLResponse(quarantine.page(title, body), status_code=status)


def _form(button: str, extra: str = "") -> str:
    return (
        f"<form method='post'>{extra}<button type='submit' style='font-size:1.2em'>"
        f"{html.escape(button)}</button></form>"
    )


@router.get("/release/{token}", response_class=HTMLResponse)
def release_page(token: str, request: Request, session: SessionDep, lang: LangDep) -> HTMLResponse:
    try:
        item = quarantine.item_from_release_token(session, _settings(request), token, utcnow())
    except OperateurError as error:
        return _error(error, lang)
    title = Text(fr="Message retenu", en="Held message").render(lang)
    body = (
        f"<p><b>{html.escape(item.mail_from or '<>')}</b> → {html.escape(item.recipient)}</p>"
        f"<p>{html.escape(item.subject or '-')}</p>"
        + _form(Text(fr="Recevoir ce message", en="Deliver this message").render(lang))
    )
    return HTMLResponse(quarantine.page(title, body))


@router.post("/release/{token}", response_class=HTMLResponse)
def release(token: str, request: Request, session: SessionDep, lang: LangDep) -> HTMLResponse:
    """MAIL-03 the recipient releases their message from the digest."""
    try:
        item = quarantine.release_by_token(session, _settings(request), token, utcnow())
    except OperateurError as error:
        session.rollback()
        return _error(error, lang)
    title = Text(fr="Message libéré", en="Message released").render(lang)
    text = Text(
        fr="Le message de {sender} va vous être remis.",
        en="The message from {sender} is on its way to you.",
    ).render(lang, sender=item.mail_from or "<>")
    return HTMLResponse(quarantine.page(title, f"<p>{html.escape(text)}</p>"))


@router.get("/challenge/{token}", response_class=HTMLResponse)
def challenge_page(
    token: str, request: Request, session: SessionDep, lang: LangDep
) -> HTMLResponse:
    try:
        challenge = quarantine.challenge_from_token(session, _settings(request), token, utcnow())
    except OperateurError as error:
        return _error(error, lang)
    title = Text(fr="Confirmez votre envoi", en="Confirm your message").render(lang)
    ask = Text(
        fr="Recopiez ce code pour que votre message soit remis : ",
        en="Type this code so that your message is delivered: ",
    ).render(lang)
    field = (
        f"<p>{html.escape(ask)}<b style='letter-spacing:.3em'>{html.escape(challenge.code)}</b></p>"
        "<p><input name='code' autocomplete='off' required maxlength='12'></p>"
    )
    button = Text(fr="Confirmer", en="Confirm").render(lang)
    return HTMLResponse(quarantine.page(title, _form(button, field)))


@router.post("/challenge/{token}", response_class=HTMLResponse)
def answer(
    token: str,
    request: Request,
    session: SessionDep,
    lang: LangDep,
    code: Annotated[str, Form(max_length=12)],
) -> HTMLResponse:
    """MAIL-03 the sender answers the challenge: their held messages are released."""
    try:
        released = quarantine.answer_challenge(session, _settings(request), token, code, utcnow())
    except OperateurError as error:
        session.rollback()
        return _error(error, lang)
    title = Text(fr="Merci", en="Thank you").render(lang)
    text = Text(
        fr="{count} message(s) vont être remis.", en="{count} message(s) will be delivered."
    ).render(lang, count=len(released))
    return HTMLResponse(quarantine.page(title, f"<p>{html.escape(text)}</p>"))
