"""``operateur sms serve``: deliver the SMS outbox over SMPP, one connector per route.

Routes come from ``OPERATEUR_SMS_ROUTES`` (see ``operateur.sms.smpp.SmppRoute``). The command
runs until interrupted (Ctrl-C or SIGTERM: every route drains what is on the wire, unbinds and
gives back what it had not sent), or with ``--until-idle`` until the outbox is empty.
"""

from __future__ import annotations

import logging
import signal
from typing import Annotated

import typer

from operateur.cli_support import reports_errors
from operateur.config import Settings
from operateur.db import make_engine, make_session_factory
from operateur.errors import InvalidInput
from operateur.i18n import Text
from operateur.sms.dispatcher import Dispatcher
from operateur.sms.smpp import parse_routes


@reports_errors
def serve_command(
    route: Annotated[
        list[str] | None,
        typer.Option("--route", help="Only this route (repeatable; default: every route)"),
    ] = None,
    until_idle: Annotated[
        bool, typer.Option("--until-idle", help="Stop once the outbox of every route is empty")
    ] = False,
) -> None:
    """Deliver queued SMS to the SMSC over SMPP, with receipts and inbound STOP (SMS-06)."""
    settings = Settings()
    logging.basicConfig(level=settings.log_level)
    try:
        routes = parse_routes(settings.sms_routes)
    except ValueError as exc:
        raise InvalidInput(
            Text(
                fr="Routes SMPP illisibles (OPERATEUR_SMS_ROUTES) : {reason}",
                en="Unreadable SMPP routes (OPERATEUR_SMS_ROUTES): {reason}",
            ),
            code="sms_routes",
            field="sms_routes",
            details={"reason": str(exc)},
        ) from exc
    if route:
        unknown = sorted(set(route) - set(routes))
        if unknown:
            raise InvalidInput(
                Text(fr="Route SMPP inconnue : {routes}", en="Unknown SMPP route: {routes}"),
                code="sms_route_unknown",
                field="route",
                details={"routes": ", ".join(unknown)},
            )
        routes = {name: routes[name] for name in route}
    if not routes:
        raise InvalidInput(
            Text(
                fr="Aucune route SMPP : définissez OPERATEUR_SMS_ROUTES.",
                en="No SMPP route: set OPERATEUR_SMS_ROUTES.",
            ),
            code="sms_routes",
            field="sms_routes",
        )
    engine = make_engine(settings.resolved_database_url())
    dispatcher = Dispatcher(
        make_session_factory(engine), routes.values(), short_code=settings.sms_short_code
    )
    signal.signal(signal.SIGTERM, lambda *_: dispatcher.stop_event.set())
    dispatcher.run(until_idle=until_idle)
    engine.dispose()
