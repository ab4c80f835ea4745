"""The dispatcher records a window of SMSC answers in one transaction (issue 6, "Performance"),
without giving up what a message's single state machine guarantees."""

from __future__ import annotations

import threading
from datetime import timedelta

from operateur.sms import outbox
from operateur.sms.dispatcher import OutboxSource
from operateur.sms.models import SmsStatus
from operateur.sms.smpp import Receipt, Settlement, SmppConnector, Submission, Submitted
from operateur.testing.smsc import SmscSimulator
from tests.integration.smpp.conftest import World, fixed_clock, route_to
from tests.integration.sms.conftest import TUESDAY_10H

S = SmsStatus


def test_one_refused_answer_does_not_hold_up_the_batch(world: World) -> None:
    # SPEC: SMS-01 — each message keeps its own state machine inside a batch
    first, cancelled, last = world.queue(3, text="Promo")
    source = OutboxSource(world.factory, "default", clock=fixed_clock())
    assert len(source.claim(10)) == 3
    with world.session() as session, session.begin():  # requeued by a sweep, then cancelled
        outbox.requeue_stale(session, older_than=TUESDAY_10H + timedelta(hours=1))
        message = outbox.get_message(session, cancelled)
        outbox.move(session, message, S.CANCELLED, now=TUESDAY_10H, error="campaign_cancelled")
        outbox.claim(session, route="default", limit=10, now=TUESDAY_10H)

    unknown = source.settle(
        Settlement(
            submitted=[
                Submitted(first, ("m1",)),
                Submitted(cancelled, ("m2",)),
                Submitted(last, ("m3",)),
            ],
            receipts=[_receipt("m1"), _receipt("m9")],
        )
    )

    assert [receipt.smsc_id for receipt in unknown] == ["m9"]
    assert world.statuses([first, cancelled, last]) == [S.DELIVERED, S.CANCELLED, S.SUBMITTED]


def test_a_batch_that_fails_is_recorded_item_by_item(world: World) -> None:
    # SPEC: SMS-01 — the SMSC gave the same id twice (the database refuses the batch): every
    # other answer is still recorded, the faulty one is left SUBMITTING for the stale sweep
    first, second, third = world.queue(3, text="Promo")
    source = OutboxSource(world.factory, "default", clock=fixed_clock())
    source.claim(10)

    source.settle(
        Settlement(
            submitted=[
                Submitted(first, ("dup",)),
                Submitted(second, ("dup",)),
                Submitted(third, ("t1",)),
            ]
        )
    )

    assert world.statuses([first, second, third]) == [S.SUBMITTED, S.SUBMITTING, S.SUBMITTED]
    [one, _, three] = world.messages([first, second, third])
    assert (one.smsc_ids, three.smsc_ids) == (["dup"], ["t1"])


class _Watching:
    """The outbox source, checking at each commit how many parts the SMSC has taken that are
    not recorded yet: what a crash at that moment would leave in doubt."""

    def __init__(self, source: OutboxSource, smsc: SmscSimulator) -> None:
        self.source = source
        self.smsc = smsc
        self.recorded = 0
        self.worst = 0
        self.lock = threading.Lock()

    def claim(self, limit: int) -> list[Submission]:
        return self.source.claim(limit)

    def settle(self, settlement: Settlement) -> list[Receipt]:
        with self.lock:
            self.worst = max(self.worst, len(self.smsc.submits) - self.recorded)
        unknown = self.source.settle(settlement)
        with self.lock:
            self.recorded += sum(len(done.smsc_ids) for done in settlement.submitted)
        return unknown


def test_at_most_a_window_of_parts_is_ever_unrecorded(world: World, smsc: SmscSimulator) -> None:
    # SPEC: SMS-01 — the window counts a part until its outcome is committed, so that a crash
    # can leave at most a window of parts in doubt (smpp.py, "Exactly once", 2 and 5)
    ids = world.queue(120, text="Promo")
    route = route_to(smsc, window=5)
    watching = _Watching(OutboxSource(world.factory, "default", clock=fixed_clock()), smsc)
    SmppConnector(route, watching).run(threading.Event(), until_idle=True)

    assert all(status in (S.SUBMITTED, S.DELIVERED) for status in world.statuses(ids))
    assert watching.recorded == len(smsc.submits) == 120
    assert 1 <= watching.worst <= 5


def _receipt(smsc_id: str) -> Receipt:
    return Receipt(
        smsc_id=smsc_id,
        stat="DELIVRD",
        done_at=None,
        error=None,
        source="+33610000000",
        destination="38100",
        text=None,
    )
