"""The public number lookup page (VOX-17 [000 §2]): anyone who received a call or a text from
one of the operator's numbers learns, free and without an account, which service is behind it,
its provider, website and address, and where to complain. The same lookup as the API's
``GET /api/v1/public/numbers/{number}``; a number not published shows nothing."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from operateur.errors import NotFound
from operateur.http.deps import SessionDep
from operateur.numbers import directory
from operateur.portal.render import render

router = APIRouter(include_in_schema=False)


@router.get("/numero", response_class=HTMLResponse)
def number_lookup(request: Request, session: SessionDep, n: str = "") -> HTMLResponse:
    number = n.strip()[:40]
    found = None
    if number:
        try:
            e164, entry = directory.lookup(session, number)
            found = {"number": e164, "entry": entry}
        except NotFound:
            found = None
    return render(request, "lookup.html", {"number": number, "found": found})
