"""Queue and deliver notifications (the outbox pattern).

``notify`` queues, in the caller's transaction, one email per contact of a customer (in that
contact's language) and one event per webhook endpoint of the customer subscribed to the event.
``deliver_due`` sends what is due: emails over SMTP (``OPERATEUR_SMTP_URL``), webhooks as an
HTTP POST of JSON signed with HMAC-SHA256 of the body under the endpoint's secret, header
``X-Operateur-Signature: sha256=<hex>``. A failed delivery is retried with exponential backoff
(``notification_retry_seconds`` × 2^(attempt−1)) until ``notification_max_attempts``.
"""

from __future__ import annotations

import fnmatch
import hashlib
import hmac
import ipaddress
import json
import logging
import secrets
import smtplib
import ssl
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from typing import Any
from urllib.parse import unquote, urlsplit

import httpx
from sqlalchemy import insert, select
from sqlalchemy.orm import Session, sessionmaker

from operateur import __version__
from operateur.accounts.models import Contact, Customer
from operateur.config import Settings
from operateur.db import utcnow
from operateur.errors import InvalidInput, NotFound
from operateur.i18n import DEFAULT_LANG, Text
from operateur.logs import event as log_event
from operateur.notifications.models import Channel, OutboxMessage, OutboxStatus, WebhookEndpoint

log = logging.getLogger("operateur.notifications")

SIGNATURE_HEADER = "X-Operateur-Signature"
SECRET_PREFIX = "whsec_"


# --- queueing --------------------------------------------------------------------------------


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if hasattr(value, "value") and isinstance(value.value, str):  # enums
        return value.value
    return value


def _render(text: Text, lang: str, data: dict[str, Any]) -> str:
    """``text`` in ``lang`` with its ``{placeholders}`` filled from ``data`` (as is when a
    placeholder is missing)."""
    try:
        return text.render(lang, **data)
    except (KeyError, IndexError, ValueError):
        return text.en if lang == "en" else text.fr


def _key(raw: str | None) -> str | None:
    if raw is None:
        return None
    return raw if len(raw) <= 200 else "sha256:" + hashlib.sha256(raw.encode()).hexdigest()


def _queue(session: Session, message: OutboxMessage) -> bool:
    """Add a message unless one with the same idempotency key is queued already."""
    if message.idempotency_key is not None and session.scalar(
        select(OutboxMessage.id).where(OutboxMessage.idempotency_key == message.idempotency_key)
    ):
        return False
    session.add(message)
    session.flush()
    return True


def recipients(
    session: Session, customer: Customer, contacts: str = "all"
) -> list[tuple[str, str]]:
    """(address, language) of the customer's contacts with one of the roles in ``contacts``
    ("all", or roles separated by commas such as "billing,admin"); every contact when none has
    those roles, the customer's own address when it has no contact. A contact's language wins
    over the customer's when it is not the default one."""
    rows = list(
        session.scalars(
            select(Contact).where(Contact.customer_id == customer.id).order_by(Contact.id)
        )
    )
    wanted = {r.strip() for r in contacts.split(",") if r.strip()}
    chosen = rows if "all" in wanted else [c for c in rows if c.role in wanted] or rows
    found: dict[str, str] = {}
    for contact in chosen:
        lang = contact.lang if contact.lang != DEFAULT_LANG else customer.lang
        found.setdefault(contact.email.lower(), lang)
    if not found:
        found[customer.email.lower()] = customer.lang
    return list(found.items())


def subscribed(endpoint: WebhookEndpoint, event: str) -> bool:
    patterns = endpoint.events or ["*"]
    return any(fnmatch.fnmatchcase(event, pattern) for pattern in patterns)


def notify(
    session: Session,
    customer_id: int,
    *,
    event: str,
    subject: Text,
    body: Text,
    data: dict[str, Any] | None = None,
    contacts: str = "all",
) -> None:
    """Queue, in the caller's transaction, one email per contact of the customer (in the
    contact's/customer's language, French by default) and one event on each of the customer's
    webhook endpoints subscribed to ``event``. ``{placeholders}`` of the texts are filled from
    ``data``. Idempotent per (event, data["key"]) when data has a "key"."""
    customer = session.get(Customer, customer_id)
    if customer is None:
        raise NotFound(
            Text(fr="Client {id} introuvable.", en="Customer {id} not found."),
            code="customer_not_found",
            details={"id": customer_id},
        )
    values = dict(data or {})
    key = values.get("key")
    for address, lang in recipients(session, customer, contacts):
        _queue(
            session,
            OutboxMessage(
                channel=Channel.EMAIL,
                customer_id=customer_id,
                event=event,
                recipient=address,
                subject=_render(subject, lang, values),
                body=_render(body, lang, values),
                lang=lang,
                idempotency_key=_key(f"{event}:{key}:email:{address}" if key else None),
            ),
        )
    payload = _jsonable(values) | {"customer_id": customer_id}
    for endpoint in session.scalars(
        select(WebhookEndpoint).where(
            WebhookEndpoint.customer_id == customer_id, WebhookEndpoint.active.is_(True)
        )
    ):
        if subscribed(endpoint, event):
            _queue(
                session,
                OutboxMessage(
                    channel=Channel.WEBHOOK,
                    customer_id=customer_id,
                    event=event,
                    recipient=endpoint.url,
                    payload=payload,
                    secret=endpoint.secret,
                    idempotency_key=_key(f"{event}:{key}:webhook:{endpoint.id}" if key else None),
                ),
            )


def email(
    session: Session, *, to: str, subject: str, body: str, idempotency_key: str | None = None
) -> None:
    """Queue one plain email (already rendered) — for digests, challenges, one-off mails."""
    _queue(
        session,
        OutboxMessage(
            channel=Channel.EMAIL,
            event="email",
            recipient=to,
            subject=subject,
            body=body,
            idempotency_key=_key(idempotency_key),
        ),
    )


def webhook(
    session: Session,
    *,
    customer_id: int,
    url: str,
    secret: str,
    event: str,
    payload: dict[str, Any],
    idempotency_key: str | None = None,
) -> None:
    """Queue one HTTP POST of JSON ``{"event", "data", "id", "sent_at"}`` signed with
    HMAC-SHA256 of the body under ``secret``, retried with backoff until a 2xx or the limit."""
    _queue(
        session,
        OutboxMessage(
            channel=Channel.WEBHOOK,
            customer_id=customer_id,
            event=event,
            recipient=url,
            payload=_jsonable(payload),
            secret=secret,
            idempotency_key=_key(idempotency_key),
        ),
    )


@dataclass(frozen=True)
class Webhook:
    """One webhook call for :func:`webhooks`: the arguments of :func:`webhook`."""

    customer_id: int
    url: str
    secret: str
    event: str
    payload: dict[str, Any]
    idempotency_key: str | None = None


_KEYS_PER_READ = 500


def webhooks(session: Session, calls: Iterable[Webhook]) -> int:
    """Queue many webhook calls as :func:`webhook` does (same rows: signed at delivery, retried
    with backoff), for the paths that report a batch (SMS status callbacks): the idempotency
    keys already queued are read at once and the new calls written in one bulk insert. A call
    whose key is queued already, or repeated in the batch, is skipped. Returns how many were
    queued."""
    pending = [(call, _key(call.idempotency_key)) for call in calls]
    wanted = sorted({key for _, key in pending if key is not None})
    known: set[str | None] = set()
    for start in range(0, len(wanted), _KEYS_PER_READ):
        known.update(
            session.scalars(
                select(OutboxMessage.idempotency_key).where(
                    OutboxMessage.idempotency_key.in_(wanted[start : start + _KEYS_PER_READ])
                )
            )
        )
    now = utcnow()
    rows: list[dict[str, Any]] = []
    for call, key in pending:
        if key is not None:
            if key in known:
                continue
            known.add(key)
        rows.append(
            {
                "channel": Channel.WEBHOOK,
                "customer_id": call.customer_id,
                "event": call.event,
                "recipient": call.url,
                "payload": _jsonable(call.payload),
                "secret": call.secret,
                "idempotency_key": key,
                "status": OutboxStatus.PENDING,
                "attempts": 0,
                "next_attempt_at": now,
                "created_at": now,
            }
        )
    if rows:
        session.execute(insert(OutboxMessage), rows)
    return len(rows)


def list_messages(session: Session, customer_id: int, limit: int = 200) -> list[OutboxMessage]:
    return list(
        session.scalars(
            select(OutboxMessage)
            .where(OutboxMessage.customer_id == customer_id)
            .order_by(OutboxMessage.id.desc())
            .limit(limit)
        )
    )


# --- webhook endpoints -----------------------------------------------------------------------


def target_problem(url: str) -> str | None:
    """Why ``url`` cannot receive outgoing HTTP calls (webhooks, SMS status callbacks):
    ``"scheme"`` when it is not an http(s) URL, ``"private"`` when it aims at a private,
    loopback or link-local address (unless the settings allow those, as in tests), else None."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return "scheme"
    if Settings().webhook_allow_private_targets:
        return None
    host = parts.hostname
    try:
        address = ipaddress.ip_address(host)
        private = address.is_private or address.is_loopback or address.is_link_local
    except ValueError:
        private = host == "localhost" or host.endswith(".localhost")
    return "private" if private else None


def _check_url(url: str) -> None:
    problem = target_problem(url)
    if problem == "scheme":
        raise InvalidInput(
            Text(
                fr="Adresse de webhook invalide : une URL http(s):// est attendue.",
                en="Invalid webhook address: an http(s):// URL is expected.",
            ),
            field="url",
        )
    if problem == "private":
        raise InvalidInput(
            Text(
                fr="Un webhook ne peut viser une adresse privée ou locale.",
                en="A webhook cannot target a private or local address.",
            ),
            field="url",
        )


def add_endpoint(
    session: Session, customer_id: int, url: str, events: Iterable[str] = ()
) -> tuple[WebhookEndpoint, str]:
    """Register a webhook endpoint; returns it with its signing secret, shown this once."""
    _check_url(url)
    patterns = sorted({e.strip() for e in events if e.strip()})
    secret = SECRET_PREFIX + secrets.token_urlsafe(32)
    endpoint = WebhookEndpoint(customer_id=customer_id, url=url, secret=secret, events=patterns)
    session.add(endpoint)
    session.flush()
    return endpoint, secret


def list_endpoints(session: Session, customer_id: int) -> list[WebhookEndpoint]:
    return list(
        session.scalars(
            select(WebhookEndpoint)
            .where(WebhookEndpoint.customer_id == customer_id)
            .order_by(WebhookEndpoint.id)
        )
    )


def get_endpoint(session: Session, customer_id: int, endpoint_id: int) -> WebhookEndpoint:
    endpoint = session.scalar(
        select(WebhookEndpoint).where(
            WebhookEndpoint.id == endpoint_id, WebhookEndpoint.customer_id == customer_id
        )
    )
    if endpoint is None:
        raise NotFound(
            Text(fr="Webhook {id} introuvable.", en="Webhook {id} not found."),
            code="webhook_not_found",
            details={"id": endpoint_id},
        )
    return endpoint


def remove_endpoint(session: Session, endpoint: WebhookEndpoint) -> None:
    """Delete the endpoint; its deliveries still waiting are abandoned."""
    for pending in session.scalars(
        select(OutboxMessage).where(
            OutboxMessage.customer_id == endpoint.customer_id,
            OutboxMessage.channel == Channel.WEBHOOK,
            OutboxMessage.recipient == endpoint.url,
            OutboxMessage.secret == endpoint.secret,
            OutboxMessage.status == OutboxStatus.PENDING,
        )
    ):
        pending.status = OutboxStatus.FAILED
        pending.last_error = "endpoint removed"
    session.delete(endpoint)
    session.flush()


# --- delivery --------------------------------------------------------------------------------


def signature(secret: str, body: bytes) -> str:
    """The value of ``X-Operateur-Signature`` for a body: ``sha256=<hex HMAC-SHA256>``."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class _Claimed:
    id: int
    channel: Channel
    event: str
    recipient: str
    subject: str
    body: str
    payload: dict[str, Any] | None
    secret: str | None
    lang: str
    attempts: int


def _claim(
    factory: sessionmaker[Session], now: datetime, lease: timedelta, limit: int
) -> list[_Claimed]:
    """Take the due messages: their next attempt is pushed past the lease, so another sender
    skips them while they are sent (rows locked with SKIP LOCKED on PostgreSQL)."""
    with factory() as session:
        rows = list(
            session.scalars(
                select(OutboxMessage)
                .where(
                    OutboxMessage.status == OutboxStatus.PENDING,
                    OutboxMessage.next_attempt_at <= now,
                )
                .order_by(OutboxMessage.id)
                .limit(limit)
                .with_for_update(skip_locked=True)
            )
        )
        claimed = []
        for row in rows:
            row.attempts += 1
            row.next_attempt_at = now + lease
            claimed.append(
                _Claimed(
                    row.id,
                    row.channel,
                    row.event,
                    row.recipient,
                    row.subject,
                    row.body,
                    row.payload,
                    row.secret,
                    row.lang,
                    row.attempts,
                )
            )
        session.commit()
    return claimed


def _smtp(settings: Settings) -> smtplib.SMTP:
    assert settings.smtp_url is not None
    url = urlsplit(settings.smtp_url)
    secure = url.scheme == "smtps"
    host = url.hostname or "127.0.0.1"
    port = url.port or (465 if secure else 25)
    timeout = settings.notification_timeout_seconds
    server: smtplib.SMTP
    if secure:
        server = smtplib.SMTP_SSL(host, port, timeout=timeout, context=ssl.create_default_context())
    else:
        server = smtplib.SMTP(host, port, timeout=timeout)
        if url.scheme == "smtp+starttls":
            server.starttls(context=ssl.create_default_context())
    if url.username:
        server.login(unquote(url.username), unquote(url.password or ""))
    return server


def _email_message(settings: Settings, item: _Claimed, now: datetime) -> EmailMessage:
    message = EmailMessage()
    message["From"] = settings.smtp_from
    message["To"] = item.recipient
    message["Subject"] = item.subject
    message["Date"] = format_datetime(now)
    message["Message-ID"] = make_msgid(idstring=f"n{item.id}", domain="operateur")
    message["Auto-Submitted"] = "auto-generated"  # RFC 3834 §5
    message.set_content(item.body)
    message["Content-Language"] = item.lang  # after set_content, which resets Content-*
    return message


def _send_emails(settings: Settings, items: list[_Claimed], now: datetime) -> dict[int, str | None]:
    """Send over one SMTP connection; the error of each message (None when accepted)."""
    results: dict[int, str | None] = {}
    if not items:
        return results
    try:
        server = _smtp(settings)
    except (OSError, smtplib.SMTPException) as error:
        return {item.id: f"smtp connection: {error}" for item in items}
    with server:
        for item in items:
            try:
                server.send_message(_email_message(settings, item, now))
                results[item.id] = None
            except (OSError, smtplib.SMTPException) as error:
                results[item.id] = f"smtp: {error}"
    return results


def webhook_body(item_id: int, event: str, payload: dict[str, Any] | None, now: datetime) -> bytes:
    document = {
        "event": event,
        "data": payload or {},
        "id": f"evt_{item_id}",
        "sent_at": now.isoformat(timespec="seconds"),
    }
    return json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode()


def _send_webhook(client: httpx.Client, item: _Claimed, now: datetime) -> str | None:
    body = webhook_body(item.id, item.event, item.payload, now)
    headers = {
        "Content-Type": "application/json",
        "User-Agent": f"operateur/{__version__}",
        "X-Operateur-Event": item.event,
        "X-Operateur-Delivery": f"evt_{item.id}",
        SIGNATURE_HEADER: signature(item.secret or "", body),
    }
    try:
        response = client.post(item.recipient, content=body, headers=headers)
    except httpx.HTTPError as error:
        return f"http: {error}"
    if 200 <= response.status_code < 300:
        return None
    return f"http status {response.status_code}"


def backoff(settings: Settings, attempts: int) -> timedelta:
    """The wait before attempt ``attempts + 1``: doubles after each failure."""
    return timedelta(seconds=settings.notification_retry_seconds * 2 ** max(attempts - 1, 0))


def _record(
    factory: sessionmaker[Session],
    settings: Settings,
    claimed: list[_Claimed],
    results: dict[int, str | None],
    now: datetime,
) -> int:
    sent = 0
    with factory() as session:
        for item in claimed:
            if item.id not in results:
                continue
            row = session.get(OutboxMessage, item.id)
            if row is None:
                continue
            error = results[item.id]
            if error is None:
                row.status = OutboxStatus.SENT
                row.sent_at = now
                row.last_error = None
                sent += 1
            elif item.attempts >= settings.notification_max_attempts:
                row.status = OutboxStatus.FAILED
                row.last_error = error
            else:
                row.next_attempt_at = now + backoff(settings, item.attempts)
                row.last_error = error
            log_event(
                log,
                "notification.sent" if error is None else "notification.failed",
                id=item.id,
                channel=item.channel.value,
                notification_event=item.event,
                attempt=item.attempts,
                error=error,
            )
        session.commit()
    return sent


def deliver_due(
    session_factory: sessionmaker[Session],
    now: datetime | None = None,
    *,
    limit: int = 200,
) -> int:
    """Send what is due in the outbox (SMTP via settings.smtp_url, webhooks via httpx); the
    number of messages delivered. Emails wait while no SMTP server is configured."""
    settings = Settings()
    now = now or utcnow()
    lease = timedelta(seconds=max(settings.notification_timeout_seconds * 4, 60))
    claimed = _claim(session_factory, now, lease, limit)
    if not claimed:
        return 0
    emails = [c for c in claimed if c.channel is Channel.EMAIL]
    hooks = [c for c in claimed if c.channel is Channel.WEBHOOK]
    results: dict[int, str | None] = {}
    if emails and settings.smtp_url:
        results.update(_send_emails(settings, emails, now))
    elif emails:
        log.warning("notifications: %d email(s) wait, OPERATEUR_SMTP_URL is not set", len(emails))
        with session_factory() as session:  # give back the claim without counting an attempt
            for item in emails:
                row = session.get(OutboxMessage, item.id)
                if row is not None:
                    row.attempts -= 1
            session.commit()
    if hooks:
        with httpx.Client(
            timeout=settings.notification_timeout_seconds, follow_redirects=False
        ) as client:
            for item in hooks:
                results[item.id] = _send_webhook(client, item, now)
    return _record(session_factory, settings, claimed, results, now)
