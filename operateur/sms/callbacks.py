"""Status callbacks of the SMS API (SMS-01): when a message is accepted by the SMSC or reaches
a final status, a JSON event ``sms.status`` is POSTed to the message's ``callback_url`` (given
with the send, or the customer's default copied at enqueue), signed with HMAC-SHA256 under the
customer's SMS callback secret and retried with backoff by the notifications outbox
(``operateur.notifications.service.webhook``; the transport's batches go through
:func:`status_changed_many` and ``webhooks``, one bulk insert per batch).

The event's ``data`` is :func:`payload`: ``id``, ``client_ref``, ``campaign_id``, ``recipient``,
``sender``, ``status``, ``sequence``, ``parts``, ``encoding``, ``error``, ``submitted_at``,
``delivered_at``, ``final_at``. ``sequence`` grows with each status reported for one message
(``submitted`` is 1, the final status after it 2; a message refused, unsubscribed or cancelled
before it left has only its final status, 1): callbacks are retried with backoff and may arrive
late or out of order, so a receiver keeps, per message, the one with the highest sequence.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from operateur.errors import InvalidInput
from operateur.i18n import Text
from operateur.notifications import service as notifications
from operateur.sms.models import SmsMessage, SmsSettings, SmsStatus

EVENT = "sms.status"
SECRET_PREFIX = "smscb_"

#: The ``sequence`` of each reported status in its message's callbacks: a status can only follow
#: reported statuses of a lower sequence in ``outbox.TRANSITIONS`` (submitted, then the final
#: status of a receipt; or a final status reached before the message left).
SEQUENCE: dict[SmsStatus, int] = {
    SmsStatus.SUBMITTED: 1,
    SmsStatus.DELIVERED: 2,
    SmsStatus.UNDELIVERED: 2,
    SmsStatus.EXPIRED: 2,
    SmsStatus.REJECTED: 1,
    SmsStatus.UNSUBSCRIBED: 1,
    SmsStatus.CANCELLED: 1,
}

#: The statuses a customer hears about (the queue's inner steps are not reported).
REPORTED = frozenset(SEQUENCE)


def check_callback_url(url: str, *, field: str = "callback_url") -> str:
    """An http(s) URL outside private and loopback networks (unless the platform's settings
    allow them, as in tests)."""
    problem = notifications.target_problem(url)
    if problem == "scheme":
        raise InvalidInput(
            Text(
                fr="Adresse de rappel invalide : une URL http(s):// est attendue.",
                en="Invalid callback address: an http(s):// URL is expected.",
            ),
            code="sms_callback_url",
            field=field,
        )
    if problem == "private":
        raise InvalidInput(
            Text(
                fr="Une adresse de rappel ne peut viser une adresse privée ou locale.",
                en="A callback address cannot target a private or local address.",
            ),
            code="sms_callback_url",
            field=field,
        )
    return url


def settings_of(session: Session, customer_id: int) -> SmsSettings:
    """The customer's SMS settings, created with a fresh signing secret the first time. When a
    concurrent transaction creates them meanwhile, theirs are kept: one secret per customer."""
    query = select(SmsSettings).where(SmsSettings.customer_id == customer_id)
    row = session.scalar(query)
    if row is not None:
        return row
    try:
        with session.begin_nested():
            session.add(
                SmsSettings(
                    customer_id=customer_id,
                    callback_secret=SECRET_PREFIX + secrets.token_urlsafe(32),
                )
            )
    except IntegrityError:
        pass  # created by a concurrent transaction meanwhile
    found = session.scalar(query)
    assert found is not None
    return found


def payload(message: SmsMessage) -> dict[str, Any]:
    """What the customer receives about a message (also the API's status view)."""
    return {
        "id": message.id,
        "client_ref": message.client_ref,
        "campaign_id": message.campaign_id,
        "recipient": message.recipient,
        "sender": message.sender,
        "status": message.status.value,
        # 0 for the queue's inner steps, never reported (the API's status view shows them)
        "sequence": SEQUENCE.get(message.status, 0),
        "parts": message.parts,
        "encoding": message.encoding.value,
        "error": message.error,
        "submitted_at": message.submitted_at,
        "delivered_at": message.delivered_at,
        "final_at": message.final_at,
    }


def status_changed_many(session: Session, messages: Iterable[SmsMessage]) -> int:
    """:func:`status_changed` for a batch of messages (the transport's bulk moves): each
    customer's signing secret read once, the callbacks queued with one bulk insert
    (``notifications.webhooks``, same idempotency keys, signatures and retries). Returns how
    many were queued."""
    reported = [m for m in messages if m.status in REPORTED and m.callback_url is not None]
    if not reported:
        return 0
    customers = sorted({message.customer_id for message in reported})
    secret_of: dict[int, str] = {
        customer_id: secret
        for customer_id, secret in session.execute(
            select(SmsSettings.customer_id, SmsSettings.callback_secret).where(
                SmsSettings.customer_id.in_(customers)
            )
        )
    }
    for customer_id in customers:
        if customer_id not in secret_of:
            secret_of[customer_id] = settings_of(session, customer_id).callback_secret
    return notifications.webhooks(
        session,
        (
            notifications.Webhook(
                customer_id=message.customer_id,
                url=message.callback_url,
                secret=secret_of[message.customer_id],
                event=EVENT,
                payload=payload(message),
                idempotency_key=f"sms:{message.id}:{message.status.value}",
            )
            for message in reported
            if message.callback_url is not None
        ),
    )


def status_changed(session: Session, message: SmsMessage) -> None:
    """Queue the message's callback for its new status, once per status. API sends carry the
    URL given with them or the customer's default, copied at enqueue; campaigns have none."""
    if message.status not in REPORTED or message.callback_url is None:
        return
    notifications.webhook(
        session,
        customer_id=message.customer_id,
        url=message.callback_url,
        secret=settings_of(session, message.customer_id).callback_secret,
        event=EVENT,
        payload=payload(message),
        idempotency_key=f"sms:{message.id}:{message.status.value}",
    )
