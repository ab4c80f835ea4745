"""The outbox state machine as the SMPP transport drives it (CONTRACTS.md "SMS outbox")."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from operateur.billing.models import UsageKind, UsageRecord
from operateur.catalog.terms import OutsideWindow, SuspensionCause
from operateur.contracts import lifecycle
from operateur.contracts.models import SuspensionScope
from operateur.db import utcnow
from operateur.domain.calendar import PARIS
from operateur.errors import Conflict, InvalidInput
from operateur.notifications.models import Channel, OutboxMessage
from operateur.sms import callbacks, outbox
from operateur.sms.models import SmsMessage, SmsOptOut, SmsStatus
from tests.integration.conftest import Builder
from tests.integration.sms.conftest import TUESDAY_10H, SmsCustomer, make_customer, queued


def test_claim_takes_due_messages_oldest_first_up_to_the_limit(
    session: Session, sms_customer: SmsCustomer
) -> None:
    later = queued(session, sms_customer, "+33600000002", not_before=TUESDAY_10H)
    first = queued(session, sms_customer, "+33600000001", not_before=TUESDAY_10H - timedelta(1))
    future = queued(session, sms_customer, "+33600000003", not_before=TUESDAY_10H + timedelta(1))
    other_route = queued(session, sms_customer, "+33600000004", route="premium")

    claimed = outbox.claim(session, route="default", limit=1, now=TUESDAY_10H)
    assert [m.id for m in claimed] == [first.id]
    claimed = outbox.claim(session, route="default", limit=10, now=TUESDAY_10H)
    assert [m.id for m in claimed] == [later.id]
    assert first.status is later.status is SmsStatus.SUBMITTING
    assert future.status is other_route.status is SmsStatus.QUEUED
    assert outbox.claim(session, route="default", limit=10, now=TUESDAY_10H) == []


def test_claim_outside_the_window_waits_for_the_next_opening(
    session: Session, sms_customer: SmsCustomer
) -> None:
    # SPEC: SMS-04 — Monday–Saturday 08:00–22:00 Paris in the 004 offer
    saturday_late = datetime(2026, 3, 14, 22, 30, tzinfo=PARIS)
    waiting = queued(session, sms_customer, not_before=saturday_late - timedelta(hours=1))
    refused = queued(
        session,
        sms_customer,
        "+33700000001",
        not_before=saturday_late - timedelta(hours=1),
        outside_window=OutsideWindow.REJECT,
    )

    assert outbox.claim(session, route="default", limit=10, now=saturday_late) == []
    assert waiting.status is SmsStatus.QUEUED
    assert waiting.not_before == datetime(2026, 3, 16, 8, 0, tzinfo=PARIS)  # Monday 08:00
    assert refused.status is SmsStatus.REJECTED and refused.error == "outside_window"


def test_claim_skips_french_public_holidays(session: Session, sms_customer: SmsCustomer) -> None:
    # SPEC: SMS-04 — holidays as the offer says (excluded in the 004 offer): 14 July 2026 is a
    # Tuesday, so a message due that morning leaves on Wednesday 15 July at 08:00.
    holiday = datetime(2026, 7, 14, 10, 0, tzinfo=PARIS)
    message = queued(session, sms_customer, not_before=holiday)
    assert outbox.claim(session, route="default", limit=10, now=holiday) == []
    assert message.not_before == datetime(2026, 7, 15, 8, 0, tzinfo=PARIS)


def test_claim_rejects_messages_of_a_suspended_contract(
    session: Session, sms_customer: SmsCustomer
) -> None:
    message = queued(session, sms_customer)
    lifecycle.suspend(
        session,
        sms_customer.contract,
        cause=SuspensionCause.NON_PAYMENT,
        reason="impayé",
        scope=SuspensionScope.SMS,
    )
    assert outbox.claim(session, route="default", limit=10, now=TUESDAY_10H) == []
    assert message.status is SmsStatus.REJECTED
    assert message.error is not None and message.error.startswith("service:")


def test_submitted_message_is_billed_once_per_segment(
    session: Session, sms_customer: SmsCustomer
) -> None:
    # SPEC: SMS-03 — each segment billed
    message = queued(session, sms_customer, parts=3)
    outbox.claim(session, route="default", limit=10, now=TUESDAY_10H)
    outbox.mark_submitted(session, message.id, ["a1", "a2", "a3"])
    outbox.mark_submitted(session, message.id, ["a1", "a2", "a3"])  # repeated: no effect

    assert message.status is SmsStatus.SUBMITTED and message.smsc_ids == ["a1", "a2", "a3"]
    usage = session.scalars(select(UsageRecord).where(UsageRecord.kind == UsageKind.SMS)).all()
    assert [(u.sms_segments, u.callee, str(u.cost)) for u in usage] == [
        (3, "+33612345678", "0.180000")
    ]
    with pytest.raises(Conflict):
        outbox.mark_submitted(session, message.id, ["b1", "b2", "b3"])


def test_submitted_needs_distinct_smsc_ids(session: Session, sms_customer: SmsCustomer) -> None:
    message = queued(session, sms_customer, parts=2)
    outbox.claim(session, route="default", limit=10, now=TUESDAY_10H)
    with pytest.raises(InvalidInput):
        outbox.mark_submitted(session, message.id, ["same", "same"])


def test_failure_retries_or_rejects(session: Session, sms_customer: SmsCustomer) -> None:
    retried = queued(session, sms_customer, "+33600000001")
    rejected = queued(session, sms_customer, "+33600000002")
    outbox.claim(session, route="default", limit=10, now=TUESDAY_10H)

    outbox.mark_failed(session, retried.id, error="throttled", retry=True)
    outbox.mark_failed(session, rejected.id, error="invalid destination", retry=False)

    assert (retried.status, retried.attempts, retried.error) == (SmsStatus.QUEUED, 1, "throttled")
    assert rejected.status is SmsStatus.REJECTED and rejected.final_at is not None
    outbox.mark_failed(session, rejected.id, error="again", retry=True)  # final: no effect
    assert rejected.status is SmsStatus.REJECTED
    assert [m.id for m in outbox.claim(session, route="default", limit=10, now=TUESDAY_10H)] == [
        retried.id
    ]


def test_requeue_stale_puts_back_what_a_crash_left_submitting(
    session: Session, sms_customer: SmsCustomer
) -> None:
    stale = queued(session, sms_customer, "+33600000001")
    outbox.claim(session, route="default", limit=10, now=TUESDAY_10H)
    fresh = queued(session, sms_customer, "+33600000002")
    outbox.claim(session, route="default", limit=10, now=TUESDAY_10H + timedelta(minutes=10))

    count = outbox.requeue_stale(session, older_than=TUESDAY_10H + timedelta(minutes=5))
    assert count == 1
    assert session.get(SmsMessage, stale.id).status is SmsStatus.QUEUED  # type: ignore[union-attr]
    assert session.get(SmsMessage, fresh.id).status is SmsStatus.SUBMITTING  # type: ignore[union-attr]


def test_receipts_deliver_a_long_message_when_every_part_is_delivered(
    session: Session, sms_customer: SmsCustomer
) -> None:
    message = queued(session, sms_customer, parts=2)
    outbox.claim(session, route="default", limit=10, now=TUESDAY_10H)
    outbox.mark_submitted(session, message.id, ["p1", "p2"])
    done = TUESDAY_10H + timedelta(seconds=5)

    outbox.apply_receipt(session, smsc_id="p1", stat="DELIVRD", done_at=done, error=None)
    statuses = [message.status]
    outbox.apply_receipt(session, smsc_id="p2", stat="DELIVRD", done_at=done, error=None)
    statuses.append(message.status)
    assert statuses == [SmsStatus.SUBMITTED, SmsStatus.DELIVERED]
    assert message.delivered_at == done
    again = outbox.apply_receipt(session, smsc_id="p2", stat="UNDELIV", done_at=done, error="x")
    assert again is message and message.status is SmsStatus.DELIVERED
    assert (
        outbox.apply_receipt(session, smsc_id="nope", stat="DELIVRD", done_at=None, error=None)
        is None
    )


@pytest.mark.parametrize(
    ("stat", "status"),
    [
        ("UNDELIV", SmsStatus.UNDELIVERED),
        ("REJECTD", SmsStatus.UNDELIVERED),
        ("DELETED", SmsStatus.UNDELIVERED),
        ("EXPIRED", SmsStatus.EXPIRED),
    ],
)
def test_failed_receipts(
    session: Session, sms_customer: SmsCustomer, stat: str, status: SmsStatus
) -> None:
    message = queued(session, sms_customer)
    outbox.claim(session, route="default", limit=10, now=TUESDAY_10H)
    outbox.mark_submitted(session, message.id, ["m1"])
    outbox.apply_receipt(session, smsc_id="m1", stat="ENROUTE", done_at=None, error=None)
    assert message.status is SmsStatus.SUBMITTED
    outbox.apply_receipt(session, smsc_id="m1", stat=stat, done_at=None, error=None)
    assert message.status is status and message.error == stat


def test_illegal_moves_are_refused(session: Session, sms_customer: SmsCustomer) -> None:
    message = queued(session, sms_customer)
    with pytest.raises(Conflict):
        outbox.mark_submitted(session, message.id, ["x"])  # never claimed
    with pytest.raises(Conflict):
        outbox.move(session, message, SmsStatus.DELIVERED, now=utcnow())


def test_status_callbacks_are_queued_signed_for_the_customer(
    session: Session, sms_customer: SmsCustomer
) -> None:
    # SPEC: SMS-01 — status callbacks to the customer's webhook URL
    message = queued(session, sms_customer, callback_url="https://client.example/sms")
    outbox.claim(session, route="default", limit=10, now=TUESDAY_10H)
    outbox.mark_submitted(session, message.id, ["c1"])
    outbox.apply_receipt(session, smsc_id="c1", stat="DELIVRD", done_at=None, error=None)
    outbox.apply_receipt(session, smsc_id="c1", stat="DELIVRD", done_at=None, error=None)

    calls = session.scalars(
        select(OutboxMessage)
        .where(OutboxMessage.channel == Channel.WEBHOOK)
        .order_by(OutboxMessage.id)
    ).all()
    assert [(c.recipient, c.event, (c.payload or {})["status"]) for c in calls] == [
        ("https://client.example/sms", "sms.status", "submitted"),
        ("https://client.example/sms", "sms.status", "delivered"),
    ]
    assert all(c.secret and c.secret.startswith("smscb_") for c in calls)


def test_status_callbacks_carry_an_increasing_sequence_per_message(
    session: Session, sms_customer: SmsCustomer
) -> None:
    # SPEC: SMS-01 — callbacks retried or late can be put back in order by the receiver
    sent = queued(session, sms_customer, "+33600000001", callback_url="https://client.example/a")
    refused = queued(session, sms_customer, "+33600000002", callback_url="https://client.example/b")
    outbox.claim(session, route="default", limit=10, now=TUESDAY_10H)
    outbox.mark_submitted(session, sent.id, ["s1"])
    outbox.mark_failed(session, refused.id, error="invalid destination", retry=False)
    outbox.apply_receipt(session, smsc_id="s1", stat="UNDELIV", done_at=None, error="x")

    calls = session.scalars(
        select(OutboxMessage)
        .where(OutboxMessage.channel == Channel.WEBHOOK)
        .order_by(OutboxMessage.id)
    ).all()
    seen = [
        ((c.payload or {})["id"], (c.payload or {})["status"], (c.payload or {})["sequence"])
        for c in calls
    ]
    assert sorted(seen) == sorted(
        [
            (sent.id, "submitted", 1),
            (sent.id, "undelivered", 2),
            (refused.id, "rejected", 1),
        ]
    )


def test_the_sequence_grows_along_every_path_of_the_state_machine() -> None:
    # SPEC: SMS-01 — whatever way a message goes, each status reported has the next sequence
    paths: list[list[SmsStatus]] = []

    def walk(status: SmsStatus, path: list[SmsStatus], seen: set[SmsStatus]) -> None:
        following = outbox.TRANSITIONS.get(status, frozenset()) - seen
        if not following:
            paths.append(path)
        for target in following:
            walk(target, path + [target], seen | {target})

    for start in (SmsStatus.HELD, SmsStatus.QUEUED):
        walk(start, [start], {start})
    assert len(paths) > 5
    for path in paths:
        reported = [callbacks.SEQUENCE[s] for s in path if s in callbacks.REPORTED]
        assert reported == list(range(1, len(reported) + 1)), path


@pytest.mark.parametrize(
    "text",
    ["STOP", "stop", "Stop.", "STOP SMS", "stop 38100", "arrêt", "Arreter", "désabonner",
     "Desabonnement svp", "merci STOP", "unsubscribe", "S.T.O.P"],
)  # fmt: skip
def test_stop_variants_unsubscribe_from_the_shared_short_code(
    session: Session, build: Builder, text: str
) -> None:
    # SPEC: SMS-06 — every customer sharing the short code stops sending to the number
    first = make_customer(build, name="Premier")
    second = make_customer(build, name="Second")
    waiting = queued(session, second, "+33611111111", sender="PROMO")
    held = queued(session, first, "+33611111111", status=SmsStatus.HELD)
    untouched = queued(session, first, "+33622222222")

    outbox.receive(session, source="+33611111111", destination="38100", text=text)

    assert waiting.status is SmsStatus.UNSUBSCRIBED and held.status is SmsStatus.UNSUBSCRIBED
    assert untouched.status is SmsStatus.QUEUED
    scopes = session.scalars(
        select(SmsOptOut.scope).where(SmsOptOut.recipient == "+33611111111")
    ).all()
    assert "short-code:38100" in scopes
    outbox.receive(session, source="0611111111", destination="38100", text=text)  # repeated
    assert session.scalars(select(SmsOptOut).where(SmsOptOut.scope == "short-code:38100")).all()


@pytest.mark.parametrize("text", ["Bonjour", "Merci pour le rappel, à demain", "OK"])
def test_other_inbound_texts_change_nothing(
    session: Session, sms_customer: SmsCustomer, text: str
) -> None:
    # SPEC: SMS-06
    message = queued(session, sms_customer, "+33611111111")
    outbox.receive(session, source="+33611111111", destination="38100", text=text)
    assert message.status is SmsStatus.QUEUED
    assert session.scalars(select(SmsOptOut)).all() == []


def test_stop_to_a_dedicated_sender_only_binds_the_customers_that_used_it(
    session: Session, build: Builder
) -> None:
    # SPEC: SMS-06 — offers without a shared short code (cpaas): STOP binds the sender's owner
    api_customer = make_customer(build, "cpaas", name="API")
    other = make_customer(build, "cpaas", name="Autre")
    sent = queued(session, api_customer, "+33611111111", sender="MAMARQUE")
    outbox.claim(session, route="default", limit=10, now=TUESDAY_10H)
    outbox.mark_submitted(session, sent.id, ["d1"])
    later = queued(session, api_customer, "+33611111111", sender="MAMARQUE")
    elsewhere = queued(session, other, "+33611111111", sender="AUTRE")

    outbox.receive(session, source="+33611111111", destination="MAMARQUE", text="STOP")

    assert later.status is SmsStatus.UNSUBSCRIBED
    assert elsewhere.status is SmsStatus.QUEUED
    scopes = session.scalars(select(SmsOptOut.scope)).all()
    assert scopes == [f"customer:{api_customer.id}"]
