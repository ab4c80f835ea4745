"""Concurrent calls, CAPS and dialling rate, enforced by call control on both counter backends."""

from __future__ import annotations

from operateur.contracts.models import LineKind
from tests.integration.voice_control.conftest import VoiceWorld


# SPEC: VOX-05
def test_a_third_simultaneous_call_on_a_centrex_line_is_busy(voice: VoiceWorld) -> None:
    control = voice.control()
    account = voice.account("centrex", line_kind=LineKind.CENTREX, lines=2)
    first, one = voice.call(control, account)
    _, two = voice.call(control, account)
    _, three = voice.call(control, account)
    assert (one.allow, two.allow) == (True, True)
    assert (three.allow, three.code) == (False, 486)
    assert three.reason("en").startswith("VOX-05 ")
    # another line of the same account is not concerned
    _, other_line = voice.call(control, account, line=account.lines[1])
    assert other_line.allow
    # when a call ends, its place is free again
    assert control.end(first, "ANSWERED", 200)
    _, again = voice.call(control, account)
    assert again.allow


# SPEC: VOX-07
def test_the_eleventh_simultaneous_platform_call_is_busy(voice: VoiceWorld) -> None:
    control = voice.control()
    account = voice.account("cpaas", line_kind=LineKind.TRUNK, lines=2, numbers=("+33162000001",))
    decisions = []
    for n in range(11):
        line = account.lines[n % 2]  # the limit is the account's, whatever the trunk
        decisions.append(voice.call(control, account, line=line)[1])
        voice.clock.advance(1.5)  # below the account's CAPS of 1 attempt a second
    assert all(d.allow for d in decisions[:10])
    assert (decisions[10].allow, decisions[10].code) == (False, 486)
    assert decisions[10].reason("fr").startswith("VOX-07 ")


# SPEC: VOX-07
def test_caps_is_a_sliding_window_not_a_one_second_bucket(voice: VoiceWorld) -> None:
    control = voice.control()
    account = voice.account("cpaas", line_kind=LineKind.TRUNK, numbers=("+33162000001",))
    voice.clock.advance(0.7)  # 10:30:00.7
    _, first = voice.call(control, account)
    voice.clock.advance(0.6)  # 10:30:01.3: a new second, but 0.6 s after the first attempt
    _, second = voice.call(control, account)
    voice.clock.advance(0.41)  # 10:30:01.71: more than a second after the first attempt
    _, third = voice.call(control, account)
    assert first.allow
    assert (second.allow, second.code) == (False, 503)
    assert second.reason("en").startswith("VOX-07 ")
    assert third.allow


# SPEC: VOX-07
def test_options_raise_the_platform_limits(voice: VoiceWorld) -> None:
    control = voice.control()
    account = voice.account(
        "cpaas",
        line_kind=LineKind.TRUNK,
        items=[("option.caps.monthly", 1)],  # a lot of 10 CAPS on top of the 1 of the terms
        numbers=("+33162000001",),
    )
    decisions = [voice.call(control, account)[1] for _ in range(12)]
    assert [d.allow for d in decisions] == [True] * 10 + [False, False]
    assert decisions[10].code == 486  # 10 simultaneous calls reached before 11 CAPS
    voice.clock.advance(1.0)
    account_b = voice.account(
        "cpaas",
        line_kind=LineKind.TRUNK,
        items=[("option.caps.monthly", 1), ("option.voice_capacity.monthly", 1)],
        numbers=("+33162000002",),
    )
    decisions = [voice.call(control, account_b)[1] for _ in range(12)]
    assert [d.allow for d in decisions] == [True] * 11 + [False]
    assert decisions[11].code == 503  # 11 CAPS, 40 channels


# SPEC: VOX-11
def test_a_centrex_line_dialling_like_a_machine_is_refused(voice: VoiceWorld) -> None:
    control = voice.control()
    account = voice.account("centrex", line_kind=LineKind.CENTREX)
    outcomes = []
    for _ in range(11):
        call_id, decision = voice.call(control, account)
        outcomes.append(decision)
        control.end(call_id, "NO ANSWER", 487)
        voice.clock.advance(2)
    assert all(d.allow for d in outcomes[:10])
    assert (outcomes[10].allow, outcomes[10].code) == (False, 403)
    assert outcomes[10].reason("en").startswith("VOX-11 ")
    voice.clock.advance(60)
    assert voice.call(control, account)[1].allow


# SPEC: VOX-02
def test_emergency_calls_are_never_limited(voice: VoiceWorld) -> None:
    control = voice.control()
    account = voice.account("centrex", line_kind=LineKind.CENTREX)
    assert voice.call(control, account)[1].allow
    assert voice.call(control, account)[1].allow
    assert not voice.call(control, account)[1].allow  # the line is full (VOX-05)
    call_id, emergency = voice.call(control, account, "112")
    assert (emergency.allow, emergency.emergency, emergency.route) == (True, True, "emergency")
    assert emergency.max_duration == control.settings.voice_uncapped_call_seconds
    _, samu = voice.call(control, account, "15")
    assert samu.allow
    assert control.end(call_id, "ANSWERED", 200)
