"""Telemarketing rules for prospecting accounts (VOX-10) and where they are forbidden (VOX-11)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from operateur.contracts.models import LineKind
from operateur.errors import InvalidInput
from operateur.voice import telemarketing
from operateur.voice.models import ConsentKind, Opposition, ProspectAttempt
from tests.integration.voice_control.conftest import Account, VoiceWorld

CONSUMER = "+33612345678"
NO_CONSENT_LAW: dict[str, Any] = {"voice": {"telemarketing": {"consent_required_from": None}}}


def _prospecting(voice: VoiceWorld, overrides: dict[str, Any] | None = None) -> Account:
    account = voice.account(
        "crm-voip", line_kind=LineKind.AGENT, numbers=("+33162000001",), overrides=overrides
    )
    telemarketing.set_prospecting(voice.session, account.customer.id, account.contract.id, True)
    voice.session.commit()
    return account


def _consent(
    voice: VoiceWorld, account: Account, kind: ConsentKind, at: datetime, number: str = CONSUMER
) -> None:
    telemarketing.record_consent(
        voice.session,
        account.customer.id,
        number=number,
        kind=kind,
        subject="Mme Jeanne Martin",
        given_at=at,
        proof="formulaire web n° 4521, horodaté",
        recorded_by="test",
    )
    voice.session.commit()


# SPEC: VOX-11
def test_a_centrex_contract_cannot_be_flagged_prospecting(voice: VoiceWorld) -> None:
    account = voice.account("centrex", line_kind=LineKind.CENTREX)
    with pytest.raises(InvalidInput) as refused:
        telemarketing.set_prospecting(voice.session, account.customer.id, account.contract.id, True)
    assert refused.value.field == "prospecting"
    assert "VOX-11" in refused.value.render("en")


# SPEC: VOX-10
def test_prospection_needs_prior_consent_since_august_2026(voice: VoiceWorld) -> None:
    control = voice.control()
    account = _prospecting(voice)
    _, cold = voice.call(control, account, CONSUMER)
    assert (cold.allow, cold.code) == (False, 403)
    assert cold.reason("fr").startswith("VOX-10 ")
    assert "2025-594" in cold.reason("en")
    _consent(voice, account, ConsentKind.CONSENT, voice.clock.now - timedelta(days=2))
    call_id, consented = voice.call(control, account, CONSUMER)
    assert consented.allow
    control.end(call_id, "ANSWERED", 200)
    # an account that is not prospecting places its calls without these checks
    plain = voice.account("crm-voip", line_kind=LineKind.AGENT, numbers=("+33162000002",))
    assert voice.call(control, plain, "+33698765432")[1].allow


# SPEC: VOX-10
def test_no_call_for_sixty_days_after_a_refusal(voice: VoiceWorld) -> None:
    control = voice.control()
    account = _prospecting(voice)
    _consent(voice, account, ConsentKind.CONSENT, voice.clock.now - timedelta(days=20))
    _consent(voice, account, ConsentKind.REFUSAL, voice.clock.now - timedelta(days=1))
    _, refused = voice.call(control, account, CONSUMER)
    assert (refused.allow, refused.code) == (False, 403)
    assert "refused" in refused.reason("en")
    voice.clock.advance(59 * 86400)
    assert not voice.call(control, account, CONSUMER)[1].allow
    # after 60 days the refusal no longer counts, but a new consent is needed (loi 2025-594)
    _consent(voice, account, ConsentKind.CONSENT, voice.clock.now)
    voice.clock.advance(86400 + 60)
    assert voice.call(control, account, CONSUMER)[1].allow


# SPEC: VOX-10
def test_at_most_four_calls_per_number_per_thirty_days(voice: VoiceWorld) -> None:
    control = voice.control()
    account = _prospecting(voice)
    _consent(voice, account, ConsentKind.CONTRACT, voice.clock.now - timedelta(days=100))
    for _ in range(4):
        call_id, decision = voice.call(control, account, CONSUMER)
        assert decision.allow
        control.end(call_id, "NO ANSWER", 480)
        voice.clock.advance(3600)
    _, fifth = voice.call(control, account, CONSUMER)
    assert (fifth.allow, fifth.code) == (False, 403)
    assert "at most 4" in fifth.reason("en")
    _consent(voice, account, ConsentKind.CONTRACT, voice.clock.now, number="+33698765432")
    assert voice.call(control, account, "+33698765432")[1].allow  # another number
    voice.clock.advance(30 * 86400 - 3 * 3600)  # 30 days after the first attempt
    assert voice.call(control, account, CONSUMER)[1].allow


# SPEC: VOX-10
@pytest.mark.parametrize(
    ("moment", "allowed"),
    [
        (datetime(2026, 11, 24, 10, 30, tzinfo=UTC), True),  # Tuesday 11:30 Paris
        (datetime(2026, 11, 24, 12, 30, tzinfo=UTC), False),  # Tuesday 13:30 Paris (lunch)
        (datetime(2026, 11, 24, 18, 59, tzinfo=UTC), True),  # Tuesday 19:59 Paris
        (datetime(2026, 11, 24, 19, 0, tzinfo=UTC), False),  # Tuesday 20:00 Paris
        (datetime(2026, 11, 28, 10, 30, tzinfo=UTC), False),  # Saturday
        (datetime(2026, 12, 25, 10, 30, tzinfo=UTC), False),  # Friday, Christmas Day
    ],
)
def test_cold_calls_only_on_the_legal_days_and_hours(
    voice: VoiceWorld, moment: datetime, allowed: bool
) -> None:
    control = voice.control()
    account = _prospecting(voice, NO_CONSENT_LAW)  # a contract signed under the former law
    voice.clock.now = moment
    _, decision = voice.call(control, account, CONSUMER)
    assert decision.allow is allowed
    if not allowed:
        assert decision.code == 403
        assert "legal days and hours" in decision.reason("en")
        _consent(voice, account, ConsentKind.CONSENT, moment - timedelta(days=1))
        assert voice.call(control, account, CONSUMER)[1].allow  # consent lifts the hours


# SPEC: VOX-10
def test_the_opposition_list_stops_cold_calls(voice: VoiceWorld) -> None:
    control = voice.control()
    account = _prospecting(voice, NO_CONSENT_LAW)
    report = telemarketing.import_oppositions(
        voice.session, "numero\n06 12 34 56 78\n+33698765432;2026-10-01\n", source="bloctel"
    )
    voice.session.commit()
    assert (report.added, report.total) == (2, 2)
    _, opposed = voice.call(control, account, CONSUMER)
    assert (opposed.allow, opposed.code) == (False, 403)
    assert "Bloctel" in opposed.reason("en")
    assert voice.call(control, account, "+33611111111")[1].allow
    _consent(voice, account, ConsentKind.CONSENT, voice.clock.now - timedelta(days=1))
    assert voice.call(control, account, CONSUMER)[1].allow


# SPEC: VOX-10
def test_an_opposition_file_with_bad_lines_changes_nothing(voice: VoiceWorld) -> None:
    telemarketing.import_oppositions(voice.session, "0612345678\n", source="bloctel-1")
    with pytest.raises(InvalidInput) as refused:
        telemarketing.import_oppositions(
            voice.session,
            "0698765432\nbonjour\n\n# a comment\n0612\n",
            source="bloctel-2",
            replace=True,
        )
    rows = refused.value.details["rows"]
    assert [(r["line"], r["value"]) for r in rows] == [(2, "bonjour"), (5, "0612")]
    numbers = set(voice.session.scalars(select(Opposition.number)))
    assert numbers == {"+33612345678"}
    report = telemarketing.import_oppositions(
        voice.session, "0698765432\n0698765432\n", source="bloctel-2", replace=True
    )
    assert (report.added, report.removed, report.total) == (1, 1, 1)
    assert voice.session.scalar(select(func.count(Opposition.id))) == 1


def test_old_prospection_attempts_are_forgotten(voice: VoiceWorld) -> None:
    """VOX-13 data minimisation: attempts older than the counting period (30 days) go."""
    account = _prospecting(voice)
    for days in (40, 31, 1):
        telemarketing.record_attempt(
            voice.session,
            customer_id=account.customer.id,
            number=CONSUMER,
            call_id=f"old-{days}",
            at=voice.clock.now - timedelta(days=days),
        )
    assert telemarketing.purge_attempts(voice.session, voice.clock.now) == 2
    left = voice.session.scalars(select(ProspectAttempt.call_id)).all()
    assert left == ["old-1"]
