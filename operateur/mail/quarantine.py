"""Quarantine and its three ways out (MAIL-03), and the reports that feed the SLA (MAIL-05):

- the customer's administrators list held mail and release it, delete it or allow-list its
  sender (console: API and CLI);
- each recipient gets a digest of their held mail (daily by default, per-mailbox opt-out) with
  signed one-click release links;
- optionally the sender gets one challenge per period; answering it releases their held mail.

Every release and every report is recorded in ``mail_feedback``.
"""

from __future__ import annotations

import html
import logging
import secrets
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from operateur.accounts import service as accounts
from operateur.catalog.terms import ContractTerms, ReleaseChannel
from operateur.config import Settings
from operateur.contracts import service as contracts
from operateur.domain.calendar import PARIS
from operateur.errors import Conflict, Forbidden, InvalidInput, NotFound
from operateur.i18n import Text
from operateur.logs import event
from operateur.mail import licences, links, queue
from operateur.mail import service as mail
from operateur.mail.models import (
    Direction,
    FeedbackChannel,
    FeedbackKind,
    FilterLog,
    ListKind,
    MailChallenge,
    MailFeedback,
    QuarantinedMessage,
    QuarantineStatus,
)
from operateur.mail.rules import domain_of, period_start
from operateur.notifications.service import email

log = logging.getLogger("operateur.mail.quarantine")

RELEASE = "release"  # link purposes
CHALLENGE = "challenge"
CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I look-alikes


def _not_found(item_id: int) -> NotFound:
    return NotFound(
        Text(
            fr="Message {id} introuvable en quarantaine.", en="Quarantined message {id} not found."
        ),
        code="quarantine_not_found",
        details={"id": item_id},
    )


def held_row(
    *,
    customer_id: int,
    log_id: int,
    spool_name: str,
    mail_from: str,
    recipient: str,
    subject: str,
    score: float,
    symbols: list[str],
    virus: bool,
    now: datetime,
) -> dict[str, Any]:
    """The ``mail_quarantine`` row holding a message for one recipient (MAIL-03); the gateway
    writes those of several messages in one statement."""
    return {
        "customer_id": customer_id,
        "log_id": log_id,
        "spool_name": spool_name,
        "mail_from": mail_from.lower()[:320],
        "recipient": recipient.lower(),
        "subject": subject[:300],
        "score": score,
        "symbols": symbols,
        "virus": virus,
        "status": QuarantineStatus.HELD,
        "created_at": now,
    }


def hold(session: Session, **row: Any) -> QuarantinedMessage:
    """Hold a message for one recipient (MAIL-03; the arguments of ``held_row``)."""
    item = QuarantinedMessage(**held_row(**row))
    session.add(item)
    session.flush()
    return item


def list_held(
    session: Session,
    customer_id: int,
    *,
    status: QuarantineStatus | None = QuarantineStatus.HELD,
    recipient: str | None = None,
    limit: int = 500,
) -> list[QuarantinedMessage]:
    query = select(QuarantinedMessage).where(QuarantinedMessage.customer_id == customer_id)
    if status is not None:
        query = query.where(QuarantinedMessage.status == status)
    if recipient:
        query = query.where(QuarantinedMessage.recipient == recipient.lower())
    return list(session.scalars(query.order_by(QuarantinedMessage.id.desc()).limit(limit)))


def get_item(session: Session, customer_id: int, item_id: int) -> QuarantinedMessage:
    item = session.scalar(
        select(QuarantinedMessage).where(
            QuarantinedMessage.id == item_id, QuarantinedMessage.customer_id == customer_id
        )
    )
    if item is None:
        raise _not_found(item_id)
    return item


def _purge_hours(session: Session, customer_id: int) -> int:
    contract = licences.mail_contract(session, customer_id)
    rules = contracts.terms_of(contract).mail if contract else None
    if rules is None:
        raise Conflict(
            Text(
                fr="Aucun contrat de passerelle email en cours : remise impossible.",
                en="No live mail gateway contract: cannot deliver.",
            ),
            code="no_mail_contract",
        )
    return rules.unreachable_server_purge_hours


def _require_channel(session: Session, customer_id: int, channel: FeedbackChannel) -> None:
    contract = licences.mail_contract(session, customer_id)
    rules = contracts.terms_of(contract).mail if contract else None
    if rules is None or ReleaseChannel(channel.value) not in rules.release_channels:
        raise Forbidden(
            Text(
                fr="Le contrat ne prévoit pas cette voie de libération ({channel}).",
                en="The contract provides no such release channel ({channel}).",
            ),
            code="release_channel_closed",
            details={"channel": channel.value},
        )


def record(
    session: Session,
    *,
    customer_id: int,
    log_id: int,
    kind: FeedbackKind,
    channel: FeedbackChannel,
    actor: str,
    now: datetime,
    quarantine_id: int | None = None,
) -> MailFeedback:
    feedback = MailFeedback(
        customer_id=customer_id,
        log_id=log_id,
        quarantine_id=quarantine_id,
        kind=kind,
        channel=channel,
        actor=actor[:200],
        at=now,
    )
    session.add(feedback)
    session.flush()
    return feedback


def _closed(item: QuarantinedMessage) -> Conflict:
    return Conflict(
        Text(
            fr="Ce message n'est plus en quarantaine ({status}).",
            en="This message is no longer held ({status}).",
        ),
        code="quarantine_closed",
        details={"status": item.status.value},
    )


def _close(
    session: Session,
    item: QuarantinedMessage,
    status: QuarantineStatus,
    closed_by: str,
    now: datetime,
) -> None:
    """Take a message out of the quarantine only if it is still held in the database: of two
    releases at once (a double click, the recipient and an administrator), the second finds
    it closed instead of delivering it twice."""
    done = session.execute(
        update(QuarantinedMessage)
        .where(QuarantinedMessage.id == item.id, QuarantinedMessage.status == QuarantineStatus.HELD)
        .values(status=status, closed_at=now, closed_by=closed_by[:200])
        .execution_options(synchronize_session=False)
    )
    session.refresh(item)
    if done.rowcount != 1:  # type: ignore[attr-defined]
        raise _closed(item)


def release(
    session: Session,
    item: QuarantinedMessage,
    *,
    channel: FeedbackChannel,
    actor: str,
    now: datetime,
) -> QuarantinedMessage:
    """Let a held message through to its recipient: queued for delivery at once, the release
    recorded (MAIL-03). A virus is released by an administrator only."""
    if item.status is not QuarantineStatus.HELD:
        raise _closed(item)
    _require_channel(session, item.customer_id, channel)
    if item.virus and channel is not FeedbackChannel.ADMINISTRATOR:
        raise Forbidden(
            Text(
                fr="Un message infecté ne peut être libéré que par un administrateur.",
                en="An infected message can only be released by an administrator.",
            ),
            code="virus_release_refused",
        )
    _close(session, item, QuarantineStatus.RELEASED, f"{channel.value}:{actor}", now)
    entry = session.get(FilterLog, item.log_id)
    queue.enqueue(
        session,
        customer_id=item.customer_id,
        log_id=item.log_id,
        direction=Direction.INBOUND,
        spool_name=item.spool_name,
        headers=[f"X-Operateur-Id: {item.log_id}", f"X-Operateur-Released: {channel.value}"],
        mail_from=item.mail_from,
        rcpt_tos=[item.recipient],
        destination=domain_of(item.recipient),
        size=entry.size if entry is not None else 0,
        now=now,
        purge_hours=_purge_hours(session, item.customer_id),
    )
    record(
        session,
        customer_id=item.customer_id,
        log_id=item.log_id,
        kind=FeedbackKind.RELEASE,
        channel=channel,
        actor=actor,
        now=now,
        quarantine_id=item.id,
    )
    event(log, "mail.released", customer=item.customer_id, item=item.id, channel=channel.value)
    return item


def delete(session: Session, item: QuarantinedMessage, *, actor: str, now: datetime) -> None:
    """Delete a held message for good (its file goes with the next spool sweep, MAIL-10)."""
    if item.status is not QuarantineStatus.HELD:
        raise _closed(item)
    _close(session, item, QuarantineStatus.DELETED, f"administrator:{actor}", now)


def allow_sender(
    session: Session, item: QuarantinedMessage, *, actor: str, now: datetime
) -> QuarantinedMessage:
    """Put the sender on the customer's allow list (MAIL-04) and release the message."""
    customer = accounts.get_customer(session, item.customer_id)
    allow, _ = mail.list_values(session, customer.operator_id, item.customer_id)
    if item.mail_from and item.mail_from not in allow:
        mail.add_list_entry(
            session,
            customer.operator_id,
            item.customer_id,
            ListKind.ALLOW,
            item.mail_from,
            note=f"quarantine {item.id}",
        )
    return release(session, item, channel=FeedbackChannel.ADMINISTRATOR, actor=actor, now=now)


def report(
    session: Session,
    customer_id: int,
    log_id: int,
    kind: FeedbackKind,
    *,
    actor: str,
    now: datetime,
    channel: FeedbackChannel = FeedbackChannel.ADMINISTRATOR,
) -> MailFeedback:
    """Report a message: spam that was delivered, legitimate mail that was blocked, a virus
    that got through (MAIL-05, MAIL-06). The message is named by its ``X-Operateur-Id``."""
    if kind is FeedbackKind.RELEASE:
        raise InvalidInput(
            Text(fr="Une libération n'est pas un signalement.", en="A release is not a report."),
            field="kind",
        )
    entry = session.scalar(
        select(FilterLog).where(FilterLog.id == log_id, FilterLog.customer_id == customer_id)
    )
    if entry is None:
        raise NotFound(
            Text(fr="Message {id} introuvable.", en="Message {id} not found."),
            code="mail_log_not_found",
            field="log_id",
            details={"id": log_id},
        )
    delivered = entry.action in ("deliver", "tag")
    if kind in (FeedbackKind.REPORT_SPAM, FeedbackKind.REPORT_VIRUS) and not delivered:
        raise Conflict(
            Text(
                fr="Ce message n'a pas été remis : il ne peut pas être signalé comme reçu.",
                en="This message was not delivered: it cannot be reported as received.",
            ),
            code="report_not_delivered",
            field="kind",
        )
    if kind is FeedbackKind.REPORT_HAM and delivered:
        raise Conflict(
            Text(
                fr="Ce message a été remis : il n'a pas été bloqué à tort.",
                en="This message was delivered: it was not wrongly blocked.",
            ),
            code="report_not_blocked",
            field="kind",
        )
    duplicate = session.scalar(
        select(MailFeedback).where(MailFeedback.log_id == log_id, MailFeedback.kind == kind)
    )
    if duplicate is not None:
        return duplicate
    return record(
        session,
        customer_id=customer_id,
        log_id=log_id,
        kind=kind,
        channel=channel,
        actor=actor,
        now=now,
    )


# --- recipient digest (MAIL-03) --------------------------------------------------------------


def release_link(settings: Settings, item: QuarantinedMessage, expires: datetime) -> str:
    token = links.sign(
        links.link_secret(settings), RELEASE, {"q": item.id, "r": item.recipient}, expires
    )
    return f"{settings.mail_public_url.rstrip('/')}/mail/release/{token}"


def item_from_release_token(
    session: Session, settings: Settings, token: str, now: datetime
) -> QuarantinedMessage:
    data = links.verify(links.link_secret(settings), RELEASE, token, now)
    item = session.get(QuarantinedMessage, int(data["q"]))
    if item is None or item.recipient != data.get("r"):
        raise _not_found(int(data["q"]))
    return item


def release_by_token(
    session: Session, settings: Settings, token: str, now: datetime
) -> QuarantinedMessage:
    """The digest's one-click link: release for the recipient named in the signed token."""
    item = item_from_release_token(session, settings, token, now)
    return release(
        session, item, channel=FeedbackChannel.RECIPIENT_DIGEST, actor=item.recipient, now=now
    )


def send_digests(session: Session, settings: Settings, now: datetime) -> int:
    """Email each recipient the list of their mail held since their last digest, with a
    signed release link per message; mailboxes that opted out get none (MAIL-03). The
    digest's interval is the terms' (daily by default). Returns the number of digests sent."""
    items = list(
        session.scalars(
            select(QuarantinedMessage)
            .where(
                QuarantinedMessage.status == QuarantineStatus.HELD,
                QuarantinedMessage.digested_at.is_(None),
            )
            .order_by(QuarantinedMessage.recipient, QuarantinedMessage.id)
        )
    )
    by_recipient: dict[tuple[int, str], list[QuarantinedMessage]] = {}
    for item in items:
        by_recipient.setdefault((item.customer_id, item.recipient), []).append(item)
    sent = 0
    for (customer_id, recipient), held in by_recipient.items():
        contract = licences.mail_contract(session, customer_id)
        terms = contracts.terms_of(contract) if contract else None
        if terms is None or terms.mail is None:
            continue
        if ReleaseChannel.RECIPIENT_DIGEST not in terms.mail.release_channels:
            continue
        mailbox = mail.find_mailbox(session, recipient)
        if mailbox is not None and not mailbox.digest_enabled:
            continue
        if (
            mailbox is not None
            and mailbox.last_digest_at
            and not _digest_due(mailbox.last_digest_at, now, terms.mail.digest_interval_hours)
        ):
            continue
        keep = _kept(terms)
        lang = accounts.get_customer(session, customer_id).lang
        email(
            session,
            to=recipient,
            subject=_digest_subject(len(held), lang),
            body=_digest_body(settings, held, keep, lang),
            idempotency_key=f"mail-digest:{recipient}:{held[-1].id}",
        )
        for item in held:
            item.digested_at = now
        if mailbox is not None:
            mailbox.last_digest_at = now
        sent += 1
    session.flush()
    return sent


def _kept(terms: ContractTerms) -> timedelta:
    """How long held mail is kept (MAIL-10): what its release links stay valid for. Terms with
    mail rules always say it (``ContractTerms`` refuses them otherwise)."""
    days = terms.retention.mail_days
    assert days is not None
    return timedelta(days=days)


def _digest_due(last: datetime, now: datetime, hours: int) -> bool:
    """Has the terms' digest interval passed since the last digest? The digest job runs once
    per Paris day at whatever second its tick comes (and a Paris day may last 23 hours), so
    whole Paris days count as 24 hours: a daily digest is not skipped because today's tick
    came a few seconds earlier than yesterday's."""
    days = (now.astimezone(PARIS).date() - last.astimezone(PARIS).date()).days
    return now - last >= timedelta(hours=hours) or days * 24 >= hours


def _digest_subject(count: int, lang: str) -> str:
    return Text(
        fr="Quarantaine : {count} message(s) retenu(s) pour vous",
        en="Quarantine: {count} message(s) held for you",
    ).render(lang, count=count)


def _digest_body(
    settings: Settings, held: list[QuarantinedMessage], keep: timedelta, lang: str
) -> str:
    lines = [
        Text(
            fr="Ces messages ont été retenus par le filtre. Si l'un d'eux est légitime, "
            "ouvrez son lien pour le recevoir.",
            en="These messages were held by the filter. If one of them is legitimate, "
            "open its link to receive it.",
        ).render(lang),
        "",
    ]
    for item in held:
        lines.append(f"- {item.created_at:%Y-%m-%d %H:%M} UTC  {item.mail_from or '<>'}")
        lines.append(f"  {item.subject or '-'}")
        if item.virus:
            lines.append(
                Text(
                    fr="  (virus : seul un administrateur peut le libérer)",
                    en="  (virus: only an administrator can release it)",
                ).render(lang)
            )
        else:
            lines.append(f"  {release_link(settings, item, item.created_at + keep)}")
        lines.append("")
    return "\n".join(lines)


# --- sender challenge (MAIL-03) --------------------------------------------------------------


def challenge_link(settings: Settings, challenge: MailChallenge, expires: datetime) -> str:
    token = links.sign(links.link_secret(settings), CHALLENGE, {"c": challenge.id}, expires)
    return f"{settings.mail_public_url.rstrip('/')}/mail/challenge/{token}"


def maybe_challenge(
    session: Session,
    view: mail.CustomerView,
    item: QuarantinedMessage,
    settings: Settings,
    now: datetime,
) -> MailChallenge | None:
    """Send the sender of a held message its challenge, at most one per sender per period and
    only when the customer turned challenges on and the contract provides them."""
    if (
        not view.challenge_enabled
        or ReleaseChannel.SENDER_CHALLENGE not in view.rules.release_channels
        or not item.mail_from
        or item.virus
    ):
        return None
    start = period_start(now, view.rules.challenge_period_hours)
    exists = session.scalar(
        select(MailChallenge.id).where(
            MailChallenge.customer_id == view.customer_id,
            MailChallenge.sender == item.mail_from,
            MailChallenge.period_start == start,
        )
    )
    if exists is not None:
        return None
    challenge = MailChallenge(
        customer_id=view.customer_id,
        sender=item.mail_from,
        period_start=start,
        code="".join(secrets.choice(CODE_ALPHABET) for _ in range(6)),
        created_at=now,
    )
    try:
        with session.begin_nested():
            session.add(challenge)
    except IntegrityError:  # another gateway instance challenged this sender meanwhile
        return None
    keep = _kept(view.terms)
    lang = accounts.get_customer(session, view.customer_id).lang
    email(
        session,
        to=item.mail_from,
        subject=Text(
            fr="Votre message à {rcpt} est en attente de confirmation",
            en="Your message to {rcpt} awaits your confirmation",
        ).render(lang, rcpt=item.recipient),
        body=Text(
            fr="Votre message « {subject} » a été retenu par le filtre de votre destinataire. "
            "Pour confirmer que vous êtes bien l'expéditeur, ouvrez ce lien et suivez "
            "l'instruction : {link}\n\nSans réponse, le message ne sera pas remis.",
            en="Your message '{subject}' was held by your recipient's filter. To confirm you "
            "sent it, open this link and follow the instruction: {link}\n\n"
            "Without an answer, the message will not be delivered.",
        ).render(
            lang,
            subject=item.subject or "-",
            link=challenge_link(settings, challenge, now + keep),
        ),
        idempotency_key=f"mail-challenge:{challenge.id}",
    )
    event(log, "mail.challenge.sent", customer=view.customer_id, challenge=challenge.id)
    return challenge


def challenge_from_token(
    session: Session, settings: Settings, token: str, now: datetime
) -> MailChallenge:
    data = links.verify(links.link_secret(settings), CHALLENGE, token, now)
    challenge = session.get(MailChallenge, int(data["c"]))
    if challenge is None:
        raise NotFound(
            Text(fr="Demande introuvable.", en="Challenge not found."), code="challenge_not_found"
        )
    return challenge


def answer_challenge(
    session: Session, settings: Settings, token: str, code: str, now: datetime
) -> list[QuarantinedMessage]:
    """The sender answered: their held mail to this customer is released, each release
    recorded as the sender's own (MAIL-03; it is then not a false positive, MAIL-05)."""
    challenge = challenge_from_token(session, settings, token, now)
    if code.strip().upper() != challenge.code:
        raise InvalidInput(
            Text(fr="Code incorrect.", en="Wrong code."), code="challenge_wrong_code", field="code"
        )
    if challenge.answered_at is None:
        challenge.answered_at = now
    _require_channel(session, challenge.customer_id, FeedbackChannel.SENDER_CHALLENGE)
    contract = licences.mail_contract(session, challenge.customer_id)
    rules = contracts.terms_of(contract).mail if contract else None
    assert rules is not None  # _require_channel refused otherwise
    # the challenge speaks for the mail held up to the end of its period: later mail gets
    # the later period's own challenge (replaying an answered link releases nothing new)
    period_end = challenge.period_start + timedelta(hours=rules.challenge_period_hours)
    held = list(
        session.scalars(
            select(QuarantinedMessage).where(
                QuarantinedMessage.customer_id == challenge.customer_id,
                QuarantinedMessage.mail_from == challenge.sender,
                QuarantinedMessage.status == QuarantineStatus.HELD,
                QuarantinedMessage.virus.is_(False),
                QuarantinedMessage.created_at < period_end,
            )
        )
    )
    for item in held:
        release(
            session,
            item,
            channel=FeedbackChannel.SENDER_CHALLENGE,
            actor=challenge.sender,
            now=now,
        )
    return held


def page(title: str, body: str) -> str:
    """A minimal HTML page for the public release and challenge links."""
    return (
        "<!doctype html><html><head><meta charset='utf-8'>"
        "<meta name='viewport' content='width=device-width, initial-scale=1'>"
        f"<title>{html.escape(title)}</title></head><body style='font-family:sans-serif;"
        f"max-width:40em;margin:3em auto'><h1>{html.escape(title)}</h1>{body}</body></html>"
    )
