"""Traffic-quality indicators and penalties (VOX-08), consumer reports on numbers and their
notices (VOX-16): mounted in ``operateur voice`` (``voice kpis``, ``voice penalties`` …)."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Annotated, Any

import typer

from operateur.cli_support import lang, print_json, reports_errors, unit_of_work
from operateur.contracts import service as contracts
from operateur.domain.calendar import PARIS
from operateur.errors import InvalidInput
from operateur.i18n import Text
from operateur.quality import reports
from operateur.quality import service as quality
from operateur.quality.kpis import WindowKpis
from operateur.quality.models import ReportKind

app = typer.Typer(
    help="Traffic quality (VOX-08) and consumer reports (VOX-16) / Qualité de trafic.",
    no_args_is_help=True,
)

JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON")]


def _moment(raw: str, field: str, *, end: bool) -> datetime:
    """A date (the start of that Paris day, or the start of the next one for ``--to``) or an
    ISO time (Paris time when it has no offset)."""
    try:
        if len(raw) == 10:
            day = date.fromisoformat(raw) + timedelta(days=1 if end else 0)
            return datetime.combine(day, time(0), tzinfo=PARIS)
        moment = datetime.fromisoformat(raw)
    except ValueError:
        raise InvalidInput(
            Text(fr="Date ou heure invalide : {value}.", en="Invalid date or time: {value}."),
            field=field,
            details={"value": raw},
        ) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=PARIS)


def _number(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


def _window(window: WindowKpis) -> dict[str, Any]:
    return {
        "hour": window.start.astimezone(PARIS).isoformat(),
        "calls": window.calls,
        "answered": window.answered,
        "asr": str(window.asr),
        "ner": str(window.ner),
        "acd": _number(window.acd),
        "short_calls": window.short_calls,
        "short_call_ratio": _number(window.short_call_ratio),
        "short_call_ratio_sliding": _number(window.short_call_ratio_sliding),
        "breaches": [
            {
                "kpi": b.kpi,
                "value": str(b.value),
                "target": str(b.target),
                "penalty": str(b.penalty),
            }
            for b in window.breaches
        ],
        "penalty": str(window.penalty),
    }


@app.command("kpis")
@reports_errors
def kpis(
    customer: Annotated[int, typer.Option(help="Customer id")],
    start: Annotated[str, typer.Option("--from", help="YYYY-MM-DD or an ISO time")],
    end: Annotated[str, typer.Option("--to", help="YYYY-MM-DD (included) or an ISO time")],
    as_json: JsonOption = False,
) -> None:
    """Hourly ASR, NER, ACD and short-call ratios of a customer, with the breaches of the
    contract's targets and their penalties (VOX-08)."""
    first = _moment(start, "from", end=False)
    last = _moment(end, "to", end=True)
    with unit_of_work("voice kpis") as session:
        data: list[dict[str, Any]] = [
            {
                "contract_id": q.contract.id,
                "reference": q.contract.reference,
                "hours": [_window(w) for w in q.windows],
            }
            for q in quality.customer_quality(session, customer, first, last)
        ]
    if as_json:
        print_json({"customer_id": customer, "contracts": data})
        return
    for contract in data:
        typer.echo(contract["reference"])
        for hour in contract["hours"]:
            breaches = ",".join(b["kpi"] for b in hour["breaches"]) or "-"
            typer.echo(
                f"  {hour['hour']}  {hour['calls']}  ASR {hour['asr']}  NER {hour['ner']}  "
                f"ACD {hour['acd']}  <{hour['short_call_ratio_sliding']}  {breaches}  "
                f"{hour['penalty']}"
            )


@app.command("penalties")
@reports_errors
def penalties(
    day: Annotated[datetime, typer.Option("--date", formats=["%Y-%m-%d"])],
    as_json: JsonOption = False,
) -> None:
    """Put the penalties of a day's hours below target on the next invoices (once)."""
    with unit_of_work("voice penalties") as session:
        rows = [
            {"contract_id": c.contract_id, "code": c.code, "amount": str(c.amount)}
            for c in quality.apply_penalties(session, day.date())
        ]
    if as_json:
        print_json(rows)
        return
    typer.echo(
        Text(fr="{n} pénalité(s) ajoutée(s).", en="{n} penalty(ies) added.").render(
            lang(), n=len(rows)
        )
    )


@app.command("report")
@reports_errors
def report(
    customer: Annotated[int, typer.Option(help="Customer id")],
    number: Annotated[str, typer.Option(help="The number reported")],
    kind: Annotated[ReportKind, typer.Option(help="What the report is")],
    reference: Annotated[str, typer.Option(help="Ticket or complaint reference")],
    received_on: Annotated[datetime, typer.Option("--received-on", formats=["%Y-%m-%d"])],
    details: Annotated[str, typer.Option(help="Free text")] = "",
) -> None:
    """Record a consumer report on a customer's number (VOX-16), with its penalty."""
    with unit_of_work("voice report") as session:
        row = reports.record_report(
            session,
            customer,
            number=number,
            kind=kind,
            reference=reference,
            received_on=received_on.date(),
            details=details,
        )
        report_id = row.id
    typer.echo(
        Text(fr="Signalement {id} enregistré.", en="Report {id} recorded.").render(
            lang(), id=report_id
        )
    )


@app.command("penalty-table")
@reports_errors
def penalty_table(
    customer: Annotated[int, typer.Option(help="Customer id")],
    as_json: JsonOption = False,
) -> None:
    """The VOX-16 penalty table of each of the customer's contracts."""
    with unit_of_work("voice penalty-table") as session:
        data: list[dict[str, Any]] = [
            {
                "contract_id": c.id,
                "reference": c.reference,
                "amounts": {
                    k: _number(v) for k, v in reports.penalty_table(contracts.terms_of(c)).items()
                },
            }
            for c in contracts.list_contracts(session, customer)
        ]
    if as_json:
        print_json(data)
        return
    for row in data:
        typer.echo(row["reference"])
        for kind, amount in row["amounts"].items():
            typer.echo(f"  {kind}\t{amount or '-'}")


@app.command("evaluate-reports")
@reports_errors
def evaluate_reports(
    month: Annotated[str, typer.Option(help="The last month of the run, YYYY-MM")],
    as_json: JsonOption = False,
) -> None:
    """Give notice to customers above the average of consumer reports for the terms'
    consecutive months (VOX-16)."""
    with unit_of_work("voice evaluate-reports") as session:
        rows = [
            {
                "notice_id": n.id,
                "customer_id": n.customer_id,
                "suspend_at": n.suspend_at.isoformat(),
                "evidence": n.evidence,
            }
            for n in reports.evaluate(session, month, datetime.now(PARIS))
        ]
    if as_json:
        print_json(rows)
        return
    for row in rows:
        typer.echo(f"{row['notice_id']}\t{row['customer_id']}\t{row['suspend_at']}")
