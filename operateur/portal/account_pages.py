"""A customer's profile, contacts and webhooks in the portal: the same service functions as
the API (``operateur.accounts.service``, ``operateur.notifications.service``), behind the same
permission and tenancy check. A webhook's signing secret is shown once, on the page that
answers its creation, and never again."""

from __future__ import annotations

from typing import Annotated

from fastapi import Form, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.orm import Session

from operateur.accounts import service as accounts
from operateur.accounts.permissions import Actor, Permission
from operateur.accounts.schemas import ContactIn, CustomerPatch
from operateur.catalog.terms import PaymentMethod
from operateur.http.deps import SessionDep
from operateur.i18n import Text
from operateur.notifications import service as notifications
from operateur.portal.customer import space
from operateur.portal.render import render
from operateur.portal.security import allowed, page_lang
from operateur.portal.web import act, model, portal_router

router = portal_router()

Reader = Annotated[Actor, allowed(Permission.CUSTOMER_READ)]
ProfileWriter = Annotated[Actor, allowed(Permission.CUSTOMER_PROFILE_WRITE)]
HooksManager = Annotated[Actor, allowed(Permission.WEBHOOKS_MANAGE)]

CONTACT_ROLES = {
    "admin": Text("Administratif", "Administrative"),
    "billing": Text("Facturation", "Billing"),
    "technical": Text("Technique", "Technical"),
}
# the fields of CustomerPatch a customer's administrator edits (the legal identity is staff's)
PROFILE_FIELDS = (
    "address_line",
    "postal_code",
    "city",
    "email",
    "phone",
    "iban",
    "bic",
    "payment_method",
    "lang",
)
IDENTITY_FIELDS = ("name", "legal_form", "siret", "vat_number")


def _profile(customer_id: int) -> str:
    return f"/customers/{customer_id}/profile"


@router.get("/customers/{customer_id}/profile", response_class=HTMLResponse)
def profile_page(
    customer_id: int, request: Request, actor: Reader, session: SessionDep
) -> Response:
    return render(
        request,
        "customer/profile.html",
        space(
            session,
            actor,
            customer_id,
            # PRIV-02, SEC-02: the page only ever holds the masked IBAN
            iban_masked=accounts.mask_iban(accounts.get_customer(session, customer_id).iban),
            contacts=accounts.list_contacts(session, customer_id),
            contact_roles=[(k, v.render(page_lang(request))) for k, v in CONTACT_ROLES.items()],
            methods=list(PaymentMethod),
            may_write=actor.has(Permission.CUSTOMER_PROFILE_WRITE),
            may_identity=actor.has(Permission.CUSTOMER_IDENTITY_WRITE),
        ),
    )


@router.post("/customers/{customer_id}/profile")
async def update_profile(
    customer_id: int, request: Request, actor: ProfileWriter, session: SessionDep
) -> Response:
    """Change the address, e-mail, bank details or language; staff may also change the legal
    identity (the accounts service checks who may change what)."""
    form = await request.form()
    names = PROFILE_FIELDS + (
        IDENTITY_FIELDS if actor.has(Permission.CUSTOMER_IDENTITY_WRITE) else ()
    )
    fields = {name: str(form.get(name, "")).strip() for name in names if name in form}
    if not fields.get("iban", "x"):
        del fields["iban"]  # PRIV-02: the form is never pre-filled; empty keeps the IBAN
    customer = accounts.get_customer(session, customer_id)
    return act(
        request,
        session,
        back=_profile(customer_id),
        done=Text(fr="Profil enregistré.", en="Profile saved."),
        run=lambda: accounts.update_customer(
            session, actor, customer, model(CustomerPatch, fields)
        ),
    )


@router.post("/customers/{customer_id}/contacts")
def add_contact(
    customer_id: int,
    request: Request,
    actor: ProfileWriter,
    session: SessionDep,
    name: Annotated[str, Form(max_length=200)],
    email: Annotated[str, Form(max_length=320)],
    role: Annotated[str, Form(max_length=20)] = "admin",
    phone: Annotated[str, Form(max_length=40)] = "",
    lang: Annotated[str, Form(max_length=2)] = "fr",
) -> Response:
    """A person told of the contract's events (notices, suspensions, invoices) in their
    language."""
    customer = accounts.get_customer(session, customer_id)
    data = {"name": name, "email": email, "role": role, "phone": phone, "lang": lang}
    return act(
        request,
        session,
        back=_profile(customer_id),
        done=Text(fr="Contact ajouté.", en="Contact added."),
        run=lambda: accounts.add_contact(session, customer, model(ContactIn, data)),
    )


@router.post("/customers/{customer_id}/contacts/{contact_id}/remove")
def remove_contact(
    customer_id: int, contact_id: int, request: Request, actor: ProfileWriter, session: SessionDep
) -> Response:
    contact = accounts.get_contact(session, customer_id, contact_id)
    return act(
        request,
        session,
        back=_profile(customer_id),
        done=Text(fr="Contact retiré.", en="Contact removed."),
        run=lambda: accounts.remove_contact(session, contact),
    )


# --- webhooks --------------------------------------------------------------------------------


def _hooks_page(
    request: Request,
    session: Session,
    actor: Actor,
    customer_id: int,
    secret: str | None = None,
    created_url: str | None = None,
) -> Response:
    return render(
        request,
        "customer/webhooks.html",
        space(
            session,
            actor,
            customer_id,
            endpoints=notifications.list_endpoints(session, customer_id),
            sent=notifications.list_messages(session, customer_id)[:50],
            secret=secret,
            created_url=created_url,
        ),
    )


@router.get("/customers/{customer_id}/webhooks", response_class=HTMLResponse)
def webhooks_page(
    customer_id: int, request: Request, actor: HooksManager, session: SessionDep
) -> Response:
    return _hooks_page(request, session, actor, customer_id)


@router.post("/customers/{customer_id}/webhooks", response_class=HTMLResponse)
def add_webhook(
    customer_id: int,
    request: Request,
    actor: HooksManager,
    session: SessionDep,
    url: Annotated[str, Form(max_length=500)],
    events: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    """Register an endpoint and show its signing secret on this answer only."""
    created: list[str] = []

    def run() -> None:
        patterns = [e.strip() for e in events.replace(",", " ").split() if e.strip()]
        _, secret = notifications.add_endpoint(session, customer_id, url.strip(), patterns)
        created.append(secret)

    refused = act(
        request,
        session,
        back=f"/customers/{customer_id}/webhooks",
        done=Text(fr="Webhook ajouté.", en="Webhook added."),
        run=run,
    )
    if not created:
        return refused
    return _hooks_page(request, session, actor, customer_id, created[0], url.strip())


@router.post("/customers/{customer_id}/webhooks/{webhook_id}/remove")
def remove_webhook(
    customer_id: int, webhook_id: int, request: Request, actor: HooksManager, session: SessionDep
) -> Response:
    endpoint = notifications.get_endpoint(session, customer_id, webhook_id)
    return act(
        request,
        session,
        back=f"/customers/{customer_id}/webhooks",
        done=Text(fr="Webhook supprimé.", en="Webhook removed."),
        run=lambda: notifications.remove_endpoint(session, endpoint),
    )
