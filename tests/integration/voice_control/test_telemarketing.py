"""Telemarketing rules for prospecting accounts (VOX-10) and where they are forbidden (VOX-11)."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from operateur.accounts import audit
from operateur.accounts.permissions import system_actor
from operateur.catalog.service import get_offer
from operateur.catalog.terms import WeeklyWindow
from operateur.contracts.models import LineKind
from operateur.errors import InvalidInput
from operateur.voice import telemarketing
from operateur.voice.control import AuthorizeRequest
from operateur.voice.counters import Counters
from operateur.voice.decision import Decision
from operateur.voice.models import ConsentKind, Opposition, ProspectAttempt
from tests.integration.conftest import Builder
from tests.integration.voice_control.conftest import Account, Clock, VoiceWorld

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
    first = voice.clock.now  # Tuesday 11:30 Paris
    for _ in range(4):
        call_id, decision = voice.call(control, account, CONSUMER)
        assert decision.allow
        control.end(call_id, "NO ANSWER", 480)
        voice.clock.advance(900)
    _, fifth = voice.call(control, account, CONSUMER)
    assert (fifth.allow, fifth.code) == (False, 403)
    assert "at most 4" in fifth.reason("en")
    _consent(voice, account, ConsentKind.CONTRACT, voice.clock.now, number="+33698765432")
    assert voice.call(control, account, "+33698765432")[1].allow  # another number
    voice.clock.now = first + timedelta(days=30)  # 30 days after the first attempt
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
        (datetime(2026, 11, 24, 9, 0, tzinfo=UTC), True),  # Tuesday 10:00 Paris, opening
        (datetime(2026, 11, 24, 8, 59, 59, tzinfo=UTC), False),  # Tuesday 09:59:59 Paris
        (datetime(2026, 11, 24, 12, 0, tzinfo=UTC), False),  # Tuesday 13:00 Paris, closed
        (datetime(2026, 11, 24, 13, 0, tzinfo=UTC), True),  # Tuesday 14:00 Paris, reopens
        (datetime(2026, 3, 30, 8, 0, tzinfo=UTC), True),  # Monday after DST: 10:00 CEST
        (datetime(2026, 3, 30, 7, 59, tzinfo=UTC), False),  # 09:59 CEST (10:59 in CET terms)
        (datetime(2026, 5, 25, 10, 30, tzinfo=UTC), False),  # Pentecost Monday (L.3133-1)
        # art. D.223-9 refers to the holidays of L.3133-1 code du travail: the Alsace-Moselle
        # extras (Good Friday, 26 December: local law) are not among them
        (datetime(2027, 3, 26, 10, 30, tzinfo=UTC), True),  # Good Friday 2027, 11:30 Paris
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


def _rules(**changes: Any) -> tuple[Any, tuple[Any, ...]]:
    """The calling tool's telemarketing terms (with ``changes``) and their windows."""
    voice_terms = get_offer("crm-voip").terms.voice
    assert voice_terms is not None
    rules = voice_terms.telemarketing.model_copy(update=changes)
    return rules, tuple(telemarketing.time_window(w) for w in rules.prospection_windows)


def _why(voice: VoiceWorld, account: Account, number: str, now: datetime, **changes: Any) -> Any:
    rules, windows = _rules(**changes)
    return telemarketing.prospection_refusal(
        voice.session,
        customer_id=account.customer.id,
        number=number,
        rules=rules,
        windows=windows,
        now=now,
    )


# SPEC: VOX-10 (décret 2022-1313, art. D.223-9: only the consumer's express prior consent lifts
# the days and hours; an existing contract exempts from Bloctel and from the consent law only)
def test_an_existing_contract_does_not_lift_the_legal_days_and_hours(voice: VoiceWorld) -> None:
    control = voice.control()
    account = _prospecting(voice)
    voice.clock.now = datetime(2026, 11, 28, 10, 30, tzinfo=UTC)  # Saturday 11:30 Paris
    _consent(voice, account, ConsentKind.CONTRACT, voice.clock.now - timedelta(days=10))
    _, saturday = voice.call(control, account, CONSUMER)
    assert (saturday.allow, saturday.code) == (False, 403)
    assert "legal days and hours" in saturday.reason("en")
    _consent(voice, account, ConsentKind.CONSENT, voice.clock.now - timedelta(days=1))
    assert voice.call(control, account, CONSUMER)[1].allow


# SPEC: VOX-10 (art. D.223-9: "ces heures correspondant à celles du fuseau horaire du
# consommateur": an overseas consumer is called within the hours of their own time zone)
@pytest.mark.parametrize(
    ("number", "moment", "allowed"),
    [
        ("+596696201234", datetime(2026, 11, 24, 10, 30, tzinfo=UTC), False),  # 06:30 Martinique
        ("+596696201234", datetime(2026, 11, 24, 14, 30, tzinfo=UTC), True),  # 10:30 Martinique
        ("+262692123456", datetime(2026, 11, 24, 16, 30, tzinfo=UTC), False),  # 20:30 Réunion
        # +262 may be Réunion or Mayotte: the window must be open in both
        ("+262692123456", datetime(2026, 11, 24, 8, 30, tzinfo=UTC), True),  # 12:30 Réunion
        ("+33612345678", datetime(2026, 11, 24, 16, 30, tzinfo=UTC), True),  # 17:30 Paris
    ],
)
def test_the_hours_are_those_of_the_consumers_time_zone(
    voice: VoiceWorld, number: str, moment: datetime, allowed: bool
) -> None:
    account = _prospecting(voice)
    _consent(voice, account, ConsentKind.CONTRACT, moment - timedelta(days=5), number=number)
    refusal = _why(voice, account, number, moment)
    if allowed:
        assert refusal is None
    else:
        assert refusal is not None and (refusal.rule, refusal.cause) == (
            "VOX-10",
            "outside_legal_hours",
        )


# SPEC: VOX-10 (art. D.223-9: no contact before "soixante jours calendaires révolus" from the
# refusal: the day of the refusal does not count, the quiet period ends at the end of day 60)
def test_the_sixty_days_after_a_refusal_are_whole_calendar_days(voice: VoiceWorld) -> None:
    account = _prospecting(voice)
    refused_at = datetime(2026, 11, 19, 10, 30, tzinfo=UTC)  # Thursday 11:30 Paris
    _consent(voice, account, ConsentKind.REFUSAL, refused_at)
    day_60 = datetime(2027, 1, 18, 14, 0, tzinfo=UTC)  # Monday 15:00 Paris, day 60
    refusal = _why(voice, account, CONSUMER, day_60, consent_required_from=None)
    assert refusal is not None and refusal.cause == "refused_recently"
    assert "19/01/2027" in refusal.text.render("fr")
    assert "2027-01-19" in refusal.text.render("en")
    day_61 = datetime(2027, 1, 19, 9, 0, tzinfo=UTC)  # Tuesday 10:00 Paris
    assert _why(voice, account, CONSUMER, day_61, consent_required_from=None) is None


# SPEC: VOX-10 (loi 2025-594: the consumer's *prior* consent; a record dated after the call
# neither allows it nor hides an earlier refusal)
def test_a_consent_dated_after_the_call_does_not_count(voice: VoiceWorld) -> None:
    account = _prospecting(voice)
    now = voice.clock.now
    _consent(voice, account, ConsentKind.CONSENT, now + timedelta(days=3))
    refusal = _why(voice, account, CONSUMER, now)
    assert refusal is not None and refusal.cause == "consent_required"
    _consent(voice, account, ConsentKind.REFUSAL, now - timedelta(days=1), number="+33698765432")
    _consent(voice, account, ConsentKind.CONSENT, now + timedelta(days=1), number="+33698765432")
    refusal = _why(voice, account, "+33698765432", now)
    assert refusal is not None and refusal.cause == "refused_recently"


# SPEC: VOX-10 (an opposition import reports each bad line with its number and its reason)
def test_each_bad_line_of_an_opposition_file_says_why(voice: VoiceWorld) -> None:
    with pytest.raises(InvalidInput) as refused:
        telemarketing.import_oppositions(
            voice.session, "numero\n0612\n3654\n112\nbonjour\n0612345678\n", source="bloctel"
        )
    rows = refused.value.details["rows"]
    assert [(r["line"], r["reason"]) for r in rows] == [
        (2, "too_short"),
        (3, "short_number"),
        (4, "emergency"),
        (5, "not_a_number"),
    ]


# SPEC: VOX-10 (the refusal names the hours of the customer's terms, not hours written in code)
def test_the_hours_refusal_names_the_terms_windows(voice: VoiceWorld) -> None:
    account = _prospecting(voice)
    _consent(voice, account, ConsentKind.CONTRACT, voice.clock.now - timedelta(days=5))
    window = WeeklyWindow.model_validate(
        {
            "days": ["mon", "tue", "wed"],
            "start": "09:00",
            "end": "12:30",
            "timezone": "Europe/Paris",
            "exclude_public_holidays": True,
        }
    )
    thursday = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)
    refusal = _why(voice, account, CONSUMER, thursday, prospection_windows=(window,))
    assert refusal is not None and refusal.cause == "outside_legal_hours"
    assert "lun.–mer. 09:00–12:30" in refusal.text.render("fr")
    assert "Mon–Wed 09:00–12:30" in refusal.text.render("en")
    assert "20:00" not in refusal.text.render("en")


# SPEC: VOX-10 (a file without any number is refused: it would silently empty the list)
@pytest.mark.parametrize("text", ["", "numero\n", "# export\n\n"])
def test_an_opposition_file_without_numbers_is_refused(voice: VoiceWorld, text: str) -> None:
    telemarketing.import_oppositions(voice.session, "0612345678\n", source="bloctel-1")
    with pytest.raises(InvalidInput) as refused:
        telemarketing.import_oppositions(voice.session, text, source="bloctel-2", replace=True)
    assert refused.value.field == "file"
    assert refused.value.render("fr") and refused.value.render("en")
    assert set(voice.session.scalars(select(Opposition.number))) == {"+33612345678"}


# SPEC: VOX-10
def test_simultaneous_calls_cannot_exceed_the_attempts_per_number(
    committed_factory: sessionmaker[Session], counters: Counters, clock: Clock, tmp_path: Path
) -> None:
    """Calls authorized at the same moment (several proxy workers) each see the attempts
    already recorded: the number's last attempt goes to one of them only."""
    session = committed_factory()
    audit.set_actor(session, system_actor("test"))
    voice = VoiceWorld(Builder(session), session, committed_factory, counters, clock, tmp_path)
    control = voice.control()
    account = _prospecting(voice)
    _consent(voice, account, ConsentKind.CONSENT, voice.clock.now - timedelta(days=100))
    for _ in range(3):
        call_id, decision = voice.call(control, account, CONSUMER)
        assert decision.allow
        control.end(call_id, "NO ANSWER", 480)
    start = threading.Barrier(6)

    def attempt(index: int) -> Decision:
        start.wait()
        return control.authorize(
            AuthorizeRequest(
                call_id=f"simultaneous-{index}@test",
                line=account.line.sip_username,
                caller=account.numbers[0],
                callee=CONSUMER,
                source_ip="127.0.0.1",
                media="audio",
            )
        )

    with ThreadPoolExecutor(6) as pool:
        decisions = list(pool.map(attempt, range(6)))
    assert sum(decision.allow for decision in decisions) == 1
    with committed_factory() as check:
        recorded = check.scalar(
            select(func.count(ProspectAttempt.id)).where(ProspectAttempt.number == CONSUMER)
        )
    assert recorded == 4
