"""REST endpoints of the SMS context: below the customer they belong to, plus the operator's
review queues (held messages, sender requests)."""

from __future__ import annotations

import re
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response, status
from fastapi.concurrency import run_in_threadpool
from sqlalchemy.orm import Session

from operateur.accounts.permissions import Actor, Permission
from operateur.config import Settings
from operateur.errors import InvalidInput
from operateur.http.deps import SessionDep, require
from operateur.i18n import Text
from operateur.sms import campaigns, service
from operateur.sms.models import SmsCampaign, SmsList, SmsStatus, SmsTemplate
from operateur.sms.schemas import (
    CampaignIn,
    CampaignOut,
    HeldReviewIn,
    ImportIn,
    ImportOut,
    ListIn,
    ListOut,
    MessageOut,
    ScheduleIn,
    SenderIn,
    SenderOut,
    SenderReviewIn,
    SendIn,
    SettingsIn,
    SettingsOut,
    StatisticsOut,
    StockIn,
    StockOut,
    TemplateIn,
    TemplateOut,
)
from operateur.sms.stock import StockView

router = APIRouter(prefix="/customers/{customer_id}/sms", tags=["sms"])
operator_router = APIRouter(prefix="/sms", tags=["sms"])

Reader = Annotated[Actor, require(Permission.SMS_READ)]
Sender = Annotated[Actor, require(Permission.SMS_SEND)]
Manager = Annotated[Actor, require(Permission.SMS_MANAGE)]
Reviewer = Annotated[Actor, require(Permission.SMS_REVIEW)]


# --- messages ---------------------------------------------------------------------------------


@router.post("/messages", response_model=MessageOut, status_code=status.HTTP_201_CREATED)
def send_message(customer_id: int, body: SendIn, actor: Sender, session: SessionDep) -> MessageOut:
    """Send one SMS now or at ``send_at``; returns its id and status. A recipient who answered
    STOP gives status ``unsubscribed`` (SMS-06): stored, reported, never sent."""
    request = service.SendRequest(**body.model_dump())
    return MessageOut.of(service.send(session, customer_id, request))


@router.get("/messages", response_model=list[MessageOut])
def list_messages(
    customer_id: int,
    actor: Reader,
    session: SessionDep,
    status: SmsStatus | None = None,
    campaign_id: int | None = None,
    limit: Annotated[int, Query(ge=1)] = 100,
) -> list[MessageOut]:
    found = service.list_messages(
        session, customer_id, status=status, campaign_id=campaign_id, limit=min(limit, 1000)
    )
    return [MessageOut.of(message) for message in found]


@router.get("/messages/{message_id}", response_model=MessageOut)
def get_message(
    customer_id: int, message_id: int, actor: Reader, session: SessionDep
) -> MessageOut:
    """The status of one message by its id."""
    return MessageOut.of(service.get_message(session, customer_id, message_id))


@router.post("/messages/{message_id}/review", response_model=MessageOut)
def review_message(
    customer_id: int, message_id: int, body: HeldReviewIn, actor: Reviewer, session: SessionDep
) -> MessageOut:
    """The operator releases or rejects a message held by the content filter (SMS-09)."""
    message = service.get_message(session, customer_id, message_id)
    return MessageOut.of(service.review_held(session, message, release=body.release))


# --- settings ---------------------------------------------------------------------------------


@router.get("/settings", response_model=SettingsOut)
def get_settings(customer_id: int, actor: Manager, session: SessionDep) -> SettingsOut:
    return SettingsOut.model_validate(service.get_settings(session, customer_id))


@router.put("/settings", response_model=SettingsOut)
def put_settings(
    customer_id: int, body: SettingsIn, actor: Manager, session: SessionDep
) -> SettingsOut:
    row = service.update_settings(
        session, customer_id, callback_url=body.callback_url, outside_window=body.outside_window
    )
    return SettingsOut.model_validate(row)


# --- templates --------------------------------------------------------------------------------


def _template_out(template: SmsTemplate) -> TemplateOut:
    return TemplateOut(
        id=template.id,
        name=template.name,
        text=template.text,
        placeholders=service.placeholders(template.text),
    )


@router.get("/templates", response_model=list[TemplateOut])
def list_templates(customer_id: int, actor: Reader, session: SessionDep) -> list[TemplateOut]:
    return [_template_out(t) for t in service.list_templates(session, customer_id)]


@router.post("/templates", response_model=TemplateOut, status_code=status.HTTP_201_CREATED)
def create_template(
    customer_id: int, body: TemplateIn, actor: Sender, session: SessionDep
) -> TemplateOut:
    return _template_out(service.create_template(session, customer_id, body.name, body.text))


@router.get("/templates/{template_id}", response_model=TemplateOut)
def get_template(
    customer_id: int, template_id: int, actor: Reader, session: SessionDep
) -> TemplateOut:
    return _template_out(service.get_template(session, customer_id, template_id))


# --- distribution lists -----------------------------------------------------------------------


def _list_out(session: Session, sms_list: SmsList, report: ImportOut | None = None) -> ListOut:
    return ListOut(
        id=sms_list.id,
        name=sms_list.name,
        columns=list(sms_list.columns),
        size=service.list_size(session, sms_list.id),
        report=report,
    )


@router.get("/lists", response_model=list[ListOut])
def list_lists(customer_id: int, actor: Reader, session: SessionDep) -> list[ListOut]:
    return [_list_out(session, item) for item in service.list_lists(session, customer_id)]


@router.post("/lists", response_model=ListOut, status_code=status.HTTP_201_CREATED)
def create_list(customer_id: int, body: ListIn, actor: Sender, session: SessionDep) -> ListOut:
    """A distribution list, with its first entries; each refused entry is reported with its
    position (from 1) and reason."""
    sms_list = service.create_list(session, customer_id, body.name)
    report = service.add_entries(
        session,
        sms_list,
        ((index, entry.number, entry.fields) for index, entry in enumerate(body.entries, 1)),
    )
    return _list_out(session, sms_list, ImportOut.of(report))


@router.get("/lists/{list_id}", response_model=ListOut)
def get_list(customer_id: int, list_id: int, actor: Reader, session: SessionDep) -> ListOut:
    return _list_out(session, service.get_list(session, customer_id, list_id))


XLSX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _too_large(max_bytes: int, field: str) -> InvalidInput:
    return InvalidInput(
        Text(
            fr="Fichier trop volumineux (au plus {max} octets).",
            en="File too large (at most {max} bytes).",
        ),
        code="sms_import_too_large",
        field=field,
        details={"max": max_bytes},
    )


@router.post("/lists/{list_id}/import", response_model=ListOut)
def import_list(
    customer_id: int,
    list_id: int,
    body: ImportIn,
    request: Request,
    actor: Sender,
    session: SessionDep,
) -> ListOut:
    """Import a CSV into the list: every refused row reported with its line and reason. The
    file is held to the same size limit as an uploaded workbook."""
    sms_list = service.get_list(session, customer_id, list_id)
    settings: Settings = request.app.state.settings
    if len(body.csv.encode()) > settings.sms_import_max_bytes:
        raise _too_large(settings.sms_import_max_bytes, "csv")
    report = service.import_csv(session, sms_list, body.csv)
    return _list_out(session, sms_list, ImportOut.of(report))


async def _upload(request: Request, max_bytes: int) -> bytes:
    """The request body, refused once it passes ``max_bytes`` (read no further)."""
    data = bytearray()
    async for chunk in request.stream():
        data += chunk
        if len(data) > max_bytes:
            raise _too_large(max_bytes, "file")
    return bytes(data)


def _import_xlsx(session: Session, customer_id: int, list_id: int, data: bytes) -> ListOut:
    sms_list = service.get_list(session, customer_id, list_id)
    report = service.import_xlsx(session, sms_list, data)
    return _list_out(session, sms_list, ImportOut.of(report))


@router.post(
    "/lists/{list_id}/import/xlsx",
    response_model=ListOut,
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {XLSX_MEDIA_TYPE: {"schema": {"type": "string", "format": "binary"}}},
        }
    },
)
async def import_list_xlsx(
    customer_id: int, list_id: int, request: Request, actor: Sender, session: SessionDep
) -> ListOut:
    """Import an Excel workbook (.xlsx, the request body) into the list, as the CSV import
    does: the first sheet, a header with a number column; every refused row (bad number,
    duplicate, unsubscribed) reported with its row number and reason (SMS-01)."""
    await run_in_threadpool(service.get_list, session, customer_id, list_id)  # 404 first
    settings: Settings = request.app.state.settings
    data = await _upload(request, settings.sms_import_max_bytes)
    return await run_in_threadpool(_import_xlsx, session, customer_id, list_id, data)


# --- campaigns --------------------------------------------------------------------------------


def _campaign_out(session: Session, campaign: SmsCampaign) -> CampaignOut:
    return CampaignOut(
        id=campaign.id,
        name=campaign.name,
        list_id=campaign.list_id,
        template_id=campaign.template_id,
        text=campaign.text,
        sender=campaign.sender,
        status=campaign.status.value,
        outside_window=campaign.outside_window,
        scheduled_at=campaign.scheduled_at,
        launched_at=campaign.launched_at,
        message_count=campaign.message_count,
        part_count=campaign.part_count,
        statistics=StatisticsOut.of(campaigns.statistics(session, campaign)),
    )


@router.get("/campaigns", response_model=list[CampaignOut])
def list_campaigns(customer_id: int, actor: Reader, session: SessionDep) -> list[CampaignOut]:
    return [_campaign_out(session, c) for c in campaigns.list_campaigns(session, customer_id)]


@router.post("/campaigns", response_model=CampaignOut, status_code=status.HTTP_201_CREATED)
def create_campaign(
    customer_id: int, body: CampaignIn, actor: Sender, session: SessionDep
) -> CampaignOut:
    campaign = campaigns.create(session, customer_id, **body.model_dump())
    return _campaign_out(session, campaign)


@router.get("/campaigns/{campaign_id}", response_model=CampaignOut)
def get_campaign(
    customer_id: int, campaign_id: int, actor: Reader, session: SessionDep
) -> CampaignOut:
    """The campaign with its progress and statistics."""
    return _campaign_out(session, campaigns.get_campaign(session, customer_id, campaign_id))


@router.post("/campaigns/{campaign_id}/schedule", response_model=CampaignOut)
def schedule_campaign(
    customer_id: int, campaign_id: int, body: ScheduleIn, actor: Sender, session: SessionDep
) -> CampaignOut:
    """Launch now or at ``at``: every message is queued, or nothing when a check fails."""
    campaign = campaigns.launch(session, customer_id, campaign_id, at=body.at)
    return _campaign_out(session, campaign)


@router.post("/campaigns/{campaign_id}/pause", response_model=CampaignOut)
def pause_campaign(
    customer_id: int, campaign_id: int, actor: Sender, session: SessionDep
) -> CampaignOut:
    campaign = campaigns.get_campaign(session, customer_id, campaign_id)
    return _campaign_out(session, campaigns.pause(session, campaign))


@router.post("/campaigns/{campaign_id}/resume", response_model=CampaignOut)
def resume_campaign(
    customer_id: int, campaign_id: int, actor: Sender, session: SessionDep
) -> CampaignOut:
    campaign = campaigns.get_campaign(session, customer_id, campaign_id)
    return _campaign_out(session, campaigns.resume(session, campaign))


@router.post("/campaigns/{campaign_id}/cancel", response_model=CampaignOut)
def cancel_campaign(
    customer_id: int, campaign_id: int, actor: Sender, session: SessionDep
) -> CampaignOut:
    campaign = campaigns.get_campaign(session, customer_id, campaign_id)
    return _campaign_out(session, campaigns.cancel(session, campaign))


def _csv(text: str, filename: str) -> Response:
    return Response(
        content=text,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


@router.get("/campaigns/{campaign_id}/statistics.csv", response_class=Response)
def campaign_statistics_csv(
    customer_id: int, campaign_id: int, actor: Reader, session: SessionDep
) -> Response:
    """Statistics by hour, the totals and the count per status, as CSV (SMS-01)."""
    campaign = campaigns.get_campaign(session, customer_id, campaign_id)
    text = campaigns.statistics_csv(campaigns.statistics(session, campaign))
    return _csv(text, f"campagne-{campaign.id}-statistiques.csv")


@router.get("/campaigns/{campaign_id}/messages.csv", response_class=Response)
def campaign_messages_csv(
    customer_id: int, campaign_id: int, actor: Reader, session: SessionDep
) -> Response:
    """Each message of the campaign with its status, as CSV (SMS-01)."""
    campaign = campaigns.get_campaign(session, customer_id, campaign_id)
    return _csv(campaigns.messages_csv(session, campaign), f"campagne-{campaign.id}-sms.csv")


# --- senders (SMS-05) -------------------------------------------------------------------------


@router.get("/senders", response_model=list[SenderOut])
def list_senders(customer_id: int, actor: Reader, session: SessionDep) -> list[SenderOut]:
    return [SenderOut.model_validate(s) for s in service.list_senders(session, customer_id)]


@router.post("/senders", response_model=SenderOut, status_code=status.HTTP_201_CREATED)
def request_sender(
    customer_id: int, body: SenderIn, actor: Manager, session: SessionDep
) -> SenderOut:
    """Ask for a custom sender: refused at once with the rule named, or waiting for review;
    the request fee is billed as the terms say (even if refused under the 004 offer). A blank
    name is no request: refused as bad input, billed nothing."""
    if not body.name.strip():
        raise InvalidInput(
            Text(
                fr="Le nom de l'émetteur demandé est vide (SMS-05).",
                en="The name of the requested sender is empty (SMS-05).",
            ),
            code="sms_sender_empty",
            field="name",
        )
    return SenderOut.model_validate(service.request_sender(session, customer_id, body.name))


@router.post("/senders/{sender_id}/review", response_model=SenderOut)
def review_sender(
    customer_id: int, sender_id: int, body: SenderReviewIn, actor: Reviewer, session: SessionDep
) -> SenderOut:
    sender = service.get_sender(session, customer_id, sender_id)
    reviewed = service.review_sender(
        session, sender, authorise=body.authorise, reason=body.reason, reviewer=actor.label
    )
    return SenderOut.model_validate(reviewed)


# --- stock (SMS-08) ---------------------------------------------------------------------------


#: A stock month as ``stock.month_of`` writes it: ``YYYY-MM``.
MONTH_PATTERN = re.compile(r"\d{4}-(0[1-9]|1[0-2])")


def _stock_out(view: StockView, contract_id: int | None) -> StockOut:
    return StockOut(
        month=view.month,
        monthly_limit=view.monthly_limit,
        maximum=view.maximum,
        used=view.used,
        remaining=view.remaining,
        contract_id=contract_id,
    )


@router.get("/stock", response_model=StockOut)
def get_stock(
    customer_id: int,
    actor: Reader,
    session: SessionDep,
    month: str | None = None,
) -> StockOut:
    """The monthly stock, what is used and what is left (this month by default)."""
    if month is not None and not MONTH_PATTERN.fullmatch(month):
        raise InvalidInput(
            Text(
                fr="Mois « {month} » invalide : AAAA-MM attendu (SMS-08).",
                en='Invalid month "{month}": YYYY-MM expected (SMS-08).',
            ),
            code="sms_stock_month",
            field="month",
            details={"month": month},
        )
    view, contract_id = service.stock_view(session, customer_id, month)
    return _stock_out(view, contract_id)


@router.put("/stock", response_model=StockOut)
def set_stock(customer_id: int, body: StockIn, actor: Reviewer, session: SessionDep) -> StockOut:
    """The operator sets the monthly stock, up to the contract's maximum."""
    view = service.set_stock(session, customer_id, body.monthly_limit, body.reason)
    return _stock_out(view, service.stock_view(session, customer_id, view.month)[1])


# --- the operator's queues --------------------------------------------------------------------


@operator_router.get("/held", response_model=list[MessageOut])
def held_messages(actor: Reviewer, session: SessionDep) -> list[MessageOut]:
    """Messages held by the content filter, every customer, oldest first (SMS-09)."""
    return [MessageOut.of(message) for message in service.held_messages(session)]


@operator_router.get("/sender-requests", response_model=list[SenderOut])
def sender_requests(actor: Reviewer, session: SessionDep) -> list[SenderOut]:
    """Custom senders waiting for review, every customer (SMS-05)."""
    return [SenderOut.model_validate(s) for s in service.pending_senders(session)]
