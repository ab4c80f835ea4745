"""Call recordings: attached to calls, exported, destroyed after 24 months and with the
contract's data 60 days after its end (VOX-12, CTR-09); traffic data kept 12 months (VOX-13)."""

from __future__ import annotations

import csv
import io
import os
import zipfile
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from sqlalchemy import event as sqla_event
from sqlalchemy import select
from sqlalchemy.orm import Session

from operateur.accounts.models import Customer
from operateur.billing.models import UsageRecord
from operateur.contracts import after_end, lifecycle
from operateur.contracts.models import Contract, ContractStatus, Line, LineKind
from operateur.errors import Conflict, InvalidInput
from operateur.recordings import service as recordings
from operateur.recordings.models import CallRecording
from tests.integration.voice_ops.conftest import Setup

WAV = b"RIFF\x24\x00\x00\x00WAVEfmt "


def _agent(setup: Setup, offer: str = "crm-voip") -> tuple[Customer, Contract, Line]:
    customer = setup.build.customer()
    contract = setup.build.contract(customer, offer, date(2024, 1, 1), [])
    return customer, contract, setup.line(contract, f"agent{customer.id}", LineKind.AGENT)


# SPEC: VOX-12
def test_recordings_are_attached_to_calls_and_exported(
    setup: Setup, session: Session, tmp_path: Path
) -> None:
    customer, contract, line = _agent(setup)
    setup.call(line, "r1", "+33140000001", datetime(2026, 3, 2, 9, 0, tzinfo=UTC), 60)
    setup.call(line, "r2", "+33612345678", datetime(2026, 3, 2, 9, 5, tzinfo=UTC), 30)
    first = recordings.attach(
        session, customer.id, call_id="r1", data=WAV + b"1", content_type="audio/wav",
        data_dir=tmp_path, max_bytes=1000,
    )  # fmt: skip
    assert first.contract_id == contract.id and first.line_id == line.id
    assert first.path.startswith(f"contracts/{contract.id}/recordings/2026/03/")
    assert (tmp_path / first.path).read_bytes() == WAV + b"1"
    again = recordings.attach(
        session, customer.id, call_id="r1", data=WAV + b"1", content_type="audio/wav",
        data_dir=tmp_path, max_bytes=1000,
    )  # fmt: skip
    assert again.id == first.id  # the same file for the same call is stored once
    recordings.attach(
        session, customer.id, call_id="r2", data=WAV + b"2", content_type="audio/mpeg",
        data_dir=tmp_path, max_bytes=1000,
    )  # fmt: skip
    with pytest.raises(InvalidInput):  # not an audio format
        recordings.attach(
            session, customer.id, call_id="r2", data=b"x", content_type="text/plain",
            data_dir=tmp_path, max_bytes=1000,
        )  # fmt: skip
    other = setup.build.customer()
    with pytest.raises(Exception) as foreign:  # another customer's call is not found
        recordings.attach(
            session, other.id, call_id="r1", data=WAV, content_type="audio/wav",
            data_dir=tmp_path, max_bytes=1000,
        )  # fmt: skip
    assert getattr(foreign.value, "code", "") == "call_not_found"
    archive = io.BytesIO()
    assert recordings.export(session, customer.id, archive, tmp_path) == 2
    with zipfile.ZipFile(archive) as zipped:
        manifest = list(csv.DictReader(io.StringIO(zipped.read("manifest.csv").decode())))
        assert [row["call_id"] for row in manifest] == ["r1", "r2"]
        # file names in Paris time: 09:00 UTC is 10:00 in March
        assert manifest[0]["file"] == "20260302-100000-r1.wav"
        assert zipped.read("20260302-100500-r2.mp3") == WAV + b"2"


# SPEC: VOX-12
def test_offers_without_recording_refuse_them(
    setup: Setup, session: Session, tmp_path: Path
) -> None:
    customer, _contract, line = _agent(setup, "centrex")
    setup.call(line, "c1", "+33140000001", datetime(2026, 3, 2, 9, 0, tzinfo=UTC), 60)
    with pytest.raises(Conflict) as refused:
        recordings.attach(
            session, customer.id, call_id="c1", data=WAV, content_type="audio/wav",
            data_dir=tmp_path, max_bytes=1000,
        )  # fmt: skip
    assert refused.value.code == "recordings_not_in_offer"


# SPEC: VOX-12, VOX-13, PRIV-02
def test_recordings_after_24_months_and_traffic_data_after_12_months(
    setup: Setup, session: Session, tmp_path: Path
) -> None:
    customer, _contract, line = _agent(setup)
    old = setup.call(line, "old", "+33140000001", datetime(2024, 3, 1, 22, 0, tzinfo=UTC), 60)
    recent = setup.call(line, "new", "+33140000001", datetime(2025, 3, 2, 9, 0, tzinfo=UTC), 60)
    kept = recordings.attach(
        session, customer.id, call_id="new", data=WAV + b"n", content_type="audio/wav",
        data_dir=tmp_path, max_bytes=1000,
    )  # fmt: skip
    gone = recordings.attach(
        session, customer.id, call_id="old", data=WAV + b"o", content_type="audio/wav",
        data_dir=tmp_path, max_bytes=1000,
    )  # fmt: skip
    gone_file = tmp_path / gone.path
    # 2 March 2026: 24 months back is 2 March 2024 00:00 Paris; the old call started on
    # 1 March 2024 at 23:00 Paris: its recording goes. 12 months back is 2 March 2025 00:00
    # Paris: the old call's record goes, the call of 2 March 2025 10:00 stays.
    report = recordings.purge(session, date(2026, 3, 2), tmp_path, orphan_traffic_months=12)
    assert (report.recordings, report.usage_records) == (1, 1)
    session.commit()  # the files go once the rows' deletion is committed
    assert not gone_file.exists() and (tmp_path / kept.path).exists()
    assert session.get(CallRecording, kept.id) is not None
    assert session.get(UsageRecord, recent.id) is not None
    assert session.scalar(select(UsageRecord).where(UsageRecord.id == old.id)) is None
    # the next day the call of 2 March 2025 is more than 12 months old
    assert recordings.purge(session, date(2026, 3, 3), tmp_path, orphan_traffic_months=12) == (
        recordings.PurgeReport(recordings=0, usage_records=1)
    )


# SPEC: VOX-12, CTR-09
def test_recordings_deleted_60_days_after_the_contract_ends(
    setup: Setup, session: Session, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPERATEUR_DATA_DIR", str(tmp_path))
    customer, contract, line = _agent(setup)
    setup.call(line, "x1", "+33140000001", datetime(2026, 3, 2, 9, 0, tzinfo=UTC), 60)
    recording = recordings.attach(
        session, customer.id, call_id="x1", data=WAV, content_type="audio/wav",
        data_dir=tmp_path, max_bytes=1000,
    )  # fmt: skip
    lifecycle.terminate(session, contract, on=date(2026, 3, 31), reason="end")
    # crm-voip terms: end-customer data, recordings included, deleted 60 days after the end
    assert after_end.purge_due(session, date(2026, 5, 29)) == []
    assert after_end.purge_due(session, date(2026, 5, 30)) == [f"purged:{contract.reference}"]
    assert contract.status is ContractStatus.PURGED
    assert session.get(CallRecording, recording.id) is None
    assert not (tmp_path / recording.path).exists()


# SPEC: VOX-12
def test_the_export_holds_every_recording_under_its_own_plain_name(
    setup: Setup, session: Session, tmp_path: Path
) -> None:
    """Two recordings of one call (two legs, a re-encoded file) are two files of the export,
    and a Call-ID with slashes does not become a path outside the archive's folder."""
    customer, _, line = _agent(setup)
    start = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    setup.call(line, "r1", "+33140000001", start, 60)
    setup.call(line, "../../etc/r2", "+33140000002", start, 60)
    for data, call_id in ((WAV + b"a", "r1"), (WAV + b"b", "r1"), (WAV + b"c", "../../etc/r2")):
        recordings.attach(
            session, customer.id, call_id=call_id, data=data, content_type="audio/wav",
            data_dir=tmp_path, max_bytes=1000,
        )  # fmt: skip
    archive = io.BytesIO()
    assert recordings.export(session, customer.id, archive, tmp_path) == 3
    with zipfile.ZipFile(archive) as zipped:
        names = zipped.namelist()
        manifest = list(csv.DictReader(io.StringIO(zipped.read("manifest.csv").decode())))
        contents = sorted(zipped.read(row["file"]) for row in manifest)
    assert len(names) == len(set(names)) == 4  # three recordings and the manifest
    assert all("/" not in name and "\\" not in name for name in names)
    assert contents == [WAV + b"a", WAV + b"b", WAV + b"c"]


# SPEC: VOX-12
def test_a_lost_file_does_not_stop_the_export_of_the_others(
    setup: Setup, session: Session, tmp_path: Path
) -> None:
    """[000 §7.5] customers export their recordings; one file lost by the storage is listed as
    missing in the manifest and the others are still exported."""
    customer, _, line = _agent(setup)
    setup.call(line, "r1", "+33140000001", datetime(2026, 3, 2, 9, 0, tzinfo=UTC), 60)
    setup.call(line, "r2", "+33140000002", datetime(2026, 3, 2, 9, 5, tzinfo=UTC), 60)
    attached = []
    for call_id in ("r1", "r2"):
        recording = recordings.attach(
            session, customer.id, call_id=call_id, data=WAV + call_id.encode(),
            content_type="audio/wav", data_dir=tmp_path, max_bytes=1000,
        )  # fmt: skip
        attached.append(recording)
    lost, kept = attached
    (tmp_path / lost.path).unlink()
    archive = io.BytesIO()
    assert recordings.export(session, customer.id, archive, tmp_path) == 1
    with zipfile.ZipFile(archive) as zipped:
        manifest = list(csv.DictReader(io.StringIO(zipped.read("manifest.csv").decode())))
        assert [(r["call_id"], r["file"], r["status"]) for r in manifest] == [
            ("r1", "", "missing"),
            ("r2", "20260302-100500-r2.wav", "ok"),
        ]
        assert zipped.read("20260302-100500-r2.wav") == WAV + b"r2"
    assert kept.sha256 == manifest[1]["sha256"]


def _expired_recording(setup: Setup, session: Session, tmp_path: Path) -> CallRecording:
    """A recording of a call of January 2024, its file written then: past the 24 months on
    2 March 2026."""
    customer, _contract, line = _agent(setup)
    start = datetime(2024, 1, 15, 9, 0, tzinfo=UTC)
    setup.call(line, f"jan{customer.id}", "+33140000001", start, 60)
    recording = recordings.attach(
        session, customer.id, call_id=f"jan{customer.id}", data=WAV + str(customer.id).encode(),
        content_type="audio/wav", data_dir=tmp_path, max_bytes=1000,
    )  # fmt: skip
    os.utime(tmp_path / recording.path, (start.timestamp(), start.timestamp()))
    return recording


# SPEC: VOX-12, PRIV-02
def test_a_failed_commit_of_the_purge_keeps_the_files(
    setup: Setup, session: Session, tmp_path: Path
) -> None:
    """The files of purged recordings are deleted only once the deletion of their rows is
    committed: a purge whose commit fails leaves every row with its file, and the next purge
    deletes both."""
    recording = _expired_recording(setup, session, tmp_path)
    recording_id, file = recording.id, tmp_path / recording.path
    session.commit()

    def refuse(_session: Session) -> None:
        raise RuntimeError("database went away")

    sqla_event.listen(session, "before_commit", refuse)
    try:
        report = recordings.purge(session, date(2026, 3, 2), tmp_path, orphan_traffic_months=12)
        assert report.recordings == 1
        assert file.exists()  # not before the commit
        with pytest.raises(RuntimeError):
            session.commit()
        session.rollback()
    finally:
        sqla_event.remove(session, "before_commit", refuse)
    assert session.get(CallRecording, recording_id) is not None
    assert file.exists()  # the row still points at its file
    report = recordings.purge(session, date(2026, 3, 2), tmp_path, orphan_traffic_months=12)
    assert report.recordings == 1
    session.commit()
    assert session.get(CallRecording, recording_id) is None
    assert not file.exists()


# SPEC: VOX-12, PRIV-02
def test_a_file_the_purge_could_not_delete_is_deleted_by_the_next_purge(
    setup: Setup, session: Session, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A file already gone is no error; a file whose deletion failed after the commit (a
    storage error) is not forgotten: the next purge deletes it."""
    recording = _expired_recording(setup, session, tmp_path)
    file = tmp_path / recording.path
    gone = _expired_recording(setup, session, tmp_path)
    (tmp_path / gone.path).unlink()  # lost by the storage before the purge
    session.commit()
    real_unlink = Path.unlink

    def failing_unlink(path: Path, missing_ok: bool = False) -> None:
        if path == file:
            raise PermissionError(13, "Permission denied", str(path))
        real_unlink(path, missing_ok=missing_ok)

    monkeypatch.setattr(Path, "unlink", failing_unlink)
    report = recordings.purge(session, date(2026, 3, 2), tmp_path, orphan_traffic_months=12)
    assert report.recordings == 2
    session.commit()  # the storage error does not undo the committed purge
    assert session.scalar(select(CallRecording)) is None
    assert file.exists()
    monkeypatch.setattr(Path, "unlink", real_unlink)
    recordings.purge(session, date(2026, 3, 3), tmp_path, orphan_traffic_months=12)
    session.commit()
    assert not file.exists()
