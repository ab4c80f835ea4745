"""SMS in the portal (SMS-01, SMS-05, SMS-09, PORTAL-01): a customer's senders, templates,
distribution lists (imported with the report of each refused row), campaigns with their live
progress and downloadable statistics; the staff's review of sender requests and held messages.
Everything goes through the SMS context's services."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import Form, Request, UploadFile
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.orm import Session

from operateur.accounts import service as accounts
from operateur.accounts.permissions import Actor, Permission
from operateur.domain.calendar import PARIS
from operateur.errors import InvalidInput, NotFound, OperateurError
from operateur.http.deps import SessionDep
from operateur.i18n import Text
from operateur.portal.customer import space
from operateur.portal.render import redirect, render
from operateur.portal.security import allowed, page_lang
from operateur.portal.web import act, now, portal_router
from operateur.sms import campaigns, service
from operateur.sms.models import SenderStatus, SmsMessage

router = portal_router()

Reader = Annotated[Actor, allowed(Permission.SMS_READ)]
Sender = Annotated[Actor, allowed(Permission.SMS_SEND)]
Manager = Annotated[Actor, allowed(Permission.SMS_MANAGE)]
Reviewer = Annotated[Actor, allowed(Permission.SMS_REVIEW, staff_only=True)]


def _base(customer_id: int) -> str:
    return f"/customers/{customer_id}/sms"


def _short_code(ctx: service.SmsContext | None) -> str | None:
    """The operator's shared short code when the customer's offer sends from it (SMS-06)."""
    return ctx.short_code if ctx is not None and ctx.rules.shared_short_code else None


@router.get("/customers/{customer_id}/sms", response_class=HTMLResponse)
def sms_page(customer_id: int, request: Request, actor: Reader, session: SessionDep) -> Response:
    return _sms_page(request, session, actor, customer_id)


def _sms_page(
    request: Request,
    session: Session,
    actor: Actor,
    customer_id: int,
    report: dict[str, Any] | None = None,
) -> Response:
    ctx = service.find_context(session, customer_id)
    stock, _ = service.stock_view(session, customer_id)
    senders = service.list_senders(session, customer_id)
    lists = service.list_lists(session, customer_id)
    moment = now(request)
    return render(
        request,
        "sms/sms.html",
        space(
            session,
            actor,
            customer_id,
            ctx=ctx,
            short_code=_short_code(ctx),
            stock=stock,
            senders=senders,
            usable=[s.name for s in senders if s.status is SenderStatus.AUTHORISED],
            templates=service.list_templates(session, customer_id),
            lists=[(item, service.list_size(session, item.id)) for item in lists],
            campaigns=[
                (c, campaigns.statistics(session, c, moment))
                for c in campaigns.list_campaigns(session, customer_id)
            ],
            may_send=actor.has(Permission.SMS_SEND),
            may_manage=actor.has(Permission.SMS_MANAGE),
            may_stock=actor.is_staff and actor.has(Permission.SMS_REVIEW) and ctx is not None,
            report=report,
        ),
    )


@router.post("/customers/{customer_id}/sms/senders")
def request_sender(
    customer_id: int,
    request: Request,
    actor: Manager,
    session: SessionDep,
    name: Annotated[str, Form(min_length=1, max_length=16)],
) -> Response:
    """Ask for a custom sender (SMS-05): refused at once with the rule named, or reviewed."""
    created: list[Any] = []
    response = act(
        request,
        session,
        back=_base(customer_id),
        done=Text(fr="Demande d'émetteur enregistrée.", en="Sender request recorded."),
        run=lambda: created.append(service.request_sender(session, customer_id, name)),
    )
    if created and created[0].status is SenderStatus.REFUSED:
        return redirect(
            request,
            _base(customer_id),
            flash=Text(fr="Émetteur refusé : {reason}", en="Sender refused: {reason}").render(
                page_lang(request), reason=created[0].reason
            ),
            level="error",
        )
    return response


@router.post("/customers/{customer_id}/sms/templates")
def create_template(
    customer_id: int,
    request: Request,
    actor: Sender,
    session: SessionDep,
    name: Annotated[str, Form(min_length=1, max_length=100)],
    text: Annotated[str, Form(min_length=1, max_length=2000)],
) -> Response:
    return act(
        request,
        session,
        back=_base(customer_id),
        done=Text(fr="Modèle enregistré.", en="Template saved."),
        run=lambda: service.create_template(session, customer_id, name, text),
    )


@router.post("/customers/{customer_id}/sms/lists")
def create_list(
    customer_id: int,
    request: Request,
    actor: Sender,
    session: SessionDep,
    name: Annotated[str, Form(min_length=1, max_length=100)],
) -> Response:
    return act(
        request,
        session,
        back=_base(customer_id),
        done=Text(fr="Liste créée.", en="List created."),
        run=lambda: service.create_list(session, customer_id, name),
    )


@router.post("/customers/{customer_id}/sms/lists/{list_id}/import", response_class=HTMLResponse)
async def import_list(
    customer_id: int,
    list_id: int,
    request: Request,
    actor: Sender,
    session: SessionDep,
    file: Annotated[UploadFile, Form()],
) -> Response:
    """Import a CSV or Excel file into the list and show the report: rows added, and each
    refused row with its line and reason (SMS-01)."""
    lang = page_lang(request)
    try:
        sms_list = service.get_list(session, customer_id, list_id)
        data = await file.read()
        if (file.filename or "").lower().endswith(".xlsx"):
            result = service.import_xlsx(session, sms_list, data)
        else:
            result = service.import_csv(session, sms_list, data.decode("utf-8-sig", "replace"))
        session.flush()
    except OperateurError as error:
        session.rollback()
        return redirect(request, _base(customer_id), flash=error.render(lang), level="error")
    report = {
        "list": sms_list.name,
        "added": result.added,
        "rejected": result.rejected,
        "warnings": result.warnings,
    }
    return _sms_page(request, session, actor, customer_id, report)


@router.post("/customers/{customer_id}/sms/campaigns")
def create_campaign(
    customer_id: int,
    request: Request,
    actor: Sender,
    session: SessionDep,
    name: Annotated[str, Form(min_length=1, max_length=200)],
    list_id: Annotated[int, Form()],
    template_id: Annotated[str, Form(max_length=20)] = "",
    text: Annotated[str, Form(max_length=2000)] = "",
    sender: Annotated[str, Form(max_length=16)] = "",
) -> Response:
    created: list[Any] = []
    response = act(
        request,
        session,
        back=_base(customer_id),
        done=Text(fr="Campagne créée (brouillon).", en="Campaign created (draft)."),
        run=lambda: created.append(
            campaigns.create(
                session,
                customer_id,
                name=name,
                list_id=list_id,
                text=None if template_id.isdigit() else text,
                template_id=int(template_id) if template_id.isdigit() else None,
                sender=sender or None,
            )
        ),
    )
    if created:
        return redirect(
            request,
            f"{_base(customer_id)}/campaigns/{created[0].id}",
            flash=Text(fr="Campagne créée (brouillon).", en="Campaign created (draft).").render(
                page_lang(request)
            ),
        )
    return response


@router.get("/customers/{customer_id}/sms/campaigns/{campaign_id}", response_class=HTMLResponse)
def campaign_page(
    customer_id: int, campaign_id: int, request: Request, actor: Reader, session: SessionDep
) -> Response:
    """The campaign's progress and statistics; the page refreshes itself while it runs."""
    campaign = campaigns.get_campaign(session, customer_id, campaign_id)
    stats = campaigns.statistics(session, campaign, now(request))
    return render(
        request,
        "sms/campaign.html",
        space(
            session,
            actor,
            customer_id,
            campaign=campaign,
            stats=stats,
            refresh=stats.state in ("running", "scheduled"),
            may_send=actor.has(Permission.SMS_SEND),
        ),
    )


@router.post("/customers/{customer_id}/sms/campaigns/{campaign_id}/{action}")
def campaign_action(
    customer_id: int,
    campaign_id: int,
    action: Literal["launch", "pause", "resume", "cancel"],
    request: Request,
    actor: Sender,
    session: SessionDep,
    at: Annotated[str, Form(max_length=20)] = "",
) -> Response:
    """Launch (now or at a time), pause, resume or cancel a campaign."""
    back = f"{_base(customer_id)}/campaigns/{campaign_id}"
    moment = now(request)

    def run() -> None:
        campaign = campaigns.get_campaign(session, customer_id, campaign_id)
        if action == "launch":
            try:
                when = datetime.fromisoformat(at).replace(tzinfo=PARIS) if at else None
            except ValueError:
                raise InvalidInput(
                    Text(fr="Date invalide : {raw}", en="Invalid date: {raw}"),
                    field="at",
                    details={"raw": at},
                ) from None
            campaigns.launch(session, customer_id, campaign_id, at=when, now=moment)
        elif action == "pause":
            campaigns.pause(session, campaign)
        elif action == "resume":
            campaigns.resume(session, campaign)
        else:
            campaigns.cancel(session, campaign, moment)

    done = {
        "launch": Text(fr="Campagne lancée.", en="Campaign launched."),
        "pause": Text(fr="Campagne en pause.", en="Campaign paused."),
        "resume": Text(fr="Campagne reprise.", en="Campaign resumed."),
        "cancel": Text(fr="Campagne annulée.", en="Campaign cancelled."),
    }[action]
    return act(request, session, back=back, done=done, run=run)


def _csv(text: str, filename: str) -> Response:
    return Response(
        text,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


@router.get("/customers/{customer_id}/sms/campaigns/{campaign_id}/statistics.csv")
def statistics_csv(
    customer_id: int, campaign_id: int, actor: Reader, session: SessionDep
) -> Response:
    campaign = campaigns.get_campaign(session, customer_id, campaign_id)
    text = campaigns.statistics_csv(campaigns.statistics(session, campaign))
    return _csv(text, f"campagne-{campaign.id}-statistiques.csv")


@router.get("/customers/{customer_id}/sms/campaigns/{campaign_id}/messages.csv")
def messages_csv(
    customer_id: int, campaign_id: int, actor: Reader, session: SessionDep
) -> Response:
    campaign = campaigns.get_campaign(session, customer_id, campaign_id)
    return _csv(campaigns.messages_csv(session, campaign), f"campagne-{campaign.id}-sms.csv")


# --- single messages (SMS-01) and the monthly stock (SMS-08) ---------------------------------


def _messages_page(request: Request, session: Session, actor: Actor, customer_id: int) -> Response:
    senders = service.list_senders(session, customer_id)
    stock, _ = service.stock_view(session, customer_id)
    ctx = service.find_context(session, customer_id)
    return render(
        request,
        "sms/messages.html",
        space(
            session,
            actor,
            customer_id,
            ctx=ctx,
            short_code=_short_code(ctx),
            stock=stock,
            usable=[s.name for s in senders if s.status is SenderStatus.AUTHORISED],
            messages=service.list_messages(session, customer_id, limit=100),
            may_send=actor.has(Permission.SMS_SEND),
        ),
    )


@router.get("/customers/{customer_id}/sms/messages", response_class=HTMLResponse)
def messages_page(
    customer_id: int, request: Request, actor: Reader, session: SessionDep
) -> Response:
    """The last messages with their status, and the form to send one."""
    return _messages_page(request, session, actor, customer_id)


@router.post("/customers/{customer_id}/sms/messages")
def send_message(
    customer_id: int,
    request: Request,
    actor: Sender,
    session: SessionDep,
    to: Annotated[str, Form(min_length=1, max_length=40)],
    text: Annotated[str, Form(min_length=1, max_length=2000)],
    sender: Annotated[str, Form(max_length=16)] = "",
    send_at: Annotated[str, Form(max_length=20)] = "",
    client_ref: Annotated[str, Form(max_length=100)] = "",
) -> Response:
    """Send one SMS now or at a time (Paris), through the same service as the API: the
    recipient, text, sender, window and stock are checked there."""
    moment = now(request)

    def run() -> None:
        try:
            at = datetime.fromisoformat(send_at).replace(tzinfo=PARIS) if send_at else None
        except ValueError:
            raise InvalidInput(
                Text(fr="Date invalide : {raw}", en="Invalid date: {raw}"),
                field="send_at",
                details={"raw": send_at},
            ) from None
        service.send(
            session,
            customer_id,
            service.SendRequest(
                to=to,
                text=text,
                sender=sender or None,
                send_at=at,
                client_ref=client_ref.strip() or None,
            ),
            now=moment,
        )

    return act(
        request,
        session,
        back=f"{_base(customer_id)}/messages",
        done=Text(fr="SMS accepté pour envoi.", en="SMS accepted for sending."),
        run=run,
    )


@router.post("/customers/{customer_id}/sms/stock")
def set_stock(
    customer_id: int,
    request: Request,
    actor: Reviewer,
    session: SessionDep,
    monthly_limit: Annotated[int, Form(ge=0)],
    reason: Annotated[str, Form(min_length=1, max_length=500)],
) -> Response:
    """The operator raises (or lowers) the customer's monthly stock, within the terms'
    maximum (SMS-08); the reason goes to the audit log."""
    return act(
        request,
        session,
        back=_base(customer_id),
        done=Text(fr="Stock mensuel modifié.", en="Monthly stock changed."),
        reason=reason,
        run=lambda: service.set_stock(session, customer_id, monthly_limit, reason),
    )


# --- the staff's review ----------------------------------------------------------------------


@router.get("/staff/sms", response_class=HTMLResponse)
def review_page(request: Request, actor: Reviewer, session: SessionDep) -> Response:
    names = {c.id: c.name for c in accounts.list_customers(session, actor.operator_id)}
    return render(
        request,
        "sms/review.html",
        {
            "senders": [
                (s, names.get(s.customer_id))
                for s in service.pending_senders(session)
                if s.customer_id in names
            ],
            "held": [
                (m, names.get(m.customer_id))
                for m in service.held_messages(session)
                if m.customer_id in names
            ],
        },
    )


def _own(session: Session, actor: Actor, customer_id: int) -> None:
    """The customer is one of the reviewer's operator (staff see only their operator's)."""
    customer = accounts.get_customer(session, customer_id)
    if customer.operator_id != actor.operator_id:
        raise NotFound(
            Text(fr="Client {id} introuvable.", en="Customer {id} not found."),
            code="customer_not_found",
            details={"id": customer_id},
        )


@router.post("/staff/sms/senders/{customer_id}/{sender_id}")
def review_sender(
    customer_id: int,
    sender_id: int,
    request: Request,
    actor: Reviewer,
    session: SessionDep,
    decision: Annotated[str, Form(pattern="^(authorise|refuse)$")],
    reason: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    """Authorise or refuse a requested sender (SMS-05); the request fee as the terms say."""
    _own(session, actor, customer_id)
    sender = service.get_sender(session, customer_id, sender_id)
    return act(
        request,
        session,
        back="/staff/sms",
        done=Text(fr="Émetteur examiné.", en="Sender reviewed."),
        run=lambda: service.review_sender(
            session,
            sender,
            authorise=decision == "authorise",
            reason=reason,
            reviewer=actor.label,
        ),
    )


@router.post("/staff/sms/held/{customer_id}/{message_id}")
def review_held(
    customer_id: int,
    message_id: int,
    request: Request,
    actor: Reviewer,
    session: SessionDep,
    decision: Annotated[str, Form(pattern="^(release|reject)$")],
) -> Response:
    """Release or reject a message held by the content filter (SMS-09)."""
    _own(session, actor, customer_id)
    message = service.get_message(session, customer_id, message_id)
    assert isinstance(message, SmsMessage)
    return act(
        request,
        session,
        back="/staff/sms",
        done=Text(fr="Message examiné.", en="Message reviewed."),
        run=lambda: service.review_held(
            session, message, release=decision == "release", now=now(request)
        ),
    )
