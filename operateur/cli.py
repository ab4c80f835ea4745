"""The ``operateur`` command: assembles each context's Typer sub-app."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import typer

from operateur.accounts.cli import audit_app, customers_app, users_app
from operateur.billing.cli import app as billing_app
from operateur.catalog.cli import app as catalog_app
from operateur.cli_support import lang, print_json, reports_errors, settings
from operateur.contracts.cli import app as contracts_app
from operateur.fraud.cli import app as fraud_app
from operateur.i18n import Text
from operateur.mail.cli import app as mail_app
from operateur.notifications.cli import app as notifications_app
from operateur.numbers.cli import app as numbers_app
from operateur.orders.cli import app as orders_app
from operateur.recordings.cli import app as recordings_app
from operateur.sms.cli import app as sms_app
from operateur.support.cli import app as support_app
from operateur.voice.cli import app as voice_app

app = typer.Typer(
    help="operateur — the platform of a B2B telecom and messaging operator.",
    no_args_is_help=True,
)
db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
scheduler_app = typer.Typer(help="Scheduled jobs.", no_args_is_help=True)
demo_app = typer.Typer(help="Demo data.", no_args_is_help=True)

app.add_typer(db_app, name="db")
app.add_typer(demo_app, name="demo")
app.add_typer(scheduler_app, name="scheduler")
app.add_typer(catalog_app, name="catalog")
app.add_typer(customers_app, name="customers")
app.add_typer(contracts_app, name="contracts")
app.add_typer(users_app, name="users")
app.add_typer(numbers_app, name="numbers")
app.add_typer(billing_app, name="billing")
app.add_typer(sms_app, name="sms")
app.add_typer(audit_app, name="audit")
app.add_typer(mail_app, name="mail")
app.add_typer(support_app, name="support")
app.add_typer(notifications_app, name="notifications")
app.add_typer(orders_app, name="orders")
app.add_typer(voice_app, name="voice")
app.add_typer(fraud_app, name="fraud")
app.add_typer(recordings_app, name="recordings")


@db_app.command("upgrade")
@reports_errors
def db_upgrade(revision: str = "heads") -> None:
    """Create or migrate the database schema to REVISION (default: the newest)."""
    from operateur.migrations import upgrade

    current = settings()
    current.data_dir.mkdir(parents=True, exist_ok=True)
    upgrade(current.resolved_database_url(), revision)
    typer.echo(Text(fr="Base de données à jour.", en="Database up to date.").render(lang()))


@demo_app.command("load")
@reports_errors
def demo_load() -> None:
    """Load the demo operator, offers' customers, contracts, lines, numbers and equipment.

    Idempotent: a second run changes nothing. Prints the demo logins.
    """
    from operateur.cli_support import unit_of_work
    from operateur.demo.data import DEMO_LOGINS, load

    with unit_of_work("demo load") as session:
        created = load(session)
    typer.echo(
        Text(
            fr="Données de démonstration : {n} objet(s) créé(s).",
            en="Demo data: {n} object(s) created.",
        ).render(lang(), n=created)
    )
    typer.echo(Text(fr="Identifiants de démonstration :", en="Demo logins:").render(lang()))
    for login in DEMO_LOGINS:
        typer.echo(f"  {login.role:<15} {login.email:<32} {login.password}")


@scheduler_app.command("run-once")
@reports_errors
def scheduler_run_once(
    as_of: Annotated[datetime, typer.Option("--as-of", formats=["%Y-%m-%d"])],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON")] = False,
) -> None:
    """Run every job due on a date, once: a second run for the same date does nothing. The
    notifications due (emails, webhooks) are then delivered."""
    from operateur.accounts.audit import install
    from operateur.db import make_engine, make_session_factory
    from operateur.scheduler import tick

    engine = make_engine(settings().resolved_database_url())
    install()
    try:
        executed = tick(make_session_factory(engine), as_of.date())
    finally:
        engine.dispose()
    if as_json:
        print_json({"executed": executed})
        return
    for name in executed:
        typer.echo(name)


@app.command("serve")
def serve(
    host: Annotated[str | None, typer.Option(help="Listen address")] = None,
    port: Annotated[int | None, typer.Option(help="Listen port")] = None,
) -> None:
    """Run the HTTP server (API under /api/v1, docs at /docs, metrics at /metrics)."""
    import uvicorn

    from operateur.app import create_app
    from operateur.http.routes import warm_up
    from operateur.logs import configure

    current = settings()
    configure(current.log_level)
    application = create_app(current)
    warm_up(application)
    if current.scheduler_enabled:
        from operateur.scheduler import start_background

        start_background(application.state.session_factory)
    from operateur.voice.api import engine_of
    from operateur.voice.control import start_reaper

    start_reaper(engine_of(application), current.voice_reap_every_seconds)
    if current.mail_gateways:  # MAIL-06 availability: every mail gateway checked each minute
        from operateur.mail import prober

        prober.start_background(
            application.state.session_factory, prober.parse_gateways(current.mail_gateways)
        )
    uvicorn.run(
        application,
        host=host or current.host,
        port=port or current.port,
        log_level=current.log_level.lower(),
        access_log=False,  # operateur.http.metrics writes the access line, with the ids
    )


def main() -> None:
    app()
