"""``operateur sms``: check an SMS text and a sender ID against an offer's rules; send,
campaigns, lists, templates, sender requests and reviews, stock, held messages.

``analyze`` and ``check-sender`` exit with status 0 when the message or sender is acceptable
and 1 when it is not, so that a script can chain them; the verdict is printed on stdout.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from sqlalchemy.orm import Session

from operateur.catalog.service import get_offer
from operateur.catalog.terms import OutsideWindow, SmsRules
from operateur.cli_support import (
    lang,
    print_json,
    read_file,
    read_text_file,
    reports_errors,
    settings,
    unit_of_work,
)
from operateur.errors import InvalidInput
from operateur.i18n import Text
from operateur.sms import callbacks, campaigns, service
from operateur.sms.dispatcher_cli import serve_command
from operateur.sms.encoding import SmsAnalysis, SmsEncoding, analyze, stop_mention
from operateur.sms.models import SmsCampaign, SmsMessage, SmsSender
from operateur.sms.senders import SenderCheck, check_sender
from operateur.sms.stock import StockView

app = typer.Typer(
    help="SMS: checks, sends, campaigns, senders, stock (SMS-01..SMS-10).", no_args_is_help=True
)
app.command("serve")(serve_command)  # the SMPP dispatcher (operateur/sms/dispatcher_cli.py)

_YES = Text(fr="oui", en="yes")
_NO = Text(fr="non", en="no")
_ENCODINGS = {
    SmsEncoding.GSM7: Text(fr="GSM 7 bits", en="GSM 7-bit"),
    SmsEncoding.UCS2: Text(fr="UCS-2 (Unicode)", en="UCS-2 (Unicode)"),
}


def sms_rules(offer_id: str) -> SmsRules:
    """The SMS rules of the built-in offer ``offer_id``; an offer without them is refused."""
    rules = get_offer(offer_id).terms.sms
    if rules is None:
        raise InvalidInput(
            Text(
                fr="L'offre {offer_id} ne comprend pas de service SMS (aucune règle SMS).",
                en="The offer {offer_id} has no SMS service (no SMS rules).",
            ),
            code="offer_without_sms",
            field="offer",
            details={"offer_id": offer_id},
        )
    return rules


def _analysis_data(offer_id: str, analysis: SmsAnalysis, language: str) -> dict[str, Any]:
    texts = analysis.part_texts()
    return {
        "offer": offer_id,
        "encoding": analysis.encoding.value,
        "length": analysis.length,
        "stop_reserved": analysis.stop_reserved,
        "stop_mention": analysis.mention,
        "total_length": analysis.total_length,
        "max_length": analysis.max_length,
        "part_count": analysis.part_count,
        "parts": [
            {
                "start": part.start,
                "end": part.end,
                "length": part.length,
                "capacity": part.capacity,
                "text": text,
            }
            for part, text in zip(analysis.parts, texts, strict=True)
        ],
        "faults": [
            {"character": fault.character, "codepoint": fault.codepoint, "index": fault.index}
            for fault in analysis.faults
        ],
        "valid": analysis.valid,
        "problem": analysis.problem.value if analysis.problem else None,
        "reason": analysis.reason.render(language) if analysis.reason else None,
    }


def _print_analysis(analysis: SmsAnalysis, language: str) -> None:
    separator = ": " if language == "en" else " : "  # French puts a space before the colon

    def line(label: Text, value: str) -> None:
        typer.echo(f"{label.render(language)}{separator}{value}")

    line(Text(fr="Encodage", en="Encoding"), _ENCODINGS[analysis.encoding].render(language))
    length = Text(
        fr="{length} + {reserved} réservés à la mention STOP = {total} (au plus {max_length})",
        en="{length} + {reserved} reserved for the STOP mention = {total} (at most {max_length})",
    ).render(
        language,
        length=analysis.length,
        reserved=analysis.stop_reserved,
        total=analysis.total_length,
        max_length=analysis.max_length,
    )
    line(Text(fr="Longueur", en="Length"), length)
    sizes = " + ".join(str(part.length) for part in analysis.parts)
    line(
        Text(fr="Parties", en="Parts"),
        f"{analysis.part_count} ({sizes})" if analysis.parts else "0",
    )
    if analysis.faults:
        faults = ", ".join(
            f'"{fault.character}" {fault.codepoint} #{fault.index + 1}' for fault in analysis.faults
        )
        line(Text(fr="Caractères refusés", en="Refused characters"), faults)
    line(Text(fr="Valide", en="Valid"), (_YES if analysis.valid else _NO).render(language))
    if analysis.reason is not None:
        line(Text(fr="Motif", en="Reason"), analysis.reason.render(language))


@app.command("analyze")
@reports_errors
def analyze_command(
    text: Annotated[str, typer.Argument(help="The text of the SMS")],
    offer: Annotated[str, typer.Option("--offer", help="Offer whose SMS rules apply")],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON")] = False,
) -> None:
    """Encoding, counted length, parts and characters at fault of TEXT under an offer's rules,
    as sent: with the offer's STOP mention and the operator's short code (SMS-06)."""
    language = lang()
    rules = sms_rules(offer)
    analysis = analyze(text, rules, stop_mention(rules, settings().sms_short_code))
    if as_json:
        print_json(_analysis_data(offer, analysis, language))
    else:
        _print_analysis(analysis, language)
    if not analysis.valid:
        raise typer.Exit(1)


def _sender_data(check: SenderCheck, language: str) -> dict[str, Any]:
    return {
        "sender": check.sender,
        "allowed": check.allowed,
        "rule": check.rule.value if check.rule else None,
        "matched_name": check.matched_name,
        "reason": check.reason.render(language),
    }


@app.command("check-sender")
@reports_errors
def check_sender_command(
    name: Annotated[str, typer.Argument(help="The sender ID (OADC) asked for")],
    offer: Annotated[
        str | None,
        typer.Option("--offer", help="Apply this offer's sender rules (default: all rules)"),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON")] = False,
) -> None:
    """Whether NAME may be asked for as a custom sender (SMS-05)."""
    language = lang()
    check = check_sender(name, sms_rules(offer) if offer is not None else None)
    if as_json:
        print_json(_sender_data(check, language))
    else:
        typer.echo(check.reason.render(language))
    if not check.allowed:
        raise typer.Exit(1)


# --------------------------------------------------------------------------------------------
# Sends, campaigns, lists, templates, senders, stock, held messages (database commands)
# --------------------------------------------------------------------------------------------

CustomerArg = Annotated[int, typer.Argument(help="Customer id")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON")]


def _when(value: str | None, field: str) -> datetime | None:
    """An ISO 8601 time with its offset (``2026-03-10T09:00+01:00``), or None."""
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        moment = None
    if moment is None or moment.tzinfo is None:
        raise InvalidInput(
            Text(
                fr="Heure invalide « {value} » : ISO 8601 avec décalage attendu "
                "(2026-03-10T09:00+01:00).",
                en='Invalid time "{value}": ISO 8601 with an offset expected '
                "(2026-03-10T09:00+01:00).",
            ),
            field=field,
            details={"value": value},
        )
    return moment


def _message_data(message: SmsMessage) -> dict[str, Any]:
    return {
        **callbacks.payload(message),
        "cost": str(message.cost),
        "destination": message.destination,
        "warning": message.warning,
        "held_rule": message.held_rule,
        "not_before": message.not_before,
    }


def _print_message(message: SmsMessage, as_json: bool) -> None:
    if as_json:
        print_json(_message_data(message))
        return
    typer.echo(
        Text(
            fr="SMS {id} vers {to} : {status}, {parts} partie(s), envoi au plus tôt {at}{extra}",
            en="SMS {id} to {to}: {status}, {parts} part(s), sent at the earliest {at}{extra}",
        ).render(
            lang(),
            id=message.id,
            to=message.recipient,
            status=message.status.value,
            parts=message.parts,
            at=message.not_before.isoformat(timespec="minutes"),
            extra=f" ({message.held_rule or message.error or message.warning})"
            if message.held_rule or message.error or message.warning
            else "",
        )
    )


@app.command("send")
@reports_errors
def send_command(
    customer: CustomerArg,
    to: Annotated[str, typer.Argument(help="Recipient number")],
    text: Annotated[str, typer.Argument(help="The text")],
    sender: Annotated[str | None, typer.Option(help="Authorised sender ID")] = None,
    at: Annotated[str | None, typer.Option(help="Send at (ISO 8601 with offset)")] = None,
    ref: Annotated[str | None, typer.Option(help="Client reference (idempotent)")] = None,
    reject_outside_window: Annotated[
        bool, typer.Option(help="Reject rather than queue outside the sending window")
    ] = False,
    as_json: JsonOpt = False,
) -> None:
    """Send one SMS for CUSTOMER (SMS-01): queued in the outbox, sent by the SMPP dispatcher."""
    request = service.SendRequest(
        to=to,
        text=text,
        sender=sender,
        send_at=_when(at, "at"),
        client_ref=ref,
        outside_window=OutsideWindow.REJECT if reject_outside_window else None,
    )
    with unit_of_work() as session:
        message = service.send(session, customer, request)
        _print_message(message, as_json)


@app.command("status")
@reports_errors
def status_command(
    customer: CustomerArg,
    message_id: Annotated[int, typer.Argument(help="Message id")],
    as_json: JsonOpt = False,
) -> None:
    """The status of one message."""
    with unit_of_work() as session:
        _print_message(service.get_message(session, customer, message_id), as_json)


# --- templates --------------------------------------------------------------------------------

templates_app = typer.Typer(
    help="Reusable texts with {placeholders} (SMS-01).", no_args_is_help=True
)
app.add_typer(templates_app, name="templates")


@templates_app.command("add")
@reports_errors
def template_add(
    customer: CustomerArg,
    name: Annotated[str, typer.Argument(help="Template name")],
    text: Annotated[str, typer.Argument(help="Text, e.g. 'Bonjour {first_name}'")],
    as_json: JsonOpt = False,
) -> None:
    with unit_of_work() as session:
        template = service.create_template(session, customer, name, text)
        fields = service.placeholders(template.text)
        data: dict[str, Any] = {"id": template.id, "name": template.name,
                                "text": template.text, "placeholders": fields}  # fmt: skip
    if as_json:
        print_json(data)
    else:
        typer.echo(f"{template.id}\t{template.name}\t{', '.join(fields)}")


@templates_app.command("list")
@reports_errors
def template_list(customer: CustomerArg, as_json: JsonOpt = False) -> None:
    with unit_of_work() as session:
        data = [
            {"id": t.id, "name": t.name, "text": t.text}
            for t in service.list_templates(session, customer)
        ]
    if as_json:
        print_json(data)
    else:
        for row in data:
            typer.echo(f"{row['id']}\t{row['name']}\t{row['text']}")


# --- lists ------------------------------------------------------------------------------------

lists_app = typer.Typer(help="Distribution lists (SMS-01).", no_args_is_help=True)
app.add_typer(lists_app, name="lists")


def _report_data(report: service.ImportReport) -> dict[str, Any]:
    return {"added": report.added, "rejected": report.rejected, "warnings": report.warnings}


@lists_app.command("import")
@reports_errors
def list_import(
    customer: CustomerArg,
    path: Annotated[
        Path, typer.Argument(help="CSV (UTF-8) or .xlsx file, a header with a number column")
    ],
    list_id: Annotated[int | None, typer.Option("--list", help="Add to this list")] = None,
    create: Annotated[
        str | None, typer.Option("--create", help="Create a list of this name")
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Import a CSV or Excel (.xlsx) file into a list: each refused row is reported with its
    line and reason. Exits 1 when rows were refused."""
    if (list_id is None) == (create is None):
        raise InvalidInput(
            Text(fr="Donner --list ou --create.", en="Give --list or --create."), field="list"
        )
    xlsx = path.suffix.lower() == ".xlsx"
    content: str | bytes = read_file(path, "path") if xlsx else read_text_file(path, "path")
    with unit_of_work() as session:
        sms_list = (
            service.create_list(session, customer, create)
            if create is not None
            else service.get_list(session, customer, list_id or 0)
        )
        report = (
            service.import_xlsx(session, sms_list, content)
            if isinstance(content, bytes)
            else service.import_csv(session, sms_list, content)
        )
        data = {"list_id": sms_list.id, **_report_data(report)}
    if as_json:
        print_json(data)
    else:
        typer.echo(
            Text(
                fr="Liste {list_id} : {added} ajouté(s), {rejected} refusé(s).",
                en="List {list_id}: {added} added, {rejected} refused.",
            ).render(
                lang(), list_id=data["list_id"], added=report.added, rejected=len(report.rejected)
            )  # fmt: skip
        )
        for row in report.rejected:
            typer.echo(f"  {row['line']}\t{row['number']}\t{row['reason']}")
    if report.rejected:
        raise typer.Exit(1)


@lists_app.command("show")
@reports_errors
def list_show(
    customer: CustomerArg,
    list_id: Annotated[int, typer.Argument(help="List id")],
    as_json: JsonOpt = False,
) -> None:
    with unit_of_work() as session:
        sms_list = service.get_list(session, customer, list_id)
        data: dict[str, Any] = {
            "id": sms_list.id,
            "name": sms_list.name,
            "columns": list(sms_list.columns),
            "entries": [
                {"number": e.recipient, "fields": e.fields, "warning": e.warning}
                for e in service.list_entries(session, sms_list.id)
            ],
        }
    if as_json:
        print_json(data)
    else:
        typer.echo(f"{data['id']}\t{data['name']}\t{', '.join(data['columns'])}")
        for entry in data["entries"]:
            typer.echo(f"  {entry['number']}\t{entry['fields']}")


# --- campaigns --------------------------------------------------------------------------------

campaign_app = typer.Typer(help="Campaigns (SMS-01).", no_args_is_help=True)
app.add_typer(campaign_app, name="campaign")


def _campaign_data(session: Session, campaign: SmsCampaign) -> dict[str, Any]:
    return {
        "id": campaign.id,
        "name": campaign.name,
        "status": campaign.status.value,
        "list_id": campaign.list_id,
        "sender": campaign.sender,
        "text": campaign.text,
        "scheduled_at": campaign.scheduled_at,
        "message_count": campaign.message_count,
        "part_count": campaign.part_count,
        "statistics": campaigns.statistics(session, campaign).as_dict(),
    }


def _print_campaign(data: dict[str, Any], as_json: bool) -> None:
    if as_json:
        print_json(data)
        return
    stats = data["statistics"]
    typer.echo(
        Text(
            fr="Campagne {id} « {name} » : {state}, {total} SMS, {sent} envoyés, {delivered} "
            "remis, {failed} en échec, {unsubscribed} désabonnés, {pending} en attente",
            en='Campaign {id} "{name}": {state}, {total} SMS, {sent} sent, {delivered} '
            "delivered, {failed} failed, {unsubscribed} unsubscribed, {pending} pending",
        ).render(
            lang(),
            id=data["id"],
            name=data["name"],
            **{
                k: stats[k]
                for k in (
                    "state",
                    "total",
                    "sent",
                    "delivered",
                    "failed",
                    "unsubscribed",
                    "pending",
                )
            },
        )  # fmt: skip
    )


@campaign_app.command("create")
@reports_errors
def campaign_create(
    customer: CustomerArg,
    name: Annotated[str, typer.Option(help="Campaign name")],
    list_id: Annotated[int, typer.Option("--list", help="Distribution list id")],
    text: Annotated[str | None, typer.Option(help="Text with {placeholders}")] = None,
    template: Annotated[int | None, typer.Option(help="Template id")] = None,
    sender: Annotated[str | None, typer.Option(help="Authorised sender ID")] = None,
    reject_outside_window: Annotated[
        bool, typer.Option(help="Reject rather than queue outside the sending window")
    ] = False,
    as_json: JsonOpt = False,
) -> None:
    """A draft campaign; ``campaign schedule`` launches it."""
    with unit_of_work() as session:
        campaign = campaigns.create(
            session,
            customer,
            name=name,
            list_id=list_id,
            text=text,
            template_id=template,
            sender=sender,
            outside_window=OutsideWindow.REJECT if reject_outside_window else None,
        )
        _print_campaign(_campaign_data(session, campaign), as_json)


@campaign_app.command("schedule")
@reports_errors
def campaign_schedule(
    customer: CustomerArg,
    campaign_id: Annotated[int, typer.Argument(help="Campaign id")],
    at: Annotated[
        str | None, typer.Option(help="Start (ISO 8601 with offset); now if absent")
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Launch now or at a time: every message is queued, or nothing (stock, window, credit)."""
    with unit_of_work() as session:
        campaign = campaigns.launch(session, customer, campaign_id, at=_when(at, "at"))
        _print_campaign(_campaign_data(session, campaign), as_json)


def _campaign_action(action: str) -> Any:
    def command(
        customer: CustomerArg,
        campaign_id: Annotated[int, typer.Argument(help="Campaign id")],
        as_json: JsonOpt = False,
    ) -> None:
        with unit_of_work() as session:
            campaign = campaigns.get_campaign(session, customer, campaign_id)
            getattr(campaigns, action)(session, campaign)
            _print_campaign(_campaign_data(session, campaign), as_json)

    command.__doc__ = {
        "pause": "Hold the campaign's queued messages back.",
        "resume": "Send the paused campaign's messages again.",
        "cancel": "Cancel: messages not yet sent end cancelled.",
    }[action]
    return reports_errors(command)


for _action in ("pause", "resume", "cancel"):
    campaign_app.command(_action)(_campaign_action(_action))


@campaign_app.command("stats")
@reports_errors
def campaign_stats(
    customer: CustomerArg,
    campaign_id: Annotated[int, typer.Argument(help="Campaign id")],
    csv_path: Annotated[Path | None, typer.Option("--csv", help="Write statistics CSV")] = None,
    messages_csv: Annotated[
        Path | None, typer.Option("--messages-csv", help="Write per-message CSV")
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Progress and statistics (sent, delivered, failed, expired, unsubscribed, by hour)."""
    with unit_of_work() as session:
        campaign = campaigns.get_campaign(session, customer, campaign_id)
        data = _campaign_data(session, campaign)
        if csv_path is not None:
            stats = campaigns.statistics(session, campaign)
            csv_path.write_text(campaigns.statistics_csv(stats), encoding="utf-8")
        if messages_csv is not None:
            messages_csv.write_text(campaigns.messages_csv(session, campaign), encoding="utf-8")
    _print_campaign(data, as_json)


# --- senders ----------------------------------------------------------------------------------

senders_app = typer.Typer(help="Custom sender IDs (SMS-05).", no_args_is_help=True)
app.add_typer(senders_app, name="senders")


def _sender_row(sender: SmsSender) -> dict[str, Any]:
    return {
        "id": sender.id,
        "customer_id": sender.customer_id,
        "name": sender.name,
        "status": sender.status.value,
        "rule": sender.rule,
        "reason": sender.reason,
        "billed": sender.billed,
    }


def _print_senders(rows: list[dict[str, Any]], as_json: bool) -> None:
    if as_json:
        print_json(rows)
        return
    for row in rows:
        rule = f" ({row['rule']})" if row["rule"] else ""
        typer.echo(f"{row['id']}\t{row['customer_id']}\t{row['name']}\t{row['status']}{rule}")


@senders_app.command("request")
@reports_errors
def sender_request(
    customer: CustomerArg,
    name: Annotated[str, typer.Argument(help="Sender ID asked for")],
    as_json: JsonOpt = False,
) -> None:
    """Ask for a custom sender for CUSTOMER: refused at once with the rule named, or waiting
    for review; the fee is billed as the terms say."""
    with unit_of_work() as session:
        row = _sender_row(service.request_sender(session, customer, name))
    _print_senders([row], as_json)


@senders_app.command("pending")
@reports_errors
def sender_pending(as_json: JsonOpt = False) -> None:
    """Requests waiting for the operator's review."""
    with unit_of_work() as session:
        rows = [_sender_row(s) for s in service.pending_senders(session)]
    _print_senders(rows, as_json)


@senders_app.command("review")
@reports_errors
def sender_review(
    customer: CustomerArg,
    sender_id: Annotated[int, typer.Argument(help="Sender request id")],
    authorise: Annotated[bool, typer.Option("--authorise/--refuse", help="The decision")],
    reason: Annotated[str, typer.Option(help="Why")],
    as_json: JsonOpt = False,
) -> None:
    with unit_of_work(reason) as session:
        sender = service.get_sender(session, customer, sender_id)
        reviewed = service.review_sender(
            session, sender, authorise=authorise, reason=reason, reviewer="cli"
        )
        row = _sender_row(reviewed)
    _print_senders([row], as_json)


# --- stock ------------------------------------------------------------------------------------

stock_app = typer.Typer(help="Monthly SMS stock (SMS-08).", no_args_is_help=True)
app.add_typer(stock_app, name="stock")


def _print_stock(view: StockView, as_json: bool) -> None:
    data = {
        "customer_id": view.customer_id,
        "month": view.month,
        "monthly_limit": view.monthly_limit,
        "maximum": view.maximum,
        "used": view.used,
        "remaining": view.remaining,
    }
    if as_json:
        print_json(data)
        return
    typer.echo(
        Text(
            fr="Stock {month} : {used} utilisés sur {limit}, {remaining} restants "
            "(maximum {maximum})",
            en="Stock {month}: {used} used out of {limit}, {remaining} left (maximum {maximum})",
        ).render(
            lang(),
            month=view.month,
            used=view.used,
            limit=view.monthly_limit,
            remaining=view.remaining,
            maximum=view.maximum,
        )  # fmt: skip
    )


@stock_app.command("show")
@reports_errors
def stock_show(
    customer: CustomerArg,
    month: Annotated[str | None, typer.Option(help="YYYY-MM (this month by default)")] = None,
    as_json: JsonOpt = False,
) -> None:
    with unit_of_work() as session:
        view, _ = service.stock_view(session, customer, month)
    _print_stock(view, as_json)


@stock_app.command("raise")
@reports_errors
def stock_raise(
    customer: CustomerArg,
    monthly_limit: Annotated[int, typer.Argument(help="New monthly stock")],
    reason: Annotated[str, typer.Option(help="Why (kept in the audit log)")],
    as_json: JsonOpt = False,
) -> None:
    """Set CUSTOMER's monthly stock, up to the contract's maximum (SMS-08)."""
    with unit_of_work(reason) as session:
        view = service.set_stock(session, customer, monthly_limit, reason)
    _print_stock(view, as_json)


# --- held messages ----------------------------------------------------------------------------

held_app = typer.Typer(help="Messages held by the content filter (SMS-09).", no_args_is_help=True)
app.add_typer(held_app, name="held")


@held_app.command("list")
@reports_errors
def held_list(as_json: JsonOpt = False) -> None:
    """Held messages of every customer, oldest first, with the matching rule."""
    with unit_of_work() as session:
        rows = [
            {**_message_data(m), "customer_id": m.customer_id, "text": m.text}
            for m in service.held_messages(session)
        ]
    if as_json:
        print_json(rows)
    else:
        for row in rows:
            typer.echo(f"{row['id']}\t{row['customer_id']}\t{row['held_rule']}\t{row['text']}")


@held_app.command("review")
@reports_errors
def held_review(
    customer: CustomerArg,
    message_id: Annotated[int, typer.Argument(help="Message id")],
    release: Annotated[bool, typer.Option("--release/--reject", help="The decision")],
    as_json: JsonOpt = False,
) -> None:
    with unit_of_work() as session:
        message = service.get_message(session, customer, message_id)
        _print_message(service.review_held(session, message, release=release), as_json)
