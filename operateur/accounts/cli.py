"""``operateur customers``, ``operateur users`` and ``operateur audit``."""

from __future__ import annotations

from typing import Annotated

import typer

from operateur.accounts import audit
from operateur.accounts import service as accounts
from operateur.accounts.models import Role
from operateur.accounts.permissions import system_actor
from operateur.accounts.schemas import UserIn
from operateur.cli_support import lang, print_json, reports_errors, unit_of_work
from operateur.errors import InvalidInput
from operateur.i18n import Text

customers_app = typer.Typer(help="Customers.", no_args_is_help=True)
users_app = typer.Typer(help="Users and credentials.", no_args_is_help=True)
audit_app = typer.Typer(help="The audit log (SEC-02).", no_args_is_help=True)


@customers_app.command("list")
@reports_errors
def list_customers(
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON")] = False,
) -> None:
    """List every customer."""
    with unit_of_work() as session:
        rows = [
            {"id": c.id, "name": c.name, "siren": c.siren, "status": str(c.status), "city": c.city}
            for c in accounts.list_customers(session, None)
        ]
    if as_json:
        print_json(rows)
        return
    for row in rows:
        typer.echo(f"{row['id']}\t{row['name']}\t{row['siren'] or ''}\t{row['status']}")


@users_app.command("create-staff")
@reports_errors
def create_staff(
    email: str,
    role: Annotated[Role, typer.Option(help="admin, billing, support or network")],
    name: Annotated[str, typer.Option(help="Display name")],
    operator: Annotated[str, typer.Option(help="SIREN of the operator")],
    password: Annotated[str, typer.Option(prompt=True, hide_input=True, confirmation_prompt=True)],
) -> None:
    """Create an operator staff account."""
    with unit_of_work("users create-staff") as session:
        found = accounts.find_operator_by_siren(session, operator)
        if found is None:
            raise InvalidInput(
                Text(fr="Aucun opérateur de SIREN {siren}.", en="No operator with SIREN {siren}."),
                field="operator",
                details={"siren": operator},
            )
        data = UserIn(email=email, display_name=name, password=password, role=role)
        user = accounts.create_user(
            session, system_actor(), operator_id=found.id, customer_id=None, data=data
        )
        user_id = user.id
    typer.echo(
        Text(fr="Utilisateur {id} créé.", en="User {id} created.").render(lang(), id=user_id)
    )


@audit_app.command("list")
@reports_errors
def list_audit(
    customer: Annotated[int | None, typer.Option(help="Customer id")] = None,
    who: Annotated[str | None, typer.Option(help="Part of the actor's name")] = None,
    action: Annotated[str | None, typer.Option(help="create, update or delete")] = None,
    entity: Annotated[str | None, typer.Option(help="Table name, e.g. contracts")] = None,
    limit: int = 50,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON")] = False,
) -> None:
    """Show the newest audit events matching the filters."""
    with unit_of_work() as session:
        rows = [
            {
                "id": e.id,
                "at": e.at.isoformat(),
                "actor": e.actor_label,
                "customer_id": e.customer_id,
                "action": e.action,
                "entity": e.entity,
                "entity_id": e.entity_id,
                "before": e.before,
                "after": e.after,
                "reason": e.reason,
            }
            for e in audit.query(
                session,
                audit.AuditQuery(
                    customer_id=customer,
                    actor_label=who,
                    action=action,
                    entity=entity,
                    limit=limit,
                ),
            )
        ]
    if as_json:
        print_json(rows)
        return
    for row in rows:
        typer.echo(
            f"{row['at']}\t{row['actor']}\t{row['action']}\t{row['entity']}:{row['entity_id']}"
        )
