"""``operateur voice``: try call control, see live calls, reap, consents, opposition list,
prospecting accounts and suspended destinations."""

from __future__ import annotations

import getpass
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

import typer

from operateur.cli_support import (
    lang,
    print_json,
    read_text_file,
    reports_errors,
    settings,
    unit_of_work,
)
from operateur.db import make_engine, make_session_factory
from operateur.errors import InvalidInput
from operateur.i18n import Text
from operateur.quality import cli as quality_cli
from operateur.voice import suspensions, telemarketing
from operateur.voice.control import AuthorizeRequest, LiveCall, VoiceControl
from operateur.voice.counters import shared_counters
from operateur.voice.models import ConsentKind

app = typer.Typer(
    help="Voice: call control, consents and opposition list (VOX-01..11).", no_args_is_help=True
)

Json = Annotated[bool, typer.Option("--json", help="Print JSON")]


@contextmanager
def _control() -> Iterator[VoiceControl]:
    """The call-control engine of this command, on the configured database and counters (the
    in-process counters of a command see only its own calls: set OPERATEUR_REDIS_URL to see
    the server's)."""
    from operateur.accounts import audit

    current = settings()
    engine = make_engine(current.resolved_database_url())
    audit.install()
    try:
        yield VoiceControl(
            make_session_factory(engine), shared_counters(current.redis_url), current
        )
    finally:
        engine.dispose()


def _when(raw: str, field: str) -> datetime:
    try:
        moment = datetime.fromisoformat(raw)
    except ValueError:
        moment = None
    if moment is None or moment.tzinfo is None:
        raise InvalidInput(
            Text(
                fr="« {value} » : date et heure ISO 8601 avec fuseau attendues.",
                en="“{value}”: an ISO 8601 date and time with its UTC offset is expected.",
            ),
            field=field,
            details={"value": raw},
        )
    return moment


def _call_row(call: LiveCall) -> dict[str, Any]:
    return {
        "call_id": call.call_id,
        "line": call.line,
        "customer_id": call.customer_id,
        "caller": call.caller,
        "callee": call.callee,
        "route": call.route,
        "emergency": call.emergency,
        "max_duration": call.max_duration,
        "started_at": call.started_at.isoformat(),
        "answered_at": call.answered_at.isoformat() if call.answered_at else None,
    }


@app.command("authorize")
@reports_errors
def authorize(
    line: Annotated[str, typer.Option(help="SIP user name of the line")],
    caller: Annotated[str, typer.Option(help="Caller ID presented")],
    callee: Annotated[str, typer.Option(help="Number dialled")],
    media: Annotated[str, typer.Option(help="audio, fax or data")] = "audio",
    keep: Annotated[
        bool, typer.Option("--keep", help="Keep the call live (end it with the proxy's end)")
    ] = False,
    as_json: Json = False,
) -> None:
    """Ask call control about a test call, as the SIP proxy would, and print its answer.

    The call is then released at once (no usage record, no credit used, no attempt counted)
    unless --keep is given."""
    call_id = f"cli-{uuid.uuid4().hex}"
    with _control() as control:
        decision = control.authorize(
            AuthorizeRequest(call_id=call_id, line=line, caller=caller, callee=callee, media=media)
        )
        if decision.allow and not keep:
            control.cancel(call_id)
    data = {
        "call_id": call_id,
        "allow": decision.allow,
        "code": decision.code,
        "reason": decision.reason(lang()),
        "max_duration": decision.max_duration,
        "route": decision.route,
        "emergency": decision.emergency,
    }
    if as_json:
        print_json(data)
    else:
        typer.echo(
            f"{'ALLOW' if decision.allow else 'DENY'} {decision.code} {data['reason']} "
            f"max_duration={decision.max_duration}s route={decision.route}"
        )


@app.command("calls")
@reports_errors
def calls(
    customer: Annotated[int | None, typer.Option(help="Only this customer's calls")] = None,
    as_json: Json = False,
) -> None:
    """List the live calls (those held by the Redis counters when OPERATEUR_REDIS_URL is set)."""
    with _control() as control:
        rows = [_call_row(c) for c in control.live_calls(customer)]
    if as_json:
        print_json(rows)
        return
    for row in rows:
        typer.echo(
            f"{row['call_id']}\t{row['line']}\t{row['caller']} -> {row['callee']}\t"
            f"{row['started_at']}\t{'answered' if row['answered_at'] else 'ringing'}"
        )


@app.command("reap")
@reports_errors
def reap(as_json: Json = False) -> None:
    """End the calls whose end never arrived (past their maximum duration and margin)."""
    with _control() as control:
        count = control.reap()
    if as_json:
        print_json({"reaped": count})
    else:
        typer.echo(
            Text(fr="{n} appel(s) terminé(s).", en="{n} call(s) reaped.").render(lang(), n=count)
        )


@app.command("import-oppositions")
@reports_errors
def import_oppositions(
    file: Annotated[Path, typer.Argument(help="Opposition list: one number per line")],
    source: Annotated[str, typer.Option(help="Where the list comes from (e.g. bloctel-2026-11)")],
    replace: Annotated[bool, typer.Option("--replace", help="Replace the whole list")] = False,
    as_json: Json = False,
) -> None:
    """Import an opposition list (Bloctel format), all or nothing; bad lines are listed."""
    text = read_text_file(file, "file")
    with unit_of_work("voice import-oppositions") as session:
        report = telemarketing.import_oppositions(session, text, source=source, replace=replace)
    data = {
        "added": report.added,
        "already_listed": report.already_listed,
        "removed": report.removed,
        "total": report.total,
    }
    if as_json:
        print_json(data)
    else:
        typer.echo(
            Text(
                fr="{added} numéro(s) ajouté(s), {already_listed} déjà présent(s), "
                "{removed} retiré(s) ; {total} sur la liste.",
                en="{added} number(s) added, {already_listed} already listed, {removed} "
                "removed; {total} on the list.",
            ).render(lang(), **data)
        )


@app.command("consent")
@reports_errors
def consent(
    customer: Annotated[int, typer.Argument(help="Customer id")],
    number: Annotated[str, typer.Argument(help="The consumer's number")],
    subject: Annotated[str, typer.Option(help="Who: the consumer's name or reference")],
    given_at: Annotated[str, typer.Option(help="When, ISO 8601 with offset")],
    proof: Annotated[str, typer.Option(help="How it is proven (recording, form, contract)")],
    kind: Annotated[ConsentKind, typer.Option(help="consent, contract or refusal")] = (
        ConsentKind.CONSENT
    ),
    as_json: Json = False,
) -> None:
    """Record a consumer's consent, an existing contract, or a refusal (VOX-10)."""
    with unit_of_work("voice consent") as session:
        row = telemarketing.record_consent(
            session,
            customer,
            number=number,
            kind=kind,
            subject=subject,
            given_at=_when(given_at, "given_at"),
            proof=proof,
            recorded_by=f"cli:{getpass.getuser()}",
        )
        data = {"id": row.id, "number": row.number, "kind": row.kind.value}
    if as_json:
        print_json(data)
    else:
        typer.echo(f"{data['id']}\t{data['number']}\t{data['kind']}")


@app.command("consents")
@reports_errors
def consents(
    customer: Annotated[int, typer.Argument(help="Customer id")],
    number: Annotated[str | None, typer.Option(help="Only this number")] = None,
    as_json: Json = False,
) -> None:
    """List a customer's consents and refusals, newest first."""
    with unit_of_work() as session:
        rows = [
            {
                "id": c.id,
                "number": c.number,
                "kind": c.kind.value,
                "subject": c.subject,
                "given_at": c.given_at.isoformat(),
                "proof": c.proof,
                "recorded_by": c.recorded_by,
                "withdrawn_at": c.withdrawn_at.isoformat() if c.withdrawn_at else None,
            }
            for c in telemarketing.list_consents(session, customer, number)
        ]
    if as_json:
        print_json(rows)
        return
    for row in rows:
        typer.echo(f"{row['id']}\t{row['number']}\t{row['kind']}\t{row['given_at']}")


@app.command("prospecting")
@reports_errors
def prospecting(
    customer: Annotated[int, typer.Argument(help="Customer id")],
    contract: Annotated[int, typer.Argument(help="Contract id")],
    on: Annotated[bool, typer.Option("--on/--off", help="Flag or unflag")] = True,
) -> None:
    """Flag a contract's accounts as prospecting (VOX-10), where its terms allow it (VOX-11)."""
    with unit_of_work("voice prospecting") as session:
        telemarketing.set_prospecting(session, customer, contract, on)
    typer.echo(Text(fr="Profil enregistré.", en="Profile saved.").render(lang()))


@app.command("suspend-destination")
@reports_errors
def suspend_destination(
    prefix: Annotated[str, typer.Argument(help="E.164 prefix, e.g. +32 or 4420")],
    reason: Annotated[str, typer.Option(help="Why (sent to the customers)")],
    effective_at: Annotated[str, typer.Option("--from", help="ISO 8601 with offset")],
    offer: Annotated[str | None, typer.Option(help="Only this offer")] = None,
) -> None:
    """Suspend calls to a destination from a date, telling the customers by email (VOX-01)."""
    with unit_of_work("voice suspend-destination") as session:
        row = suspensions.suspend_destination(
            session,
            prefix=prefix,
            reason=reason,
            effective_at=_when(effective_at, "from"),
            offer_id=offer,
        )
        typer.echo(f"{row.id}\t+{row.prefix}\t{row.effective_at.isoformat()}")


@app.command("lift-destination")
@reports_errors
def lift_destination(suspension: Annotated[int, typer.Argument(help="Suspension id")]) -> None:
    """Lift a destination suspension."""
    with unit_of_work("voice lift-destination") as session:
        suspensions.lift_destination(session, suspension)
    typer.echo(Text(fr="Suspension levée.", en="Suspension lifted.").render(lang()))


# Traffic quality (VOX-08) and value-added-number reports (VOX-16) live in operateur/quality;
# their commands are part of `operateur voice`: `voice kpis`, `voice penalties`, ...
for _command in quality_cli.app.registered_commands:
    app.registered_commands.append(_command)
