"""VOX-10 telemarketing compliance for prospecting accounts, VOX-11 where it is forbidden.

An account (a contract) flagged ``prospecting`` places unsolicited commercial calls; every
number it calls is treated as a consumer's. For each call, in this order:

1. a refusal stops it for ``quiet_days_after_refusal`` whole calendar days after the day of
   the refusal (décret 2022-1313, art. D.223-9: "soixante jours calendaires révolus");
2. from ``consent_required_from`` (loi 2025-594, 11 August 2026) a call needs the consumer's
   prior consent or an existing contract with them;
3. where the contract still references Bloctel (``bloctel_scrub_required``), a number of the
   imported opposition list needs consent or an existing contract;
4. without the consumer's express prior consent (an existing contract is not enough), calls
   only within ``prospection_windows`` (Monday–Friday 10:00–13:00 and 14:00–20:00, public
   holidays excluded) in the consumer's time zone (art. D.223-9: "ces heures correspondant à
   celles du fuseau horaire du consommateur"): the zones ``phonenumbers`` gives for the number
   (an overseas number is called in its own hours; where it names several zones, the window
   must be open in each), the windows' own zone when it gives none;
5. at most ``max_attempts_per_number`` calls per number per ``attempts_period_days`` days per
   customer, whatever the consent.

A consent, a contract or a refusal is recorded with who gave it, when, and the proof kept; the
latest record of a number given before the call is the one that counts.

Opposition list file (Bloctel format as operateur reads it): UTF-8 text, one telephone number
per line in national (``0612345678``) or international form (``+33612345678``,
``0033612345678``); further ``;`` or ``,`` separated fields on a line are ignored; blank lines,
lines starting with ``#`` and a first line that holds no number (a header such as ``numero``)
are skipped. The import is all or nothing: any bad line makes it change nothing and every bad
line is reported with its number and reason; a file without any number is refused.
``replace`` swaps the whole list for the file.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import UTC, datetime, time, timedelta, tzinfo
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import phonenumbers
from phonenumbers import timezone as number_zones
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from operateur.catalog.terms import TelemarketingRules, WeeklyWindow
from operateur.contracts import service as contracts
from operateur.db import utcnow
from operateur.domain.calendar import TimeWindow
from operateur.domain.numbering import parse_number
from operateur.errors import InvalidInput, NotFound
from operateur.i18n import Text
from operateur.voice.decision import FORBIDDEN, Refusal
from operateur.voice.models import Consent, ConsentKind, Opposition, ProspectAttempt, VoiceProfile

WEEKDAY_INDEX = {"mon": 0, "tue": 1, "wed": 2, "thu": 3, "fri": 4, "sat": 5, "sun": 6}


def time_window(window: WeeklyWindow) -> TimeWindow:
    """A contract's weekly window as the calendar's :class:`TimeWindow`."""
    from zoneinfo import ZoneInfo

    return TimeWindow(
        frozenset(WEEKDAY_INDEX[day.value] for day in window.days),
        ((window.start, window.end),),
        exclude_holidays=window.exclude_public_holidays,
        tz=ZoneInfo(window.timezone),
    )


_DAY_NAMES = {
    "fr": ("lun.", "mar.", "mer.", "jeu.", "ven.", "sam.", "dim."),
    "en": ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"),
}


def describe_windows(windows: tuple[WeeklyWindow, ...], lang: str) -> str:
    """The terms' windows in words, e.g. ``lun.–ven. 10:00–13:00, 14:00–20:00``."""
    names = _DAY_NAMES[lang]
    groups: dict[tuple[int, ...], list[str]] = {}
    holidays_closed = False
    for window in windows:
        days = tuple(sorted(WEEKDAY_INDEX[day.value] for day in window.days))
        groups.setdefault(days, []).append(f"{window.start:%H:%M}–{window.end:%H:%M}")
        holidays_closed = holidays_closed or window.exclude_public_holidays
    parts = []
    for days, spans in groups.items():
        contiguous = len(days) >= 3 and days[-1] - days[0] == len(days) - 1
        label = (
            f"{names[days[0]]}–{names[days[-1]]}"
            if contiguous
            else ", ".join(names[d] for d in days)
        )
        parts.append(f"{label} {', '.join(spans)}")
    if holidays_closed:
        parts.append("hors jours fériés" if lang == "fr" else "public holidays excluded")
    return "; ".join(parts)


def _refused(cause: str, fr: str, en: str, rule: str = "VOX-10") -> Refusal:
    return Refusal(FORBIDDEN, rule, cause, Text(fr=fr, en=en))


# --- profiles (VOX-11) -----------------------------------------------------------------------


def get_profile(session: Session, contract_id: int) -> VoiceProfile | None:
    return session.scalar(select(VoiceProfile).where(VoiceProfile.contract_id == contract_id))


def set_prospecting(
    session: Session, customer_id: int, contract_id: int, prospecting: bool
) -> VoiceProfile:
    """Flag (or unflag) a contract's accounts as prospecting; refused where the contract's
    terms forbid telemarketing (VOX-11: no call centre or telemarketing on Centrex)."""
    contract = contracts.get_contract(session, customer_id, contract_id)
    voice = contracts.terms_of(contract).voice
    if prospecting and (voice is None or not voice.telemarketing.allowed):
        raise InvalidInput(
            Text(
                fr="VOX-11 : les conditions de ce contrat interdisent le télémarketing et les "
                "centres d'appels.",
                en="VOX-11: this contract's terms forbid telemarketing and call centres.",
            ),
            field="prospecting",
        )
    profile = get_profile(session, contract.id)
    if profile is None:
        profile = VoiceProfile(customer_id=customer_id, contract_id=contract.id)
        session.add(profile)
    profile.prospecting = prospecting
    profile.updated_at = utcnow()
    session.flush()
    return profile


def list_profiles(session: Session, customer_id: int) -> list[VoiceProfile]:
    return list(
        session.scalars(
            select(VoiceProfile)
            .where(VoiceProfile.customer_id == customer_id)
            .order_by(VoiceProfile.id)
        )
    )


# --- consents and refusals -------------------------------------------------------------------


def record_consent(
    session: Session,
    customer_id: int,
    *,
    number: str,
    kind: ConsentKind,
    subject: str,
    given_at: datetime,
    proof: str,
    recorded_by: str,
) -> Consent:
    """Record what a consumer said (consent, existing contract or refusal), who, when, proof."""
    if given_at.tzinfo is None:
        raise InvalidInput(
            Text(fr="La date doit porter son fuseau.", en="The time needs its UTC offset."),
            field="given_at",
        )
    for name, value in (("subject", subject), ("proof", proof)):
        if not value.strip():
            raise InvalidInput(
                Text(fr="Valeur obligatoire.", en="A value is required."), field=name
            )
    consent = Consent(
        customer_id=customer_id,
        number=parse_number(number),
        kind=kind,
        subject=subject.strip(),
        given_at=given_at,
        proof=proof.strip(),
        recorded_by=recorded_by,
    )
    session.add(consent)
    session.flush()
    return consent


def withdraw_consent(session: Session, customer_id: int, consent_id: int, at: datetime) -> Consent:
    consent = session.scalar(
        select(Consent).where(Consent.id == consent_id, Consent.customer_id == customer_id)
    )
    if consent is None:
        raise NotFound(
            Text(fr="Consentement {id} introuvable.", en="Consent {id} not found."),
            code="consent_not_found",
            details={"id": consent_id},
        )
    if consent.withdrawn_at is None:
        consent.withdrawn_at = at
        session.flush()
    return consent


def list_consents(session: Session, customer_id: int, number: str | None = None) -> list[Consent]:
    query = select(Consent).where(Consent.customer_id == customer_id)
    if number:
        query = query.where(Consent.number == parse_number(number))
    return list(session.scalars(query.order_by(Consent.given_at.desc(), Consent.id.desc())))


def latest_record(
    session: Session, customer_id: int, number: str, at: datetime | None = None
) -> Consent | None:
    """The latest record of ``number`` given at or before ``at`` (any time without it)."""
    query = select(Consent).where(Consent.customer_id == customer_id, Consent.number == number)
    if at is not None:
        query = query.where(Consent.given_at <= at)
    return session.scalar(query.order_by(Consent.given_at.desc(), Consent.id.desc()).limit(1))


# --- the opposition list ---------------------------------------------------------------------


@dataclass(frozen=True)
class OppositionImport:
    added: int
    already_listed: int
    removed: int
    total: int


_SEPARATOR = re.compile(r"[;,\t]")


def parse_oppositions(text: str) -> tuple[list[str], list[dict[str, Any]]]:
    """The E.164 numbers of an opposition file and its bad lines (line, value, reason)."""
    numbers: list[str] = []
    errors: list[dict[str, Any]] = []
    seen_number = False
    for index, raw_line in enumerate(text.removeprefix("\ufeff").splitlines(), start=1):
        line = raw_line.strip()
        if not line or line.startswith("#"):
            continue
        value = _SEPARATOR.split(line, maxsplit=1)[0].strip()
        if not seen_number and not any(ch.isdigit() for ch in value):
            seen_number = True  # a header line
            continue
        seen_number = True
        try:
            numbers.append(parse_number(value))
        except InvalidInput as error:
            errors.append(
                {"line": index, "value": value, "reason": error.details.get("reason", error.code)}
            )
    return numbers, errors


def import_oppositions(
    session: Session, text: str, *, source: str, replace: bool = False
) -> OppositionImport:
    """Load an opposition list file, all or nothing (see the module's docstring)."""
    numbers, errors = parse_oppositions(text)
    if errors:
        raise InvalidInput(
            Text(
                fr="Liste d'opposition invalide : {count} ligne(s) en erreur, rien n'est importé.",
                en="Invalid opposition list: {count} bad line(s), nothing is imported.",
            ),
            field="file",
            details={"count": len(errors), "rows": errors},
        )
    if not numbers:
        raise InvalidInput(
            Text(
                fr="Liste d'opposition sans aucun numéro : rien n'est importé.",
                en="The opposition list holds no number: nothing is imported.",
            ),
            field="file",
        )
    unique = sorted(set(numbers))
    removed = 0
    if replace:
        keep = set(unique)
        stale = [row.id for row in session.scalars(select(Opposition)) if row.number not in keep]
        for start in range(0, len(stale), 500):
            session.execute(delete(Opposition).where(Opposition.id.in_(stale[start : start + 500])))
        removed = len(stale)
    listed: set[str] = set()
    for start in range(0, len(unique), 500):
        chunk = unique[start : start + 500]
        listed |= set(
            session.scalars(select(Opposition.number).where(Opposition.number.in_(chunk)))
        )
    fresh = [n for n in unique if n not in listed]
    session.add_all(Opposition(number=n, source=source) for n in fresh)
    session.flush()
    total = session.scalar(select(func.count(Opposition.id))) or 0
    return OppositionImport(
        added=len(fresh), already_listed=len(listed), removed=removed, total=total
    )


def is_opposed(session: Session, number: str) -> bool:
    return session.scalar(select(Opposition.id).where(Opposition.number == number)) is not None


# --- the check on each call ------------------------------------------------------------------


@lru_cache(maxsize=65_536)
def consumer_zones(number: str) -> tuple[tzinfo, ...]:
    """The time zones the consumer of ``number`` (E.164) may be in, per ``phonenumbers``."""
    try:
        names = number_zones.time_zones_for_number(phonenumbers.parse(number))
    except phonenumbers.NumberParseException:
        return ()
    zones: list[tzinfo] = []
    for name in names:
        try:
            zones.append(ZoneInfo(name))
        except (ZoneInfoNotFoundError, ValueError):  # "Etc/Unknown"
            continue
    return tuple(zones)


def _quiet_until(refused_at: datetime, days: int, zones: tuple[tzinfo, ...]) -> datetime:
    """The end of the ``days`` whole calendar days that follow the day of a refusal, in the
    consumer's zone (the latest of them when several are possible)."""
    return max(
        datetime.combine(
            refused_at.astimezone(zone).date() + timedelta(days=days + 1), time(0), tzinfo=zone
        )
        for zone in zones
    )


def prospection_refusal(
    session: Session,
    *,
    customer_id: int,
    number: str,
    rules: TelemarketingRules,
    windows: tuple[TimeWindow, ...],
    now: datetime,
) -> Refusal | None:
    """Why a prospecting account may not call ``number`` (E.164) now, or ``None``."""
    zones = consumer_zones(number) or tuple({w.tz for w in windows}) or (UTC,)
    latest = latest_record(session, customer_id, number, at=now)
    quiet = (
        _quiet_until(latest.given_at, rules.quiet_days_after_refusal, zones)
        if latest is not None
        and latest.kind is ConsentKind.REFUSAL
        and rules.quiet_days_after_refusal is not None
        else None
    )
    if quiet is not None and now < quiet:
        until = quiet.date()
        return _refused(
            "refused_recently",
            f"ce consommateur a refusé d'être appelé : pas d'appel avant le {until:%d/%m/%Y}",
            f"this consumer refused to be called: no call before {until.isoformat()}",
        )
    current = latest is not None and latest.withdrawn_at is None
    consented = current and latest is not None and latest.kind is ConsentKind.CONSENT
    contract = current and latest is not None and latest.kind is ConsentKind.CONTRACT
    start = rules.consent_required_from
    if start is not None and now.date() >= start and not (consented or contract):
        return _refused(
            "consent_required",
            "démarchage sans consentement préalable du consommateur (loi 2025-594)",
            "prospection call without the consumer's prior consent (loi 2025-594)",
        )
    if rules.bloctel_scrub_required and not (consented or contract) and is_opposed(session, number):
        return _refused(
            "opposition_list",
            "numéro inscrit sur la liste d'opposition au démarchage (Bloctel)",
            "number on the telemarketing opposition list (Bloctel)",
        )
    if (
        rules.prospection_hours_apply
        and windows
        and not consented
        and not all(any(replace(w, tz=zone).contains(now) for w in windows) for zone in zones)
    ):
        return _refused(
            "outside_legal_hours",
            "hors des jours et heures légaux de démarchage, heure du consommateur "
            f"({describe_windows(rules.prospection_windows, 'fr')})",
            "outside the legal days and hours for prospection calls, consumer's time "
            f"({describe_windows(rules.prospection_windows, 'en')})",
        )
    if rules.max_attempts_per_number is not None and rules.attempts_period_days is not None:
        since = now - timedelta(days=rules.attempts_period_days)
        made = session.scalar(
            select(func.count(ProspectAttempt.id)).where(
                ProspectAttempt.customer_id == customer_id,
                ProspectAttempt.number == number,
                ProspectAttempt.at > since,
            )
        )
        if (made or 0) >= rules.max_attempts_per_number:
            return _refused(
                "too_many_attempts",
                f"déjà {made} appels vers ce numéro en {rules.attempts_period_days} jours "
                f"(maximum {rules.max_attempts_per_number})",
                f"already {made} calls to this number in {rules.attempts_period_days} days "
                f"(at most {rules.max_attempts_per_number})",
            )
    return None


def record_attempt(
    session: Session, *, customer_id: int, number: str, call_id: str, at: datetime
) -> None:
    session.add(ProspectAttempt(customer_id=customer_id, number=number, call_id=call_id, at=at))
    session.flush()


def forget_attempt(session: Session, call_id: str) -> None:
    """Drop the attempt of a call that was never placed (a cancelled test call)."""
    session.execute(delete(ProspectAttempt).where(ProspectAttempt.call_id == call_id))


def purge_attempts(session: Session, now: datetime) -> int:
    """Forget each customer's prospection attempts older than the longest counting period of
    their prospecting contracts (data minimisation, VOX-13); returns how many were deleted."""
    periods: dict[int, int] = {}
    for profile in session.scalars(select(VoiceProfile)):
        voice = contracts.terms_of(
            contracts.get_contract(session, profile.customer_id, profile.contract_id)
        ).voice
        days = voice.telemarketing.attempts_period_days if voice else None
        if days is not None:
            periods[profile.customer_id] = max(days, periods.get(profile.customer_id, 0))
    deleted = 0
    for customer_id, days in periods.items():
        result = session.execute(
            delete(ProspectAttempt).where(
                ProspectAttempt.customer_id == customer_id,
                ProspectAttempt.at < now - timedelta(days=days),
            )
        )
        deleted += int(getattr(result, "rowcount", 0) or 0)
    return deleted
