"""The outbox's batch forms, as the SMPP dispatcher records a window of SMSC answers in one
transaction: submit responses, failures, delivery receipts and the prepaid debits they bring."""

from __future__ import annotations

import hashlib
import hmac
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
import sqlalchemy
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from operateur.billing import wallets
from operateur.billing.models import (
    PeriodUsage,
    Reservation,
    ReservationStatus,
    UsageKind,
    UsageRecord,
    WalletEntry,
    WalletEntryKind,
)
from operateur.catalog.terms import PaymentMethod
from operateur.config import Settings
from operateur.db import utcnow
from operateur.errors import Conflict, InvalidInput, NotFound
from operateur.notifications import service as notifications
from operateur.notifications.models import Channel, OutboxMessage
from operateur.sms import callbacks, charging, outbox, service
from operateur.sms.models import SmsMessage, SmsStatus, SmsSubmission
from operateur.sms.service import SendRequest
from operateur.testing.webhooks import WebhookReceiver
from tests.integration.conftest import Builder
from tests.integration.sms.conftest import TUESDAY_10H, SmsCustomer, make_customer, queued

S = SmsStatus
Receipt = outbox.DeliveryReceipt


def send(session: Session, owner: SmsCustomer, to: str, text: str) -> SmsMessage:
    """A single send through the whole path (stock taken, price, prepaid reservation)."""
    return service.send(session, owner.id, SendRequest(to=to, text=text), now=TUESDAY_10H)


def usage_of(session: Session) -> list[tuple[str, int, str]]:
    """(message id, segments, cost) of the SMS usage records, by message."""
    records = session.scalars(
        select(UsageRecord).where(UsageRecord.kind == UsageKind.SMS).order_by(UsageRecord.id)
    )
    return [(r.external_id, r.sms_segments, str(r.cost.normalize())) for r in records]


def totals_of(session: Session, owner: SmsCustomer) -> tuple[int, int, Decimal]:
    """(messages, segments, cost) in the contract's open SMS usage totals."""
    rows = session.scalars(
        select(PeriodUsage).where(
            PeriodUsage.contract_id == owner.contract.id, PeriodUsage.kind == UsageKind.SMS
        )
    ).all()
    return (
        sum(row.calls for row in rows),
        sum(row.sms_segments for row in rows),
        sum((row.cost for row in rows), Decimal("0")),
    )


def test_a_batch_of_submit_responses_with_a_cancelled_message(
    session: Session, sms_customer: SmsCustomer
) -> None:
    # SPEC: SMS-01, SMS-03 — each accepted message SUBMITTED and billed per segment, once; a
    # message cancelled meanwhile stays cancelled, unbilled, and does not hold up the others.
    first = send(session, sms_customer, "0600000001", "Bonjour")
    cancelled = send(session, sms_customer, "0600000002", "Bonjour")
    long = send(session, sms_customer, "0600000003", "a" * 200)
    assert long.parts == 2
    outbox.claim(session, route="default", limit=10, now=TUESDAY_10H)
    # a stale sweep put it back in the queue, then its campaign was cancelled
    outbox.requeue_stale(session, older_than=TUESDAY_10H + timedelta(hours=1))
    outbox.move(session, cancelled, S.CANCELLED, now=TUESDAY_10H, error="campaign_cancelled")
    outbox.claim(session, route="default", limit=10, now=TUESDAY_10H)  # the other two again
    assert service.stock_view(session, sms_customer.id, "2026-03")[0].used == 3  # 4 - 1 back

    refused = outbox.mark_submitted_many(
        session,
        [(first.id, ["s1"]), (cancelled.id, ["s2"]), (long.id, ["s3", "s4"]), (999_999, ["s5"])],
    )

    assert [(r.message_id, type(r.error)) for r in refused] == [
        (cancelled.id, Conflict),
        (999_999, NotFound),
    ]
    assert isinstance(refused[0].error, Conflict)
    assert refused[0].error.code == "sms_illegal_transition"
    assert (first.status, first.smsc_ids) == (S.SUBMITTED, ["s1"])
    assert (long.status, long.smsc_ids) == (S.SUBMITTED, ["s3", "s4"])
    assert first.submitted_at is not None and long.submitted_at == first.submitted_at
    assert (cancelled.status, cancelled.smsc_ids, cancelled.error) == (
        S.CANCELLED,
        [],
        "campaign_cancelled",
    )
    parts = session.execute(
        select(SmsSubmission.smsc_id, SmsSubmission.message_id, SmsSubmission.part).order_by(
            SmsSubmission.smsc_id
        )
    ).all()
    assert [tuple(p) for p in parts] == [
        ("s1", first.id, 1),
        ("s3", long.id, 1),
        ("s4", long.id, 2),
    ]
    # 0.06 € per segment under the 004 offer: one usage record per accepted message
    assert usage_of(session) == [(str(first.id), 1, "0.06"), (str(long.id), 2, "0.12")]
    assert totals_of(session, sms_customer) == (2, 3, Decimal("0.18"))
    assert service.stock_view(session, sms_customer.id, "2026-03")[0].used == 3

    # the same answers again (a batch replayed after a failed commit): nothing more
    assert outbox.mark_submitted_many(session, [(first.id, ["s1"]), (long.id, ["s3", "s4"])]) == []
    assert len(usage_of(session)) == 2
    assert totals_of(session, sms_customer) == (2, 3, Decimal("0.18"))


def test_a_batch_refuses_missing_or_repeated_smsc_ids_item_by_item(
    session: Session, sms_customer: SmsCustomer
) -> None:
    good = queued(session, sms_customer, "+33600000001")
    repeated = queued(session, sms_customer, "+33600000002", parts=2)
    empty = queued(session, sms_customer, "+33600000003")
    outbox.claim(session, route="default", limit=10, now=TUESDAY_10H)

    refused = outbox.mark_submitted_many(
        session, [(good.id, ["g1"]), (repeated.id, ["r", "r"]), (empty.id, [])]
    )

    assert [(r.message_id, type(r.error)) for r in refused] == [
        (repeated.id, InvalidInput),
        (empty.id, InvalidInput),
    ]
    assert good.status is S.SUBMITTED
    assert repeated.status is empty.status is S.SUBMITTING


def test_failures_in_a_batch(session: Session, sms_customer: SmsCustomer) -> None:
    # SPEC: SMS-01 — a refusal is final with its reason (stock given back); a transient one
    # goes back to the queue for another attempt
    retried = send(session, sms_customer, "0600000001", "Bonjour")
    rejected = send(session, sms_customer, "0600000002", "a" * 400)
    assert rejected.parts == 3
    outbox.claim(session, route="default", limit=10, now=TUESDAY_10H)
    assert service.stock_view(session, sms_customer.id, "2026-03")[0].used == 4

    refused = outbox.mark_failed_many(
        session,
        [
            (retried.id, "throttled", True),
            (rejected.id, "submit_sm_resp 0x0000000B", False),
            (rejected.id, "again", True),  # final already: no effect
            (999_999, "lost", True),
        ],
    )

    assert [(r.message_id, type(r.error)) for r in refused] == [(999_999, NotFound)]
    assert (retried.status, retried.attempts, retried.error) == (S.QUEUED, 1, "throttled")
    assert (rejected.status, rejected.error) == (S.REJECTED, "submit_sm_resp 0x0000000B")
    assert rejected.final_at is not None
    assert service.stock_view(session, sms_customer.id, "2026-03")[0].used == 1  # 3 back
    assert usage_of(session) == []


def test_receipts_in_a_batch(session: Session, sms_customer: SmsCustomer) -> None:
    # SPEC: SMS-01 — per-message status from the delivery receipts, with the callbacks
    single = queued(session, sms_customer, "+33600000001", callback_url="https://c.example/s")
    long = queued(session, sms_customer, "+33600000002", parts=2)
    mixed = queued(session, sms_customer, "+33600000003", parts=2)
    lost = queued(session, sms_customer, "+33600000004", callback_url="https://c.example/s")
    outbox.claim(session, route="default", limit=10, now=TUESDAY_10H)
    outbox.mark_submitted_many(
        session,
        [
            (single.id, ["a"]),
            (long.id, ["b1", "b2"]),
            (mixed.id, ["c1", "c2"]),
            (lost.id, ["d"]),
        ],
    )
    done = TUESDAY_10H + timedelta(seconds=30)

    matched = outbox.apply_receipts(
        session,
        [
            Receipt("b1", "ENROUTE"),
            Receipt("b1", "DELIVRD", done),
            Receipt("a", "DELIVRD", done),
            Receipt("zz", "DELIVRD", done),  # no such part
            Receipt("c1", "UNDELIV", done, "err:001"),
            Receipt("b2", "DELIVRD", done + timedelta(seconds=1)),
            Receipt("c2", "DELIVRD", done),
            Receipt("a", "UNDELIV", done, "err:002"),  # a second final receipt: ignored
            Receipt("d", "EXPIRED", None),
        ],
    )

    assert matched == [
        long.id,
        long.id,
        single.id,
        None,
        mixed.id,
        long.id,
        mixed.id,
        single.id,
        lost.id,
    ]
    assert (single.status, single.delivered_at, single.final_at) == (S.DELIVERED, done, done)
    # a long message is delivered once its last part is; the first failing part decides
    assert (long.status, long.delivered_at) == (S.DELIVERED, done + timedelta(seconds=1))
    assert (mixed.status, mixed.error, mixed.delivered_at) == (S.UNDELIVERED, "err:001", None)
    assert (lost.status, lost.error) == (S.EXPIRED, "EXPIRED")
    assert lost.final_at is not None
    stats = {part.smsc_id: part.stat for part in session.scalars(select(SmsSubmission))}
    assert stats == {
        "a": "DELIVRD",
        "b1": "DELIVRD",
        "b2": "DELIVRD",
        "c1": "UNDELIV",
        "c2": "DELIVRD",
        "d": "EXPIRED",
    }
    calls = session.scalars(
        select(OutboxMessage)
        .where(OutboxMessage.channel == Channel.WEBHOOK)
        .order_by(OutboxMessage.id)
    ).all()
    assert [((c.payload or {})["id"], (c.payload or {})["status"]) for c in calls] == [
        (single.id, "submitted"),
        (lost.id, "submitted"),
        (single.id, "delivered"),
        (lost.id, "expired"),
    ]

    # the same batch again (its deliver_sm answered late, the SMSC sent it twice): no change
    again = outbox.apply_receipts(session, [Receipt("a", "DELIVRD", done), Receipt("d", "EXPIRED")])
    assert again == [single.id, lost.id]
    assert len(session.scalars(select(OutboxMessage)).all()) == 4


def test_prepaid_settlement_of_a_batch(session: Session, build: Builder) -> None:
    # SPEC: BIL-10 — each message debited at its cost when the SMSC accepts it, its reservation
    # closed; one whose reservation lapsed meanwhile is debited afresh while credit allows
    owner = make_customer(build, "cpaas", payment_method=PaymentMethod.PREPAID)
    wallets.open_wallet(session, owner.id)
    wallets.top_up(
        session, owner.id, received=Decimal("1.00"), bank_fees=Decimal("0"), reference="T1"
    )
    request = service.request_sender(session, owner.id, "MaBoutique")
    service.review_sender(session, request, authorise=True, reason="ok", reviewer="staff")

    def send(to: str, text: str) -> SmsMessage:
        sent = SendRequest(to=to, text=text, sender="MaBoutique")
        return service.send(session, owner.id, sent, now=TUESDAY_10H)

    three_parts = send("0612345671", "a" * 400)  # 3 × 0.045 €
    one = send("0612345672", "Bonjour")
    other = send("0612345673", "Bonsoir")
    lapsed = send("0612345674", "Rappel")
    assert [m.cost for m in (three_parts, one, other, lapsed)] == [
        Decimal("0.135"),
        Decimal("0.045"),
        Decimal("0.045"),
        Decimal("0.045"),
    ]
    view = wallets.get_wallet(session, owner.id)
    assert (view.balance, view.reserved) == (Decimal("1.00"), Decimal("0.270"))
    wallets.release(session, charging.reservation_ref(lapsed.id))  # expired while waiting
    outbox.claim(session, route="default", limit=10, now=TUESDAY_10H)

    refused = outbox.mark_submitted_many(
        session,
        [
            (three_parts.id, ["p1", "p2", "p3"]),
            (one.id, ["o1"]),
            (other.id, ["x1"]),
            (lapsed.id, ["l1"]),
        ],
    )

    assert refused == []
    view = wallets.get_wallet(session, owner.id)
    assert (view.balance, view.reserved) == (Decimal("0.730"), Decimal("0"))  # 1 - 6 × 0.045
    entries = session.scalars(
        select(WalletEntry)
        .where(WalletEntry.kind == WalletEntryKind.USAGE)
        .order_by(WalletEntry.reference)
    ).all()
    assert sorted((e.reference, e.amount) for e in entries) == sorted(
        [
            (f"usage:sms:{three_parts.id}", Decimal("-0.135")),
            (f"usage:sms:{one.id}", Decimal("-0.045")),
            (f"usage:sms:{other.id}", Decimal("-0.045")),
            (f"usage:sms:{lapsed.id}:late", Decimal("-0.045")),
        ]
    )
    reservations = {
        r.session_ref: (r.status, r.committed_amount)
        for r in session.scalars(select(Reservation).where(Reservation.customer_id == owner.id))
    }
    assert reservations == {
        f"sms:{three_parts.id}": (ReservationStatus.COMMITTED, Decimal("0.135")),
        f"sms:{one.id}": (ReservationStatus.COMMITTED, Decimal("0.045")),
        f"sms:{other.id}": (ReservationStatus.COMMITTED, Decimal("0.045")),
        f"sms:{lapsed.id}": (ReservationStatus.RELEASED, Decimal("0")),
        f"sms:{lapsed.id}:late": (ReservationStatus.COMMITTED, Decimal("0.045")),
    }
    assert totals_of(session, owner) == (4, 6, Decimal("0.270"))

    # replayed: nothing debited twice
    outbox.mark_submitted_many(session, [(one.id, ["o1"]), (other.id, ["x1"])])
    assert wallets.get_wallet(session, owner.id).balance == Decimal("0.730")


def test_status_callbacks_of_a_batch_are_queued_at_once_signed_and_retried(
    session: Session,
    session_factory: sessionmaker[Session],
    build: Builder,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # SPEC: SMS-01 status callbacks to each customer's URL, HMAC-signed with its own secret and
    # retried; a batch of receipts queues its callbacks with one INSERT
    monkeypatch.setenv("OPERATEUR_WEBHOOK_ALLOW_PRIVATE_TARGETS", "true")
    first, second = make_customer(build, name="Un"), make_customer(build, name="Deux")
    with WebhookReceiver(statuses=[500, 200]) as receiver:
        url = receiver.url
        owners = [first] * 3 + [second] * 2
        messages = [
            queued(session, owner, f"+3360000001{index}", callback_url=url)
            for index, owner in enumerate(owners)
        ]
        outbox.claim(session, route="default", limit=10, now=TUESDAY_10H)
        outbox.mark_submitted_many(session, [(m.id, [f"s{m.id}"]) for m in messages])
        session.flush()

        inserts: list[str] = []

        def count(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
            if statement.lstrip().upper().startswith("INSERT INTO NOTIFICATION_OUTBOX"):
                inserts.append(statement)

        sqlalchemy.event.listen(session.get_bind(), "before_cursor_execute", count)
        try:
            outbox.apply_receipts(session, [Receipt(f"s{m.id}", "DELIVRD") for m in messages])
            session.flush()
        finally:
            sqlalchemy.event.remove(session.get_bind(), "before_cursor_execute", count)
        assert len(inserts) == 1  # the five "delivered" callbacks in one statement
        session.commit()

        now = utcnow()  # the callbacks are due from when they were queued
        assert notifications.deliver_due(session_factory, now) == 9  # the first one got a 500
        later = now + notifications.backoff(Settings(), 1)
        assert notifications.deliver_due(session_factory, later) == 1

    secrets = {
        owner.id: callbacks.settings_of(session, owner.id).callback_secret
        for owner in (first, second)
    }
    assert secrets[first.id] != secrets[second.id]
    delivered = [r for r in receiver.requests if r.status == 200]
    assert sorted(
        (r.json()["data"]["id"], r.json()["data"]["status"]) for r in delivered
    ) == sorted((m.id, status) for m in messages for status in ("submitted", "delivered"))
    owner_of = {m.id: m.customer_id for m in messages}
    for request in receiver.requests:
        secret = secrets[owner_of[request.json()["data"]["id"]]]
        signature = hmac.new(secret.encode(), request.body, hashlib.sha256).hexdigest()
        assert request.headers["X-Operateur-Signature"] == f"sha256={signature}"
        assert request.json()["event"] == "sms.status"
