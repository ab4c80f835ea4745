"""REST endpoints of call recordings (VOX-12): attach, list, download, export in bulk."""

from __future__ import annotations

import tempfile
from datetime import datetime
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Query, Request, status
from fastapi.responses import FileResponse
from sqlalchemy.orm import Session
from starlette.background import BackgroundTask

from operateur.accounts.permissions import Actor, Permission
from operateur.config import Settings
from operateur.domain.calendar import PARIS
from operateur.http.deps import SessionDep, require
from operateur.recordings import service as recordings
from operateur.recordings.schemas import RecordingOut

router = APIRouter(tags=["recordings"])

Reader = Annotated[Actor, require(Permission.RECORDINGS_READ)]
Writer = Annotated[Actor, require(Permission.RECORDINGS_WRITE)]
Since = Annotated[datetime | None, Query(alias="from")]
Until = Annotated[datetime | None, Query(alias="to")]


def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def _aware(moment: datetime | None) -> datetime | None:
    if moment is None or moment.tzinfo is not None:
        return moment
    return moment.replace(tzinfo=PARIS)


@router.post(
    "/customers/{customer_id}/recordings",
    response_model=RecordingOut,
    status_code=status.HTTP_201_CREATED,
)
async def attach_recording(
    customer_id: int,
    call_id: str,
    request: Request,
    actor: Writer,
    session: SessionDep,
) -> RecordingOut:
    """Attach an audio file (the request body, with its ``Content-Type``) to a call."""
    settings = _settings(request)
    data = await request.body()
    recording = recordings.attach(
        session,
        customer_id,
        call_id=call_id,
        data=data,
        content_type=request.headers.get("content-type", ""),
        data_dir=settings.data_dir,
        max_bytes=settings.recording_max_bytes,
    )
    return RecordingOut.model_validate(recording)


@router.get("/customers/{customer_id}/recordings", response_model=list[RecordingOut])
def list_recordings(
    customer_id: int, actor: Reader, session: SessionDep, since: Since = None, until: Until = None
) -> list[RecordingOut]:
    rows = recordings.list_recordings(
        session, customer_id, since=_aware(since), until=_aware(until)
    )
    return [RecordingOut.model_validate(r) for r in rows]


@router.get("/customers/{customer_id}/recordings/export")
def export_recordings(
    customer_id: int,
    request: Request,
    actor: Reader,
    session: SessionDep,
    since: Since = None,
    until: Until = None,
) -> FileResponse:
    """Every recording of the period in one zip, with a manifest (VOX-12)."""
    return export_response(
        session, customer_id, _settings(request).data_dir, since=_aware(since), until=_aware(until)
    )


def export_response(
    session: Session,
    customer_id: int,
    data_dir: Path,
    *,
    since: datetime | None,
    until: datetime | None,
) -> FileResponse:
    """The customer's recordings of the period as a zip download (API and portal): written to
    a spool file first, deleted once sent (or at once if the export fails)."""
    spool = tempfile.NamedTemporaryFile(suffix=".zip", delete=False)  # noqa: SIM115
    path = Path(spool.name)
    try:
        with spool:
            recordings.export(session, customer_id, spool, data_dir, since=since, until=until)
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return FileResponse(
        path,
        media_type="application/zip",
        filename=f"enregistrements-{customer_id}.zip",
        background=BackgroundTask(path.unlink, missing_ok=True),
    )


@router.get("/customers/{customer_id}/recordings/{recording_id}/file")
def download_recording(
    customer_id: int, recording_id: int, request: Request, actor: Reader, session: SessionDep
) -> FileResponse:
    recording = recordings.get_recording(session, customer_id, recording_id)
    return FileResponse(
        recordings.file_of(recording, _settings(request).data_dir),
        media_type=recording.content_type,
        filename=recordings.download_name(recording),
    )
