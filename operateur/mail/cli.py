"""``operateur mail``: run the gateway and the prober, manage protected domains, the customer's
servers, mailboxes, lists, quarantine, and read the licence and SLA figures. Every console
command is written to the console connection log (MAIL-10, MAIL-11)."""

from __future__ import annotations

import asyncio
import getpass
import signal
from datetime import date, datetime, time, timedelta
from typing import Annotated, Any

import typer
from sqlalchemy import select
from sqlalchemy.orm import Session

from operateur.accounts import service as accounts
from operateur.accounts.models import Operator
from operateur.cli_support import lang, print_json, reports_errors, settings, unit_of_work
from operateur.contracts import service as contracts
from operateur.contracts.lifecycle import LIVE
from operateur.contracts.models import Contract
from operateur.db import utcnow
from operateur.domain.calendar import PARIS
from operateur.errors import InvalidInput, NotFound
from operateur.i18n import Text
from operateur.mail import licences, prober, quarantine, queue, sla
from operateur.mail import service as mail
from operateur.mail.filter_cli import app as filter_app
from operateur.mail.models import FeedbackChannel, FeedbackKind, ListKind

app = typer.Typer(help="Mail security gateway (MAIL-01..MAIL-12).", no_args_is_help=True)
domains_app = typer.Typer(help="Protected domains.", no_args_is_help=True)
servers_app = typer.Typer(help="The customer's own mail servers.", no_args_is_help=True)
mailboxes_app = typer.Typer(help="Licensed mailboxes.", no_args_is_help=True)
lists_app = typer.Typer(help="Allow and deny lists.", no_args_is_help=True)
quarantine_app = typer.Typer(help="Held mail.", no_args_is_help=True)
app.add_typer(domains_app, name="domains")
app.add_typer(servers_app, name="servers")
app.add_typer(mailboxes_app, name="mailboxes")
app.add_typer(lists_app, name="lists")
app.add_typer(quarantine_app, name="quarantine")
app.add_typer(filter_app)  # `mail train` and `mail scan` (filter_cli.py)

JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON")]


def _actor() -> str:
    return f"cli:{getpass.getuser()}"


def _log(session: Session, action: str, customer_id: int | None) -> None:
    mail.record_console(
        session,
        actor=_actor(),
        action=f"cli mail {action}",
        customer_id=customer_id,
        client_ip=None,
    )


def _today() -> date:
    return datetime.now(PARIS).date()


def _operator(session: Session, operator_id: int | None) -> int:
    """The given operator, or the only one of the installation."""
    if operator_id is not None:
        return accounts.get_operator(session, operator_id).id
    ids = list(session.scalars(select(Operator.id)))
    if len(ids) != 1:
        raise InvalidInput(
            Text(fr="Précisez l'opérateur (--operator).", en="Name the operator (--operator)."),
            field="operator",
        )
    return ids[0]


def _emit(rows: list[dict[str, Any]], as_json: bool, columns: list[str]) -> None:
    if as_json:
        print_json(rows)
        return
    for row in rows:
        typer.echo("\t".join(str(row.get(c, "")) for c in columns))


# --- running ---------------------------------------------------------------------------------


@app.command("serve")
def serve(
    inbound: Annotated[str | None, typer.Option(help="HOST:PORT of the MX listener")] = None,
    submission: Annotated[
        str | None, typer.Option(help="HOST:PORT of the submission listener ('' to disable)")
    ] = None,
    instance: Annotated[str | None, typer.Option(help="Name of this instance")] = None,
    probe: Annotated[
        bool, typer.Option("--probe/--no-probe", help="Also run the availability prober")
    ] = False,
) -> None:
    """Run the gateway: inbound and submission listeners, delivery of the queue (restarted,
    it resumes the queue), expiry of undeliverable mail; stops on SIGTERM or Ctrl-C."""
    from operateur.accounts.audit import install
    from operateur.db import make_engine, make_session_factory
    from operateur.logs import configure
    from operateur.mail.gateway import Gateway, gateway_filter

    current = settings()
    updates: dict[str, Any] = {}
    if inbound is not None:
        updates["mail_inbound_listen"] = inbound
    if submission is not None:
        updates["mail_submission_listen"] = submission
    if instance is not None:
        updates["mail_instance"] = instance
    current = current.model_copy(update=updates)
    configure(current.log_level)
    install()
    engine = make_engine(current.resolved_database_url())
    factory = make_session_factory(engine)
    gateway = Gateway(factory, current, gateway_filter(current))

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        await gateway.start()
        tasks = []
        if probe and current.mail_gateways:
            gateways = prober.parse_gateways(current.mail_gateways)
            tasks.append(asyncio.create_task(prober.run(factory, gateways, stop)))
        typer.echo(
            f"mail gateway {current.mail_instance}: inbound {gateway.inbound_address}, "
            f"submission {gateway.submission_address}",
            err=True,
        )
        await stop.wait()
        await gateway.stop()
        await asyncio.gather(*tasks, return_exceptions=True)

    try:
        asyncio.run(main())
    finally:
        engine.dispose()


@app.command("probe")
@reports_errors
def probe_command(
    gateway: Annotated[
        list[str] | None, typer.Option(help="HOST:PORT of a gateway (default: settings)")
    ] = None,
    once: Annotated[bool, typer.Option(help="One round, then exit")] = False,
    as_json: JsonOption = False,
) -> None:
    """Check every gateway each minute and record it (MAIL-06 availability)."""
    from operateur.accounts.audit import install
    from operateur.db import make_engine, make_session_factory

    current = settings()
    targets = [
        pair for text in (gateway or []) for pair in prober.parse_gateways(text)
    ] or prober.parse_gateways(current.mail_gateways)
    if not targets:
        raise InvalidInput(
            Text(
                fr="Aucune passerelle à vérifier (--gateway ou OPERATEUR_MAIL_GATEWAYS).",
                en="No gateway to check (--gateway or OPERATEUR_MAIL_GATEWAYS).",
            ),
            field="gateway",
        )
    install()
    engine = make_engine(current.resolved_database_url())
    factory = make_session_factory(engine)
    try:
        if once:
            result = asyncio.run(prober.probe_once(factory, targets, utcnow()))
            if as_json:
                print_json(result)
            else:
                for name, ok in result.items():
                    typer.echo(f"{name}\t{'up' if ok else 'DOWN'}")
            return

        async def forever() -> None:
            stop = asyncio.Event()
            loop = asyncio.get_running_loop()
            for sig in (signal.SIGTERM, signal.SIGINT):
                loop.add_signal_handler(sig, stop.set)
            await prober.run(factory, targets, stop)

        asyncio.run(forever())
    finally:
        engine.dispose()


# --- domains, servers, mailboxes -------------------------------------------------------------


@domains_app.command("add")
@reports_errors
def add_domain(customer: int, name: str) -> None:
    """Protect a domain of the customer (MAIL-01, within its licence: MAIL-07)."""
    with unit_of_work("mail domains add") as session:
        domain = mail.add_domain(session, customer, name, _today())
        _log(session, f"domains add {domain.name}", customer)
        typer.echo(f"{domain.id}\t{domain.name}")


@domains_app.command("list")
@reports_errors
def list_domains(customer: int, as_json: JsonOption = False) -> None:
    with unit_of_work() as session:
        rows = [
            {"id": d.id, "name": d.name, "contract_id": d.contract_id}
            for d in mail.list_domains(session, customer)
        ]
    _emit(rows, as_json, ["id", "name", "contract_id"])


@domains_app.command("remove")
@reports_errors
def remove_domain(customer: int, domain_id: int) -> None:
    with unit_of_work("mail domains remove") as session:
        mail.remove_domain(session, mail.get_domain(session, customer, domain_id))
        _log(session, f"domains remove {domain_id}", customer)


@servers_app.command("add")
@reports_errors
def add_server(
    customer: int,
    host: str,
    port: Annotated[int, typer.Option(help="SMTP port")] = 25,
    priority: Annotated[int, typer.Option(help="Lowest first")] = 10,
    domain_id: Annotated[int | None, typer.Option(help="Only this domain's mail")] = None,
) -> None:
    """A server of the customer where its clean mail is relayed."""
    with unit_of_work("mail servers add") as session:
        server = mail.add_server(
            session, customer, host, port=port, priority=priority, domain_id=domain_id
        )
        _log(session, f"servers add {server.host}:{server.port}", customer)
        typer.echo(f"{server.id}\t{server.host}:{server.port}\t{server.priority}")


@servers_app.command("list")
@reports_errors
def list_servers(customer: int, as_json: JsonOption = False) -> None:
    with unit_of_work() as session:
        rows = [
            {
                "id": s.id,
                "host": s.host,
                "port": s.port,
                "priority": s.priority,
                "domain_id": s.domain_id,
            }
            for s in mail.list_servers(session, customer)
        ]
    _emit(rows, as_json, ["id", "host", "port", "priority", "domain_id"])


@mailboxes_app.command("add")
@reports_errors
def add_mailbox(
    customer: int,
    address: str,
    filtering: Annotated[bool, typer.Option("--filtering/--no-filtering")] = True,
    digest: Annotated[bool, typer.Option("--digest/--no-digest")] = True,
    password: Annotated[
        bool, typer.Option("--password", help="Prompt for a submission password")
    ] = False,
) -> None:
    """A licensed mailbox (MAIL-07); filtering off is a MAIL-04 exclusion."""
    secret = getpass.getpass("Password: ") if password else None
    with unit_of_work("mail mailboxes add") as session:
        box = mail.add_mailbox(
            session,
            customer,
            address,
            _today(),
            filtering_enabled=filtering,
            digest_enabled=digest,
            password=secret,
        )
        _log(session, f"mailboxes add {box.address}", customer)
        typer.echo(f"{box.id}\t{box.address}")


@mailboxes_app.command("list")
@reports_errors
def list_mailboxes(customer: int, as_json: JsonOption = False) -> None:
    with unit_of_work() as session:
        rows = [
            {
                "id": m.id,
                "address": m.address,
                "filtering": m.filtering_enabled,
                "digest": m.digest_enabled,
                "blocked": m.blocked_reason or "",
            }
            for m in mail.list_mailboxes(session, customer)
        ]
    _emit(rows, as_json, ["id", "address", "filtering", "digest", "blocked"])


@mailboxes_app.command("set")
@reports_errors
def set_mailbox(
    customer: int,
    mailbox_id: int,
    filtering: Annotated[bool | None, typer.Option("--filtering/--no-filtering")] = None,
    digest: Annotated[bool | None, typer.Option("--digest/--no-digest")] = None,
    unblock: Annotated[bool, typer.Option(help="Lift a MAIL-08 block")] = False,
) -> None:
    with unit_of_work("mail mailboxes set") as session:
        box = mail.update_mailbox(
            session,
            mail.get_mailbox(session, customer, mailbox_id),
            filtering_enabled=filtering,
            digest_enabled=digest,
            unblock=unblock,
        )
        _log(session, f"mailboxes set {box.address}", customer)


@app.command("settings")
@reports_errors
def set_settings(
    customer: int,
    challenge: Annotated[bool | None, typer.Option("--challenge/--no-challenge")] = None,
    relay_password: Annotated[
        bool, typer.Option("--relay-password", help="Prompt for the relay account's password")
    ] = False,
    unblock_relay: Annotated[bool, typer.Option(help="Lift a MAIL-08 block")] = False,
) -> None:
    """Challenge-response (MAIL-03) and the customer's relay account (MAILOUT)."""
    secret = getpass.getpass("Password: ") if relay_password else None
    with unit_of_work("mail settings") as session:
        found = mail.update_settings(
            session,
            customer,
            challenge_enabled=challenge,
            relay_password=secret,
            unblock_relay=unblock_relay,
        )
        _log(session, "settings", customer)
        typer.echo(f"challenge={found.challenge_enabled} relay={found.relay_username or '-'}")


# --- lists and refused domains ---------------------------------------------------------------


@lists_app.command("add")
@reports_errors
def add_entry(
    kind: ListKind,
    value: str,
    customer: Annotated[int | None, typer.Option(help="Customer id (none: the operator's)")] = None,
    operator: Annotated[int | None, typer.Option(help="Operator id")] = None,
    note: str = "",
) -> None:
    """Put an address or @domain on an allow or deny list (MAIL-02)."""
    with unit_of_work("mail lists add") as session:
        operator_id = (
            accounts.get_customer(session, customer).operator_id
            if customer is not None
            else _operator(session, operator)
        )
        entry = mail.add_list_entry(session, operator_id, customer, kind, value, note)
        _log(session, f"lists add {kind.value} {entry.value}", customer)
        typer.echo(f"{entry.id}\t{entry.kind.value}\t{entry.value}")


@lists_app.command("list")
@reports_errors
def list_entries(
    customer: Annotated[int | None, typer.Option(help="Customer id (none: the operator's)")] = None,
    operator: Annotated[int | None, typer.Option(help="Operator id")] = None,
    as_json: JsonOption = False,
) -> None:
    with unit_of_work() as session:
        operator_id = (
            accounts.get_customer(session, customer).operator_id
            if customer is not None
            else _operator(session, operator)
        )
        rows = [
            {"id": e.id, "kind": e.kind.value, "value": e.value, "note": e.note}
            for e in mail.list_entries(session, operator_id, customer)
        ]
    _emit(rows, as_json, ["id", "kind", "value", "note"])


@lists_app.command("remove")
@reports_errors
def remove_entry(
    entry_id: int,
    customer: Annotated[int | None, typer.Option(help="Customer id (none: the operator's)")] = None,
    operator: Annotated[int | None, typer.Option(help="Operator id")] = None,
) -> None:
    with unit_of_work("mail lists remove") as session:
        operator_id = (
            accounts.get_customer(session, customer).operator_id
            if customer is not None
            else _operator(session, operator)
        )
        mail.remove_list_entry(
            session, mail.get_list_entry(session, operator_id, customer, entry_id)
        )
        _log(session, f"lists remove {entry_id}", customer)


@app.command("refuse-domain")
@reports_errors
def refuse_domain(
    name: str,
    reason: Annotated[str, typer.Option(help="Why (illegal or immoral site, MAIL-07)")],
    operator: Annotated[int | None, typer.Option(help="Operator id")] = None,
) -> None:
    """Refuse to protect a domain and its subdomains (MAIL-07 [003 §3.2])."""
    with unit_of_work("mail refuse-domain") as session:
        refused = mail.refuse_domain(session, _operator(session, operator), name, reason)
        _log(session, f"refuse-domain {refused.name}", None)
        typer.echo(f"{refused.id}\t{refused.name}")


# --- quarantine, reports, queue --------------------------------------------------------------


@quarantine_app.command("list")
@reports_errors
def list_quarantine(
    customer: int,
    recipient: Annotated[str | None, typer.Option(help="Only this recipient")] = None,
    as_json: JsonOption = False,
) -> None:
    with unit_of_work() as session:
        rows = [
            {
                "id": i.id,
                "log_id": i.log_id,
                "created_at": i.created_at.isoformat(timespec="seconds"),
                "from": i.mail_from,
                "to": i.recipient,
                "score": round(i.score, 2),
                "virus": i.virus,
                "subject": i.subject,
            }
            for i in quarantine.list_held(session, customer, recipient=recipient)
        ]
        _log(session, "quarantine list", customer)
    _emit(rows, as_json, ["id", "created_at", "from", "to", "score", "subject"])


@quarantine_app.command("release")
@reports_errors
def release(customer: int, item_id: int) -> None:
    """Release a held message to its recipient (MAIL-03, administrator)."""
    with unit_of_work("mail quarantine release") as session:
        item = quarantine.get_item(session, customer, item_id)
        quarantine.release(
            session, item, channel=FeedbackChannel.ADMINISTRATOR, actor=_actor(), now=utcnow()
        )
        _log(session, f"quarantine release {item_id}", customer)


@quarantine_app.command("delete")
@reports_errors
def delete(customer: int, item_id: int) -> None:
    with unit_of_work("mail quarantine delete") as session:
        quarantine.delete(
            session, quarantine.get_item(session, customer, item_id), actor=_actor(), now=utcnow()
        )
        _log(session, f"quarantine delete {item_id}", customer)


@quarantine_app.command("allow-sender")
@reports_errors
def allow_sender(customer: int, item_id: int) -> None:
    """Allow-list the sender of a held message and release it (MAIL-04)."""
    with unit_of_work("mail quarantine allow-sender") as session:
        item = quarantine.get_item(session, customer, item_id)
        quarantine.allow_sender(session, item, actor=_actor(), now=utcnow())
        _log(session, f"quarantine allow-sender {item_id}", customer)


@app.command("report")
@reports_errors
def report(customer: int, log_id: int, kind: FeedbackKind) -> None:
    """Report delivered spam or virus, or blocked legitimate mail (MAIL-05)."""
    with unit_of_work("mail report") as session:
        quarantine.report(session, customer, log_id, kind, actor=_actor(), now=utcnow())
        _log(session, f"report {log_id} {kind.value}", customer)


@app.command("digests")
@reports_errors
def digests() -> None:
    """Send the recipients' quarantine digests now (also a daily scheduler job)."""
    with unit_of_work("mail digests") as session:
        count = quarantine.send_digests(session, settings(), utcnow())
    typer.echo(
        Text(fr="{n} synthèse(s) envoyée(s).", en="{n} digest(s) sent.").render(lang(), n=count)
    )


@app.command("queue")
@reports_errors
def show_queue(customer: int, as_json: JsonOption = False) -> None:
    """Mail of the customer waiting for delivery (MAIL-09 buffering)."""
    with unit_of_work() as session:
        rows = [
            {
                "id": q.id,
                "direction": q.direction.value,
                "to": ",".join(q.rcpt_tos),
                "attempts": q.attempts,
                "next_attempt_at": q.next_attempt_at.isoformat(timespec="seconds"),
                "expires_at": q.expires_at.isoformat(timespec="seconds"),
                "last_error": q.last_error,
            }
            for q in queue.pending(session, customer)
        ]
    _emit(rows, as_json, ["id", "direction", "to", "attempts", "next_attempt_at", "last_error"])


# --- licences and SLA ------------------------------------------------------------------------


@app.command("licences")
@reports_errors
def licence_counts(customer: int, as_json: JsonOption = False) -> None:
    """Mailboxes and domains used against the contract (MAIL-07)."""
    with unit_of_work() as session:
        rows = [vars(c) for c in licences.counts(session, customer, _today())]
    _emit(rows, as_json, ["unit", "used", "licensed", "allowed"])


@app.command("sla")
@reports_errors
def sla_command(
    customer: int,
    as_of: Annotated[datetime | None, typer.Option("--as-of", formats=["%Y-%m-%d"])] = None,
    as_json: JsonOption = False,
) -> None:
    """The rolling-window figures and the month's remedies (MAIL-05, MAIL-06)."""
    day = as_of.date() if as_of else _today()
    with unit_of_work() as session:
        contract = licences.mail_contract(session, customer)
        if contract is None:
            raise NotFound(
                Text(fr="Aucun contrat email en cours.", en="No live mail contract."),
                code="no_mail_contract",
            )
        terms = sla.sla_terms(contract)
        end = datetime.combine(day + timedelta(days=1), time(0), tzinfo=PARIS)
        figures = sla.window_figures(session, customer, end, terms)
        month = sla.remedies(session, contract, day.strftime("%Y-%m"))
        worst = vars(month.worst_week) if month.worst_week is not None else None
        data: dict[str, Any] = {
            "contract": contract.reference,
            "window": vars(figures),
            "month": vars(month) | {"worst_week": worst},
        }
    if as_json:
        print_json(data)
        return
    window = data["window"]
    typer.echo(
        f"processed={window['processed']} fp={window['fp_percent']}% fn={window['fn_percent']}% "
        f"viruses={window['viruses_delivered']}/{window['virus_ceiling']} "
        f"credit={data['month']['credit']} €"
    )


@app.command("credits")
@reports_errors
def credits(period: Annotated[str, typer.Option(help="YYYY-MM")]) -> None:
    """Hand a month's SLA remedies of every live mail contract to billing (idempotent)."""
    with unit_of_work("mail credits") as session:
        sla.month_bounds(period)
        for contract in session.scalars(select(Contract).where(Contract.status.in_(LIVE))):
            if not licences.is_mail_contract(contract):
                continue
            terms = contracts.terms_of(contract)
            if terms.sla is None or terms.sla.mail is None:
                continue
            charge = sla.hand_to_billing(session, contract, period)
            typer.echo(f"{contract.reference}\t{charge.amount if charge else 0}")
        _log(session, f"credits {period}", None)
