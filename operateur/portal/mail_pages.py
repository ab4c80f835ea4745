"""The mail gateway console in the portal (MAIL-03, MAIL-05/06/07, MAIL-11): a customer's
protected domains and mailboxes against the licence, the quarantine (release, delete,
allow-list the sender), the allow and deny lists and the SLA figures. Every visit and change
is written to the console log (MAIL-10, MAIL-11) besides the audit log."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Annotated, Literal

from fastapi import Form, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.orm import Session

from operateur.accounts import service as accounts
from operateur.accounts.permissions import Actor, Permission
from operateur.contracts import service as contracts
from operateur.domain.calendar import PARIS
from operateur.errors import Forbidden
from operateur.http.deps import SessionDep
from operateur.i18n import Text
from operateur.mail import licences, quarantine, queue, sla
from operateur.mail import service as mail
from operateur.mail.models import FeedbackChannel, ListKind
from operateur.portal import queries
from operateur.portal.customer import space
from operateur.portal.render import render
from operateur.portal.security import allowed
from operateur.portal.web import act, now, portal_router, today

router = portal_router()

Reader = Annotated[Actor, allowed(Permission.MAIL_READ)]
Manager = Annotated[Actor, allowed(Permission.MAIL_MANAGE)]


def _console(session: Session, request: Request, actor: Actor, customer_id: int) -> None:
    """MAIL-10, MAIL-11: who reached the console, from where, to do what."""
    mail.record_console(
        session,
        actor=actor.label,
        action=f"portal {request.method} {request.url.path}",
        customer_id=customer_id,
        client_ip=request.client.host if request.client else None,
    )


@router.get("/customers/{customer_id}/mail", response_class=HTMLResponse)
def mail_page(customer_id: int, request: Request, actor: Reader, session: SessionDep) -> Response:
    _console(session, request, actor, customer_id)
    day = today(request)
    contract = licences.mail_contract(session, customer_id)
    terms = contracts.terms_of(contract) if contract else None
    figures = remedies = None
    if contract is not None and terms is not None and terms.sla and terms.sla.mail:
        end = datetime.combine(day + timedelta(days=1), time(0), tzinfo=PARIS)
        figures = sla.window_figures(session, customer_id, end, terms.sla.mail)
        remedies = sla.remedies(session, contract, day.strftime("%Y-%m"))
    operator_id = accounts.get_customer(session, customer_id).operator_id
    return render(
        request,
        "mail/mail.html",
        space(
            session,
            actor,
            customer_id,
            contract=contract,
            sla_terms=terms.sla.mail if terms and terms.sla else None,
            figures=figures,
            remedies=remedies,
            licences=licences.counts(session, customer_id, day),
            domains=mail.list_domains(session, customer_id),
            mailboxes=mail.list_mailboxes(session, customer_id),
            held=quarantine.list_held(session, customer_id),
            entries=mail.list_entries(session, operator_id, customer_id),
            may_manage=actor.has(Permission.MAIL_MANAGE),
        ),
    )


def _back(customer_id: int) -> str:
    return f"/customers/{customer_id}/mail"


@router.post("/customers/{customer_id}/mail/domains")
def add_domain(
    customer_id: int,
    request: Request,
    actor: Manager,
    session: SessionDep,
    name: Annotated[str, Form(min_length=1, max_length=253)],
) -> Response:
    """Protect a domain within the licence (MAIL-01, MAIL-07)."""
    _console(session, request, actor, customer_id)
    return act(
        request,
        session,
        back=_back(customer_id),
        done=Text(fr="Domaine ajouté.", en="Domain added."),
        run=lambda: mail.add_domain(session, customer_id, name, today(request)),
    )


@router.post("/customers/{customer_id}/mail/mailboxes")
def add_mailbox(
    customer_id: int,
    request: Request,
    actor: Manager,
    session: SessionDep,
    address: Annotated[str, Form(min_length=3, max_length=320)],
) -> Response:
    _console(session, request, actor, customer_id)
    return act(
        request,
        session,
        back=_back(customer_id),
        done=Text(fr="Boîte ajoutée.", en="Mailbox added."),
        run=lambda: mail.add_mailbox(session, customer_id, address, today(request)),
    )


@router.post("/customers/{customer_id}/mail/lists")
def add_list_entry(
    customer_id: int,
    request: Request,
    actor: Manager,
    session: SessionDep,
    kind: Annotated[ListKind, Form()],
    value: Annotated[str, Form(min_length=2, max_length=320)],
    note: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    """An address or @domain always accepted (allow) or always refused (deny) (MAIL-02)."""
    _console(session, request, actor, customer_id)
    operator_id = accounts.get_customer(session, customer_id).operator_id
    return act(
        request,
        session,
        back=_back(customer_id),
        done=Text(fr="Liste mise à jour.", en="List updated."),
        run=lambda: mail.add_list_entry(session, operator_id, customer_id, kind, value, note),
    )


@router.post("/customers/{customer_id}/mail/lists/{entry_id}/remove")
def remove_list_entry(
    customer_id: int, entry_id: int, request: Request, actor: Manager, session: SessionDep
) -> Response:
    _console(session, request, actor, customer_id)
    operator_id = accounts.get_customer(session, customer_id).operator_id
    entry = mail.get_list_entry(session, operator_id, customer_id, entry_id)
    return act(
        request,
        session,
        back=_back(customer_id),
        done=Text(fr="Entrée retirée.", en="Entry removed."),
        run=lambda: mail.remove_list_entry(session, entry),
    )


@router.post("/customers/{customer_id}/mail/quarantine/{item_id}/{action}")
def quarantine_action(
    customer_id: int,
    item_id: int,
    action: Literal["release", "delete", "allow-sender"],
    request: Request,
    actor: Manager,
    session: SessionDep,
) -> Response:
    """Release a held message, delete it, or allow-list its sender and release it (MAIL-03,
    MAIL-04), as the customer's administrator."""
    _console(session, request, actor, customer_id)
    item = quarantine.get_item(session, customer_id, item_id)
    moment = now(request)

    def run() -> None:
        if action == "release":
            quarantine.release(
                session, item, channel=FeedbackChannel.ADMINISTRATOR, actor=actor.label, now=moment
            )
        elif action == "delete":
            quarantine.delete(session, item, actor=actor.label, now=moment)
        else:
            quarantine.allow_sender(session, item, actor=actor.label, now=moment)

    done = {
        "release": Text(fr="Message libéré.", en="Message released."),
        "delete": Text(fr="Message supprimé.", en="Message deleted."),
        "allow-sender": Text(
            fr="Expéditeur autorisé et message libéré.", en="Sender allowed and message released."
        ),
    }[action]
    return act(request, session, back=_back(customer_id), done=done, run=run)


# --- the gateway's settings, the customer's servers and its queue (MAIL-03, MAIL-09) ---------


@router.get("/customers/{customer_id}/mail/settings", response_class=HTMLResponse)
def settings_page(
    customer_id: int, request: Request, actor: Reader, session: SessionDep
) -> Response:
    """Challenge-response, the submission account, the servers clean mail is relayed to, and
    the mail buffered while those servers do not take it."""
    _console(session, request, actor, customer_id)
    return render(
        request,
        "mail/settings.html",
        space(
            session,
            actor,
            customer_id,
            settings=mail.find_settings(session, customer_id),
            servers=mail.list_servers(session, customer_id),
            domains=mail.list_domains(session, customer_id),
            queued=queue.pending(session, customer_id),
            may_manage=actor.has(Permission.MAIL_MANAGE),
            may_unblock=actor.is_staff and actor.has(Permission.MAIL_MANAGE),
        ),
    )


def _settings_back(customer_id: int) -> str:
    return f"/customers/{customer_id}/mail/settings"


@router.post("/customers/{customer_id}/mail/settings")
def update_settings(
    customer_id: int,
    request: Request,
    actor: Manager,
    session: SessionDep,
    challenge_enabled: Annotated[bool, Form()] = False,
    relay_password: Annotated[str, Form(max_length=200)] = "",
    unblock_relay: Annotated[bool, Form()] = False,
) -> Response:
    """Challenge-response on or off (MAIL-03), a new password for the submission account;
    unblocking an account blocked for abuse is the operator's (MAIL-08)."""
    _console(session, request, actor, customer_id)
    if unblock_relay and not actor.is_staff:
        raise Forbidden(
            Text(
                fr="Seul l'opérateur peut débloquer un compte bloqué pour abus.",
                en="Only the operator can unblock an account blocked for abuse.",
            ),
            code="unblock_staff_only",
        )
    return act(
        request,
        session,
        back=_settings_back(customer_id),
        done=Text(fr="Réglages enregistrés.", en="Settings saved."),
        run=lambda: mail.update_settings(
            session,
            customer_id,
            challenge_enabled=challenge_enabled,
            relay_password=relay_password or None,
            unblock_relay=unblock_relay,
        ),
    )


@router.post("/customers/{customer_id}/mail/servers")
def add_server(
    customer_id: int,
    request: Request,
    actor: Manager,
    session: SessionDep,
    host: Annotated[str, Form(min_length=1, max_length=253)],
    port: Annotated[int, Form(ge=1, le=65535)] = 25,
    priority: Annotated[int, Form(ge=0, le=65535)] = 10,
    domain_id: Annotated[str, Form(max_length=20)] = "",
) -> Response:
    _console(session, request, actor, customer_id)
    return act(
        request,
        session,
        back=_settings_back(customer_id),
        done=Text(fr="Serveur ajouté.", en="Server added."),
        run=lambda: mail.add_server(
            session,
            customer_id,
            host.strip(),
            port=port,
            priority=priority,
            domain_id=int(domain_id) if domain_id.isdigit() else None,
        ),
    )


@router.post("/customers/{customer_id}/mail/servers/{server_id}/remove")
def remove_server(
    customer_id: int, server_id: int, request: Request, actor: Manager, session: SessionDep
) -> Response:
    _console(session, request, actor, customer_id)
    server = mail.get_server(session, customer_id, server_id)
    return act(
        request,
        session,
        back=_settings_back(customer_id),
        done=Text(fr="Serveur retiré.", en="Server removed."),
        run=lambda: session.delete(server),  # as the API does: a server has no other state
    )


# --- the staff's view of the gateway (MAIL-06, MAIL-09) --------------------------------------


@router.get("/staff/mail", response_class=HTMLResponse)
def gateway_page(
    request: Request,
    actor: Annotated[Actor, allowed(Permission.MAIL_OPERATE, staff_only=True)],
    session: SessionDep,
) -> Response:
    """Each gateway's last availability check, the minutes of unavailability, the delivery
    queue, the quarantine and the last day's filtering decisions."""
    assert actor.operator_id is not None
    status = queries.gateway_status(session, actor.operator_id, now(request))
    return render(request, "mail/gateway.html", {"status": status})
