"""``operateur notifications``: deliver the outbox, and manage customers' webhooks."""

from __future__ import annotations

from typing import Annotated

import typer

from operateur.cli_support import lang, print_json, reports_errors, settings, unit_of_work
from operateur.i18n import Text
from operateur.notifications import service

app = typer.Typer(help="Notification emails and webhooks.", no_args_is_help=True)
webhooks_app = typer.Typer(help="Customers' webhook endpoints.", no_args_is_help=True)
app.add_typer(webhooks_app, name="webhooks")


@app.command("deliver")
@reports_errors
def deliver() -> None:
    """Send every email and webhook that is due now (retries included)."""
    from operateur.accounts.audit import install
    from operateur.db import make_engine, make_session_factory

    engine = make_engine(settings().resolved_database_url())
    install()
    try:
        sent = service.deliver_due(make_session_factory(engine))
    finally:
        engine.dispose()
    typer.echo(Text(fr="{n} envoi(s) réussi(s).", en="{n} delivered.").render(lang(), n=sent))


@app.command("list")
@reports_errors
def list_notifications(
    customer: Annotated[int, typer.Option(help="Customer id")],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON")] = False,
) -> None:
    """What was sent (or waits) for a customer, newest first."""
    with unit_of_work() as session:
        rows = [
            {
                "id": m.id,
                "channel": m.channel.value,
                "event": m.event,
                "recipient": m.recipient,
                "subject": m.subject,
                "status": m.status.value,
                "attempts": m.attempts,
                "created_at": m.created_at.isoformat(),
            }
            for m in service.list_messages(session, customer)
        ]
    if as_json:
        print_json(rows)
        return
    for row in rows:
        typer.echo(
            f"{row['id']}\t{row['channel']}\t{row['status']}\t{row['event']}\t{row['recipient']}"
        )


@webhooks_app.command("add")
@reports_errors
def add(
    url: str,
    customer: Annotated[int, typer.Option(help="Customer id")],
    event: Annotated[
        list[str] | None, typer.Option(help="Event or pattern (repeat); default: every event")
    ] = None,
) -> None:
    """Register a webhook endpoint and print its signing secret (shown this once)."""
    with unit_of_work("notifications webhooks add") as session:
        endpoint, secret = service.add_endpoint(session, customer, url, event or [])
        endpoint_id = endpoint.id
    typer.echo(
        Text(
            fr="Webhook {id} créé. Secret de signature (affiché une seule fois) : {secret}",
            en="Webhook {id} created. Signing secret (shown this once): {secret}",
        ).render(lang(), id=endpoint_id, secret=secret)
    )


@webhooks_app.command("list")
@reports_errors
def list_webhooks(
    customer: Annotated[int, typer.Option(help="Customer id")],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON")] = False,
) -> None:
    """A customer's webhook endpoints (without their secrets)."""
    with unit_of_work() as session:
        endpoints = service.list_endpoints(session, customer)
        rows = [
            {"id": e.id, "url": e.url, "events": list(e.events), "active": e.active}
            for e in endpoints
        ]
    if as_json:
        print_json(rows)
        return
    for e in endpoints:
        typer.echo(f"{e.id}\t{e.url}\t{','.join(e.events) or '*'}")


@webhooks_app.command("remove")
@reports_errors
def remove(webhook_id: int, customer: Annotated[int, typer.Option(help="Customer id")]) -> None:
    """Delete a webhook endpoint; deliveries still waiting for it are abandoned."""
    with unit_of_work("notifications webhooks remove") as session:
        service.remove_endpoint(session, service.get_endpoint(session, customer, webhook_id))
    typer.echo(
        Text(fr="Webhook {id} supprimé.", en="Webhook {id} removed.").render(lang(), id=webhook_id)
    )
