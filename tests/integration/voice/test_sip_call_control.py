"""Call control proven with real SIP: SIPp calls through the shipped Kamailio configuration,
which asks a running operateur before relaying each call, applies the maximum duration it
returns, and reports answers and ends. Amounts are worked out by hand from the test decks."""

from __future__ import annotations

from decimal import Decimal

from operateur.billing.models import ReservationStatus, UsageStatus
from operateur.contracts.models import LineKind
from operateur.testing.sip import place_calls
from tests.integration.voice.conftest import (
    LANDLINE,
    MOBILE,
    PER_SECOND_DECK,
    PREPAID_DECK,
    VoiceStack,
)


# SPEC: VOX-05
def test_a_third_simultaneous_call_on_a_centrex_line_gets_486(stack: VoiceStack) -> None:
    account = stack.account("centrex", line_kind=LineKind.CENTREX, number_prefix="+3314000")
    # three calls within a fraction of a second, each held 8 s: the third finds two live calls
    outcomes = place_calls(
        stack.kamailio.port,
        line=account.line,
        caller=account.number,
        callee=LANDLINE,
        calls=3,
        rate=10,
        hold_ms=8000,
    )
    # (two proxy workers: the INVITEs may reach operateur in any order)
    assert sorted(o.code for o in outcomes) == [200, 200, 486]
    (busy,) = [o for o in outcomes if o.code == 486]
    assert busy.reason.startswith("VOX-05 ")
    answered = [o.call_id for o in outcomes if o.code == 200]
    assert stack.callee.invited() >= set(answered)
    assert busy.call_id not in stack.callee.invited()  # never relayed
    # the two calls are billed, the refused one is not recorded (BIL-09: 60/60 at 0.012 €/min)
    records = stack.usage_records(answered)
    assert [(r.status, r.disposition, r.billed_seconds, r.cost) for r in records] == [
        (UsageStatus.RATED, "ANSWERED", 60, Decimal("0.012")),
    ] * 2
    assert stack.usage_count([busy.call_id]) == 0


# SPEC: VOX-07
def test_call_attempts_above_the_accounts_caps_get_503(stack: VoiceStack) -> None:
    account = stack.account("cpaas", line_kind=LineKind.TRUNK, number_prefix="+3316200")
    # CAPS of the cpaas terms: 1 attempt a second; three attempts 10 ms apart
    outcomes = place_calls(
        stack.kamailio.port,
        line=account.line,
        caller=account.number,
        callee=LANDLINE,
        calls=3,
        rate=100,
        hold_ms=1000,
    )
    # one attempt goes through (whichever reaches operateur first), the others are refused
    assert any(o.code == 200 for o in outcomes)
    refused = [o for o in outcomes if o.code != 200]
    assert refused, "every attempt went through"
    assert all(o.code == 503 and o.reason.startswith("VOX-07 ") for o in refused)
    assert not {o.call_id for o in refused} & stack.callee.invited()


# SPEC: VOX-01
def test_a_call_to_a_barred_destination_gets_403(stack: VoiceStack) -> None:
    account = stack.account("centrex", line_kind=LineKind.CENTREX, number_prefix="+3314001")
    # the United States are not among the centrex offer's allowed countries
    (outcome,) = place_calls(
        stack.kamailio.port,
        line=account.line,
        caller=account.number,
        callee="+12125550100",
    )
    assert outcome.code == 403
    assert outcome.reason.startswith("VOX-01 ")
    assert outcome.call_id not in stack.callee.invited()


# SPEC: BIL-10
def test_a_prepaid_call_is_cut_when_its_credit_runs_out(stack: VoiceStack) -> None:
    # 0.60 €/min billed by the second = 0.01 € a second: 0.05 € pay for 5 seconds
    account = stack.account(
        "cpaas",
        line_kind=LineKind.TRUNK,
        number_prefix="+3316201",
        deck=PREPAID_DECK,
        prepaid_credit="0.05",
    )
    (outcome,) = place_calls(
        stack.kamailio.port,
        line=account.line,
        caller=account.number,
        callee=LANDLINE,
        scenario="uac_wait_bye.xml",  # the caller would stay 60 s: the proxy hangs up
    )
    assert outcome.code == 200
    assert outcome.cut_by_proxy
    talked = outcome.talked
    assert talked is not None
    # the dialog timer counts whole seconds: the BYE comes in the 6th second after the answer
    assert 5 - 1 <= talked < 5 + 30
    (record,) = stack.usage_records([outcome.call_id])
    assert (record.status, record.billable_seconds, record.cost) == (
        UsageStatus.RATED,
        5,
        Decimal("0.05"),
    )
    reservation = stack.reservation(outcome.call_id)
    assert reservation.status is ReservationStatus.COMMITTED
    assert reservation.committed_amount == Decimal("0.05")
    wallet = stack.wallet(account.customer_id)
    assert (wallet.balance, wallet.reserved) == (Decimal("0"), Decimal("0"))
    # nothing left: the next call cannot reserve its first second
    (again,) = place_calls(
        stack.kamailio.port, line=account.line, caller=account.number, callee=LANDLINE
    )
    assert again.code == 402
    assert again.reason.startswith("BIL-10 ")


# SPEC: VOX-03
def test_a_call_is_cut_at_the_terms_maximum_duration(stack: VoiceStack) -> None:
    # the crm-voip terms cut a call after 3600 s; this contract shortens it to 3 s
    account = stack.account(
        "crm-voip",
        line_kind=LineKind.AGENT,
        number_prefix="+3316202",
        deck=PER_SECOND_DECK,
        overrides={"limits": {"max_call_seconds": 3}},
    )
    (outcome,) = place_calls(
        stack.kamailio.port,
        line=account.line,
        caller=account.number,
        callee=LANDLINE,
        scenario="uac_wait_bye.xml",
    )
    assert outcome.code == 200
    assert outcome.cut_by_proxy
    assert outcome.talked is not None and 3 - 1 <= outcome.talked < 3 + 30
    (record,) = stack.usage_records([outcome.call_id])
    # 3 s at 0.012 €/min by the second: 3 x 0.012 / 60 = 0.0006 €
    assert (record.disposition, record.billable_seconds, record.cost) == (
        "ANSWERED",
        3,
        Decimal("0.0006"),
    )


# SPEC: BIL-09
def test_answered_calls_arrive_rated(stack: VoiceStack) -> None:
    account = stack.account("centrex", line_kind=LineKind.CENTREX, number_prefix="+3314002")
    landline = place_calls(
        stack.kamailio.port,
        line=account.line,
        caller=account.number,
        callee=LANDLINE,
        hold_ms=1000,
    )
    mobile = place_calls(
        stack.kamailio.port,
        line=account.line,
        caller=account.number,
        callee=MOBILE,
        hold_ms=1000,
    )
    calls = [landline[0].call_id, mobile[0].call_id]
    assert [landline[0].code, mobile[0].code] == [200, 200]
    records = stack.usage_records(calls)
    assert [(r.callee, r.destination, r.billed_seconds, r.cost) for r in records] == [
        # a minute at 0.012 €/min (60/60)
        ("+33145000000", "France fixe", 60, Decimal("0.012")),
        # 0.01 € connection + 30 s at 0.05 €/min (30/6): 0.01 + 0.025
        ("+33612345678", "France mobile", 30, Decimal("0.035")),
    ]
    assert all(r.customer_id == account.customer_id for r in records)
