"""``operateur mail train`` and ``operateur mail scan``: retrain the content classifier (from
the corpus, released mail as ham, reported mail as spam) and scan raw message files."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Annotated, Any

import typer

from operateur.cli_support import lang, print_json, reports_errors, settings
from operateur.errors import InvalidInput
from operateur.i18n import Text

app = typer.Typer(help="Mail filter: classifier training and message scans.")

DirsOption = list[Path]


@app.command("train")
@reports_errors
def train_command(
    ham: Annotated[DirsOption, typer.Option("--ham", help="Directory of ham (repeatable)")],
    spam: Annotated[DirsOption, typer.Option("--spam", help="Directory of spam (repeatable)")],
    model: Annotated[
        Path | None,
        typer.Option(help="Where to write the model (default <data_dir>/mail/spam_model.npz)"),
    ] = None,
    max_cv_false_positive_rate: Annotated[
        float | None,
        typer.Option(help="Operating point: share of ham let past it in cross-validation"),
    ] = None,
    supplement: Annotated[
        bool,
        typer.Option(
            "--supplement/--no-supplement",
            help="Also learn the French business ham shipped in the package",
        ),
    ] = True,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON")] = False,
) -> None:
    """Train the content classifier on raw messages (one file each) and write the model.

    Released mail is ham and reported mail spam: pass their directories with --ham / --spam
    beside the corpus; the French business ham shipped in the package is added unless
    --no-supplement. The gateway uses <data_dir>/mail/spam_model.npz when it exists.
    """
    from operateur.mail.filter.classifier import (
        TrainingOptions,
        operator_model_path,
        read_messages,
        train,
    )
    from operateur.mail.filter.corpus import supplement_ham

    for field, dirs in (("ham", ham), ("spam", spam)):
        for directory in dirs:
            if not directory.is_dir():
                raise InvalidInput(
                    Text(fr="{path} n'est pas un répertoire", en="{path} is not a directory"),
                    field=field,
                    details={"path": str(directory)},
                )
    ham_messages, spam_messages = read_messages(ham), read_messages(spam)
    if supplement:
        ham_messages.extend(p.read_bytes() for p in supplement_ham())
    options = TrainingOptions()
    if max_cv_false_positive_rate is not None:
        options = dataclasses.replace(
            options, max_cv_false_positive_rate=max_cv_false_positive_rate
        )
    try:
        trained = train(ham_messages, spam_messages, options)
    except ValueError as exc:
        raise InvalidInput(
            Text(fr="Entraînement impossible : {reason}", en="Cannot train: {reason}"),
            field="ham",
            details={"reason": str(exc)},
        ) from exc
    target = model or operator_model_path(settings().data_dir)
    trained.save(target)
    thresholds = {kind: round(point.threshold, 4) for kind, point in trained.points.items()}
    summary = {"model": str(target), "thresholds": thresholds, **trained.info}
    if as_json:
        print_json(summary)
        return
    typer.echo(
        Text(
            fr="Modèle écrit dans {model} : {ham} ham, {spam} spam ; validation croisée : "
            "{cv_false_positives} faux positifs, {cv_false_negatives} faux négatifs.",
            en="Model written to {model}: {ham} ham, {spam} spam; cross-validation: "
            "{cv_false_positives} false positives, {cv_false_negatives} false negatives.",
        ).render(lang(), **summary)
    )


@app.command("scan")
@reports_errors
def scan_command(
    files: Annotated[list[Path], typer.Argument(help="Raw message files (RFC 5322)")],
    model: Annotated[Path | None, typer.Option(help="Classifier model (.npz)")] = None,
    network: Annotated[
        bool, typer.Option("--network", help="Do DNS lookups (DNSBL, SPF, DKIM, DMARC)")
    ] = False,
    mail_from: Annotated[str, typer.Option("--mail-from", help="Envelope sender")] = "",
    rcpt: Annotated[list[str] | None, typer.Option("--rcpt", help="Envelope recipient")] = None,
    client_ip: Annotated[str | None, typer.Option("--client-ip")] = None,
    helo: Annotated[str | None, typer.Option("--helo")] = None,
    rspamd: Annotated[str | None, typer.Option(help="Also ask rspamd at this URL")] = None,
    spamd: Annotated[str | None, typer.Option(help="Also ask spamd at HOST:PORT")] = None,
    offer: Annotated[str, typer.Option(help="Offer whose mail terms give the policy")] = (
        "mail-security"
    ),
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON")] = False,
) -> None:
    """Scan raw message files; print each one's action, score and the symbols that fired.

    No DNS lookup is made unless --network is given. The thresholds and the corrupted-host
    count are the offer's mail terms; the DNS lists and resolvers come from the settings.
    """
    from operateur.catalog.service import get_offer
    from operateur.mail.filter import Envelope, Filter
    from operateur.mail.filter.classifier import model_in_use
    from operateur.mail.filter.engines import configured_engines
    from operateur.mail.filter.scanning import Scanner
    from operateur.mail.service import policy_for

    current = settings()
    rules = get_offer(offer).terms.mail
    if rules is None:
        raise InvalidInput(
            Text(fr="L'offre {offer} n'a pas de règles mail", en="Offer {offer} has no mail terms"),
            field="offer",
            details={"offer": offer},
        )
    policy = dataclasses.replace(
        policy_for(rules, frozenset(), frozenset(), current), network=network
    )
    engines: list[Scanner] = list(configured_engines(rspamd or "", spamd or ""))
    scanner = Filter(model or model_in_use(current.data_dir), engines=engines)
    envelope = Envelope(
        mail_from=mail_from, rcpt_tos=tuple(rcpt or ()), client_ip=client_ip, helo=helo
    )
    results: list[dict[str, Any]] = []
    for path in files:
        if not path.is_file():
            raise InvalidInput(
                Text(fr="{path} : fichier introuvable", en="{path}: no such file"),
                field="files",
                details={"path": str(path)},
            )
        verdict = scanner.scan(path.read_bytes(), envelope, policy)
        results.append(
            {
                "file": str(path),
                "action": verdict.action.value,
                "score": verdict.score,
                "virus": verdict.virus,
                "symbols": [dataclasses.asdict(s) for s in verdict.symbols],
            }
        )
    if as_json:
        print_json(results)
        return
    for result in results:
        typer.echo(f"{result['file']}: {result['action']} {result['score']}")
        for symbol in result["symbols"]:
            detail = f" ({symbol['detail']})" if symbol["detail"] else ""
            typer.echo(f"  {symbol['name']} {symbol['score']}{detail}")
