"""SMS campaigns (SMS-01): a text with ``{placeholders}`` sent to a distribution list, now or at
a given time; paused, resumed or cancelled; followed by progress, per-message status and
statistics (sent, delivered, failed, expired, unsubscribed, by hour) downloadable as CSV.

Launching writes one outbox message per recipient in one transaction, after every check: the
sending window (SMS-04), the monthly stock for every part (SMS-08, refused before anything is
sent), the prepaid reservations (BIL-10). Per recipient, a number no longer accepted or a text
refused after personalisation gives a REJECTED message with its reason, an unsubscribed
recipient an UNSUBSCRIBED one (SMS-06), a text matching the content filter a HELD one (SMS-09).
Pausing keeps the queued messages back from the transport; cancelling ends them CANCELLED.
"""

from __future__ import annotations

import csv
import io
from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from operateur.catalog.terms import OutsideWindow
from operateur.db import utcnow
from operateur.domain.calendar import PARIS
from operateur.errors import Conflict, InvalidInput, NotFound
from operateur.i18n import Text
from operateur.sms import charging, optouts, outbox, stock
from operateur.sms.models import (
    CampaignStatus,
    SmsCampaign,
    SmsMessage,
    SmsStatus,
)
from operateur.sms.recipients import check_recipient
from operateur.sms.service import (
    Draft,
    SmsContext,
    all_or_nothing,
    check_text,
    context,
    draft,
    get_list,
    get_template,
    list_entries,
    message_from,
    outside_window_policy,
    placeholders,
    render,
    resolve_sender,
    review_held,
)
from operateur.sms.window import plan


def get_campaign(session: Session, customer_id: int, campaign_id: int) -> SmsCampaign:
    campaign = session.scalar(
        select(SmsCampaign).where(
            SmsCampaign.id == campaign_id, SmsCampaign.customer_id == customer_id
        )
    )
    if campaign is None:
        raise NotFound(
            Text(fr="Campagne {id} introuvable.", en="Campaign {id} not found."),
            code="sms_campaign_not_found",
            details={"id": campaign_id},
        )
    return campaign


def list_campaigns(session: Session, customer_id: int) -> list[SmsCampaign]:
    return list(
        session.scalars(
            select(SmsCampaign)
            .where(SmsCampaign.customer_id == customer_id)
            .order_by(SmsCampaign.id.desc())
        )
    )


def create(
    session: Session,
    customer_id: int,
    *,
    name: str,
    list_id: int,
    text: str | None = None,
    template_id: int | None = None,
    sender: str | None = None,
    outside_window: OutsideWindow | None = None,
) -> SmsCampaign:
    """A draft campaign. Its placeholders must be columns of the list, its sender authorised
    and its fixed text made of allowed characters (SMS-01, SMS-02, SMS-05)."""
    ctx = context(session, customer_id)
    if (text is None) == (template_id is None):
        raise InvalidInput(
            Text(
                fr="Donner soit un texte, soit un modèle.",
                en="Give either a text or a template.",
            ),
            code="sms_campaign_text",
            field="text",
        )
    if template_id is not None:
        text = get_template(session, customer_id, template_id).text
    assert text is not None
    sms_list = get_list(session, customer_id, list_id)
    unknown = [name for name in placeholders(text) if name not in sms_list.columns]
    if unknown:
        raise InvalidInput(
            Text(
                fr="Champs inconnus de la liste « {list} » : {fields} (colonnes : {columns}).",
                en='Fields unknown to the list "{list}": {fields} (columns: {columns}).',
            ),
            code="sms_campaign_unknown_fields",
            field="text",
            details={
                "list": sms_list.name,
                "fields": ", ".join(unknown),
                "columns": ", ".join(sms_list.columns) or "-",
            },
        )
    check_text(render(text, {}) or " ", ctx)
    campaign = SmsCampaign(
        customer_id=customer_id,
        contract_id=ctx.contract.id,
        name=name.strip()[:200] or f"Campagne {sms_list.name}",
        list_id=sms_list.id,
        template_id=template_id,
        text=text,
        sender=resolve_sender(session, ctx, sender),
        status=CampaignStatus.DRAFT,
        outside_window=outside_window_policy(session, ctx, outside_window),
    )
    session.add(campaign)
    session.flush()
    return campaign


def _require(
    session: Session, campaign: SmsCampaign, action: str, *allowed: CampaignStatus
) -> None:
    """Refuse ``action`` unless the campaign is in one of the ``allowed`` states, read again
    under a row lock: a concurrent launch, pause or cancel is waited for and seen."""
    session.refresh(campaign, with_for_update=True)
    if campaign.status not in allowed:
        raise Conflict(
            Text(
                fr="La campagne {id} est « {status} » : impossible de la {action}.",
                en="Campaign {id} is {status}: it cannot be {action}.",
            ),
            code="sms_campaign_state",
            details={"id": campaign.id, "status": campaign.status.value, "action": action},
        )


def _drafts(session: Session, ctx: SmsContext, campaign: SmsCampaign) -> list[Draft]:
    entries = list_entries(session, campaign.list_id)
    stopped = optouts.unsubscribed_among(
        session, ctx.customer.id, ctx.rules, (entry.recipient for entry in entries), ctx.short_code
    )
    drafts: list[Draft] = []
    for entry in entries:
        text = render(campaign.text, entry.fields)
        try:
            recipient = check_recipient(entry.recipient, ctx.rules)
        except InvalidInput as error:
            drafts.append(
                Draft(entry.recipient, "", text, None, SmsStatus.REJECTED, error=error.code)
            )
            continue
        analysis = ctx.analyze(text)
        if analysis.problem is not None:
            drafts.append(
                Draft(
                    recipient.e164,
                    recipient.destination,
                    text,
                    analysis,
                    SmsStatus.REJECTED,
                    error=f"sms_{analysis.problem.value}",
                )
            )
            continue
        drafts.append(draft(ctx, recipient, text, analysis, recipient.e164 in stopped))
    return drafts


def launch(
    session: Session,
    customer_id: int,
    campaign_id: int,
    *,
    at: datetime | None = None,
    now: datetime | None = None,
) -> SmsCampaign:
    """Schedule the campaign for ``at`` (now by default): every message is written to the
    outbox, or nothing is when a check fails (stock, window, credit)."""
    now = now or utcnow()
    campaign = get_campaign(session, customer_id, campaign_id)
    _require(session, campaign, "lancer", CampaignStatus.DRAFT)
    ctx = context(session, customer_id)
    start = max(at or now, now)
    try:
        not_before = plan(ctx.rules, start, campaign.outside_window)
    except InvalidInput as refused:
        refused.field = "at"  # the launch's start time, not a single send's send_at
        raise
    drafts = _drafts(session, ctx, campaign)
    if not drafts:
        raise InvalidInput(
            Text(fr="La liste est vide.", en="The list is empty."),
            code="sms_campaign_empty",
            field="list_id",
        )
    counted = [item for item in drafts if item.counts_against_stock]
    month = stock.month_of(not_before)
    with all_or_nothing(session):  # every message, or nothing when a check fails
        stock.take(session, customer_id, ctx.terms.limits, month, sum(i.parts for i in counted))
        messages = [
            message_from(
                ctx,
                item,
                sender=campaign.sender,
                not_before=not_before,
                policy=campaign.outside_window,
                now=now,
                campaign_id=campaign.id,
            )
            for item in drafts
        ]
        if ctx.prepaid:
            session.add_all(messages)
            session.flush()
            for message in messages:
                if message.status in (SmsStatus.QUEUED, SmsStatus.HELD):
                    charging.reserve(session, message, now)
        else:
            columns = [c.key for c in SmsMessage.__table__.columns if c.key != "id"]
            session.execute(
                insert(SmsMessage),
                [{key: getattr(message, key) for key in columns} for message in messages],
            )
    campaign.status = CampaignStatus.LAUNCHED
    campaign.scheduled_at = start
    campaign.launched_at = now
    campaign.message_count = len(messages)
    campaign.part_count = sum(item.parts for item in counted)
    session.flush()
    return campaign


def pause(session: Session, campaign: SmsCampaign) -> SmsCampaign:
    """Hold back the campaign's queued messages from the transport until resumed."""
    _require(session, campaign, "suspendre", CampaignStatus.LAUNCHED)
    campaign.status = CampaignStatus.PAUSED
    campaign.paused_at = utcnow()
    session.flush()
    return campaign


def resume(session: Session, campaign: SmsCampaign) -> SmsCampaign:
    _require(session, campaign, "reprendre", CampaignStatus.PAUSED)
    campaign.status = CampaignStatus.LAUNCHED
    campaign.paused_at = None
    session.flush()
    return campaign


def cancel(session: Session, campaign: SmsCampaign, now: datetime | None = None) -> SmsCampaign:
    """Cancel: messages not yet handed to the transport end CANCELLED (their stock and prepaid
    reservations given back); those already submitted go on."""
    _require(
        session,
        campaign,
        "annuler",
        CampaignStatus.DRAFT,
        CampaignStatus.LAUNCHED,
        CampaignStatus.PAUSED,
    )
    now = now or utcnow()
    campaign.status = CampaignStatus.CANCELLED
    campaign.cancelled_at = now
    session.flush()
    waiting = session.scalars(
        select(SmsMessage)
        .where(SmsMessage.campaign_id == campaign.id, SmsMessage.status.in_(outbox.PENDING))
        .with_for_update()
    )
    for message in waiting:
        outbox.move(session, message, SmsStatus.CANCELLED, now=now, error="campaign_cancelled")
    session.flush()
    return campaign


def release_held(
    session: Session, campaign: SmsCampaign, *, release: bool, now: datetime | None = None
) -> int:
    """Review every held message of a campaign at once (SMS-09); returns how many."""
    held = session.scalars(
        select(SmsMessage).where(
            SmsMessage.campaign_id == campaign.id, SmsMessage.status == SmsStatus.HELD
        )
    ).all()
    for message in held:
        review_held(session, message, release=release, now=now)
    return len(held)


# --- progress and statistics ------------------------------------------------------------------

SENT = frozenset(
    {SmsStatus.SUBMITTED, SmsStatus.DELIVERED, SmsStatus.UNDELIVERED, SmsStatus.EXPIRED}
)
PENDING_TRANSPORT = frozenset({SmsStatus.HELD, SmsStatus.QUEUED, SmsStatus.SUBMITTING})


@dataclass(frozen=True)
class Statistics:
    """A campaign's figures (SMS-01)."""

    campaign_id: int
    state: str  # draft, scheduled, running, paused, cancelled, completed
    total: int
    by_status: dict[str, int]
    sent: int  # handed to the SMSC: submitted, delivered, undelivered, expired
    delivered: int
    failed: int  # undelivered after sending, or rejected before
    expired: int
    unsubscribed: int
    pending: int  # held, queued or being submitted
    progress_percent: int  # messages that reached a final status
    by_hour: list[dict[str, Any]]  # per hour of submission (Paris): sent, delivered, failed...

    def as_dict(self) -> dict[str, Any]:
        return {
            "campaign_id": self.campaign_id,
            "state": self.state,
            "total": self.total,
            "by_status": self.by_status,
            "sent": self.sent,
            "delivered": self.delivered,
            "failed": self.failed,
            "expired": self.expired,
            "unsubscribed": self.unsubscribed,
            "pending": self.pending,
            "progress_percent": self.progress_percent,
            "by_hour": self.by_hour,
        }


def _state(campaign: SmsCampaign, pending: int, now: datetime) -> str:
    if campaign.status is not CampaignStatus.LAUNCHED:
        return campaign.status.value
    if pending == 0:
        return "completed"
    if campaign.scheduled_at is not None and campaign.scheduled_at > now:
        return "scheduled"
    return "running"


def statistics(session: Session, campaign: SmsCampaign, now: datetime | None = None) -> Statistics:
    now = now or utcnow()
    counts: Counter[SmsStatus] = Counter(
        {
            status: int(count)
            for status, count in session.execute(
                select(SmsMessage.status, func.count(SmsMessage.id))
                .where(SmsMessage.campaign_id == campaign.id)
                .group_by(SmsMessage.status)
            )
        }
    )
    hours: dict[str, Counter[str]] = {}
    for submitted_at, status in session.execute(
        select(SmsMessage.submitted_at, SmsMessage.status).where(
            SmsMessage.campaign_id == campaign.id, SmsMessage.submitted_at.is_not(None)
        )
    ):
        assert submitted_at is not None
        hour = submitted_at.astimezone(PARIS).strftime("%Y-%m-%d %H:00")
        row = hours.setdefault(hour, Counter())
        row["sent"] += 1
        row[
            {
                SmsStatus.DELIVERED: "delivered",
                SmsStatus.UNDELIVERED: "failed",
                SmsStatus.EXPIRED: "expired",
            }.get(status, "awaiting_receipt")
        ] += 1
    total = sum(counts.values())
    pending = sum(counts[s] for s in PENDING_TRANSPORT)
    final = total - pending - counts[SmsStatus.SUBMITTED]
    return Statistics(
        campaign_id=campaign.id,
        state=_state(campaign, pending, now),
        total=total,
        by_status={status.value: counts[status] for status in SmsStatus},
        sent=sum(counts[s] for s in SENT),
        delivered=counts[SmsStatus.DELIVERED],
        failed=counts[SmsStatus.UNDELIVERED] + counts[SmsStatus.REJECTED],
        expired=counts[SmsStatus.EXPIRED],
        unsubscribed=counts[SmsStatus.UNSUBSCRIBED],
        pending=pending,
        progress_percent=(100 * final // total) if total else 0,
        by_hour=[
            {
                "hour": hour,
                "sent": row["sent"],
                "delivered": row["delivered"],
                "failed": row["failed"],
                "expired": row["expired"],
                "awaiting_receipt": row["awaiting_receipt"],
            }
            for hour, row in sorted(hours.items())
        ],
    )


STATS_CSV_HEADER = ["hour", "sent", "delivered", "failed", "expired", "awaiting_receipt"]
MESSAGES_CSV_HEADER = ["id", "recipient", "status", "parts", "encoding", "submitted_at",
                       "delivered_at", "final_at", "error"]  # fmt: skip


def statistics_csv(stats: Statistics) -> str:
    """The statistics by hour, then their total line (each column the sum of the hours: a
    message refused before sending is in no hour), then one line per status."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(STATS_CSV_HEADER)
    for row in stats.by_hour:
        writer.writerow([row[name] for name in STATS_CSV_HEADER])
    writer.writerow(
        ["total", stats.sent, stats.delivered, stats.by_status[SmsStatus.UNDELIVERED.value],
         stats.expired, stats.by_status[SmsStatus.SUBMITTED.value]]
    )  # fmt: skip
    writer.writerow([])
    writer.writerow(["status", "messages"])
    for status, count in stats.by_status.items():
        writer.writerow([status, count])
    return out.getvalue()


def _iso(moment: datetime | None) -> str:
    return moment.isoformat(timespec="seconds") if moment is not None else ""


def messages_csv(session: Session, campaign: SmsCampaign) -> str:
    """Every message of the campaign with its status (SMS-01)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(MESSAGES_CSV_HEADER)
    for message in session.scalars(
        select(SmsMessage).where(SmsMessage.campaign_id == campaign.id).order_by(SmsMessage.id)
    ):
        writer.writerow(
            [
                message.id,
                message.recipient,
                message.status.value,
                message.parts,
                message.encoding.value,
                _iso(message.submitted_at),
                _iso(message.delivered_at),
                _iso(message.final_at),
                message.error or "",
            ]
        )
    return out.getvalue()
