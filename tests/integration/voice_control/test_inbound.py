"""Calls received on the customers' numbers: who may ring, what is filtered, what is recorded."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import func, select

from operateur.billing.models import PeriodUsage, UsageRecord
from operateur.catalog.terms import SuspensionCause
from operateur.contracts import lifecycle
from operateur.contracts.models import LineKind, SuspensionScope
from operateur.voice.control import USAGE_SOURCE, VoiceControl
from operateur.voice.decision import Decision
from operateur.voice.inbound import InboundRequest
from tests.integration.voice_control.conftest import VoiceWorld

_calls = iter(range(1_000_000))


def receive(
    control: VoiceControl, callee: str, caller: str = "+33612345678", *, from_abroad: bool = False
) -> tuple[str, Decision, str]:
    call_id = f"in-{next(_calls)}@carrier"
    decision, line = control.authorize_inbound(
        InboundRequest(call_id=call_id, caller=caller, callee=callee, from_abroad=from_abroad)
    )
    return call_id, decision, line


# SPEC: VOX-13
def test_a_received_call_rings_the_numbers_line_and_is_kept_as_traffic_never_billed(
    voice: VoiceWorld,
) -> None:
    control = voice.control()
    account = voice.account("centrex", line_kind=LineKind.CENTREX, numbers=("+33140000001",))
    call_id, decision, line = receive(control, "01 40 00 00 01")
    assert (decision.allow, decision.code, line) == (True, 200, account.line.sip_username)
    assert decision.max_duration == 120 * 60  # the offer's long-call limit applies too
    control.answer(call_id)
    voice.clock.advance(61)
    assert control.end(call_id, "ANSWERED", 200)
    record = voice.session.scalars(
        select(UsageRecord).where(
            UsageRecord.source == USAGE_SOURCE, UsageRecord.external_id == call_id
        )
    ).one()
    assert (record.direction, record.callee, record.billable_seconds, record.cost) == (
        "inbound",
        "+33140000001",
        61,
        Decimal("0"),
    )
    # nothing reaches the running totals invoices are made from
    assert voice.session.scalar(select(func.count()).select_from(PeriodUsage)) == 0


# SPEC: VOX-04
def test_the_calling_crm_numbers_receive_no_calls(voice: VoiceWorld) -> None:
    control = voice.control()
    voice.account("crm-voip", line_kind=LineKind.AGENT, numbers=("+33162000001",))
    _, decision, _ = receive(control, "+33162000001")
    assert (decision.allow, decision.code) == (False, 403)
    assert decision.reason("en").startswith("VOX-04 ")


# SPEC: VOX-09
def test_calls_from_abroad_presenting_a_french_geographic_or_09_number_are_filtered(
    voice: VoiceWorld,
) -> None:
    control = voice.control()
    voice.account("centrex", line_kind=LineKind.CENTREX, numbers=("+33140000001",))
    for spoofed in ("+33145000000", "+33555000000", "+33970000000"):
        _, decision, _ = receive(control, "+33140000001", spoofed, from_abroad=True)
        assert (decision.allow, decision.code) == (False, 403), spoofed
        assert decision.reason("fr").startswith("VOX-09 appel venu de l'étranger")
    for genuine, abroad in (
        ("+442079460000", True),  # a British caller
        ("+33612345678", True),  # a French mobile roaming abroad
        ("+33145000000", False),  # a Paris number through a French interconnection
    ):
        call_id, decision, _ = receive(control, "+33140000001", genuine, from_abroad=abroad)
        assert decision.allow, genuine
        control.end(call_id, "NO ANSWER", 480)


# SPEC: CTR-06, VOX-05
def test_suspensions_and_the_lines_concurrent_calls_apply_to_received_calls(
    voice: VoiceWorld,
) -> None:
    control = voice.control()
    account = voice.account("centrex", line_kind=LineKind.CENTREX, numbers=("+33140000001",))
    lifecycle.suspend(
        voice.session,
        account.contract,
        cause=SuspensionCause.FRAUD,
        reason="appels suspects",
        scope=SuspensionScope.OUTBOUND_CALLS,
    )
    voice.session.commit()
    assert not voice.call(control, account)[1].allow
    first, decision, _ = receive(control, "+33140000001")
    assert decision.allow  # an outbound-calls suspension lets calls in
    second, decision, _ = receive(control, "+33140000001")
    assert decision.allow
    _, third, _ = receive(control, "+33140000001")
    assert (third.allow, third.code) == (False, 486)  # 2 calls at once per Centrex line
    assert third.reason("en").startswith("VOX-05 ")
    control.end(first, "ANSWERED", 200)
    control.end(second, "ANSWERED", 200)

    lifecycle.restore(voice.session, account.contract, reason="levée")
    lifecycle.suspend(
        voice.session, account.contract, cause=SuspensionCause.FRAUD, reason="fraude avérée"
    )
    voice.session.commit()
    _, refused, _ = receive(control, "+33140000001")
    assert (refused.allow, refused.code) == (False, 403)
    assert refused.reason("en").startswith("CTR-06 ")


def test_a_number_nobody_holds_is_not_found(voice: VoiceWorld) -> None:
    control = voice.control()
    _, decision, line = receive(control, "+33140009999")
    assert (decision.allow, decision.code, line) == (False, 404, "")
