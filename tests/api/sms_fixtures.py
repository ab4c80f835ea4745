"""SMS objects of a tenant of the API test world, written straight as rows: a template, a
list with one entry, a draft campaign, a queued message and a sender request, so that every
SMS route naming an object has one to reach (or to be refused)."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy.orm import Session

from operateur.catalog.terms import OutsideWindow
from operateur.db import utcnow
from operateur.sms.encoding import SmsEncoding
from operateur.sms.models import (
    CampaignStatus,
    SenderStatus,
    SmsCampaign,
    SmsList,
    SmsListEntry,
    SmsMessage,
    SmsSender,
    SmsStatus,
    SmsTemplate,
)
from operateur.sms.stock import month_of


def sms_objects(session: Session, customer_id: int, contract_id: int) -> dict[str, int]:
    now = utcnow()
    template = SmsTemplate(customer_id=customer_id, name="Relance", text="Bonjour {first_name}")
    sms_list = SmsList(customer_id=customer_id, name="Clients", columns=["first_name"])
    session.add_all([template, sms_list])
    session.flush()
    session.add(
        SmsListEntry(
            list_id=sms_list.id,
            customer_id=customer_id,
            recipient="+33612345678",
            fields={"first_name": "Marie"},
        )
    )
    campaign = SmsCampaign(
        customer_id=customer_id,
        contract_id=contract_id,
        name="Soldes",
        list_id=sms_list.id,
        template_id=template.id,
        text=template.text,
        sender="38100",
        status=CampaignStatus.DRAFT,
        outside_window=OutsideWindow.QUEUE,
    )
    sender = SmsSender(
        customer_id=customer_id,
        contract_id=contract_id,
        name=f"Client{customer_id}",
        status=SenderStatus.REQUESTED,
    )
    session.add_all([campaign, sender])
    session.flush()
    message = SmsMessage(
        customer_id=customer_id,
        contract_id=contract_id,
        campaign_id=campaign.id,
        sender="38100",
        recipient="+33612345678",
        text="Bonjour Marie",
        encoding=SmsEncoding.GSM7,
        parts=1,
        status=SmsStatus.HELD,
        held_rule="phishing-url-shortener",
        not_before=now,
        outside_window=OutsideWindow.QUEUE,
        destination="FR mobile",
        cost=Decimal("0.06"),
        stock_month=month_of(now),
    )
    session.add(message)
    session.flush()
    return {
        "template_id": template.id,
        "list_id": sms_list.id,
        "campaign_id": campaign.id,
        "sender_id": sender.id,
        "message_id": message.id,
    }
