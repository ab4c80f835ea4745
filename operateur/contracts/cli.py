"""``operateur contracts``: list, show, sign, activate and suspend contracts."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import typer
from sqlalchemy.orm import Session

from operateur.catalog.terms import SuspensionCause
from operateur.cli_support import lang, print_json, reports_errors, unit_of_work
from operateur.contracts import lifecycle, suspension
from operateur.contracts import service as contracts
from operateur.contracts.models import Contract, SuspensionScope
from operateur.contracts.schemas import schedule_out
from operateur.errors import NotFound
from operateur.i18n import Text

app = typer.Typer(help="Contracts and their frozen terms.", no_args_is_help=True)


def _summary(contract: Contract) -> dict[str, Any]:
    return {
        "id": contract.id,
        "reference": contract.reference,
        "customer_id": contract.customer_id,
        "offer_id": contract.offer_id,
        "status": str(contract.status),
        "signed_at": contract.signed_at.isoformat() if contract.signed_at else None,
        "activated_on": contract.activated_on.isoformat() if contract.activated_on else None,
    }


def _load(session: Session, contract_id: int) -> Contract:
    contract = session.get(Contract, contract_id)
    if contract is None:
        raise NotFound(
            Text(fr="Contrat {id} introuvable.", en="Contract {id} not found."),
            code="contract_not_found",
            details={"id": contract_id},
        )
    return contract


@app.command("list")
@reports_errors
def list_contracts(
    customer: Annotated[int, typer.Option(help="Customer id")],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON")] = False,
) -> None:
    """List a customer's contracts."""
    with unit_of_work() as session:
        rows = [_summary(c) for c in contracts.list_contracts(session, customer)]
    if as_json:
        print_json(rows)
        return
    for row in rows:
        typer.echo(f"{row['id']}\t{row['reference']}\t{row['offer_id']}\t{row['status']}")


@app.command("show")
@reports_errors
def show(
    contract_id: int,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON")] = False,
) -> None:
    """Show a contract with its terms and price list."""
    with unit_of_work() as session:
        contract = _load(session, contract_id)
        data = _summary(contract) | {
            "overrides": contract.overrides,
            "terms": contract.terms,
            "prices": contract.prices,
        }
    if as_json:
        print_json(data)
        return
    for key, value in _summary(contract).items():
        typer.echo(f"{key}: {value}")


@app.command("sign")
@reports_errors
def sign(contract_id: int, signed_by: Annotated[str, typer.Option(help="Signatory")]) -> None:
    """Sign a draft contract: its terms are frozen from now on (CTR-01)."""
    with unit_of_work("contracts sign") as session:
        reference = contracts.sign(session, _load(session, contract_id), signed_by).reference
    typer.echo(
        Text(fr="Contrat {ref} signé.", en="Contract {ref} signed.").render(lang(), ref=reference)
    )


@app.command("activate")
@reports_errors
def activate(
    contract_id: int,
    on: Annotated[datetime, typer.Option(help="Activation date", formats=["%Y-%m-%d"])],
) -> None:
    """Activate a signed contract on a date."""
    with unit_of_work("contracts activate") as session:
        contract = contracts.activate(session, _load(session, contract_id), on.date())
        reference = contract.reference
    typer.echo(
        Text(fr="Contrat {ref} actif.", en="Contract {ref} active.").render(lang(), ref=reference)
    )


@app.command("schedule")
@reports_errors
def schedule(
    contract_id: int,
    as_of: Annotated[
        datetime | None, typer.Option("--as-of", formats=["%Y-%m-%d"], help="Default: today")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON")] = False,
) -> None:
    """The current term's end, the last day to give notice, and what happens at renewal."""
    day = as_of.date() if as_of else datetime.now().date()
    with unit_of_work() as session:
        plan = contracts.contract_schedule(_load(session, contract_id), day)
    out = schedule_out(plan, lang())
    if as_json:
        print_json(out.model_dump(mode="json"))
        return
    for key, value in out.model_dump(mode="json").items():
        typer.echo(f"{key}: {value}")


@app.command("suspension-notice")
@reports_errors
def suspension_notice(
    contract_id: int,
    cause: Annotated[SuspensionCause, typer.Option(help="Cause of the coming suspension")],
    summary: Annotated[str, typer.Option(help="What the customer has to cure")],
    on: Annotated[
        datetime | None, typer.Option("--on", formats=["%Y-%m-%d"], help="Default: today")
    ] = None,
) -> None:
    """Send a formal notice before suspension (CTR-06): suspension possible after its delay."""
    day = on.date() if on else lifecycle.today()
    with unit_of_work("contracts suspension-notice") as session:
        notice = suspension.formal_notice(
            session, _load(session, contract_id), cause=cause, notified_on=day, summary=summary
        )
        opens_on = notice.opens_on
    assert opens_on is not None
    typer.echo(
        Text(
            fr="Mise en demeure envoyée ; suspension possible à compter du {day}.",
            en="Formal notice sent; suspension possible from {day}.",
        ).render(lang(), day=opens_on.isoformat())
    )


@app.command("suspend")
@reports_errors
def suspend(
    contract_id: int,
    cause: Annotated[SuspensionCause, typer.Option(help="Cause of the suspension")],
    reason: Annotated[str, typer.Option(help="Reason told to the customer")],
    scope: Annotated[SuspensionScope, typer.Option(help="Whole or part")] = SuspensionScope.FULL,
    on: Annotated[
        datetime | None, typer.Option("--on", formats=["%Y-%m-%d"], help="Default: today")
    ] = None,
) -> None:
    """Suspend a contract in CTR-06's order: at once for an urgent cause of the terms,
    otherwise only once a formal notice has stayed unanswered for the terms' delay."""
    day = on.date() if on else lifecycle.today()
    with unit_of_work("contracts suspend") as session:
        contract = _load(session, contract_id)
        suspension.suspend_in_order(
            session, contract, cause=cause, reason=reason, scope=scope, on=day
        )
        reference = contract.reference
    typer.echo(
        Text(fr="Contrat {ref} suspendu.", en="Contract {ref} suspended.").render(
            lang(), ref=reference
        )
    )
