"""Call recordings (VOX-12) and the retention of traffic data (VOX-13, PRIV-02).

A recording file is attached to a call the platform knows (a usage record of the customer),
stored with the contract's files (``<data_dir>/contracts/<contract>/recordings/<yyyy>/<mm>/``),
named by its SHA-256 (the same file attached twice is stored once), downloaded or exported in
bulk (a zip with a manifest) by the customer. Only offers whose terms keep recordings accept
them.

The daily purge deletes what the terms no longer allow to keep: recordings older than
``retention.recordings_months`` (24, [000 §7.5]) and usage records older than
``retention.traffic_data_months`` (12, [002 §6.7]). Sixty days after the end of a contract
([000 §7.4]) the contract's purge (``contracts.after_end``, CTR-09) deletes its files and, through
the eraser registered here, its recordings. Each deletion is in the audit log.

A purged recording's file is deleted only once the deletion of its row is committed: a purge
whose transaction fails or is rolled back leaves every row with its file. A file already gone is
no error; a file that could not be deleted after the commit (a storage error) is logged and
deleted by a later purge, which also sweeps the files of the expired months that no recording
refers to any more.
"""

from __future__ import annotations

import csv
import hashlib
import io
import logging
import re
import zipfile
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import IO

from sqlalchemy import Delete, delete, func, select
from sqlalchemy import event as sqla_event
from sqlalchemy.orm import Session, SessionTransaction

from operateur.billing.models import UsageRecord
from operateur.config import Settings
from operateur.contracts import after_end
from operateur.contracts import service as contracts
from operateur.contracts.models import Contract
from operateur.db import utcnow
from operateur.domain.calendar import PARIS, add_months
from operateur.errors import Conflict, InvalidInput, NotFound
from operateur.i18n import Text
from operateur.logs import event
from operateur.recordings.models import CallRecording

log = logging.getLogger("operateur.recordings")

# Audio formats accepted, with the extension they are stored under.
AUDIO_TYPES = {
    "audio/wav": "wav",
    "audio/x-wav": "wav",
    "audio/wave": "wav",
    "audio/mpeg": "mp3",
    "audio/ogg": "ogg",
    "audio/opus": "opus",
    "audio/flac": "flac",
}
ROOT = "recordings"


def _call_of(session: Session, customer_id: int, call_id: str) -> UsageRecord:
    record = session.scalar(
        select(UsageRecord)
        .where(UsageRecord.customer_id == customer_id, UsageRecord.external_id == call_id)
        .order_by(UsageRecord.id)
        .limit(1)
    )
    if record is None:
        raise NotFound(
            Text(fr="Appel {call} inconnu.", en="Unknown call {call}."),
            code="call_not_found",
            field="call_id",
            details={"call": call_id},
        )
    return record


def attach(
    session: Session,
    customer_id: int,
    *,
    call_id: str,
    data: bytes,
    content_type: str,
    data_dir: Path,
    max_bytes: int,
) -> CallRecording:
    """Store the recording of one of the customer's calls (idempotent per file and call)."""
    kind = content_type.split(";")[0].strip().lower()
    if kind not in AUDIO_TYPES:
        raise InvalidInput(
            Text(fr="Format audio non accepté : {type}.", en="Audio format not accepted: {type}."),
            field="content_type",
            details={"type": kind, "accepted": sorted(AUDIO_TYPES)},
        )
    if not data or len(data) > max_bytes:
        raise InvalidInput(
            Text(
                fr="Fichier vide ou trop gros ({max} octets au plus).",
                en="Empty or too large a file (at most {max} bytes).",
            ),
            field="file",
            details={"max": max_bytes},
        )
    call = _call_of(session, customer_id, call_id)
    contract = session.get(Contract, call.contract_id) if call.contract_id else None
    if contract is None or contracts.terms_of(contract).retention.recordings_months is None:
        raise Conflict(
            Text(
                fr="Le contrat de cet appel ne comprend pas l'enregistrement des appels.",
                en="This call's contract does not include call recording.",
            ),
            code="recordings_not_in_offer",
            field="call_id",
        )
    digest = hashlib.sha256(data).hexdigest()
    existing = session.scalar(
        select(CallRecording).where(
            CallRecording.customer_id == customer_id,
            CallRecording.call_id == call_id,
            CallRecording.sha256 == digest,
        )
    )
    if existing is not None:
        return existing
    started = call.started_at.astimezone(PARIS)
    relative = (
        Path("contracts")
        / str(contract.id)
        / ROOT
        / f"{started:%Y}"
        / f"{started:%m}"
        / f"{digest}.{AUDIO_TYPES[kind]}"
    )
    target = data_dir / relative
    target.parent.mkdir(parents=True, exist_ok=True)
    if not target.exists():
        partial = target.with_suffix(".part")
        partial.write_bytes(data)
        partial.replace(target)
    recording = CallRecording(
        customer_id=customer_id,
        contract_id=contract.id,
        line_id=call.line_id,
        call_id=call_id,
        caller=call.caller,
        callee=call.callee,
        call_started_at=call.started_at,
        content_type=kind,
        size_bytes=len(data),
        sha256=digest,
        path=relative.as_posix(),
    )
    session.add(recording)
    session.flush()
    event(log, "recording.attached", recording=recording.id, customer=customer_id, call=call_id)
    return recording


def list_recordings(
    session: Session,
    customer_id: int,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: int = 1000,
) -> list[CallRecording]:
    stmt = (
        select(CallRecording)
        .where(CallRecording.customer_id == customer_id)
        .order_by(CallRecording.call_started_at, CallRecording.id)
        .limit(limit)
    )
    if since is not None:
        stmt = stmt.where(CallRecording.call_started_at >= since)
    if until is not None:
        stmt = stmt.where(CallRecording.call_started_at < until)
    return list(session.scalars(stmt))


def get_recording(session: Session, customer_id: int, recording_id: int) -> CallRecording:
    recording = session.scalar(
        select(CallRecording).where(
            CallRecording.id == recording_id, CallRecording.customer_id == customer_id
        )
    )
    if recording is None:
        raise NotFound(
            Text(fr="Enregistrement {id} introuvable.", en="Recording {id} not found."),
            code="recording_not_found",
            details={"id": recording_id},
        )
    return recording


def file_of(recording: CallRecording, data_dir: Path) -> Path:
    path = data_dir / recording.path
    if not path.is_file():
        raise NotFound(
            Text(
                fr="Le fichier de l'enregistrement {id} est absent.",
                en="The file of recording {id} is missing.",
            ),
            code="recording_file_missing",
            details={"id": recording.id},
        )
    return path


# Characters of a Call-ID kept in a file name; the others (``/``, ``\``, ``:``...) become ``_``
# so that no name is a path.
_UNSAFE = re.compile(r"[^A-Za-z0-9@._+-]")


def download_name(recording: CallRecording, *, unique: bool = False) -> str:
    """``<start, Paris>-<call id>.<ext>``; ``unique`` adds the recording's id (a call can
    have several recordings)."""
    started = recording.call_started_at.astimezone(PARIS)
    extension = recording.path.rsplit(".", 1)[-1]
    call = _UNSAFE.sub("_", recording.call_id).lstrip(".") or "_"
    suffix = f"-{recording.id}" if unique else ""
    return f"{started:%Y%m%d-%H%M%S}-{call}{suffix}.{extension}"


# ``status``: "ok", or "missing" for a recording whose file the storage lost (no ``file``).
MANIFEST_COLUMNS = (
    "file", "call_id", "started_at", "caller", "callee", "bytes", "sha256", "status",
)  # fmt: skip


def export(
    session: Session,
    customer_id: int,
    out: IO[bytes],
    data_dir: Path,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
) -> int:
    """Write the customer's recordings (of a period) as a zip with a ``manifest.csv`` into
    ``out`` (VOX-12 [000 §7.5]: customers take their recordings away); how many files. A file
    the storage lost is listed as missing, never a reason to withhold the others."""
    count = 0
    names: set[str] = set()
    manifest = io.StringIO()
    writer = csv.writer(manifest)
    writer.writerow(MANIFEST_COLUMNS)
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_STORED) as archive:
        for recording in list_recordings(
            session, customer_id, since=since, until=until, limit=1_000_000
        ):
            name = download_name(recording)
            if name in names:  # another recording of the same call
                name = download_name(recording, unique=True)
            source = data_dir / recording.path
            if source.is_file():
                names.add(name)
                archive.write(source, arcname=name)
                count += 1
            else:
                name = ""
                log.warning("recording file missing: %s (recording %s)", source, recording.id)
            writer.writerow(
                (
                    name,
                    recording.call_id,
                    recording.call_started_at.isoformat(),
                    recording.caller,
                    recording.callee,
                    recording.size_bytes,
                    recording.sha256,
                    "ok" if name else "missing",
                )
            )
        archive.writestr("manifest.csv", manifest.getvalue())
    return count


# --- retention (VOX-12, VOX-13, CTR-09, PRIV-02) -------------------------------------------------


@dataclass(frozen=True)
class PurgeReport:
    recordings: int
    usage_records: int


def _start_of(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=PARIS)


# Files of purged recordings wait for the commit of their rows' deletion, per transaction: a
# committed savepoint hands them to the enclosing transaction, a committed root transaction
# deletes them, a transaction rolled back or closed without a commit keeps them (its rows too).
_TO_DELETE = "operateur.recordings.files_to_delete"

# A file younger than this is never swept as unreferenced: ``attach`` writes the file before its
# row is committed (a technical guard against that race, not a retention term).
SWEEP_GRACE = timedelta(days=1)


def _transaction_of(session: Session) -> SessionTransaction | None:
    return session.get_nested_transaction() or session.get_transaction()


def _delete_after_commit(session: Session, path: Path) -> None:
    staged: dict[SessionTransaction | None, list[Path]] = session.info.setdefault(_TO_DELETE, {})
    staged.setdefault(_transaction_of(session), []).append(path)


def _remove_file(path: Path) -> bool:
    """Delete a purged recording's file (already gone is fine) and its emptied month and year
    folders; False when the storage refused (a later purge sweeps it)."""
    try:
        path.unlink(missing_ok=True)
    except OSError as error:
        log.warning("recording file not deleted, left to the next purge: %s (%s)", path, error)
        return False
    for folder in (path.parent, path.parent.parent):
        try:
            folder.rmdir()
        except OSError:
            break  # not empty (or gone): nothing more to tidy
    return True


def _on_commit(session: Session) -> None:
    staged = session.info.get(_TO_DELETE)
    if not staged:
        return
    transaction = _transaction_of(session)
    files = staged.pop(transaction, [])
    if transaction is not None and transaction.nested and transaction.parent is not None:
        staged.setdefault(transaction.parent, []).extend(files)
        return
    failed = [path for path in files if not _remove_file(path)]
    if files:
        event(log, "recordings.files_deleted", files=len(files) - len(failed), failed=len(failed))


def _on_transaction_end(session: Session, transaction: SessionTransaction) -> None:
    """Rolled back: the rows are still there, so are their files."""
    staged = session.info.get(_TO_DELETE)
    if staged:
        staged.pop(transaction, None)


def install_file_deletion() -> None:
    """Listen to every session's commits and rollbacks (once per process)."""
    if not sqla_event.contains(Session, "after_commit", _on_commit):
        sqla_event.listen(Session, "after_commit", _on_commit)
        sqla_event.listen(Session, "after_transaction_end", _on_transaction_end)


install_file_deletion()


def _delete_recordings(session: Session, rows: list[CallRecording], data_dir: Path) -> int:
    """Delete the rows now and their files once that is committed (a file another recording
    still refers to stays)."""
    deleted = {recording.id for recording in rows}
    for recording in rows:
        shared = session.scalar(
            select(func.count(CallRecording.id)).where(
                CallRecording.path == recording.path, CallRecording.id.not_in(deleted)
            )
        )
        if not shared:
            _delete_after_commit(session, data_dir / recording.path)
        session.delete(recording)
    session.flush()
    return len(rows)


def _sweep(session: Session, contract: Contract, limit: datetime, data_dir: Path) -> int:
    """Stage for deletion the files of the contract's months up to ``limit``'s that no
    recording refers to (left by a deletion that failed after its commit); how many."""
    root = data_dir / "contracts" / str(contract.id) / ROOT
    if not root.is_dir():
        return 0
    last = limit.astimezone(PARIS)
    months = [
        month
        for year in root.iterdir()
        if year.is_dir() and year.name.isdigit() and int(year.name) <= last.year
        for month in year.iterdir()
        if month.is_dir()
        and month.name.isdigit()
        and (int(year.name), int(month.name)) <= (last.year, last.month)
    ]
    if not months:
        return 0
    referenced = set(
        session.scalars(
            select(CallRecording.path).where(
                CallRecording.contract_id == contract.id,
                CallRecording.call_started_at < _start_of(add_months(last.date(), 1)),
            )
        )
    )
    staged = {path for paths in session.info.get(_TO_DELETE, {}).values() for path in paths}
    young = (utcnow() - SWEEP_GRACE).timestamp()
    swept = 0
    for month in months:
        for file in month.iterdir():
            if (
                file.is_file()
                and file not in staged
                and file.relative_to(data_dir).as_posix() not in referenced
                and file.stat().st_mtime < young
            ):
                _delete_after_commit(session, file)
                swept += 1
    return swept


def _deleted(session: Session, statement: Delete) -> int:
    result = session.execute(statement)
    return int(getattr(result, "rowcount", 0) or 0)


def purge(
    session: Session, as_of: date, data_dir: Path, *, orphan_traffic_months: int
) -> PurgeReport:
    """Delete the recordings and traffic data each contract's terms no longer keep on
    ``as_of``; usage records of no contract are kept ``orphan_traffic_months``. (The
    recordings of an ended contract go with its purge, CTR-09.)"""
    recordings = 0
    usage_records = 0
    swept = 0
    for contract in session.scalars(select(Contract).order_by(Contract.id)):
        retention = contracts.terms_of(contract).retention
        if retention.recordings_months is not None:
            limit = _start_of(add_months(as_of, -retention.recordings_months))
            recordings += _delete_recordings(
                session,
                list(
                    session.scalars(
                        select(CallRecording).where(
                            CallRecording.contract_id == contract.id,
                            CallRecording.call_started_at < limit,
                        )
                    )
                ),
                data_dir,
            )
            swept += _sweep(session, contract, limit, data_dir)
        if retention.traffic_data_months is not None:
            limit = _start_of(add_months(as_of, -retention.traffic_data_months))
            usage_records += _deleted(
                session,
                delete(UsageRecord).where(
                    UsageRecord.contract_id == contract.id, UsageRecord.started_at < limit
                ),
            )
    orphan_limit = _start_of(add_months(as_of, -orphan_traffic_months))
    usage_records += _deleted(
        session,
        delete(UsageRecord).where(
            UsageRecord.contract_id.is_(None), UsageRecord.started_at < orphan_limit
        ),
    )
    session.flush()
    if recordings or usage_records or swept:
        event(
            log,
            "retention.purged",
            recordings=recordings,
            usage_records=usage_records,
            unreferenced_files=swept,
        )
    return PurgeReport(recordings=recordings, usage_records=usage_records)


@after_end.register_eraser
def erase_contract_recordings(session: Session, contract: Contract) -> int:
    """CTR-09 [000 §7.4]: the recordings of a purged contract (its files go with the
    contract's directory)."""
    rows = list(
        session.scalars(select(CallRecording).where(CallRecording.contract_id == contract.id))
    )
    for recording in rows:
        session.delete(recording)
    session.flush()
    return len(rows)


def daily_purge(session: Session, as_of: date) -> None:
    """The scheduler's daily job (VOX-12, VOX-13) with the operator's settings."""
    current = Settings()
    purge(
        session,
        as_of,
        current.data_dir,
        orphan_traffic_months=current.orphan_traffic_data_months,
    )
