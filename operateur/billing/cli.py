"""``operateur billing``: rating (BIL-09), billing runs, penalties, decks, usage, SEPA."""

from __future__ import annotations

import getpass
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import typer
from sqlalchemy import select
from sqlalchemy.orm import Session

from operateur.accounts.audit import install as install_audit
from operateur.accounts.models import Operator
from operateur.accounts.permissions import system_actor
from operateur.billing import (
    cdr_import,
    collection,
    direct_debit,
    invoicing,
    reference_rates,
    refund_transfers,
    refunds,
    usage,
)
from operateur.billing.models import Invoice, MandateScheme, RefundStatus
from operateur.billing.rating import (
    CURRENCY,
    RatingResult,
    describe_reason,
    parse_deck,
    parse_usage,
    rate_usage,
)
from operateur.cli_support import (
    lang,
    print_json,
    read_file,
    read_text_file,
    reports_errors,
    settings,
    unit_of_work,
)
from operateur.db import make_engine, make_session_factory, utcnow
from operateur.domain.money import format_eur
from operateur.errors import InvalidInput
from operateur.i18n import Text

app = typer.Typer(
    help="Billing: usage rating (BIL-09) / Facturation : valorisation des consommations.",
    no_args_is_help=True,
)

_HEADERS = (
    Text(fr="APPEL", en="CALL"),
    Text(fr="PRÉFIXE", en="PREFIX"),
    Text(fr="DESTINATION", en="DESTINATION"),
    Text(fr="DURÉE (S)", en="DURATION (S)"),
    Text(fr="FACTURÉ (S)", en="BILLED (S)"),
    Text(fr="MONTANT (EUR)", en="AMOUNT (EUR)"),
)
_BAD_ROW = Text(
    fr="{path}, ligne {line}, {field} : {reason}", en="{path}, line {line}, {field}: {reason}"
)
_REJECTED = Text(fr="Rejetés : {count}", en="Rejected: {count}")
_REJECTION = Text(
    fr="  ligne {line}, appel {call_id}, {field} : {reason}",
    en="  line {line}, call {call_id}, {field}: {reason}",
)
_TOTAL = Text(
    fr="Total : {total} (somme exacte des montants : {exact} €, arrondie au centime)",
    en="Total: {total} (exact sum of the amounts: €{exact}, rounded to the cent)",
)


@app.callback()
def billing() -> None:
    """Billing / Facturation."""


def _amount(value: Decimal, current: str) -> str:
    """An amount with all its decimals (six for call costs), French decimal comma in French."""
    text = str(value)
    return text if current == "en" else text.replace(".", ",")


def _print_bad_rows(error: InvalidInput, path: Path, current: str) -> None:
    for row in error.details.get("rows", []):
        typer.echo(
            _BAD_ROW.render(
                current,
                path=str(path),
                line=row["line"],
                field=row["field"],
                reason=describe_reason(row, current),
            ),
            err=True,
        )


def _print_table(result: RatingResult, current: str) -> None:
    rows = [tuple(header.render(current) for header in _HEADERS)]
    for call in result.records:
        rows.append(
            (
                call.record.call_id,
                call.rate.prefix if call.rate else "-",
                call.rate.destination if call.rate else "-",
                str(call.billable_seconds),
                str(call.billed_seconds),
                _amount(call.cost, current),
            )
        )
    widths = [max(len(row[column]) for row in rows) for column in range(len(_HEADERS))]
    for row in rows:
        cells = [cell.ljust(width) for cell, width in zip(row[:-1], widths, strict=False)]
        cells.append(row[-1].rjust(widths[-1]))
        typer.echo("  ".join(cells).rstrip())
    if result.rejected:
        typer.echo(_REJECTED.render(current, count=len(result.rejected)))
        for rejection in result.rejected:
            typer.echo(
                _REJECTION.render(
                    current,
                    line=rejection.line,
                    call_id=rejection.call_id or "-",
                    field=rejection.field,
                    reason=rejection.describe(current),
                )
            )
    typer.echo(
        _TOTAL.render(
            current,
            total=format_eur(result.total, current),
            exact=_amount(result.total_exact, current),
        )
    )


def _as_json(result: RatingResult, current: str) -> dict[str, Any]:
    return {
        "records": [call.as_dict() for call in result.records],
        "rejected": [
            {**rejection.as_dict(), "message": rejection.describe(current)}
            for rejection in result.rejected
        ],
        "total": str(result.total),
        "total_exact": str(result.total_exact),
        "currency": CURRENCY,
    }


@app.command("rate")
@reports_errors
def rate(
    deck: Annotated[Path, typer.Option("--deck", help="Rate deck CSV / grille tarifaire (CSV)")],
    usage: Annotated[
        Path, typer.Option("--usage", help="Call records CSV / tickets d'appels (CSV)")
    ],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON")] = False,
) -> None:
    """Rate the calls of USAGE with the rates of DECK (BIL-09) and print costs and total.

    Each call costs its connection fee plus its price per minute times its billed seconds
    (steps and minimum duration of its longest matching prefix), rounded half up to the
    micro-euro; the total is the exact sum of those costs rounded half up to the cent. Records
    that cannot be rated are listed with their line and reason. A deck with any bad row is
    refused whole: every bad row is printed and nothing is rated.
    """
    current = lang()
    try:
        rate_deck = parse_deck(read_text_file(deck, "deck"))
    except InvalidInput as error:
        _print_bad_rows(error, deck, current)
        raise
    try:
        usage_file = parse_usage(read_text_file(usage, "usage"))
    except InvalidInput as error:
        _print_bad_rows(error, usage, current)
        raise
    result = rate_usage(rate_deck, usage_file)
    if as_json:
        print_json(_as_json(result, current))
    else:
        _print_table(result, current)


# --- the billing cycle ------------------------------------------------------------------------


def _operator_id(session: Session, siren: str | None) -> int:
    """The operator named by SIREN, or the only one."""
    rows = list(session.scalars(select(Operator)))
    if siren is not None:
        rows = [o for o in rows if o.siren == siren]
    if len(rows) != 1:
        raise InvalidInput(
            Text(
                fr="Précisez l'opérateur par son SIREN (--operator).",
                en="Name the operator by its SIREN (--operator).",
            ),
            field="operator",
        )
    return rows[0].id


OperatorOption = Annotated[str | None, typer.Option("--operator", help="SIREN of the operator")]
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON")]
DateOption = Annotated[datetime, typer.Option(formats=["%Y-%m-%d"])]


@app.command("run")
@reports_errors
def run(
    period: Annotated[str, typer.Option(help="The period to invoice, YYYY-MM")],
    operator: OperatorOption = None,
    as_json: JsonOption = False,
) -> None:
    """Invoice every billable contract for PERIOD; a rerun completes it, never duplicates."""
    current = settings()
    engine = make_engine(current.resolved_database_url())
    install_audit()
    factory = make_session_factory(engine)
    try:
        with factory() as session:
            operator_id = _operator_id(session, operator)
        report = invoicing.run_period(
            factory, operator_id, period, actor=system_actor(f"cli:{getpass.getuser()}")
        )
    finally:
        engine.dispose()
    if as_json:
        print_json(
            {
                "run_id": report.run_id,
                "period": report.period,
                "issued": report.issued,
                "skipped": report.skipped,
            }
        )
        return
    typer.echo(
        Text(
            fr="Période {period} : {n} facture(s) émise(s), {skipped} contrat(s) sans facture.",
            en="Period {period}: {n} invoice(s) issued, {skipped} contract(s) without one.",
        ).render(lang(), period=period, n=len(report.issued), skipped=report.skipped)
    )


@app.command("penalties")
@reports_errors
def penalties(
    as_of: Annotated[datetime, typer.Option("--as-of", formats=["%Y-%m-%d"])],
    customer: Annotated[int | None, typer.Option(help="Only this customer")] = None,
    issue: Annotated[bool, typer.Option("--issue", help="Issue the penalty invoices")] = False,
    as_json: JsonOption = False,
) -> None:
    """Late invoices and their late-payment penalties as of a date (BIL-06)."""
    day = as_of.date()
    tables = reference_rates.tables_for(settings().data_dir)
    rows: list[dict[str, Any]] = []
    with unit_of_work("billing penalties") as session:
        customer_ids = (
            [customer]
            if customer
            else list(session.scalars(select(Invoice.customer_id).distinct()))
        )
        for customer_id in customer_ids:
            for late in collection.late_invoices(session, customer_id, day, tables):
                rows.append(
                    {
                        "customer_id": customer_id,
                        "invoice": late.invoice.number,
                        "due_date": late.invoice.due_date.isoformat(),
                        "days_late": late.penalty.days_late,
                        "interest": str(late.penalty.interest),
                        "indemnity": str(late.penalty.indemnity),
                        "to_invoice": str(late.interest_due + late.indemnity_due),
                        "explanation": late.penalty.explanation.render(lang()),
                    }
                )
            if issue:
                for invoice in collection.issue_penalty_invoices(session, customer_id, day, tables):
                    rows.append(
                        {
                            "customer_id": customer_id,
                            "issued": invoice.number,
                            "total": str(invoice.total_gross),
                        }
                    )
    if as_json:
        print_json(rows)
        return
    for row in rows:
        typer.echo("\t".join(f"{k}={v}" for k, v in row.items()))


@app.command("refunds")
@reports_errors
def list_refunds(
    pending: Annotated[
        bool, typer.Option("--pending", help="Only refunds not yet paid (pending or sent)")
    ] = False,
    as_json: JsonOption = False,
) -> None:
    """Refunds owed to customers, earliest due first, pending, sent or paid (BIL-07
    [004 §9.4])."""
    with unit_of_work("billing refunds") as session:
        rows: list[dict[str, Any]] = [
            {
                "id": refund.id,
                "customer_id": refund.customer_id,
                "amount": str(refund.amount),
                "due_by": refund.due_by.isoformat(),
                "status": refund.status.value,
                "paid_on": refund.paid_on.isoformat() if refund.paid_on else None,
                "bank_reference": refund.bank_reference,
                "reason": refund.reason,
            }
            for refund in refunds.list_refunds(
                session, status=(RefundStatus.PENDING, RefundStatus.SENT) if pending else None
            )
        ]
    if as_json:
        print_json(rows)
        return
    for row in rows:
        typer.echo("\t".join(f"{k}={v}" for k, v in row.items()))


_SKIPPED_REFUND = Text(
    fr="  remboursement {refund} (client {customer} {name}) laissé en attente, {field} : {reason}",
    en="  refund {refund} (customer {customer} {name}) left pending, {field}: {reason}",
)


@app.command("refunds-export")
@reports_errors
def refunds_export(
    out: Annotated[Path, typer.Option(help="Where to write the pain.001 file")],
    up_to: Annotated[
        datetime | None,
        typer.Option("--up-to", formats=["%Y-%m-%d"], help="Only refunds due by this date"),
    ] = None,
    refund_id: Annotated[
        list[int] | None, typer.Option("--id", help="Only this refund (repeatable)")
    ] = None,
    batch: Annotated[
        str | None, typer.Option("--batch", help="Write the file of this batch again")
    ] = None,
    operator: OperatorOption = None,
) -> None:
    """Pay the pending refunds by one SEPA credit-transfer file (pain.001) for the bank; they
    become sent in that batch, and are recorded paid later (BIL-07 [004 §9.4])."""
    current = lang()
    with unit_of_work("billing refunds-export") as session:
        operator_id = _operator_id(session, operator)
        if batch is not None:
            result = refund_transfers.transfer_file(session, operator_id, batch)
        else:
            result = refund_transfers.export_refunds(
                session,
                operator_id,
                created_at=utcnow(),
                due_by=up_to.date() if up_to else None,
                refund_ids=refund_id or None,
            )
        if result.xml is not None:
            out.write_bytes(result.xml)  # inside the transaction: no file, nothing marked sent
    if result.xml is None:
        typer.echo(
            Text(fr="Aucun remboursement à virer.", en="No refund to transfer.").render(current)
        )
    else:
        typer.echo(
            Text(
                fr="{n} virement(s), {total}, lot {batch} dans {path}.",
                en="{n} transfer(s), {total}, batch {batch} in {path}.",
            ).render(
                current,
                n=len(result.refunds),
                total=format_eur(result.total, current),
                batch=result.batch_id,
                path=out,
            )
        )
    for skipped in result.skipped:
        typer.echo(
            _SKIPPED_REFUND.render(
                current,
                refund=skipped.refund_id,
                customer=skipped.customer_id if skipped.customer_id is not None else "-",
                name=skipped.customer_name or "",
                field=skipped.field or "-",
                reason=skipped.reason.render(current),
            )
        )


@app.command("refunds-returns")
@reports_errors
def refunds_returns(
    report: Annotated[Path, typer.Argument(help="The bank's pain.002 or camt.054 file")],
    operator: OperatorOption = None,
) -> None:
    """Apply the bank's report on refund transfers: each rejected or returned transfer puts
    its refund back to pending and asks the customer for another account (BIL-07
    [004 §9.4])."""
    current = lang()
    data = read_file(report, "report")
    with unit_of_work("billing refunds-returns") as session:
        result = refund_transfers.import_returns(
            session, _operator_id(session, operator), data, now=utcnow()
        )
        returned = [
            (refund.id, refund.customer_id, refund.return_code) for refund in result.returned
        ]
    typer.echo(
        Text(
            fr="{n} virement(s) de remboursement renvoyé(s) par la banque.",
            en="{n} refund transfer(s) sent back by the bank.",
        ).render(current, n=len(returned))
    )
    for refund_id, customer_id, code in returned:
        typer.echo(
            Text(
                fr="  remboursement {refund} (client {customer}) de nouveau en attente, "
                "motif {code}",
                en="  refund {refund} (customer {customer}) pending again, reason {code}",
            ).render(current, refund=refund_id, customer=customer_id, code=code)
        )
    for ignored in result.ignored:
        typer.echo(
            Text(fr="  ignoré {e2e} : {reason}", en="  ignored {e2e}: {reason}").render(
                current, e2e=ignored.end_to_end_id, reason=ignored.reason.render(current)
            )
        )


@app.command("publish-deck")
@reports_errors
def publish_deck(
    deck: Annotated[Path, typer.Argument(help="Deck CSV")],
    name: Annotated[str, typer.Option(help="Name of the deck")],
    offer: Annotated[str | None, typer.Option(help="Offer id")] = None,
    customer: Annotated[int | None, typer.Option(help="Customer id")] = None,
) -> None:
    """Publish a rate deck for an offer or a customer (all rows valid, or nothing changes)."""
    text = read_text_file(deck, "deck")
    try:
        with unit_of_work("billing publish-deck") as session:
            row = usage.publish_deck(session, text, name=name, offer_id=offer, customer_id=customer)
            count = len(row.entries)
    except InvalidInput as error:
        _print_bad_rows(error, deck, lang())
        raise
    typer.echo(
        Text(fr="Grille publiée : {n} préfixes.", en="Deck published: {n} prefixes.").render(
            lang(), n=count
        )
    )


@app.command("import-usage")
@reports_errors
def import_usage(
    path: Annotated[Path, typer.Argument(help="Usage CSV")],
    source: Annotated[str, typer.Option(help="Where the records come from, e.g. asterisk")],
    as_json: JsonOption = False,
) -> None:
    """Store and rate call records once each; bad rows are reported with their line."""
    text = read_text_file(path, "usage")
    with unit_of_work("billing import-usage") as session:
        report = usage.import_usage_csv(session, text, source=source)
    data = {"stored": report.stored, "duplicates": report.duplicates, "rejected": report.rejected}
    if as_json:
        print_json(data)
        return
    typer.echo(
        Text(
            fr="{stored} enregistrement(s), {duplicates} doublon(s), {rejected} rejet(s).",
            en="{stored} record(s), {duplicates} duplicate(s), {rejected} rejected.",
        ).render(
            lang(),
            stored=report.stored,
            duplicates=report.duplicates,
            rejected=len(report.rejected),
        )
    )


@app.command("import-cdr")
@reports_errors
def import_cdr(
    path: Annotated[Path, typer.Argument(help="CDR file")],
    fmt: Annotated[
        cdr_import.CdrFormat,
        typer.Option("--format", help="asterisk, freeswitch-csv, freeswitch-json, kamailio-acc"),
    ],
    timezone: Annotated[
        str, typer.Option(help="Time zone of the file's local times (UTC for usegmtime=yes)")
    ] = "Europe/Paris",
    as_json: JsonOption = False,
) -> None:
    """Import a switch's call records into usage (BIL-09): each call once (by call id), bad
    rows reported with their line and reason, the rest imported."""
    try:
        zone = ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidInput(
            Text(fr="Fuseau horaire inconnu : {tz}.", en="Unknown time zone: {tz}."),
            field="timezone",
            details={"tz": timezone},
        ) from None
    text = read_text_file(path, "cdr")
    current = lang()
    with unit_of_work("billing import-cdr") as session:
        report = cdr_import.import_cdrs(session, text, fmt, zone=zone)
    rejected = [bad.as_dict(current) for bad in report.rejected]
    if as_json:
        print_json({"stored": report.stored, "duplicates": report.duplicates, "rejected": rejected})
        return
    typer.echo(
        Text(
            fr="{stored} appel(s) enregistré(s), {duplicates} doublon(s), {rejected} rejet(s).",
            en="{stored} call(s) stored, {duplicates} duplicate(s), {rejected} rejected.",
        ).render(
            current, stored=report.stored, duplicates=report.duplicates, rejected=len(rejected)
        )
    )
    for bad in rejected:
        typer.echo(
            _BAD_ROW.render(
                current, path=str(path), line=bad["line"], field=bad["field"], reason=bad["message"]
            )
        )


@app.command("add-rate")
@reports_errors
def add_rate(
    table: Annotated[str, typer.Option(help="ecb_mro or legal_interest")],
    effective: DateOption,
    rate: Annotated[str, typer.Option(help="Percent, e.g. 2.15")],
    source: Annotated[str, typer.Option(help="Where the rate was published")],
) -> None:
    """Append a reference rate (ECB MRO rate, French legal interest rate) with its source, to
    the operator's copy of the tables under the data directory."""
    try:
        value = Decimal(rate)
    except ArithmeticError:
        raise InvalidInput(
            Text(fr="Taux invalide : {rate}.", en="Invalid rate: {rate}."),
            field="rate",
            details={"rate": rate},
        ) from None
    target = reference_rates.operator_tables_dir(settings().data_dir)
    reference_rates.add_rate(table, effective.date(), value, source, target)
    typer.echo(Text(fr="Taux ajouté.", en="Rate added.").render(lang()))


@app.command("sepa-export")
@reports_errors
def sepa_export(
    collection_date: DateOption,
    out: Annotated[Path, typer.Option(help="Where to write the pain.008 file")],
    scheme: Annotated[MandateScheme, typer.Option(help="CORE or B2B")] = MandateScheme.CORE,
    operator: OperatorOption = None,
) -> None:
    """Export the direct debits of every invoice due by COLLECTION_DATE (BIL-05)."""
    with unit_of_work("billing sepa-export") as session:
        batch = direct_debit.export_batch(
            session,
            _operator_id(session, operator),
            collection_date=collection_date.date(),
            created_at=utcnow(),
            scheme=scheme,
        )
        if batch is not None:
            out.write_bytes(batch.xml)
    if batch is None:
        typer.echo(Text(fr="Aucun prélèvement dû.", en="No debit due.").render(lang()))
        return
    typer.echo(
        Text(fr="{n} prélèvement(s) dans {path}.", en="{n} debit(s) in {path}.").render(
            lang(), n=len(batch.debits), path=out
        )
    )


@app.command("sepa-rejects")
@reports_errors
def sepa_rejects(report: Annotated[Path, typer.Argument(help="pain.002 or camt.054 file")]) -> None:
    """Apply a bank's reject report: invoices reopened, rejection fees added (BIL-05)."""
    data = report.read_bytes()
    with unit_of_work("billing sepa-rejects") as session:
        rejected = direct_debit.import_rejects(session, data)
        count = len(rejected)
    typer.echo(
        Text(fr="{n} rejet(s) appliqué(s).", en="{n} reject(s) applied.").render(lang(), n=count)
    )
