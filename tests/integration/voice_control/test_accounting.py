"""Prepaid credit, usage records, idempotent ends, reaping and the line cache."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from sqlalchemy import select

from operateur.billing import wallets
from operateur.billing.models import Reservation, ReservationStatus, UsageRecord, UsageStatus
from operateur.catalog.terms import SuspensionCause
from operateur.contracts import lifecycle
from operateur.contracts.models import LineKind
from operateur.voice.control import USAGE_SOURCE, reservation_ref
from tests.integration.voice_control.conftest import VoiceWorld


def _record(voice: VoiceWorld, call_id: str) -> UsageRecord:
    return voice.session.scalars(
        select(UsageRecord).where(
            UsageRecord.source == USAGE_SOURCE, UsageRecord.external_id == call_id
        )
    ).one()


def _reservation(voice: VoiceWorld, call_id: str) -> Reservation:
    voice.session.expire_all()
    return voice.session.scalars(
        select(Reservation).where(Reservation.session_ref == reservation_ref(call_id))
    ).one()


# SPEC: BIL-10, BIL-09
def test_prepaid_call_lasts_what_the_credit_pays_and_end_commits_the_rated_cost(
    voice: VoiceWorld,
) -> None:
    control = voice.control()
    account = voice.account("centrex", line_kind=LineKind.CENTREX, prepaid=True)
    voice.top_up(account, "1.00")
    # France mobile: 0.05 €/min, 0.01 € connection, steps 30/6. The longest call 1.00 € pays:
    # 0.01 + 0.05 × b / 60 <= 1.00  =>  b <= 1188 s, and 1188 = 30 + 193 × 6 is a step boundary.
    call_id, decision = voice.call(control, account, "+33612345678")
    assert decision.allow
    assert decision.max_duration == 1188
    reservation = _reservation(voice, call_id)
    assert reservation.amount == Decimal("1.00")  # 1188 s would cost 0.01 + 0.99 = 1.00
    assert wallets.get_wallet(voice.session, account.customer.id).available == Decimal("0")
    control.answer(call_id)
    voice.clock.advance(95)
    control.end(call_id, "ANSWERED", 200)
    record = _record(voice, call_id)
    # 95 s is billed 30 + 11 × 6 = 96 s: 0.01 + 0.05 × 96 / 60 = 0.09 €
    assert (record.status, record.billed_seconds, record.cost) == (
        UsageStatus.RATED,
        96,
        Decimal("0.09"),
    )
    assert _reservation(voice, call_id).status is ReservationStatus.COMMITTED
    view = wallets.get_wallet(voice.session, account.customer.id)
    assert (view.balance, view.reserved) == (Decimal("0.91"), Decimal("0"))


# SPEC: BIL-10
def test_prepaid_call_refused_when_the_first_step_cannot_be_reserved(voice: VoiceWorld) -> None:
    control = voice.control()
    account = voice.account("centrex", line_kind=LineKind.CENTREX, prepaid=True)
    voice.top_up(account, "0.03")
    # first step to a mobile: 0.01 + 0.05 × 30 / 60 = 0.035 € > 0.03 €
    _, mobile = voice.call(control, account, "+33612345678")
    assert (mobile.allow, mobile.code) == (False, 402)
    assert mobile.reason("en").startswith("BIL-10 ")
    # the same credit pays a landline call: 0.012 €/min, 60/60: 0.03 € pays 2 minutes
    call_id, landline = voice.call(control, account, "+33145000000")
    assert (landline.allow, landline.max_duration) == (True, 120)
    # a refused call holds no slot: the line still takes its two calls
    _, second = voice.call(control, account, "+33145000000")
    assert (second.allow, second.code) == (False, 402)  # everything is reserved by the first
    control.end(call_id, "NO ANSWER", 480)
    assert _reservation(voice, call_id).status is ReservationStatus.COMMITTED
    assert wallets.get_wallet(voice.session, account.customer.id).available == Decimal("0.03")


# SPEC: BIL-10
def test_prepaid_exhaustion_suspension_answers_402(voice: VoiceWorld) -> None:
    control = voice.control()
    account = voice.account("centrex", line_kind=LineKind.CENTREX, prepaid=True)
    lifecycle.suspend(
        voice.session,
        account.contract,
        cause=SuspensionCause.PREPAID_DEPLETED,
        reason="crédit épuisé",
    )
    voice.session.commit()
    _, decision = voice.call(control, account)
    assert (decision.allow, decision.code) == (False, 402)


def test_end_is_idempotent_and_writes_one_usage_record(voice: VoiceWorld) -> None:
    control = voice.control()
    account = voice.account("centrex", line_kind=LineKind.CENTREX)
    call_id, _ = voice.call(control, account)
    control.answer(call_id)
    voice.clock.advance(61)
    assert control.end(call_id, "ANSWERED", 200)
    assert not control.end(call_id, "ANSWERED", 200)
    assert not control.answer(call_id)
    record = _record(voice, call_id)
    # France landline 0.012 €/min, 60/60: 61 s billed 120 s = 0.024 €
    assert (record.billed_seconds, record.cost) == (120, Decimal("0.024"))


# SPEC: BIL-09
def test_ends_taken_together_bill_each_call_once(voice: VoiceWorld) -> None:
    """The proxy link's batch: a repeated end and the end of an unknown call change nothing."""
    control = voice.control()
    account = voice.account("centrex", line_kind=LineKind.CENTREX)
    answered, _ = voice.call(control, account)
    unanswered, _ = voice.call(control, account)
    control.answer(answered)
    voice.clock.advance(61)
    ended = control.end_many(
        [
            (answered, "ANSWERED", 200, None),
            (unanswered, "NO ANSWER", 480, None),
            (answered, "ANSWERED", 200, None),
            ("never-seen", "ANSWERED", 200, None),
        ]
    )
    assert ended == 2
    assert control.end_many([(answered, "ANSWERED", 200, None)]) == 0  # sent again: no effect
    # France landline 0.012 €/min, 60/60: 61 s billed 120 s = 0.024 €; unanswered: nothing
    assert (_record(voice, answered).billed_seconds, _record(voice, answered).cost) == (
        120,
        Decimal("0.024"),
    )
    assert (_record(voice, unanswered).status, _record(voice, unanswered).cost) == (
        UsageStatus.RATED,
        Decimal("0"),
    )
    assert voice.call(control, account)[1].allow  # both slots of the line are free again


def test_authorize_again_with_the_same_call_id_counts_once(voice: VoiceWorld) -> None:
    control = voice.control()
    account = voice.account("centrex", line_kind=LineKind.CENTREX)
    call_id, first = voice.call(control, account)
    _, again = voice.call(control, account, call_id=call_id)  # a retransmitted INVITE
    assert (first.allow, again.allow, again.max_duration) == (True, True, first.max_duration)
    assert voice.call(control, account)[1].allow  # the second slot is still free


# SPEC: VOX-05, BIL-10
def test_reaping_frees_slots_and_reservations_of_calls_that_never_ended(
    voice: VoiceWorld,
) -> None:
    control = voice.control()
    account = voice.account("centrex", line_kind=LineKind.CENTREX, prepaid=True)
    voice.top_up(account, "10.00")
    answered, decision = voice.call(control, account, "+33145000000")
    ringing, _ = voice.call(control, account, "+33145000000")
    control.answer(answered)
    assert not voice.call(control, account)[1].allow  # line full
    assert control.reap() == 0  # nothing is late yet
    settings = control.settings
    voice.clock.advance(
        settings.voice_ring_seconds + decision.max_duration + settings.voice_reap_margin_seconds + 1
    )
    assert control.reap() == 2
    assert control.live_calls(account.customer.id) == []
    # the answered call is billed up to its maximum duration, the other not at all
    record = _record(voice, answered)
    assert record.billable_seconds == decision.max_duration
    assert _record(voice, ringing).cost == Decimal("0")
    assert _reservation(voice, ringing).status is ReservationStatus.COMMITTED
    view = wallets.get_wallet(voice.session, account.customer.id)
    assert view.reserved == Decimal("0")
    assert view.balance == Decimal("10.00") - record.cost
    # the line takes calls again
    assert voice.call(control, account)[1].allow


def test_changes_committed_in_this_process_reach_the_cached_line_at_once(
    voice: VoiceWorld,
) -> None:
    control = voice.control(voice_cache_seconds=3600)
    account = voice.account("centrex", line_kind=LineKind.CENTREX)
    call_id, first = voice.call(control, account)
    assert first.allow
    control.end(call_id, "NO ANSWER", 480)
    lifecycle.suspend(
        voice.session, account.contract, cause=SuspensionCause.NON_PAYMENT, reason="impayé"
    )
    voice.session.commit()
    _, refused = voice.call(control, account)
    assert (refused.allow, refused.code) == (False, 403)


def test_live_calls_of_a_customer(voice: VoiceWorld) -> None:
    control = voice.control()
    account = voice.account("centrex", line_kind=LineKind.CENTREX)
    other = voice.account("centrex", line_kind=LineKind.CENTREX, numbers=("+33140000002",))
    call_id, _ = voice.call(control, account, "+33612345678")
    voice.call(control, other)
    control.answer(call_id)
    (live,) = control.live_calls(account.customer.id)
    assert (live.call_id, live.callee, live.route) == (call_id, "+33612345678", "fr_mobile")
    assert live.answered_at == voice.clock.now
    assert len(control.live_calls()) == 2


# SPEC: VOX-05
def test_the_scheduler_reaps_in_its_own_transaction(voice: VoiceWorld) -> None:
    control = voice.control()
    account = voice.account("centrex", line_kind=LineKind.CENTREX)
    call_id, decision = voice.call(control, account)
    voice.clock.advance(
        control.settings.voice_ring_seconds
        + decision.max_duration
        + control.settings.voice_reap_margin_seconds
        + 1
    )
    assert control.reap(voice.session) == 1
    voice.session.commit()
    assert _record(voice, call_id).disposition == "FAILED"
    assert voice.call(control, account)[1].allow


# SPEC: BIL-09
def test_a_late_report_is_billed_at_the_moment_the_proxy_saw_it(voice: VoiceWorld) -> None:
    """Reports queued by the proxy while operateur was away carry their time (``at``): the call
    is billed for what was talked, not up to the report's arrival; a time in the future (the
    proxy's clock ahead) counts as the arrival."""
    control = voice.control()
    account = voice.account("centrex", line_kind=LineKind.CENTREX)
    call_id, decision = voice.call(control, account, "+33612345678")
    assert decision.allow
    answered = voice.clock.now + timedelta(seconds=2)
    voice.clock.advance(30)  # the answer report arrives 28 s late
    control.answer(call_id, at=answered)
    voice.clock.advance(600)  # the end report arrives 10 minutes late
    control.end(call_id, "ANSWERED", 200, at=answered + timedelta(seconds=95))
    record = _record(voice, call_id)
    # 95 s talked, steps 30/6: 96 s billed, 0.01 + 0.05 × 96 / 60 = 0.09 €
    assert (record.billed_seconds, record.cost) == (96, Decimal("0.09"))

    call_id, _ = voice.call(control, account, "+33612345678")
    control.answer(call_id)
    voice.clock.advance(60)
    control.end(call_id, "ANSWERED", 200, at=voice.clock.now + timedelta(hours=1))
    assert _record(voice, call_id).billed_seconds == 60
