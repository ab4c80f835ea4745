"""Abuse limits of MAIL-08 [003 §3.2], every number from the contract's terms:

- more messages in a day for one mailbox (in or out) than the terms allow: the customer is
  alerted and, when the terms say so, the mail service is suspended;
- an outbound message to more recipients than the terms allow blocks the sending account at
  once (the mailbox or the customer's relay account);
- an outbound spam burst (the terms' count of messages judged spam within the terms' minutes)
  suspends the mail service at once and the customer is told.

Daily counts live in the database (``mail_daily_counts``), incremented with one atomic upsert,
so every gateway instance sees the same count.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import cache
from typing import cast

from sqlalchemy import Insert, Table, func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from operateur.catalog.terms import MailAbuseAction, SuspensionCause
from operateur.contracts import lifecycle
from operateur.contracts.models import Contract, SuspensionScope
from operateur.i18n import Text
from operateur.logs import event
from operateur.mail import service as mail
from operateur.mail.models import DailyCount, Direction, FilterLog
from operateur.mail.service import CustomerView
from operateur.notifications.service import notify

log = logging.getLogger("operateur.mail.abuse")

SPAM_ACTIONS = ("quarantine", "reject")


@dataclass(frozen=True)
class Count:
    """The day's count of one address after a message, and whether the customer was already
    alerted for that day."""

    id: int
    day: date
    count: int
    alerted: bool


def _suspend(session: Session, view: CustomerView, cause: SuspensionCause, reason: str) -> bool:
    """Suspend the customer's mail service (the whole contract when its terms allow no partial
    suspension); False when it is suspended for that cause already."""
    open_causes = {s.cause for s in lifecycle.open_suspensions(session, view.contract.id)}
    if cause.value in open_causes:
        return False
    contract = session.get(Contract, view.contract.id)  # the view's copy is detached
    assert contract is not None
    scope = SuspensionScope.MAIL if view.terms.suspension.partial_allowed else SuspensionScope.FULL
    lifecycle.suspend(session, contract, cause=cause, reason=reason, scope=scope)
    return True


@cache
def _upsert(dialect: str) -> Insert:
    """INSERT … ON CONFLICT DO UPDATE count + the row's count RETURNING the rows: one
    statement for several addresses, atomic across instances, built once per dialect (it is
    on the path of every message)."""
    table = cast(Table, DailyCount.__table__)
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = insert(table)
    return statement.on_conflict_do_update(
        index_elements=["address", "day", "direction"],
        set_={"count": table.c.count + statement.excluded.count},
    ).returning(table.c.id, table.c.address, table.c.count, table.c.alerted)


def count_message(
    session: Session, view: CustomerView, address: str, direction: Direction, now: datetime
) -> Count:
    """Count one message of ``address`` today; beyond the terms' daily count, alert the
    customer once for the day and, if the terms say so, suspend the mail service (MAIL-08)."""
    return count_messages(session, view, [address], direction, now)[address]


def count_messages(
    session: Session,
    view: CustomerView,
    addresses: Sequence[str],
    direction: Direction,
    now: datetime,
) -> dict[str, Count]:
    """``count_message`` for several messages of one customer (an address once per message),
    in one statement for all of them: the gateway's group commit. The day's count of each
    address after them, alerted (and suspended) as ``count_message`` does."""
    day = now.date()
    tally = Counter(addresses)
    values = [
        {
            "customer_id": view.customer_id,
            "address": address,
            "day": day,
            "direction": direction,
            "count": count,
            "alerted": False,
        }
        for address, count in tally.items()
    ]
    connection = session.connection()
    rows = connection.execute(_upsert(connection.dialect.name), values).all()
    return {
        address: _check_limit(session, view, address, direction, Count(row_id, day, count, alerted))
        for row_id, address, count, alerted in rows
    }


def _check_limit(
    session: Session, view: CustomerView, address: str, direction: Direction, row: Count
) -> Count:
    """Beyond the terms' daily count: alert the customer once for the day and, if the terms
    say so, suspend the mail service (MAIL-08)."""
    limit = view.terms.limits.mail_messages_per_mailbox_per_day
    if limit is None or row.count <= limit or row.alerted:
        return row
    session.execute(update(DailyCount).where(DailyCount.id == row.id).values(alerted=True))
    row = Count(row.id, row.day, row.count, True)
    action = view.terms.limits.mail_daily_excess_action or MailAbuseAction.ALERT
    suspended = action is MailAbuseAction.SUSPEND and _suspend(
        session,
        view,
        SuspensionCause.ABUSE,
        f"MAIL-08: {address} exceeded {limit} messages ({direction.value}) on {row.day}",
    )
    notify(
        session,
        view.customer_id,
        event="mail.daily_limit",
        subject=Text(
            fr="Limite quotidienne dépassée pour {address}",
            en="Daily limit exceeded for {address}",
        ),
        body=Text(
            fr="L'adresse {address} a dépassé {limit} messages ({direction}) le {day}. {what}",
            en="The address {address} exceeded {limit} messages ({direction}) on {day}. {what}",
        ),
        data={
            "key": f"mail-daily:{address}:{row.day}:{direction.value}",
            "address": address,
            "limit": limit,
            "direction": direction.value,
            "day": row.day.isoformat(),
            "what": "Service suspended / service suspendu." if suspended else "-",
        },
    )
    event(
        log,
        "mail.abuse.daily_limit",
        customer=view.customer_id,
        address=address,
        count=row.count,
        suspended=suspended,
    )
    log.warning("MAIL-08 daily limit exceeded customer=%s address=%s", view.customer_id, address)
    return row


def too_many_recipients(view: CustomerView, count: int) -> bool:
    limit = view.terms.limits.mail_recipients_per_message
    return limit is not None and count > limit


def block_account(session: Session, view: CustomerView, account: str, now: datetime) -> None:
    """Block the sending account at once — its mailbox, or the customer's relay account — and
    tell the customer (MAIL-08: more recipients than the terms allow in one message)."""
    limit = view.terms.limits.mail_recipients_per_message
    reason = f"MAIL-08: one message to more than {limit} recipients"
    mailbox = mail.find_mailbox(session, account)
    if mailbox is not None and mailbox.customer_id == view.customer_id:
        if mailbox.blocked_at is not None:
            return
        mailbox.blocked_at = now
        mailbox.blocked_reason = reason
    else:
        settings = mail.settings_of(session, view.customer_id)
        if settings.relay_blocked_at is not None:
            return
        settings.relay_blocked_at = now
        settings.relay_blocked_reason = reason
    session.flush()
    notify(
        session,
        view.customer_id,
        event="mail.account_blocked",
        subject=Text(
            fr="Compte d'envoi bloqué : {account}", en="Sending account blocked: {account}"
        ),
        body=Text(
            fr="Le compte {account} a tenté d'envoyer un message à plus de {limit} "
            "destinataires : il est bloqué, comme le prévoit le contrat. Contactez le support "
            "pour le débloquer.",
            en="The account {account} tried to send one message to more than {limit} "
            "recipients: it is blocked, as the contract provides. Contact support to unblock it.",
        ),
        data={
            "key": f"mail-blocked:{account}:{now.isoformat()}",
            "account": account,
            "limit": limit,
        },
    )
    event(log, "mail.abuse.account_blocked", customer=view.customer_id, account=account)


def account_blocked(session: Session, customer_id: int, account: str) -> bool:
    mailbox = mail.find_mailbox(session, account)
    if mailbox is not None and mailbox.customer_id == customer_id:
        return mailbox.blocked_at is not None
    settings = mail.find_settings(session, customer_id)
    return settings is not None and settings.relay_blocked_at is not None


def check_spam_burst(session: Session, view: CustomerView, now: datetime) -> bool:
    """After an outbound message judged spam: when the terms' count is reached within their
    minutes, suspend the mail service and tell the customer (MAIL-08). True if suspended now."""
    count = view.terms.limits.mail_spam_burst_messages
    minutes = view.terms.limits.mail_spam_burst_minutes
    if count is None or minutes is None:
        return False
    recent = session.scalar(
        select(func.count()).where(
            FilterLog.customer_id == view.customer_id,
            FilterLog.direction == Direction.OUTBOUND,
            FilterLog.at > now - timedelta(minutes=minutes),
            FilterLog.action.in_(SPAM_ACTIONS) | FilterLog.virus.is_(True),
        )
    )
    if (recent or 0) < count:
        return False
    if not _suspend(
        session,
        view,
        SuspensionCause.SPAM_BURST,
        f"MAIL-08: {recent} outbound messages judged spam within {minutes} minutes",
    ):
        return False
    notify(
        session,
        view.customer_id,
        event="mail.spam_burst",
        subject=Text(
            fr="Service email suspendu : envoi de spam détecté",
            en="Mail service suspended: spam sending detected",
        ),
        body=Text(
            fr="{count} messages sortants jugés indésirables en {minutes} minutes : le service "
            "email est suspendu pour éviter le blocage de vos envois (compte piraté ?). "
            "Contactez le support pour le rétablir.",
            en="{count} outbound messages judged spam within {minutes} minutes: the mail "
            "service is suspended to protect your sending reputation (compromised account?). "
            "Contact support to restore it.",
        ),
        data={
            "key": f"mail-burst:{view.contract.id}:{now.isoformat()}",
            "count": recent,
            "minutes": minutes,
        },
    )
    event(log, "mail.abuse.spam_burst", customer=view.customer_id, count=recent)
    return True
