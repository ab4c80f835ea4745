"""``operateur catalog``: list the offer templates and show one."""

from __future__ import annotations

import json
import os
from typing import Annotated

import typer
import yaml

from operateur.catalog.service import get_offer, list_offers
from operateur.errors import OperateurError
from operateur.i18n import Lang, Text, pick_lang

app = typer.Typer(
    name="catalog",
    help="Offer templates and their contract terms / Modèles d'offre et leurs conditions.",
    no_args_is_help=True,
)

_HEADERS = (
    Text(fr="ID", en="ID"),
    Text(fr="DOC", en="SEED"),
    Text(fr="NOM (FR)", en="NAME (FR)"),
    Text(fr="NOM (EN)", en="NAME (EN)"),
    Text(fr="SERVICES", en="SERVICES"),
)


def _lang() -> Lang:
    return pick_lang(os.environ.get("OPERATEUR_LANG"))


def _fail(error: OperateurError) -> typer.Exit:
    typer.echo(error.render(_lang()), err=True)
    return typer.Exit(1)


@app.command("list")
def list_command() -> None:
    """List the offer templates: id, seed document, names, services."""
    lang = _lang()
    try:
        offers = list_offers()
    except OperateurError as error:
        raise _fail(error) from None
    rows = [tuple(header.render(lang) for header in _HEADERS)]
    for offer in offers:
        services = ", ".join(service.value for service in offer.services)
        rows.append((offer.id, offer.seed, offer.name.fr, offer.name.en, services))
    widths = [max(len(row[column]) for row in rows) for column in range(len(_HEADERS))]
    for row in rows:
        cells = (cell.ljust(width) for cell, width in zip(row, widths, strict=True))
        typer.echo("  ".join(cells).rstrip())


@app.command("show")
def show_command(
    offer_id: Annotated[str, typer.Argument(metavar="ID", help="Offer id, e.g. centrex")],
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the whole template as JSON")
    ] = False,
) -> None:
    """Show one offer template with all its terms (YAML, or JSON with --json)."""
    try:
        offer = get_offer(offer_id)
    except OperateurError as error:
        raise _fail(error) from None
    data = offer.model_dump(mode="json")
    if as_json:
        typer.echo(json.dumps(data, ensure_ascii=False, indent=2))
    else:
        typer.echo(yaml.safe_dump(data, allow_unicode=True, sort_keys=False).rstrip())
