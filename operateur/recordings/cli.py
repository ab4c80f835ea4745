"""``operateur recordings``: call recordings (VOX-12) and the retention purge (VOX-13)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Annotated

import typer

from operateur.cli_support import lang, print_json, reports_errors, settings, unit_of_work
from operateur.domain.calendar import PARIS
from operateur.i18n import Text
from operateur.recordings import service as recordings

app = typer.Typer(help="Call recordings (VOX-12) / Enregistrements d'appels.", no_args_is_help=True)

DateOption = Annotated[datetime | None, typer.Option(formats=["%Y-%m-%d"])]


@app.command("attach")
@reports_errors
def attach(
    path: Annotated[Path, typer.Argument(help="Audio file")],
    customer: Annotated[int, typer.Option(help="Customer id")],
    call_id: Annotated[str, typer.Option("--call-id", help="The call's id")],
    content_type: Annotated[str, typer.Option(help="audio/wav, audio/mpeg...")] = "audio/wav",
) -> None:
    """Attach a recording file to one of the customer's calls."""
    current = settings()
    with unit_of_work("recordings attach") as session:
        row = recordings.attach(
            session,
            customer,
            call_id=call_id,
            data=path.read_bytes(),
            content_type=content_type,
            data_dir=current.data_dir,
            max_bytes=current.recording_max_bytes,
        )
        number = row.id
    typer.echo(
        Text(fr="Enregistrement {id} attaché.", en="Recording {id} attached.").render(
            lang(), id=number
        )
    )


@app.command("export")
@reports_errors
def export(
    customer: Annotated[int, typer.Option(help="Customer id")],
    out: Annotated[Path, typer.Option(help="The zip to write")],
    since: Annotated[datetime | None, typer.Option("--from", formats=["%Y-%m-%d"])] = None,
    until: Annotated[datetime | None, typer.Option("--to", formats=["%Y-%m-%d"])] = None,
) -> None:
    """Write a customer's recordings (of a period, --to excluded) into a zip with a manifest."""
    with unit_of_work("recordings export") as session, out.open("wb") as target:
        count = recordings.export(
            session,
            customer,
            target,
            settings().data_dir,
            since=since.replace(tzinfo=PARIS) if since else None,
            until=until.replace(tzinfo=PARIS) if until else None,
        )
    typer.echo(
        Text(fr="{n} enregistrement(s) dans {path}.", en="{n} recording(s) in {path}.").render(
            lang(), n=count, path=out
        )
    )


@app.command("purge")
@reports_errors
def purge(
    as_of: Annotated[datetime, typer.Option("--as-of", formats=["%Y-%m-%d"])],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON")] = False,
) -> None:
    """Delete the recordings and traffic data the terms no longer keep (the daily job)."""
    current = settings()
    with unit_of_work("recordings purge") as session:
        report = recordings.purge(
            session,
            as_of.date(),
            current.data_dir,
            orphan_traffic_months=current.orphan_traffic_data_months,
        )
    data = {"recordings": report.recordings, "usage_records": report.usage_records}
    if as_json:
        print_json(data)
        return
    typer.echo(
        Text(
            fr="{recordings} enregistrement(s) et {usage_records} ticket(s) d'appel supprimés.",
            en="{recordings} recording(s) and {usage_records} call record(s) deleted.",
        ).render(lang(), **data)
    )
