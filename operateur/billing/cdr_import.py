"""Call records from other switches into usage records (BIL-09): Asterisk ``Master.csv``,
FreeSWITCH CSV and JSON CDRs, Kamailio ``acc`` transactions.

Each format is parsed apart from storing: ``parse`` turns a file into calls (each with the line
it came from) and bad rows (line, call id, field, reason); ``import_cdrs`` stores every good call
once through :func:`operateur.billing.usage.record_call` — a call already stored under the same
source and call id counts as a duplicate and changes nothing, so importing a file twice is
harmless — and reports every bad row, including calls that were stored but could not be rated
(unknown account, no rate). The formats are described in the README ("Call records from other
switches").

Times: Asterisk, FreeSWITCH CSV and Kamailio write local wall-clock times; they are read in the
time zone given (``Europe/Paris`` by default, ``UTC`` for Asterisk's ``usegmtime=yes``).
FreeSWITCH JSON carries epoch times; an epoch or a time with its own offset is always taken as
it is. A local time that does not exist (the hour skipped when the clocks go forward) is a bad
row naming its field. A local time that happens twice (the hour repeated when they go back) is
read so that the call's times agree with the durations the switch recorded (Asterisk's and
FreeSWITCH's ``duration`` and ``billsec``: a call from 02:50 CEST to 02:10 CET lasted 20
minutes); when several readings agree, the one nearest to the epoch in Asterisk's uniqueid,
else the first occurrence; when none agrees, a bad row. Kamailio's ``acc`` records no
duration: its repeated hour is read as the shortest call the times allow (export epoch times
to avoid the guess). Numbers are read in French national form by default and stored in E.164.

FreeSWITCH writes one record per leg when asked to (``legs=ab``, ``log-b-leg=true``): the
caller's leg (A, inbound to the switch, the customer's account) is the billable call; the other
leg of a bridged call (B, named by the A-leg's ``bleg_uuid``, or in JSON carrying
``originating_leg_uuid`` or an ``originator`` caller profile) is reported as skipped and never
stored, whatever the order of the legs and however many times the file is imported.
"""

from __future__ import annotations

import csv
import io
import itertools
import json
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from operateur.billing import usage
from operateur.billing.models import UsageRecord, UsageStatus
from operateur.billing.rating import REASONS as RATING_REASONS
from operateur.billing.rating import Disposition
from operateur.contracts.models import Contract, Line
from operateur.domain.calendar import PARIS
from operateur.domain.numbering import classify
from operateur.errors import InvalidInput
from operateur.i18n import DEFAULT_LANG, Text


class CdrFormat(StrEnum):
    ASTERISK = "asterisk"  # cdr_csv Master.csv
    FREESWITCH_CSV = "freeswitch-csv"  # mod_cdr_csv, the "example" template
    FREESWITCH_JSON = "freeswitch-json"  # mod_json_cdr
    KAMAILIO_ACC = "kamailio-acc"  # acc module transactions exported as CSV with a header


# The usage ``source`` of each format: a call sent again in another format of the same switch
# (FreeSWITCH CSV then JSON) is still the same call.
SOURCES: Mapping[CdrFormat, str] = {
    CdrFormat.ASTERISK: "asterisk",
    CdrFormat.FREESWITCH_CSV: "freeswitch",
    CdrFormat.FREESWITCH_JSON: "freeswitch",
    CdrFormat.KAMAILIO_ACC: "kamailio",
}

REASONS: Mapping[str, Text] = {
    "missing_fields": Text(fr="{value} colonne(s) seulement", en="only {value} column(s)"),
    "required": Text(fr="valeur obligatoire", en="a value is required"),
    "not_a_time": Text(fr="« {value} » n'est pas une date", en="“{value}” is not a time"),
    "not_a_number": Text(
        fr="« {value} » n'est pas un numéro de téléphone", en="“{value}” is not a phone number"
    ),
    "not_an_integer": Text(
        fr="« {value} » n'est pas un nombre entier", en="“{value}” is not a whole number"
    ),
    "end_before_start": Text(fr="la fin précède le début", en="the end precedes the start"),
    "nonexistent_time": Text(
        fr="« {value} » n'existe pas en heure locale (passage à l'heure d'été)",
        en="“{value}” does not exist in local time (clocks going forward)",
    ),
    "ambiguous_time": Text(
        fr="« {value} » existe deux fois en heure locale (retour à l'heure d'hiver) et les "
        "durées du ticket ne disent pas laquelle",
        en="“{value}” happens twice in local time (clocks going back) and the record's "
        "durations do not tell which",
    ),
    "other_leg": Text(
        fr="autre branche de l'appel {value}, facturé une fois sur la branche de l'appelant",
        en="other leg of call {value}, billed once on the caller's leg",
    ),
    "other_leg_stored": Text(
        fr="l'autre branche de cet appel ({value}) est déjà enregistrée",
        en="the other leg of this call ({value}) is already stored",
    ),
    "unknown_disposition": Text(fr="issue « {value} » inconnue", en="unknown outcome “{value}”"),
    "duplicate_call_id": Text(
        fr="appel {value} déjà présent ligne {first_line}",
        en="call {value} already on line {first_line}",
    ),
    "bad_json": Text(fr="JSON illisible ({value})", en="unreadable JSON ({value})"),
    "not_an_object": Text(fr="un objet JSON est attendu", en="a JSON object is expected"),
    "bad_header": Text(fr="colonnes manquantes : {value}", en="missing columns: {value}"),
    "not_a_call": Text(
        fr="méthode {value} : pas un début ni une fin d'appel",
        en="method {value}: neither the start nor the end of a call",
    ),
    "no_bye": Text(
        fr="appel répondu sans BYE (encore en cours ?)",
        en="answered call without a BYE (still in progress?)",
    ),
    "bye_without_invite": Text(fr="BYE sans INVITE", en="BYE without an INVITE"),
    "unknown_account": Text(fr="compte inconnu", en="unknown account"),
    "no_rate_deck": Text(fr="aucune grille tarifaire", en="no rate deck"),
    "bad_callee": Text(fr="numéro appelé invalide", en="invalid callee"),
    "too_long": Text(
        fr="trop long ({value} caractères au plus)", en="too long (at most {value} characters)"
    ),
}


@dataclass(frozen=True)
class BadRow:
    """A row that was not imported, or a call stored without a price, and why."""

    line: int
    call_id: str
    field: str
    reason: str
    value: str = ""
    first_line: int | None = None

    def describe(self, lang: str = DEFAULT_LANG) -> str:
        text = REASONS.get(self.reason) or RATING_REASONS.get(self.reason)
        if text is None:
            return self.reason
        try:
            return text.render(
                lang, value=self.value, first_line=self.first_line or "", line=self.line
            )
        except (KeyError, IndexError):
            return self.reason

    def as_dict(self, lang: str = DEFAULT_LANG) -> dict[str, Any]:
        return {
            "line": self.line,
            "call_id": self.call_id,
            "field": self.field,
            "reason": self.reason,
            "value": self.value,
            "message": self.describe(lang),
        }


@dataclass
class Parsed:
    calls: list[tuple[int, usage.CallData]] = field(default_factory=list)
    rejected: list[BadRow] = field(default_factory=list)
    # FreeSWITCH: a call's other leg as it names it (the A-leg's ``bleg_uuid``)
    other_legs: dict[str, str] = field(default_factory=dict)


class _Bad(Exception):
    def __init__(self, field: str, reason: str, value: str = "") -> None:
        super().__init__(reason)
        self.field = field
        self.reason = reason
        self.value = value


# --- values ------------------------------------------------------------------------------------


def _local_times(raw: str, field: str, zone: ZoneInfo) -> tuple[datetime, ...]:
    """The instants (UTC) ``2026-03-02 10:15:00`` in ``zone`` may be: one, or two in the hour
    repeated when the clocks go back; an ISO time with its own offset, or epoch, is one. A local
    time the clocks skipped is a bad row."""
    text = raw.strip()
    if not text:
        raise _Bad(field, "required")
    if text.isdigit():
        return (_epoch(text, field),)
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise _Bad(field, "not_a_time", text) from None
    if moment.tzinfo:
        return (moment.astimezone(UTC),)
    first = moment.replace(tzinfo=zone)
    second = moment.replace(tzinfo=zone, fold=1)
    if first.utcoffset() == second.utcoffset():
        return (first.astimezone(UTC),)
    if first.astimezone(UTC).astimezone(zone).replace(tzinfo=None) != moment:
        raise _Bad(field, "nonexistent_time", text)
    return first.astimezone(UTC), second.astimezone(UTC)


def _local_time(raw: str, field: str, zone: ZoneInfo) -> datetime:
    """One local time alone (no duration to tell the repeated hour's occurrences apart): the
    first occurrence."""
    return _local_times(raw, field, zone)[0]


@dataclass(frozen=True)
class _Stamp:
    """A time of a call as written, and the instants it may be."""

    field: str
    raw: str
    instants: tuple[datetime, ...]


def _stamp(raw: str, field: str, zone: ZoneInfo) -> _Stamp:
    return _Stamp(field, raw.strip(), _local_times(raw, field, zone))


def _seconds(raw: str) -> int | None:
    text = raw.strip()
    return int(text) if text.isdigit() else None


# The switches write whole seconds and round a duration of a fraction of a second either way.
DURATION_TOLERANCE = 1


def _resolve(
    stamps: Sequence[_Stamp],
    durations: Sequence[tuple[int, int, int | None]] = (),
    *,
    hint: datetime | None = None,
) -> list[datetime]:
    """One instant per stamp, in order (each no earlier than the one before), such that each
    ``(i, j, seconds)`` of ``durations`` holds: stamp j - stamp i = seconds (None: unknown).
    Only a time of the repeated hour leaves a choice: among the readings that agree, the one
    whose first stamp is nearest to ``hint``, else the shortest call, else the earliest."""
    if all(len(stamp.instants) == 1 for stamp in stamps):
        return [stamp.instants[0] for stamp in stamps]
    known = [(i, j, seconds) for i, j, seconds in durations if seconds is not None]
    ordered = [
        list(reading)
        for reading in itertools.product(*(stamp.instants for stamp in stamps))
        if all(a <= b for a, b in itertools.pairwise(reading))
    ]
    if not ordered:  # out of order however read: the caller reports it
        return [stamp.instants[0] for stamp in stamps]
    readings = [
        reading
        for reading in ordered
        if all(
            abs((reading[j] - reading[i]).total_seconds() - seconds) <= DURATION_TOLERANCE
            for i, j, seconds in known
        )
    ]
    if not readings:
        ambiguous = next(stamp for stamp in stamps if len(stamp.instants) > 1)
        raise _Bad(ambiguous.field, "ambiguous_time", ambiguous.raw)

    def preference(reading: list[datetime]) -> tuple[float, timedelta, datetime]:
        near = abs((reading[0] - hint).total_seconds()) if hint is not None else 0.0
        return near, reading[-1] - reading[0], reading[0]

    return min(readings, key=preference)


def _epoch(raw: str, field: str, *, micro: bool = False) -> datetime:
    try:
        value = Decimal(raw.strip())
    except InvalidOperation:
        raise _Bad(field, "not_a_time", raw) from None
    micros = int(value if micro else value * 1_000_000)
    return datetime(1970, 1, 1, tzinfo=UTC) + timedelta(microseconds=micros)


@lru_cache(maxsize=65_536)
def _normalised(text: str) -> tuple[str | None, bool]:
    """The E.164 form of a number as written (or the digits of an emergency or short number),
    and whether it is a telephone number at all. Cached: CDRs repeat their numbers."""
    try:
        info = classify(text)
    except InvalidInput:
        return None, False
    if info.e164 is not None:
        return info.e164, True
    digits = "".join(ch for ch in text if ch.isdigit())
    if digits and info.kind.value in ("emergency", "short"):
        return digits, True
    return None, True


def _number(raw: str, field: str, *, required: bool) -> str:
    """The E.164 form of a number as dialled (French national form by default); the digits of
    an emergency or short number, which have none."""
    text = raw.strip()
    if not text:
        if required:
            raise _Bad(field, "required")
        return ""
    number, _ = _normalised(text)
    if number is not None:
        return number
    if required:
        raise _Bad(field, "not_a_number", text)
    return text[:32]


def _required(value: str, field: str, *, column: str | None = None) -> str:
    """The value, stripped; with ``column``, no longer than the usage record's column keeps
    it (a SIP Call-ID has no bound: one too long is this row's fault, not the import's)."""
    if not value.strip():
        raise _Bad(field, "required")
    if column is not None:
        limit = getattr(UsageRecord.__table__.c[column].type, "length", None)
        if isinstance(limit, int) and len(value.strip()) > limit:
            raise _Bad(field, "too_long", str(limit))
    return value.strip()


def _check_order(start: datetime, answer: datetime | None, end: datetime) -> None:
    if end < start or (answer is not None and not start <= answer <= end):
        raise _Bad("end", "end_before_start")


def _csv_rows(text: str) -> Iterator[tuple[int, list[str]]]:
    """CSV rows with the line each starts on; blank lines skipped."""
    reader = csv.reader(io.StringIO(text))
    line = 1
    for fields in reader:
        start, line = line, reader.line_num + 1
        if fields and any(f.strip() for f in fields):
            yield start, fields


# --- Asterisk ----------------------------------------------------------------------------------

# cdr_csv's Master.csv: 16 fixed columns, then the uniqueid when ``loguniqueid=yes`` (required
# here: it is the call id) and the userfield when ``loguserfield=yes``.
ASTERISK_COLUMNS = (
    "accountcode", "src", "dst", "dcontext", "clid", "channel", "dstchannel", "lastapp",
    "lastdata", "start", "answer", "end", "duration", "billsec", "disposition", "amaflags",
    "uniqueid",
)  # fmt: skip

ASTERISK_DISPOSITIONS = {
    "ANSWERED": Disposition.ANSWERED,
    "NO ANSWER": Disposition.NO_ANSWER,
    "BUSY": Disposition.BUSY,
    "FAILED": Disposition.FAILED,
    "CONGESTION": Disposition.FAILED,
}


def _channel_peer(channel: str) -> str:
    """``PJSIP/alice-00000002`` -> ``alice`` (the SIP peer that placed the call)."""
    _, _, rest = channel.partition("/")
    return rest.rsplit("-", 1)[0] if "-" in rest else rest


# A uniqueid is ``[systemname-]<epoch of the channel's creation>.<sequence>``.
ASTERISK_UNIQUEID_EPOCH = re.compile(r"(?:^|-)(\d{9,11})\.\d+$")


def _asterisk_times(
    row: Mapping[str, str], call_id: str, zone: ZoneInfo
) -> tuple[datetime, datetime | None, datetime]:
    """Start, answer and end, the repeated hour read so that end - start is ``duration`` and
    end - answer is ``billsec``, near the epoch of the uniqueid."""
    start = _stamp(row["start"], "start", zone)
    end = _stamp(row["end"], "end", zone)
    duration, billsec = _seconds(row["duration"]), _seconds(row["billsec"])
    matched = ASTERISK_UNIQUEID_EPOCH.search(call_id)
    hint = _epoch(matched.group(1), "uniqueid") if matched else None
    if row["answer"].strip():
        answer = _stamp(row["answer"], "answer", zone)
        first, answered, last = _resolve(
            (start, answer, end), ((0, 2, duration), (1, 2, billsec)), hint=hint
        )
        return first, answered, last
    first, last = _resolve((start, end), ((0, 1, duration),), hint=hint)
    return first, None, last


def _asterisk(fields: list[str], zone: ZoneInfo) -> usage.CallData:
    row = dict(zip(ASTERISK_COLUMNS, fields, strict=False))
    call_id = _required(row["uniqueid"], "uniqueid", column="external_id")
    account = row["accountcode"].strip() or _channel_peer(row["channel"].strip())
    disposition = ASTERISK_DISPOSITIONS.get(row["disposition"].strip().upper())
    if disposition is None:
        raise _Bad("disposition", "unknown_disposition", row["disposition"])
    start, answer, end = _asterisk_times(row, call_id, zone)
    if disposition is Disposition.ANSWERED and answer is None:
        billsec = row["billsec"].strip() or "0"
        if not billsec.isdigit():
            raise _Bad("billsec", "not_an_integer", billsec)
        answer = end - timedelta(seconds=int(billsec))
    if disposition is not Disposition.ANSWERED:
        answer = None
    _check_order(start, answer, end)
    return usage.CallData(
        source=SOURCES[CdrFormat.ASTERISK],
        call_id=call_id,
        account=_required(account, "accountcode", column="account"),
        caller=_number(row["src"], "src", required=False),
        callee=_number(row["dst"], "dst", required=True),
        start=start,
        answer=answer,
        end=end,
        disposition=disposition.value,
    )


# --- FreeSWITCH --------------------------------------------------------------------------------

# mod_cdr_csv's default "example" template.
FREESWITCH_COLUMNS = (
    "caller_id_name", "caller_id_number", "destination_number", "context", "start_stamp",
    "answer_stamp", "end_stamp", "duration", "billsec", "hangup_cause", "uuid", "bleg_uuid",
    "accountcode",
)  # fmt: skip

# Q.850 causes of calls that were not answered, by how a CDR of Asterisk would say it.
FREESWITCH_UNANSWERED = {
    "USER_BUSY": Disposition.BUSY,
    "NO_ANSWER": Disposition.NO_ANSWER,
    "NO_USER_RESPONSE": Disposition.NO_ANSWER,
    "ORIGINATOR_CANCEL": Disposition.NO_ANSWER,
    "ALLOTTED_TIMEOUT": Disposition.NO_ANSWER,
}


def _freeswitch_disposition(answered: bool, cause: str) -> Disposition:
    if answered:
        return Disposition.ANSWERED
    return FREESWITCH_UNANSWERED.get(cause.strip().upper(), Disposition.FAILED)


def _freeswitch_csv(fields: list[str], zone: ZoneInfo) -> usage.CallData:
    row = dict(zip(FREESWITCH_COLUMNS, fields, strict=False))
    start_stamp = _stamp(row["start_stamp"], "start_stamp", zone)
    end_stamp = _stamp(row["end_stamp"], "end_stamp", zone)
    duration, billsec = _seconds(row["duration"]), _seconds(row["billsec"])
    answer: datetime | None = None
    if row["answer_stamp"].strip():
        answer_stamp = _stamp(row["answer_stamp"], "answer_stamp", zone)
        start, answer, end = _resolve(
            (start_stamp, answer_stamp, end_stamp), ((0, 2, duration), (1, 2, billsec))
        )
    else:
        start, end = _resolve((start_stamp, end_stamp), ((0, 1, duration),))
    _check_order(start, answer, end)
    return usage.CallData(
        source=SOURCES[CdrFormat.FREESWITCH_CSV],
        call_id=_required(row["uuid"], "uuid", column="external_id"),
        account=_required(row["accountcode"], "accountcode", column="account"),
        caller=_number(row["caller_id_number"], "caller_id_number", required=False),
        callee=_number(row["destination_number"], "destination_number", required=True),
        start=start,
        answer=answer,
        end=end,
        disposition=_freeswitch_disposition(answer is not None, row["hangup_cause"]).value,
    )


def _json_time(variables: Mapping[str, Any], name: str) -> datetime | None:
    """``<name>_uepoch`` (microseconds) or ``<name>_epoch``; None when 0 or absent."""
    for suffix, micro in (("_uepoch", True), ("_epoch", False)):
        raw = str(variables.get(name + suffix, "") or "").strip()
        if raw and raw != "0":
            return _epoch(raw, name + suffix, micro=micro)
    return None


def _originating_leg(cdr: Any) -> str | None:
    """The uuid of the leg that originated this one when it is a B-leg (mod_json_cdr's own
    test: the channel has an originator caller profile; FreeSWITCH also sets
    ``originating_leg_uuid`` on it), else None. "" when a B-leg does not name its A-leg."""
    if not isinstance(cdr, dict):
        return None
    variables = cdr.get("variables")
    if isinstance(variables, dict):
        origin = str(variables.get("originating_leg_uuid") or "").strip()
        if origin and origin != str(variables.get("uuid") or "").strip():
            return origin
    flows = cdr.get("callflow") or []
    for flow in flows if isinstance(flows, list) else [flows]:
        profile = flow.get("caller_profile") if isinstance(flow, dict) else None
        originator = profile.get("originator") if isinstance(profile, dict) else None
        if originator:
            profiles = (
                originator.get("originator_caller_profiles")
                if isinstance(originator, dict)
                else None
            )
            first = profiles[0] if isinstance(profiles, list) and profiles else None
            return str(first.get("uuid") or "") if isinstance(first, dict) else ""
    return None


def _freeswitch_json(cdr: Any) -> usage.CallData:
    if not isinstance(cdr, dict):
        raise _Bad("cdr", "not_an_object")
    variables = cdr.get("variables") or {}
    flows = cdr.get("callflow") or []
    flow = flows[0] if isinstance(flows, list) and flows else flows
    profile = (flow.get("caller_profile") or {}) if isinstance(flow, dict) else {}
    if not isinstance(variables, dict) or not isinstance(profile, dict):
        raise _Bad("variables", "not_an_object")

    def value(*names: str) -> str:
        for name in names:
            found = variables.get(name) or profile.get(name)
            if found:
                return str(found)
        return ""

    start = _json_time(variables, "start")
    end = _json_time(variables, "end")
    if start is None:
        raise _Bad("start_epoch", "required")
    if end is None:
        raise _Bad("end_epoch", "required")
    answer = _json_time(variables, "answer")
    _check_order(start, answer, end)
    return usage.CallData(
        source=SOURCES[CdrFormat.FREESWITCH_JSON],
        call_id=_required(value("uuid"), "uuid", column="external_id"),
        account=_required(
            value("accountcode", "user_name", "username"), "accountcode", column="account"
        ),
        caller=_number(
            value("caller_id_number", "effective_caller_id_number"),
            "caller_id_number",
            required=False,
        ),
        callee=_number(value("destination_number"), "destination_number", required=True),
        start=start,
        answer=answer,
        end=end,
        disposition=_freeswitch_disposition(answer is not None, value("hangup_cause")).value,
    )


def _json_documents(text: str) -> Iterator[tuple[int, Any]]:
    """The CDRs of a file: one JSON object, an array of them, or JSON Lines (one per line).
    Each comes with its line (JSON Lines) or its position in the array."""
    stripped = text.strip()
    if not stripped:
        return
    try:
        whole = json.loads(stripped)
    except json.JSONDecodeError:
        whole = None
    else:
        items = whole if isinstance(whole, list) else [whole]
        yield from enumerate(items, start=1)
        return
    for number, raw in enumerate(text.splitlines(), start=1):
        if not raw.strip():
            continue
        try:
            yield number, json.loads(raw)
        except json.JSONDecodeError as error:
            yield number, _Bad("cdr", "bad_json", error.msg)


# --- Kamailio acc ------------------------------------------------------------------------------

# The acc module's transaction columns, and the extra attributes a call record needs
# (acc's ``log_extra``/``db_extra``: ``src_user=$fU;dst_user=$rU``).
KAMAILIO_REQUIRED = ("method", "callid", "sip_code", "time", "src_user", "dst_user")


def _kamailio_disposition(code: int) -> Disposition:
    if 200 <= code < 300:
        return Disposition.ANSWERED
    if code in (486, 600):  # Busy Here, Busy Everywhere
        return Disposition.BUSY
    if code in (408, 480, 487):  # timeout, temporarily unavailable, cancelled
        return Disposition.NO_ANSWER
    return Disposition.FAILED


def _kamailio(text: str, zone: ZoneInfo, parsed: Parsed) -> None:
    rows = _csv_rows(text)
    header = next(rows, None)
    if header is None:
        return
    _, names = header
    columns = [n.strip().lower() for n in names]
    missing = [c for c in KAMAILIO_REQUIRED if c not in columns]
    if missing:
        parsed.rejected.append(BadRow(header[0], "", "header", "bad_header", ",".join(missing)))
        return
    invites: dict[str, list[tuple[int, dict[str, str]]]] = {}
    byes: dict[str, tuple[int, dict[str, str]]] = {}
    order: list[str] = []
    for line, fields in rows:
        row = dict(zip(columns, (f.strip() for f in fields), strict=False))
        call_id = row.get("callid", "")
        if len(fields) < len(columns):
            parsed.rejected.append(BadRow(line, call_id, "row", "missing_fields", str(len(fields))))
            continue
        method = row["method"].upper()
        if not call_id:
            parsed.rejected.append(BadRow(line, "", "callid", "required"))
        elif method == "INVITE":
            if call_id not in invites:
                order.append(call_id)
            invites.setdefault(call_id, []).append((line, row))
        elif method == "BYE":
            byes.setdefault(call_id, (line, row))
        else:
            parsed.rejected.append(BadRow(line, call_id, "method", "not_a_call", method))
    for call_id, (line, _row) in byes.items():
        if call_id not in invites:
            parsed.rejected.append(BadRow(line, call_id, "callid", "bye_without_invite"))
    for call_id in order:
        first_line = invites[call_id][0][0]
        try:
            parsed.calls.append((first_line, _kamailio_call(call_id, invites[call_id], byes, zone)))
        except _Bad as bad:
            parsed.rejected.append(BadRow(first_line, call_id, bad.field, bad.reason, bad.value))


def _kamailio_call(
    call_id: str,
    invites: list[tuple[int, dict[str, str]]],
    byes: Mapping[str, tuple[int, dict[str, str]]],
    zone: ZoneInfo,
) -> usage.CallData:
    """One call from its INVITE transactions (the first answered one, else the last failure)
    and its BYE."""
    _required(call_id, "callid", column="external_id")
    coded: list[tuple[int, dict[str, str]]] = []
    for _line, row in invites:
        try:
            coded.append((int(row["sip_code"]), row))
        except ValueError:
            raise _Bad("sip_code", "required", row["sip_code"]) from None
    answered = [(code, row) for code, row in coded if 200 <= code < 300]
    code, row = answered[0] if answered else coded[-1]
    start = _local_time(row["time"], "time", zone)
    answer: datetime | None = None
    end = start
    if answered:
        if call_id not in byes:
            raise _Bad("callid", "no_bye")
        start, end = _resolve(
            (_stamp(row["time"], "time", zone), _stamp(byes[call_id][1]["time"], "time", zone))
        )
        answer = start
    _check_order(start, answer, end)
    return usage.CallData(
        source=SOURCES[CdrFormat.KAMAILIO_ACC],
        call_id=call_id,
        account=_required(row["src_user"], "src_user", column="account"),
        caller=_number(row.get("src_user", ""), "src_user", required=False),
        callee=_number(row["dst_user"], "dst_user", required=True),
        start=start,
        answer=answer,
        end=end,
        disposition=_kamailio_disposition(code).value,
    )


# --- parsing and importing ---------------------------------------------------------------------


def parse(text: str, fmt: CdrFormat, *, zone: ZoneInfo = PARIS) -> Parsed:
    """Every call of the file with its line, and every bad row with its reason. Never raises
    for a bad row; a call id seen twice in the file is a bad row after the first."""
    parsed = Parsed()
    if fmt is CdrFormat.KAMAILIO_ACC:
        _kamailio(text, zone, parsed)
    else:
        _rows_of(text, fmt, zone, parsed)
    if parsed.other_legs:
        _skip_b_legs(parsed)
    seen: dict[str, int] = {}
    kept: list[tuple[int, usage.CallData]] = []
    for line, call in parsed.calls:
        if call.call_id in seen:
            parsed.rejected.append(
                BadRow(
                    line,
                    call.call_id,
                    "call_id",
                    "duplicate_call_id",
                    call.call_id,
                    first_line=seen[call.call_id],
                )
            )
            continue
        seen[call.call_id] = line
        kept.append((line, call))
    parsed.calls = kept
    parsed.rejected.sort(key=lambda bad: bad.line)
    return parsed


def _skip_b_legs(parsed: Parsed) -> None:
    """FreeSWITCH CSV: a leg named as the other leg of a call of the file is that call's B-leg
    (when two legs name each other, the one that started later): reported, not stored."""
    start_of = {call.call_id: (call.start, line) for line, call in parsed.calls}
    b_legs: dict[str, str] = {}
    for call_id, other in parsed.other_legs.items():
        if other not in start_of or call_id in b_legs:
            continue
        if parsed.other_legs.get(other) == call_id and start_of[call_id] > start_of[other]:
            b_legs[call_id] = other
        else:
            b_legs[other] = call_id
    kept: list[tuple[int, usage.CallData]] = []
    for line, call in parsed.calls:
        if call.call_id in b_legs:
            a_leg = b_legs[call.call_id]
            parsed.rejected.append(BadRow(line, call.call_id, "uuid", "other_leg", a_leg))
        else:
            kept.append((line, call))
    parsed.calls = kept
    for b_leg in b_legs:
        parsed.other_legs.pop(b_leg, None)


def _rows_of(text: str, fmt: CdrFormat, zone: ZoneInfo, parsed: Parsed) -> None:
    if fmt is CdrFormat.FREESWITCH_JSON:
        for line, document in _json_documents(text):
            if isinstance(document, _Bad):
                parsed.rejected.append(
                    BadRow(line, "", document.field, document.reason, document.value)
                )
                continue
            origin = _originating_leg(document)
            if origin is not None:
                variables = document.get("variables") or {}
                uuid = str(variables.get("uuid", "")) if isinstance(variables, dict) else ""
                parsed.rejected.append(BadRow(line, uuid, "uuid", "other_leg", origin))
                continue
            try:
                parsed.calls.append((line, _freeswitch_json(document)))
            except _Bad as bad:
                call_id = ""
                if isinstance(document, dict) and isinstance(document.get("variables"), dict):
                    call_id = str(document["variables"].get("uuid", ""))
                parsed.rejected.append(BadRow(line, call_id, bad.field, bad.reason, bad.value))
        return
    width = len(ASTERISK_COLUMNS) if fmt is CdrFormat.ASTERISK else len(FREESWITCH_COLUMNS)
    for line, fields in _csv_rows(text):
        if len(fields) < width:
            parsed.rejected.append(BadRow(line, "", "row", "missing_fields", str(len(fields))))
            continue
        try:
            call = (
                _asterisk(fields, zone)
                if fmt is CdrFormat.ASTERISK
                else _freeswitch_csv(fields, zone)
            )
        except _Bad as bad:
            call_id = fields[16 if fmt is CdrFormat.ASTERISK else 10].strip()
            parsed.rejected.append(BadRow(line, call_id, bad.field, bad.reason, bad.value))
            continue
        parsed.calls.append((line, call))
        if fmt is CdrFormat.FREESWITCH_CSV:
            other = fields[FREESWITCH_COLUMNS.index("bleg_uuid")].strip()
            if other and other != call.call_id:
                parsed.other_legs[call.call_id] = other


@dataclass(frozen=True)
class CdrImportReport:
    stored: int  # new usage records, rated or kept with their reason
    duplicates: int  # calls already stored (an import run twice)
    rejected: list[BadRow]  # rows not stored, and calls stored without a price


def import_cdrs(
    session: Session, text: str, fmt: CdrFormat, *, zone: ZoneInfo = PARIS
) -> CdrImportReport:
    """Store and rate the calls of a CDR file once each (by source and call id); report every
    bad row with its line and reason. The caller's transaction holds the whole import."""
    parsed = parse(text, fmt, zone=zone)
    rejected = list(parsed.rejected)
    stored = duplicates = 0
    source = SOURCES[fmt]
    ids = [call.call_id for _, call in parsed.calls]
    # The lines and contracts of the file's accounts, held for the whole import so that the
    # session finds them in its identity map instead of reading them again for every call.
    accounts = sorted({call.account for _, call in parsed.calls})
    held: list[object] = []
    for chunk in range(0, len(accounts), 500):
        lines = list(
            session.scalars(
                select(Line).where(Line.sip_username.in_(accounts[chunk : chunk + 500]))
            )
        )
        held.extend(lines)
        held.extend(
            session.scalars(
                select(Contract).where(Contract.id.in_({line.contract_id for line in lines}))
            )
        )
    # the calls, and the other legs they name (a B-leg stored before its A-leg came)
    ids += sorted(set(parsed.other_legs.values()) - set(ids))
    known: set[str] = set()
    for chunk in range(0, len(ids), 500):
        known.update(
            session.scalars(
                select(UsageRecord.external_id).where(
                    UsageRecord.source == source,
                    UsageRecord.external_id.in_(ids[chunk : chunk + 500]),
                )
            )
        )
    for line, call in parsed.calls:
        if call.call_id in known:
            duplicates += 1
            continue
        other = parsed.other_legs.get(call.call_id)
        if other is not None and other in known:
            rejected.append(BadRow(line, call.call_id, "uuid", "other_leg_stored", other))
            continue
        record = usage.record_call(session, call)
        stored += 1
        if record.status is UsageStatus.REJECTED:
            rejected.append(BadRow(line, call.call_id, "call", record.reject_reason or ""))
    rejected.sort(key=lambda bad: bad.line)
    return CdrImportReport(stored=stored, duplicates=duplicates, rejected=rejected)
