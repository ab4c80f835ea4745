"""``operateur fraud``: fraud alerts for staff (VOX-06, BIL-13, BIL-15)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import typer

from operateur.cli_support import lang, print_json, reports_errors, unit_of_work
from operateur.fraud import service as fraud
from operateur.fraud.models import AlertStatus, FraudAlert
from operateur.i18n import Text

app = typer.Typer(help="Fraud alerts (VOX-06) / Alertes de fraude.", no_args_is_help=True)

JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON")]


def _row(alert: FraudAlert) -> dict[str, Any]:
    return {
        "id": alert.id,
        "customer_id": alert.customer_id,
        "contract_id": alert.contract_id,
        "line_id": alert.line_id,
        "kind": alert.kind.value,
        "rule": alert.rule,
        "period": alert.period,
        "status": alert.status.value,
        "evidence": alert.evidence,
        "actions": alert.actions,
        "resolution": alert.resolution,
    }


def _print(rows: list[dict[str, Any]], as_json: bool) -> None:
    if as_json:
        print_json(rows)
        return
    todo = Text(fr="à faire", en="to do").render(lang())
    for row in rows:
        done = ", ".join(f"{a['action']}={'ok' if a['done'] else todo}" for a in row["actions"])
        typer.echo(
            f"{row['id']}\t{row['status']}\t{row['rule']}\t{row['kind']}\t"
            f"{row['customer_id']}\t{row['period']}\t{done}"
        )


@app.command("alerts")
@reports_errors
def alerts(
    status: Annotated[AlertStatus | None, typer.Option(help="open or resolved")] = None,
    customer: Annotated[int | None, typer.Option(help="Only this customer")] = None,
    as_json: JsonOption = False,
) -> None:
    """List fraud alerts, newest first, with their evidence and the actions taken."""
    with unit_of_work("fraud alerts") as session:
        rows = [_row(a) for a in fraud.list_alerts(session, status=status, customer_id=customer)]
    _print(rows, as_json)


@app.command("run")
@reports_errors
def run(
    as_of: Annotated[datetime, typer.Option("--as-of", formats=["%Y-%m-%d"])],
    as_json: JsonOption = False,
) -> None:
    """Run the detectors for a date (the scheduler runs them daily)."""
    with unit_of_work("fraud run") as session:
        rows = [_row(a) for a in fraud.run(session, as_of.date())]
    _print(rows, as_json)


@app.command("resolve")
@reports_errors
def resolve(
    alert_id: int,
    resolution: Annotated[str, typer.Option(help="Staff's conclusion")],
    lift: Annotated[bool, typer.Option("--lift", help="Lift the restriction")] = False,
    reported: Annotated[
        bool, typer.Option("--reported", help="The report to the authorities was made")
    ] = False,
) -> None:
    """Close an alert; --lift restores the contract when only fraud alerts suspended it."""
    with unit_of_work("fraud resolve") as session:
        alert = fraud.resolve(
            session,
            fraud.get_alert(session, alert_id),
            by="cli",
            resolution=resolution,
            lift_restriction=lift,
            reported=reported,
        )
        number = alert.id
    typer.echo(Text(fr="Alerte {id} close.", en="Alert {id} resolved.").render(lang(), id=number))
