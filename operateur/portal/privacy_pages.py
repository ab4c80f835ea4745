"""A customer's personal-data page in the portal: the security incidents that affected it
(SEC-02 [003 §15.4], the register available to the customer) and its data subjects' requests
(PRIV-01: recorded, due by the contracts' delay, answered or rejected), with the links to the
pages that carry each kind of request out (the data export, the profile, the users). The same
service functions as the API, behind the same permission and tenancy check."""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Annotated

from fastapi import Form, Request
from fastapi.responses import HTMLResponse, Response

from operateur.accounts import service as accounts
from operateur.accounts.permissions import Actor, Permission
from operateur.domain.calendar import PARIS
from operateur.errors import InvalidInput
from operateur.http.deps import SessionDep
from operateur.i18n import Text
from operateur.portal.customer import space
from operateur.portal.render import render
from operateur.portal.security import allowed, page_lang
from operateur.portal.web import act, now, portal_router, today
from operateur.privacy import incidents
from operateur.privacy import subject_requests as requests
from operateur.privacy.models import RequestKind

router = portal_router()

Reader = Annotated[Actor, allowed(Permission.INCIDENTS_READ)]
RequestsManager = Annotated[Actor, allowed(Permission.DATA_REQUESTS)]

TOOL_NAMES = {
    "/export": Text("Exporter les données", "Export the data"),
    "/profile": Text("Profil et contacts", "Profile and contacts"),
    "/users": Text("Utilisateurs", "Users"),
}


def _page(customer_id: int) -> str:
    return f"/customers/{customer_id}/privacy"


@router.get("/customers/{customer_id}/privacy", response_class=HTMLResponse)
def privacy_page(
    customer_id: int, request: Request, actor: Reader, session: SessionDep
) -> Response:
    lang = page_lang(request)
    day = today(request)
    may_requests = actor.has(Permission.DATA_REQUESTS)
    shown_requests = [
        {
            "row": r,
            "kind": requests.KINDS[r.kind].render(lang),
            "status": requests.STATUSES[r.status].render(lang),
            "late": requests.late(r, day),
            "tools": [
                (path, TOOL_NAMES[path.removeprefix(f"/customers/{customer_id}")].render(lang))
                for path in requests.tools(r)
            ],
        }
        for r in (requests.list_requests(session, customer_id) if may_requests else [])
    ]
    return render(
        request,
        "customer/privacy.html",
        space(
            session,
            actor,
            customer_id,
            incidents=[
                {"incident": i, "row": row, "nature": incidents.NATURES[i.nature].render(lang)}
                for i, row in incidents.for_customer(session, customer_id)
            ],
            may_requests=may_requests,
            requests=shown_requests,
            kinds=[(k.value, requests.KINDS[k].render(lang)) for k in RequestKind],
        ),
    )


def _received_at(raw: str, request: Request) -> datetime:
    """The day a request arrived (start of that day, Paris time); empty: now."""
    if not raw.strip():
        return now(request)
    try:
        day = date.fromisoformat(raw.strip())
    except ValueError:
        raise InvalidInput(
            Text(fr="Date invalide (AAAA-MM-JJ).", en="Invalid date (YYYY-MM-DD)."),
            field="received_on",
        ) from None
    return datetime.combine(day, time(0), PARIS)


@router.post("/customers/{customer_id}/privacy/requests")
def record_request(
    customer_id: int,
    request: Request,
    actor: RequestsManager,
    session: SessionDep,
    kind: Annotated[str, Form(max_length=30)],
    subject_name: Annotated[str, Form(max_length=200)] = "",
    subject_contact: Annotated[str, Form(max_length=320)] = "",
    received_on: Annotated[str, Form(max_length=10)] = "",
    details: Annotated[str, Form(max_length=5000)] = "",
) -> Response:
    """PRIV-01 a data subject's request, due by the customer's contracts' delay."""
    customer = accounts.get_customer(session, customer_id)

    def run() -> None:
        try:
            chosen = RequestKind(kind)
        except ValueError:
            raise InvalidInput(
                Text(fr="Type de demande inconnu.", en="Unknown kind of request."), field="kind"
            ) from None
        requests.record(
            session,
            customer,
            kind=chosen,
            subject_name=subject_name,
            subject_contact=subject_contact,
            received_at=_received_at(received_on, request),
            now=now(request),
            details=details,
            recorded_by=actor.label,
        )

    return act(
        request,
        session,
        back=_page(customer_id),
        done=Text(fr="Demande enregistrée.", en="Request recorded."),
        run=run,
    )


@router.post("/customers/{customer_id}/privacy/requests/{data_request_id}/answer")
def answer_request(
    customer_id: int,
    data_request_id: int,
    request: Request,
    actor: RequestsManager,
    session: SessionDep,
    outcome: Annotated[str, Form(max_length=20)],
    note: Annotated[str, Form(max_length=5000)] = "",
) -> Response:
    """Close an open request: answered (what was done) or rejected (why)."""
    row = requests.get_request(session, customer_id, data_request_id)

    def run() -> None:
        if outcome not in ("answered", "rejected"):
            raise InvalidInput(Text(fr="Réponse inconnue.", en="Unknown outcome."), field="outcome")
        requests.close(
            session,
            row,
            rejected=outcome == "rejected",
            note=note,
            now=now(request),
            by=actor.label,
        )

    return act(
        request,
        session,
        back=_page(customer_id),
        done=Text(fr="Réponse enregistrée.", en="Answer recorded."),
        run=run,
    )
