"""``operateur numbers``: classify numbers and manage the operator's stock."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import typer

from operateur.accounts import service as accounts
from operateur.cli_support import lang, print_json, reports_errors, unit_of_work
from operateur.i18n import Text
from operateur.numbers import rio
from operateur.numbers import service as numbers
from operateur.numbers.models import NumberTier

app = typer.Typer(help="Numbers: classification and stock (VOX-14).", no_args_is_help=True)


@app.command("classify")
@reports_errors
def classify(
    number: str,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON")] = False,
) -> None:
    """Print the E.164 form and the type of NUMBER (``emergency`` for 15, 17, 112...)."""
    info = numbers.classify_number(number)
    data = {
        "raw": info.raw,
        "e164": info.e164,
        "kind": info.kind.value,
        "region": info.region,
        "is_emergency": info.is_emergency,
        "description": info.description.render(lang()),
    }
    if as_json:
        print_json(data)
    else:
        typer.echo(f"{info.e164 or info.raw}\t{info.kind.value}\t{info.description.render(lang())}")


@app.command("add-stock")
@reports_errors
def add_stock(
    number: Annotated[list[str], typer.Argument(help="Numbers to add")],
    tier: Annotated[
        NumberTier, typer.Option(help="standard, silver or gold")
    ] = NumberTier.STANDARD,
) -> None:
    """Add numbers to the free stock (all or none)."""
    with unit_of_work("numbers add-stock") as session:
        rows = numbers.add_to_stock(session, number, tier)
        count = len(rows)
    typer.echo(
        Text(fr="{n} numéro(s) ajouté(s) au stock.", en="{n} number(s) added to stock.").render(
            lang(), n=count
        )
    )


@app.command("check-rio")
@reports_errors
def check_rio(
    rio_code: Annotated[str, typer.Argument(metavar="RIO", help="The 12-character RIO")],
    number: Annotated[str, typer.Option(help="The number it belongs to")],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON")] = False,
) -> None:
    """Check a RIO's format and its key against NUMBER (VOX-15); exits 1 when invalid."""
    result = rio.check(rio_code, number)
    data = result.as_dict(lang())
    if as_json:
        print_json(data)
    elif result.valid:
        typer.echo(Text(fr="RIO valide.", en="Valid RIO.").render(lang()))
    else:
        typer.echo(f"{result.reason}: {result.message(lang())}")
    if not result.valid:
        raise typer.Exit(1)


@app.command("add-proof")
@reports_errors
def add_proof(
    customer: Annotated[int, typer.Option(help="Customer id")],
    document: Annotated[str, typer.Option(help="kbis, utility_bill, lease...")],
    reference: Annotated[str, typer.Option(help="The document's reference")],
    received_on: Annotated[datetime, typer.Option("--received-on", formats=["%Y-%m-%d"])],
) -> None:
    """Record a checked proof of the customer's current address (VOX-14)."""
    with unit_of_work("numbers add-proof") as session:
        numbers.record_address_proof(
            session,
            accounts.get_customer(session, customer),
            document=document,
            reference=reference,
            received_on=received_on.date(),
            checked_by="cli",
        )
    typer.echo(Text(fr="Justificatif enregistré.", en="Proof recorded.").render(lang()))
