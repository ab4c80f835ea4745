"""``operateur support``: tickets, their SLA clock, monthly quotas and charges."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from sqlalchemy.orm import Session

from operateur.cli_support import lang, print_json, reports_errors, unit_of_work
from operateur.contracts import service as contracts
from operateur.db import utcnow
from operateur.errors import NotFound
from operateur.i18n import Text
from operateur.support import service as support
from operateur.support.models import Severity, Ticket, TicketKind, TicketOutcome

app = typer.Typer(help="Support tickets (SUP-01..03).", no_args_is_help=True)


def _load(session: Session, ticket_id: int) -> Ticket:
    ticket = session.get(Ticket, ticket_id)
    if ticket is None:
        raise NotFound(
            Text(fr="Ticket {id} introuvable.", en="Ticket {id} not found."),
            code="ticket_not_found",
            details={"id": ticket_id},
        )
    return ticket


def _row(session: Session, ticket: Ticket) -> dict[str, Any]:
    clock = support.sla(session, ticket, utcnow())
    return {
        "id": ticket.id,
        "reference": ticket.reference,
        "customer_id": ticket.customer_id,
        "contract_id": ticket.contract_id,
        "kind": ticket.kind.value,
        "severity": ticket.severity.value,
        "service": ticket.service,
        "subject": ticket.subject,
        "status": ticket.status.value,
        "opened_at": ticket.opened_at.isoformat(),
        "first_response_due": clock.due.isoformat() if clock.due else None,
        "first_response_at": ticket.first_response_at.isoformat()
        if ticket.first_response_at
        else None,
        "business_seconds_left": clock.business_seconds_left,
        "outcome": ticket.outcome.value if ticket.outcome else None,
    }


def _left(seconds: int | None) -> str:
    if seconds is None:
        return "-"
    sign = "-" if seconds < 0 else ""
    minutes = abs(seconds) // 60
    return f"{sign}{minutes // 60}h{minutes % 60:02d}"


@app.command("list")
@reports_errors
def list_tickets(
    customer: Annotated[int | None, typer.Option(help="One customer's tickets")] = None,
    include_closed: Annotated[bool, typer.Option("--all", help="Closed tickets too")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON")] = False,
) -> None:
    """The open tickets, nearest first-response deadline first (or one customer's)."""
    with unit_of_work() as session:
        tickets = (
            support.list_tickets(session, customer)
            if customer is not None
            else support.queue(session, None, include_closed=include_closed)
        )
        rows = [_row(session, t) for t in tickets if include_closed or t.closed_at is None]
    if as_json:
        print_json(rows)
        return
    for row in rows:
        typer.echo(
            f"{row['id']}\t{row['reference']}\t{row['kind']}\t{row['status']}\t"
            f"{_left(row['business_seconds_left'])}\t{row['subject']}"
        )


@app.command("show")
@reports_errors
def show(
    ticket_id: int,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON")] = False,
) -> None:
    """A ticket with its messages and SLA clock."""
    with unit_of_work() as session:
        ticket = _load(session, ticket_id)
        row = _row(session, ticket)
        row["messages"] = [
            {"at": m.at.isoformat(), "author": m.author, "staff": m.from_staff, "body": m.body}
            for m in support.messages(session, ticket)
        ]
    if as_json:
        print_json(row)
        return
    typer.echo(f"{row['reference']} — {row['subject']} [{row['status']}]")
    for message in row["messages"]:
        typer.echo(f"  {message['at']} {message['author']}: {message['body']}")


@app.command("open")
@reports_errors
def open_ticket(
    customer: Annotated[int, typer.Option(help="Customer id")],
    contract: Annotated[int, typer.Option(help="Contract id")],
    service: Annotated[str, typer.Option(help="Service of the contract's offer")],
    subject: Annotated[str, typer.Option(help="Subject")],
    body: Annotated[str, typer.Option(help="The request")],
    kind: Annotated[TicketKind, typer.Option(help="question or incident")] = TicketKind.QUESTION,
    severity: Annotated[Severity, typer.Option(help="Severity")] = Severity.NORMAL,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON")] = False,
) -> None:
    """Open a ticket for a customer (e.g. a request received by phone)."""
    with unit_of_work("support ticket opened") as session:
        ticket = support.open_ticket(
            session,
            customer,
            contract_id=contract,
            kind=kind,
            severity=severity,
            service=service,
            subject=subject,
            body=body,
        )
        row = _row(session, ticket)
    if as_json:
        print_json(row)
        return
    typer.echo(row["reference"])


@app.command("answer")
@reports_errors
def answer(ticket_id: int, body: str) -> None:
    """Answer a ticket as the operator (the first answer stops the SLA clock)."""
    with unit_of_work("support answer") as session:
        support.add_message(session, _load(session, ticket_id), body)
    typer.echo(Text(fr="Réponse enregistrée.", en="Answer recorded.").render(lang()))


@app.command("close")
@reports_errors
def close(
    ticket_id: int,
    reason: Annotated[str, typer.Option(help="Closing message")],
    outcome: Annotated[TicketOutcome, typer.Option(help="Outcome")] = TicketOutcome.RESOLVED,
) -> None:
    """Close a ticket; caused_by_customer bills the terms' fee (SUP-03)."""
    with unit_of_work("support ticket closed") as session:
        support.close_ticket(session, _load(session, ticket_id), outcome=outcome, reason=reason)
    typer.echo(Text(fr="Ticket clos.", en="Ticket closed.").render(lang()))


@app.command("quota")
@reports_errors
def quota(
    customer: Annotated[int, typer.Option(help="Customer id")],
    period: Annotated[str | None, typer.Option(help="YYYY-MM (default: this month)")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON")] = False,
) -> None:
    """Requests of the month against each contract's quota (SUP-03)."""
    month = period or support.period_of(utcnow())
    with unit_of_work() as session:
        rows = []
        for contract in contracts.list_contracts(session, customer):
            usage = support.quota_usage(session, contract, month)
            rows.append(
                {
                    "contract_id": contract.id,
                    "reference": contract.reference,
                    "period": month,
                    "users": usage.users,
                    "quota": usage.quota,
                    "used": usage.used,
                    "beyond": usage.beyond,
                    "fee_beyond": usage.fee_beyond,
                }
            )
    if as_json:
        print_json(rows)
        return
    for row in rows:
        typer.echo(
            f"{row['reference']}\t{row['used']}/{row['quota'] if row['quota'] is not None else '∞'}"
        )


@app.command("charge")
@reports_errors
def charge(
    period: Annotated[str, typer.Option(help="The month to settle, YYYY-MM")],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON")] = False,
) -> None:
    """Hand billing the requests beyond the quota of a month (idempotent)."""
    with unit_of_work(f"support charges {period}") as session:
        charges = support.charge_over_quota(session, period)
        rows = [
            {
                "contract_id": c.contract_id,
                "code": c.code,
                "amount": c.amount,
                "description": c.description,
            }
            for c in charges
        ]
    if as_json:
        print_json(rows)
        return
    typer.echo(
        Text(fr="{n} frais à facturer.", en="{n} charge(s) for billing.").render(
            lang(), n=len(rows)
        )
    )
