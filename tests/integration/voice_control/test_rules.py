"""Destinations, caller IDs, suspensions and maximum durations decided by call control."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select

from operateur.billing.models import UsageRecord
from operateur.catalog.terms import SuspensionCause
from operateur.contracts import lifecycle
from operateur.contracts import service as contracts
from operateur.contracts.models import LineKind, SuspensionScope
from operateur.contracts.schemas import LineIn
from operateur.errors import Conflict
from operateur.notifications.models import OutboxMessage
from operateur.voice import suspensions
from operateur.voice.control import USAGE_SOURCE
from tests.integration.voice_control.conftest import VoiceWorld


# SPEC: VOX-01
def test_barred_destinations_are_refused_with_403(voice: VoiceWorld) -> None:
    control = voice.control()
    centrex = voice.account("centrex", line_kind=LineKind.CENTREX)
    # outside the contract's allowed countries (France, DOM, Europe)
    _, usa = voice.call(control, centrex, "+12125550100")
    assert (usa.allow, usa.code, usa.route) == (False, 403, "international")
    assert usa.reason("en").startswith("VOX-01 ")
    assert "allowed countries" in usa.reason("en")
    # a country of the list goes through
    assert voice.call(control, centrex, "+3222000000")[1].allow
    # an international premium / IRSF prefix of the blocklist
    cpaas = voice.account("cpaas", line_kind=LineKind.TRUNK, numbers=("+33162000001",))
    _, irsf = voice.call(control, cpaas, "+88213000000")
    assert (irsf.allow, irsf.code) == (False, 403)
    assert "IRSF" in irsf.reason("en")
    # not a number of the numbering plan
    _, nothing = voice.call(control, centrex, "0123")
    assert (nothing.allow, nothing.code) == (False, 404)


# SPEC: VOX-01
def test_a_suspended_destination_is_refused_once_the_notice_has_run(voice: VoiceWorld) -> None:
    control = voice.control()
    account = voice.account("centrex", line_kind=LineKind.CENTREX)
    row = suspensions.suspend_destination(
        voice.session,
        prefix="+32",
        reason="fraude constatée vers ce pays",
        effective_at=voice.clock.now + timedelta(days=8),
    )
    voice.session.commit()
    mails = voice.session.scalars(
        select(OutboxMessage).where(OutboxMessage.customer_id == account.customer.id)
    ).all()
    assert any("+32" in m.subject for m in mails)  # the customer is told by email
    assert voice.call(control, account, "+3222000000")[1].allow  # not yet effective
    voice.clock.advance(8 * 86400 + 1)
    _, refused = voice.call(control, account, "+3222000000")
    assert (refused.allow, refused.code) == (False, 403)
    assert "suspended" in refused.reason("en")
    suspensions.lift_destination(voice.session, row.id)
    voice.session.commit()
    assert voice.call(control, account, "+3222000000")[1].allow


# SPEC: VOX-01
def test_a_retried_destination_suspension_is_recorded_and_announced_once(
    voice: VoiceWorld,
) -> None:
    account = voice.account("centrex", line_kind=LineKind.CENTREX)
    when = voice.clock.now + timedelta(days=8)

    def suspend(reason: str = "fraude constatée vers ce pays") -> int:
        row = suspensions.suspend_destination(
            voice.session, prefix="+32", reason=reason, effective_at=when
        )
        voice.session.commit()
        return row.id

    def mails() -> int:
        return len(
            voice.session.scalars(
                select(OutboxMessage).where(
                    OutboxMessage.customer_id == account.customer.id,
                    OutboxMessage.event == suspensions.EVENT,
                )
            ).all()
        )

    first = suspend()
    sent = mails()
    assert sent >= 1
    assert suspend() == first  # the retry answers with the suspension already recorded
    assert mails() == sent
    assert [row.id for row in suspensions.list_destinations(voice.session)] == [first]
    # another announcement for the same destination while it is suspended is refused
    with pytest.raises(Conflict) as refused:
        suspend("autre motif")
    assert refused.value.field == "prefix"
    voice.session.rollback()
    # once lifted, the destination can be suspended again
    suspensions.lift_destination(voice.session, first)
    voice.session.commit()
    assert suspend() != first


# SPEC: VOX-02
def test_emergency_and_fax_where_the_offer_excludes_them(voice: VoiceWorld) -> None:
    control = voice.control()
    crm = voice.account("crm-voip", line_kind=LineKind.AGENT, numbers=("+33162000001",))
    _, emergency = voice.call(control, crm, "112")
    assert (emergency.allow, emergency.code, emergency.emergency) == (False, 403, True)
    assert emergency.reason("en").startswith("VOX-02 ")
    assert "112" in emergency.reason("fr")
    _, fax = voice.call(control, crm, "+33145000000", media="fax")
    assert (fax.allow, fax.code) == (False, 403)
    assert fax.reason("en").startswith("VOX-02 ")
    centrex = voice.account("centrex", line_kind=LineKind.CENTREX, numbers=("+33140000002",))
    assert voice.call(control, centrex, "+33145000000", media="fax")[1].allow


# SPEC: VOX-02
def test_emergency_calls_are_free_and_routed_even_when_suspended(voice: VoiceWorld) -> None:
    control = voice.control()
    account = voice.account("centrex", line_kind=LineKind.CENTREX)
    lifecycle.suspend(
        voice.session, account.contract, cause=SuspensionCause.NON_PAYMENT, reason="impayé"
    )
    voice.session.commit()
    assert not voice.call(control, account)[1].allow
    call_id, emergency = voice.call(control, account, "18")
    assert emergency.allow and emergency.emergency
    control.answer(call_id)
    voice.clock.advance(300)
    control.end(call_id, "ANSWERED", 200)
    billed = voice.session.scalars(
        select(UsageRecord).where(UsageRecord.external_id == call_id)
    ).all()
    assert billed == []  # never billed


# SPEC: VOX-09
def test_caller_id_must_be_assigned_to_the_customer(voice: VoiceWorld) -> None:
    control = voice.control()
    account = voice.account("centrex", line_kind=LineKind.CENTREX)
    other = voice.account("centrex", line_kind=LineKind.CENTREX, numbers=("+33140000002",))
    _, spoofed = voice.call(control, account, caller="+33140000002")  # the other customer's
    assert (spoofed.allow, spoofed.code) == (False, 403)
    assert spoofed.reason("en").startswith("VOX-09 ")
    _, anonymous = voice.call(control, account, caller="anonymous")
    assert not anonymous.allow
    assert voice.call(control, account, caller="01 40 00 00 01")[1].allow  # national form
    assert voice.call(control, other)[1].allow


# SPEC: VOX-09
def test_automated_calling_offers_present_only_the_allowed_ranges(voice: VoiceWorld) -> None:
    control = voice.control()
    account = voice.account(
        "cpaas",
        line_kind=LineKind.TRUNK,
        numbers=("+33612345678", "+33145000001", "+33162000001", "+33809100000"),
    )
    _, mobile = voice.call(control, account, caller="+33612345678")
    assert (mobile.allow, mobile.code) == (False, 403)
    assert "mobile" in mobile.reason("en")
    voice.clock.advance(1.1)
    _, ordinary = voice.call(control, account, caller="+33145000001")
    assert not ordinary.allow
    assert "2022-1583" in ordinary.reason("en")
    voice.clock.advance(1.1)
    assert voice.call(control, account, caller="+33162000001")[1].allow  # polyvalent 0162
    voice.clock.advance(1.1)
    assert voice.call(control, account, caller="+33809100000")[1].allow  # an 08 number
    # Centrex is not an automated-calling offer: an ordinary 01 number is fine there
    centrex = voice.account("centrex", line_kind=LineKind.CENTREX, numbers=("+33145000009",))
    assert voice.call(control, centrex)[1].allow


def test_suspensions_and_partial_suspensions_refuse_calls(voice: VoiceWorld) -> None:
    """CTR-06 through the single may-use check: whole, or international calls only."""
    control = voice.control()
    account = voice.account("centrex", line_kind=LineKind.CENTREX)
    lifecycle.suspend(
        voice.session,
        account.contract,
        cause=SuspensionCause.FRAUD,
        reason="appels suspects",
        scope=SuspensionScope.INTERNATIONAL_CALLS,
    )
    voice.session.commit()
    _, abroad = voice.call(control, account, "+3222000000")
    assert (abroad.allow, abroad.code) == (False, 403)
    assert abroad.reason("en").startswith("CTR-06 ")
    assert voice.call(control, account, "+33145000000")[1].allow  # national calls go on
    lifecycle.restore(voice.session, account.contract, reason="levée")
    voice.session.commit()
    assert voice.call(control, account, "+3222000000")[1].allow


# SPEC: CTR-06
def test_a_suspended_contract_is_not_bypassed_through_another_contract_of_the_customer(
    voice: VoiceWorld,
) -> None:
    control = voice.control()
    account = voice.account("centrex", line_kind=LineKind.CENTREX)
    second = voice.build.contract(account.customer, "centrex", date(2026, 1, 5), [])
    other_line = contracts.create_line(
        voice.session,
        account.customer.id,
        LineIn(contract_id=second.id, kind=LineKind.CENTREX, label="Agence"),
    )
    lifecycle.suspend(voice.session, second, cause=SuspensionCause.FRAUD, reason="appels suspects")
    voice.session.commit()
    _, refused = voice.call(control, account, line=other_line)
    assert (refused.allow, refused.code) == (False, 403)
    assert refused.reason("en").startswith("CTR-06 ")
    assert voice.call(control, account)[1].allow  # the other contract's line calls on


# SPEC: VOX-03, VOX-06
def test_max_duration_is_the_smallest_cap_of_the_terms(voice: VoiceWorld) -> None:
    control = voice.control()
    crm = voice.account("crm-voip", line_kind=LineKind.AGENT, numbers=("+33162000001",))
    assert voice.call(control, crm)[1].max_duration == 3600  # cut after 1 hour (VOX-03)
    centrex = voice.account("centrex", line_kind=LineKind.CENTREX, numbers=("+33140000002",))
    assert voice.call(control, centrex)[1].max_duration == 120 * 60  # long-call limit (VOX-06)
    shortened = voice.account(
        "crm-voip",
        line_kind=LineKind.AGENT,
        numbers=("+33162000002",),
        overrides={"limits": {"max_call_seconds": 90}},
    )
    assert voice.call(control, shortened)[1].max_duration == 90


# SPEC: VOX-03
def test_a_call_is_billed_at_most_its_maximum_duration(voice: VoiceWorld) -> None:
    control = voice.control()
    account = voice.account(
        "crm-voip",
        line_kind=LineKind.AGENT,
        numbers=("+33162000001",),
        overrides={"limits": {"max_call_seconds": 90}},
    )
    call_id, decision = voice.call(control, account, "+33145000000")
    control.answer(call_id)
    voice.clock.advance(95)  # the proxy's BYE arrives late
    control.end(call_id, "ANSWERED", 200)
    record = voice.session.scalars(
        select(UsageRecord).where(
            UsageRecord.source == USAGE_SOURCE, UsageRecord.external_id == call_id
        )
    ).one()
    assert record.billable_seconds == 90
