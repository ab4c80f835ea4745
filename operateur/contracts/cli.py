"""``operateur contracts``: list, show, sign, activate, suspend and terminate contracts."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import typer
from sqlalchemy.orm import Session

from operateur.catalog.terms import Service, SuspensionCause
from operateur.cli_support import lang, print_json, reports_errors, unit_of_work
from operateur.contracts import lifecycle, maintenance, suspension, termination
from operateur.contracts import service as contracts
from operateur.contracts.models import (
    Contract,
    MaintenanceWindow,
    OperatorCase,
    SuspensionScope,
)
from operateur.contracts.schemas import schedule_out
from operateur.db import utcnow
from operateur.domain.calendar import PARIS
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


# --- planned maintenance (CTR-06 [002 §13.1.5]) -------------------------------------------------

_AT = ["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"]


def _paris(moment: datetime) -> datetime:
    """A command-line time is Paris time unless it names its zone."""
    return moment if moment.tzinfo else moment.replace(tzinfo=PARIS)


def _window_summary(session: Session, window: MaintenanceWindow) -> dict[str, Any]:
    return {
        "id": window.id,
        "status": window.status.value,
        "starts_at": window.starts_at.isoformat(),
        "ends_at": window.ends_at.isoformat(),
        "offer_id": window.offer_id,
        "contracts": [
            {
                "contract_id": row.contract_id,
                "accepted": row.accepted,
                "refusal": row.refusal.get(lang()) if row.refusal else None,
            }
            for row in maintenance.rows(session, window)
        ],
    }


def _print_window(row: dict[str, Any]) -> None:
    typer.echo(f"{row['id']}\t{row['status']}\t{row['starts_at']}\t{row['ends_at']}")
    for item in row["contracts"]:
        verdict = "accepted" if item["accepted"] else f"refused: {item['refusal']}"
        typer.echo(f"  contract {item['contract_id']}\t{verdict}")


@app.command("maintenance-announce")
@reports_errors
def maintenance_announce(
    start: Annotated[datetime, typer.Option(formats=_AT, help="Start, Paris time")],
    end: Annotated[datetime, typer.Option(formats=_AT, help="End, Paris time")],
    reason_fr: Annotated[str, typer.Option(help="Reason told to the customers, in French")],
    reason_en: Annotated[str, typer.Option(help="Reason told to the customers, in English")],
    offer: Annotated[str | None, typer.Option(help="Every contract of this offer")] = None,
    contract: Annotated[list[int] | None, typer.Option(help="A contract id (repeatable)")] = None,
    service: Annotated[list[Service] | None, typer.Option(help="Only offers with it")] = None,
    scope: Annotated[SuspensionScope, typer.Option(help="Whole or part")] = SuspensionScope.FULL,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON")] = False,
) -> None:
    """Announce a maintenance window (CTR-06): each contract is accepted or refused under its
    own terms; the accepted customers are told, the scheduler suspends and restores them."""
    with unit_of_work("contracts maintenance-announce") as session:
        window = maintenance.announce(
            session,
            starts_at=_paris(start),
            ends_at=_paris(end),
            reason=Text(fr=reason_fr, en=reason_en),
            offer_id=offer,
            contract_ids=list(contract or []),
            services=list(service or []),
            scope=scope,
            announced_by="cli",
        )
        row = _window_summary(session, window)
    if as_json:
        print_json(row)
        return
    _print_window(row)


@app.command("maintenance-list")
@reports_errors
def maintenance_list(
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON")] = False,
) -> None:
    """The maintenance windows, latest first, with each contract's verdict."""
    with unit_of_work() as session:
        rows = [_window_summary(session, w) for w in maintenance.list_windows(session, None)]
    if as_json:
        print_json(rows)
        return
    for row in rows:
        _print_window(row)


@app.command("maintenance-cancel")
@reports_errors
def maintenance_cancel(
    window_id: int, reason: Annotated[str, typer.Option(help="Told to the customers")]
) -> None:
    """Call a maintenance window off; its customers are told."""
    with unit_of_work("contracts maintenance-cancel") as session:
        maintenance.cancel(session, maintenance.get_window(session, window_id, None), reason=reason)
    typer.echo(
        Text(fr="Maintenance {id} annulée.", en="Maintenance {id} cancelled.").render(
            lang(), id=window_id
        )
    )


@app.command("maintenance-run")
@reports_errors
def maintenance_run(
    at: Annotated[
        datetime | None, typer.Option(formats=_AT, help="Paris time (default: now)")
    ] = None,
) -> None:
    """Suspend and restore the contracts of the windows started or ended by ``--at`` (what the
    scheduler does on every tick); running it again changes nothing."""
    with unit_of_work("contracts maintenance-run") as session:
        done = maintenance.apply_due(session, _paris(at) if at else utcnow())
    for name in done:
        typer.echo(name)


def _ends(ends_on: object) -> None:
    typer.echo(
        Text(
            fr="Préavis enregistré ; le contrat prend fin le {day}.",
            en="Notice recorded; the contract ends on {day}.",
        ).render(lang(), day=str(ends_on))
    )


@app.command("suspension-termination")
@reports_errors
def suspension_termination(
    contract_id: int,
    reason: Annotated[str, typer.Option(help="Reason told to the other party")],
    on: Annotated[
        datetime | None,
        typer.Option("--on", formats=["%Y-%m-%d"], help="Day notice is given (default: today)"),
    ] = None,
    for_customer: Annotated[
        bool, typer.Option("--for-customer", help="Record the customer's notice")
    ] = False,
) -> None:
    """Terminate a contract totally suspended for the terms' period, with the terms' notice
    (CTR-06 [004 §11.4]); refused before, naming the first possible day."""
    day = on.date() if on else lifecycle.today()
    with unit_of_work("contracts suspension-termination") as session:
        notice = termination.terminate_after_suspension(
            session,
            _load(session, contract_id),
            notified_on=day,
            reason=reason,
            by_operator=not for_customer,
        )
        ends_on = notice.details["ends_on"]
    _ends(ends_on)


@app.command("operator-termination")
@reports_errors
def operator_termination(
    contract_id: int,
    case: Annotated[OperatorCase, typer.Option(help="The case of the clause")],
    reason: Annotated[str, typer.Option(help="Reason told to the customer")],
    on: Annotated[
        datetime | None,
        typer.Option("--on", formats=["%Y-%m-%d"], help="Day notice is given (default: today)"),
    ] = None,
) -> None:
    """Terminate in one of the operator's specific cases with the terms' notice in business
    days (CTR-07 [004 §12.2]); a breach of the customer invoices the early-termination amount."""
    day = on.date() if on else lifecycle.today()
    with unit_of_work("contracts operator-termination") as session:
        notice = termination.operator_termination(
            session, _load(session, contract_id), case=case, notified_on=day, reason=reason
        )
        ends_on = notice.details["ends_on"]
    _ends(ends_on)
