"""Calls received from the carrier, through the shipped Kamailio configuration: operateur says
which line rings or why the call is refused; the call is tracked and recorded, never billed."""

from __future__ import annotations

from decimal import Decimal

from operateur.contracts.models import LineKind
from operateur.testing.sip import place_calls
from tests.integration.voice.conftest import MOBILE, VoiceStack

INTERNATIONAL_CARRIER = "127.0.0.2"  # PROXY_DEFINES: INTERNATIONAL_CARRIER_NETS


# SPEC: VOX-13
def test_a_call_to_a_customers_number_rings_its_line_and_is_recorded_not_billed(
    stack: VoiceStack,
) -> None:
    account = stack.account("centrex", line_kind=LineKind.CENTREX, number_prefix="+3314100")
    (outcome,) = place_calls(
        stack.kamailio.carrier_port,
        line="carrier",
        caller=MOBILE,
        callee=account.number,
        hold_ms=1000,
    )
    assert outcome.code == 200
    (invite,) = [
        e for e in stack.callee.events() if e.event == "INVITE" and e.call_id == outcome.call_id
    ]
    assert f"sip:{account.line}@" in invite.rest  # sent to the line, on the lines' side
    (record,) = stack.usage_records([outcome.call_id])
    assert (record.direction, record.caller, record.callee, record.cost) == (
        "inbound",
        MOBILE,
        account.number,
        Decimal("0"),
    )
    assert record.billable_seconds >= 1 and record.customer_id == account.customer_id


# SPEC: VOX-04, VOX-09
def test_calls_to_outbound_only_numbers_and_spoofed_calls_from_abroad_are_refused(
    stack: VoiceStack,
) -> None:
    crm = stack.account("crm-voip", line_kind=LineKind.AGENT, number_prefix="+3316200")
    (outcome,) = place_calls(
        stack.kamailio.carrier_port, line="carrier", caller=MOBILE, callee=crm.number
    )
    assert (outcome.code, outcome.reason[:7]) == (403, "VOX-04 ")

    centrex = stack.account("centrex", line_kind=LineKind.CENTREX, number_prefix="+3314101")
    (spoofed,) = place_calls(
        stack.kamailio.carrier_port,
        line="carrier",
        caller="+33145000000",  # a Paris number, arriving from abroad
        callee=centrex.number,
        local_ip=INTERNATIONAL_CARRIER,
    )
    assert (spoofed.code, spoofed.reason[:7]) == (403, "VOX-09 ")
    (genuine,) = place_calls(
        stack.kamailio.carrier_port,
        line="carrier",
        caller="+442079460000",  # a London number, arriving from abroad
        callee=centrex.number,
        hold_ms=500,
        local_ip=INTERNATIONAL_CARRIER,
    )
    assert genuine.code == 200
    refused = {outcome.call_id, spoofed.call_id}
    assert not refused & stack.callee.invited()  # never relayed
