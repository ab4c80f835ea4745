"""The operator's back office: customers and their contracts' lifecycle, billing runs with
their progress, invoices, payments, SEPA batches, the dunning queue, the number inventory and
the audit log. Staff roles only; each action names its reason in the audit log (SEC-02)."""

from __future__ import annotations

import json
import re
from datetime import date, datetime
from typing import Annotated, Any

from fastapi import BackgroundTasks, Form, Request, UploadFile
from fastapi.responses import HTMLResponse, Response
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from operateur.accounts import audit
from operateur.accounts import service as accounts
from operateur.accounts.models import AuditEvent, Customer
from operateur.accounts.permissions import Actor, Permission
from operateur.accounts.schemas import CustomerIn
from operateur.billing import direct_debit, invoicing, payments
from operateur.billing.models import Invoice, InvoiceStatus, Payment
from operateur.catalog.service import list_offers
from operateur.catalog.terms import PaymentMethod, SuspensionCause
from operateur.config import Settings
from operateur.contracts import lifecycle, suspension, termination
from operateur.contracts import service as contracts
from operateur.contracts.models import SuspensionScope
from operateur.contracts.schemas import SubscriptionIn
from operateur.domain.calendar import PARIS
from operateur.errors import InvalidInput, NotFound, OperateurError
from operateur.http.deps import SessionDep
from operateur.i18n import Text
from operateur.numbers import service as numbers
from operateur.numbers.models import NumberStatus, NumberTier, PhoneNumber
from operateur.portal import queries
from operateur.portal.customer import _amount, space
from operateur.portal.render import redirect, render
from operateur.portal.security import allowed, page_lang
from operateur.portal.web import act, model, now, portal_router, today

router = portal_router()

Staff = Annotated[Actor, allowed(Permission.CUSTOMERS_LIST, staff_only=True)]
ContractsWriter = Annotated[Actor, allowed(Permission.CONTRACTS_WRITE, staff_only=True)]
BillingWriter = Annotated[Actor, allowed(Permission.BILLING_WRITE, staff_only=True)]


def _operator(actor: Actor) -> int:
    if actor.operator_id is None:
        raise InvalidInput(Text(fr="Opérateur inconnu.", en="Unknown operator."), field="operator")
    return actor.operator_id


def _page(actor: Actor, **values: Any) -> dict[str, Any]:
    return values


# --- home ------------------------------------------------------------------------------------


@router.get("/staff", response_class=HTMLResponse)
def home(request: Request, actor: Staff, session: SessionDep) -> Response:
    operator_id = _operator(actor)
    day = today(request)
    customers = accounts.list_customers(session, operator_id)
    return render(
        request,
        "staff/home.html",
        _page(
            actor,
            customers=len(customers),
            tickets=queries.open_tickets_count(session, operator_id),
            overdue=len(queries.dunning_queue(session, operator_id, day)),
            runs=queries.billing_runs(session, operator_id, limit=3),
        ),
    )


# --- customers -------------------------------------------------------------------------------


@router.get("/staff/customers", response_class=HTMLResponse)
def customers_page(request: Request, actor: Staff, session: SessionDep, q: str = "") -> Response:
    rows = accounts.list_customers(session, _operator(actor), search=q.strip() or None)
    return render(
        request,
        "staff/customers.html",
        _page(
            actor,
            customers=rows,
            q=q,
            methods=list(PaymentMethod),
            may_create=actor.has(Permission.CUSTOMERS_CREATE),
        ),
    )


@router.post("/staff/customers")
async def create_customer(
    request: Request,
    actor: Annotated[Actor, allowed(Permission.CUSTOMERS_CREATE, staff_only=True)],
    session: SessionDep,
) -> Response:
    form = await request.form()
    fields = {
        name: str(form.get(name, "")).strip()
        for name in (
            "name",
            "legal_form",
            "siren",
            "siret",
            "vat_number",
            "address_line",
            "postal_code",
            "city",
            "country",
            "email",
            "phone",
            "iban",
            "bic",
            "payment_method",
        )
    }
    created: list[Customer] = []
    response = act(
        request,
        session,
        back="/staff/customers",
        done=Text(fr="Client créé.", en="Customer created."),
        run=lambda: created.append(
            accounts.create_customer(session, _operator(actor), model(CustomerIn, fields))
        ),
    )
    if created:
        return redirect(
            request,
            f"/customers/{created[0].id}",
            flash=Text(fr="Client créé.", en="Customer created.").render(page_lang(request)),
        )
    return response


# --- contracts: creation and lifecycle -------------------------------------------------------


@router.get("/customers/{customer_id}/new-contract", response_class=HTMLResponse)
def new_contract_page(
    customer_id: int, request: Request, actor: ContractsWriter, session: SessionDep
) -> Response:
    return render(
        request,
        "staff/new_contract.html",
        space(session, actor, customer_id, offers=list_offers()),
    )


def _overrides(raw: str) -> dict[str, Any]:
    if not raw.strip():
        return {}
    try:
        value = json.loads(raw)
    except json.JSONDecodeError as error:
        raise InvalidInput(
            Text(fr="JSON invalide : {reason}", en="Invalid JSON: {reason}"),
            field="overrides",
            details={"reason": str(error)},
        ) from None
    if not isinstance(value, dict):
        raise InvalidInput(
            Text(fr="Un objet JSON est attendu.", en="A JSON object is expected."),
            field="overrides",
        )
    return value


@router.post("/customers/{customer_id}/contracts")
def create_contract(
    customer_id: int,
    request: Request,
    actor: ContractsWriter,
    session: SessionDep,
    offer_id: Annotated[str, Form(max_length=50)],
    overrides: Annotated[str, Form(max_length=20_000)] = "",
    reason: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    """A draft contract from an offer, with negotiated terms merged over the offer's."""
    customer = accounts.get_customer(session, customer_id)
    created: list[int] = []
    response = act(
        request,
        session,
        back=f"/customers/{customer_id}/new-contract",
        done=Text(fr="Contrat créé (brouillon).", en="Contract created (draft)."),
        reason=reason or None,
        run=lambda: created.append(
            contracts.create_contract(session, customer, offer_id, _overrides(overrides)).id
        ),
    )
    if created:
        return redirect(
            request,
            f"/customers/{customer_id}/contracts/{created[0]}",
            flash=Text(fr="Contrat créé (brouillon).", en="Contract created (draft).").render(
                page_lang(request)
            ),
        )
    return response


def _contract_action(
    request: Request,
    session: Session,
    customer_id: int,
    contract_id: int,
    done: Text,
    reason: str,
    run: Any,
) -> Response:
    contract = contracts.get_contract(session, customer_id, contract_id)
    return act(
        request,
        session,
        back=f"/customers/{customer_id}/contracts/{contract_id}",
        done=done,
        reason=reason,
        run=lambda: run(contract),
    )


def _need_reason(reason: str) -> str:
    if not reason.strip():
        raise InvalidInput(Text(fr="Indiquez le motif.", en="Give the reason."), field="reason")
    return reason.strip()


@router.post("/customers/{customer_id}/contracts/{contract_id}/sign")
def sign(
    customer_id: int,
    contract_id: int,
    request: Request,
    actor: ContractsWriter,
    session: SessionDep,
    signed_by: Annotated[str, Form(min_length=1, max_length=200)],
    reason: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    """Sign: the terms are frozen from now on (CTR-01)."""
    return _contract_action(
        request,
        session,
        customer_id,
        contract_id,
        Text(fr="Contrat signé : conditions figées.", en="Contract signed: terms frozen."),
        reason or f"signature par {signed_by}",
        lambda c: contracts.sign(session, c, signed_by, now(request)),
    )


@router.post("/customers/{customer_id}/contracts/{contract_id}/activate")
def activate(
    customer_id: int,
    contract_id: int,
    request: Request,
    actor: ContractsWriter,
    session: SessionDep,
    activated_on: Annotated[date, Form()],
    reason: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    return _contract_action(
        request,
        session,
        customer_id,
        contract_id,
        Text(fr="Contrat mis en service.", en="Contract activated."),
        reason or f"mise en service le {activated_on.isoformat()}",
        lambda c: contracts.activate(session, c, activated_on),
    )


@router.post("/customers/{customer_id}/contracts/{contract_id}/suspend")
def suspend(
    customer_id: int,
    contract_id: int,
    request: Request,
    actor: ContractsWriter,
    session: SessionDep,
    cause: Annotated[SuspensionCause, Form()],
    reason: Annotated[str, Form(max_length=2000)],
    scope: Annotated[SuspensionScope, Form()] = SuspensionScope.FULL,
) -> Response:
    """Suspend, whole or in part where the terms allow, in CTR-06's order (a formal notice
    first unless the cause is urgent under the terms), with the reason."""
    return _contract_action(
        request,
        session,
        customer_id,
        contract_id,
        Text(fr="Contrat suspendu.", en="Contract suspended."),
        reason,
        lambda c: suspension.suspend_in_order(
            session, c, cause=cause, reason=_need_reason(reason), scope=scope
        ),
    )


@router.post("/customers/{customer_id}/contracts/{contract_id}/restore")
def restore(
    customer_id: int,
    contract_id: int,
    request: Request,
    actor: ContractsWriter,
    session: SessionDep,
    reason: Annotated[str, Form(max_length=2000)],
) -> Response:
    return _contract_action(
        request,
        session,
        customer_id,
        contract_id,
        Text(fr="Service rétabli.", en="Service restored."),
        reason,
        lambda c: lifecycle.restore(session, c, reason=_need_reason(reason)),
    )


@router.post("/customers/{customer_id}/contracts/{contract_id}/notice")
def give_notice(
    customer_id: int,
    contract_id: int,
    request: Request,
    actor: ContractsWriter,
    session: SessionDep,
    received_on: Annotated[date, Form()],
    reason: Annotated[str, Form(max_length=2000)],
    ends_on: Annotated[date | None, Form()] = None,
) -> Response:
    """The customer's termination (CTR-03/05): the end the terms allow (or a later one asked),
    the early-termination amount invoiced when it ends before its term."""
    return _contract_action(
        request,
        session,
        customer_id,
        contract_id,
        Text(fr="Préavis enregistré.", en="Notice recorded."),
        reason,
        lambda c: termination.request_termination(
            session, c, received_on=received_on, ends_on=ends_on, reason=_need_reason(reason)
        ),
    )


@router.post("/customers/{customer_id}/contracts/{contract_id}/terminate")
def terminate(
    customer_id: int,
    contract_id: int,
    request: Request,
    actor: ContractsWriter,
    session: SessionDep,
    on: Annotated[date, Form()],
    reason: Annotated[str, Form(max_length=2000)],
) -> Response:
    return _contract_action(
        request,
        session,
        customer_id,
        contract_id,
        Text(fr="Contrat résilié.", en="Contract terminated."),
        reason,
        lambda c: lifecycle.terminate(session, c, on=on, reason=_need_reason(reason)),
    )


@router.post("/customers/{customer_id}/contracts/{contract_id}/subscriptions")
def add_subscription(
    customer_id: int,
    contract_id: int,
    request: Request,
    actor: ContractsWriter,
    session: SessionDep,
    item_code: Annotated[str, Form(min_length=1, max_length=100)],
    quantity: Annotated[int, Form(ge=1)] = 1,
    start_date: Annotated[date | None, Form()] = None,
    reason: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    """Add a subscription or an option of the contract's price list, priced from its frozen
    prices (staff; customers order theirs, PORTAL-01)."""
    return _contract_action(
        request,
        session,
        customer_id,
        contract_id,
        Text(fr="Abonnement ajouté.", en="Subscription added."),
        reason or f"ajout {item_code} x{quantity}",
        lambda c: contracts.add_subscription(
            session,
            c,
            SubscriptionIn(item_code=item_code, quantity=quantity, start_date=start_date),
        ),
    )


# --- billing runs ----------------------------------------------------------------------------

PERIOD = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")


@router.get("/staff/billing/runs", response_class=HTMLResponse)
def runs_page(
    request: Request, actor: BillingWriter, session: SessionDep, started: str = ""
) -> Response:
    runs = queries.billing_runs(session, _operator(actor))
    waiting = bool(PERIOD.match(started)) and not any(
        r.run.period == started and r.finished for r in runs
    )
    return render(
        request,
        "staff/runs.html",
        _page(
            actor,
            runs=runs,
            refresh=waiting or any(not r.finished for r in runs),
            started=started if PERIOD.match(started) else "",
            default_period=today(request).strftime("%Y-%m"),
        ),
    )


@router.post("/staff/billing/runs")
def start_run(
    request: Request,
    background: BackgroundTasks,
    actor: BillingWriter,
    period: Annotated[str, Form(max_length=7)],
) -> Response:
    """Start the period's billing run in the background; its page shows the progress.
    Rerunning a period completes it and never duplicates an invoice."""
    lang = page_lang(request)
    if not PERIOD.match(period):
        return redirect(
            request,
            "/staff/billing/runs",
            flash=Text(fr="Période AAAA-MM attendue.", en="Period YYYY-MM expected.").render(lang),
            level="error",
        )
    background.add_task(
        invoicing.run_period,
        request.app.state.session_factory,
        _operator(actor),
        period,
        actor=actor,
        chunk_size=20,
    )
    return redirect(
        request,
        f"/staff/billing/runs?started={period}",
        flash=Text(fr="Facturation {period} lancée.", en="Billing run {period} started.").render(
            lang, period=period
        ),
    )


# --- invoices and payments -------------------------------------------------------------------


@router.get("/staff/invoices", response_class=HTMLResponse)
def invoices_page(
    request: Request,
    actor: Staff,
    session: SessionDep,
    status: str = "",
    period: str = "",
    q: str = "",
) -> Response:
    stmt = (
        select(Invoice, Customer)
        .join(Customer, Customer.id == Invoice.customer_id)
        .where(Customer.operator_id == _operator(actor))
        .order_by(Invoice.issue_date.desc(), Invoice.id.desc())
        .limit(300)
    )
    if status in {s.value for s in InvoiceStatus}:
        stmt = stmt.where(Invoice.status == InvoiceStatus(status))
    if PERIOD.match(period):
        stmt = stmt.where(Invoice.period == period)
    if q.strip():
        stmt = stmt.where(Customer.name.ilike(f"%{q.strip()}%") | (Invoice.number == q.strip()))
    return render(
        request,
        "staff/invoices.html",
        _page(
            actor,
            rows=session.execute(stmt).all(),
            statuses=list(InvoiceStatus),
            status=status,
            period=period,
            q=q,
            outstanding=payments.outstanding,
        ),
    )


@router.get("/staff/payments", response_class=HTMLResponse)
def payments_page(request: Request, actor: BillingWriter, session: SessionDep) -> Response:
    operator_id = _operator(actor)
    rows = session.execute(
        select(Payment, Customer)
        .join(Customer, Customer.id == Payment.customer_id)
        .where(Customer.operator_id == operator_id)
        .order_by(Payment.received_on.desc(), Payment.id.desc())
        .limit(300)
    ).all()
    return render(
        request,
        "staff/payments.html",
        _page(
            actor,
            rows=rows,
            customers=accounts.list_customers(session, operator_id),
            methods=payments.METHODS,
            today=today(request),
        ),
    )


@router.post("/staff/payments")
def record_payment(
    request: Request,
    actor: BillingWriter,
    session: SessionDep,
    customer_id: Annotated[int, Form()],
    amount: Annotated[str, Form(max_length=30)],
    method: Annotated[str, Form(max_length=30)],
    received_on: Annotated[date, Form()],
    reference: Annotated[str, Form(min_length=1, max_length=100)],
) -> Response:
    """A payment received, allocated to the customer's oldest open invoices (idempotent per
    reference)."""
    customer = accounts.get_customer(session, customer_id)
    if customer.operator_id != actor.operator_id:
        raise NotFound(
            Text(fr="Client {id} introuvable.", en="Customer {id} not found."),
            code="customer_not_found",
            details={"id": customer_id},
        )
    return act(
        request,
        session,
        back="/staff/payments",
        done=Text(fr="Paiement enregistré.", en="Payment recorded."),
        run=lambda: payments.record_payment(
            session,
            customer_id,
            amount=_amount(amount, "amount"),
            method=method,
            received_on=received_on,
            reference=reference,
        ),
    )


# --- SEPA direct debit -----------------------------------------------------------------------

BATCH_ID = re.compile(r"^[A-Za-z0-9-]{1,35}$")


def _batch_path(settings: Settings, batch_id: str) -> Any:
    return settings.data_dir / "sepa" / f"{batch_id}.xml"


@router.get("/staff/sepa", response_class=HTMLResponse)
def sepa_page(request: Request, actor: BillingWriter, session: SessionDep) -> Response:
    settings: Settings = request.app.state.settings
    batches = queries.sepa_batches(session, _operator(actor))
    return render(
        request,
        "staff/sepa.html",
        _page(
            actor,
            batches=[(b, _batch_path(settings, b.batch_id).exists()) for b in batches],
            today=today(request),
        ),
    )


@router.post("/staff/sepa/export")
def sepa_export(
    request: Request,
    actor: BillingWriter,
    session: SessionDep,
    collection_date: Annotated[date, Form()],
) -> Response:
    """One pain.008 file of every invoice due by the collection date (BIL-05), kept under the
    data directory for download."""
    settings: Settings = request.app.state.settings
    lang = page_lang(request)
    try:
        batch = direct_debit.export_batch(
            session,
            _operator(actor),
            collection_date=collection_date,
            created_at=now(request).astimezone(PARIS).replace(microsecond=0),
        )
        session.flush()
    except OperateurError as error:
        session.rollback()
        return redirect(request, "/staff/sepa", flash=error.render(lang), level="error")
    if batch is None:
        return redirect(
            request,
            "/staff/sepa",
            flash=Text(fr="Rien à prélever à cette date.", en="Nothing to collect by then.").render(
                lang
            ),
            level="error",
        )
    target = _batch_path(settings, batch.message_id)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(batch.xml)
    return redirect(
        request,
        "/staff/sepa",
        flash=Text(fr="Lot {id} : {n} prélèvement(s).", en="Batch {id}: {n} debit(s).").render(
            lang, id=batch.message_id, n=len(batch.debits)
        ),
    )


@router.get("/staff/sepa/{batch_id}.xml")
def sepa_file(batch_id: str, request: Request, actor: BillingWriter) -> Response:
    settings: Settings = request.app.state.settings
    path = _batch_path(settings, batch_id)
    if not BATCH_ID.match(batch_id) or not path.is_file():
        raise NotFound(
            Text(fr="Lot {id} introuvable.", en="Batch {id} not found."),
            code="batch_not_found",
            details={"id": batch_id},
        )
    return Response(
        path.read_bytes(),
        media_type="application/xml",
        headers={"Content-Disposition": f'attachment; filename="{batch_id}.xml"'},
    )


@router.post("/staff/sepa/rejects")
async def sepa_rejects(
    request: Request,
    actor: BillingWriter,
    session: SessionDep,
    report: Annotated[UploadFile, Form()],
) -> Response:
    """The bank's reject report (pain.002 or camt.054): each reject reopens its invoice and
    adds the terms' rejection fee; the same report twice changes nothing."""
    data = await report.read()
    rejected: list[int] = []
    return act(
        request,
        session,
        back="/staff/sepa",
        done=Text(fr="Rapport de rejets importé.", en="Reject report imported."),
        run=lambda: rejected.extend(d.id for d in direct_debit.import_rejects(session, data)),
    )


# --- dunning, numbers, audit -----------------------------------------------------------------


@router.get("/staff/dunning", response_class=HTMLResponse)
def dunning_page(request: Request, actor: Staff, session: SessionDep) -> Response:
    return render(
        request,
        "staff/dunning.html",
        _page(actor, rows=queries.dunning_queue(session, _operator(actor), today(request))),
    )


@router.get("/staff/numbers", response_class=HTMLResponse)
def numbers_page(
    request: Request,
    actor: Annotated[Actor, allowed(Permission.NUMBERS_INVENTORY, staff_only=True)],
    session: SessionDep,
    status: str = "",
    tier: str = "",
    kind: str = "",
) -> Response:
    counts = dict(
        session.execute(
            select(PhoneNumber.status, func.count(PhoneNumber.id)).group_by(PhoneNumber.status)
        ).all()
    )
    rows = numbers.list_stock(
        session,
        status=NumberStatus(status) if status in {s.value for s in NumberStatus} else None,
        tier=NumberTier(tier) if tier in {t.value for t in NumberTier} else None,
        kind=kind or None,
    )
    return render(
        request,
        "staff/numbers.html",
        _page(
            actor,
            rows=rows,
            counts=counts,
            statuses=list(NumberStatus),
            tiers=list(NumberTier),
            status=status,
            tier=tier,
            kind=kind,
        ),
    )


@router.post("/staff/numbers")
def add_stock(
    request: Request,
    actor: Annotated[Actor, allowed(Permission.NUMBERS_INVENTORY, staff_only=True)],
    session: SessionDep,
    numbers_text: Annotated[str, Form(alias="numbers", max_length=100_000)],
    tier: Annotated[NumberTier, Form()] = NumberTier.STANDARD,
) -> Response:
    batch = [n.strip() for n in re.split(r"[\s,;]+", numbers_text) if n.strip()]
    return act(
        request,
        session,
        back="/staff/numbers",
        done=Text(fr=f"{len(batch)} numéro(s) ajouté(s).", en=f"{len(batch)} number(s) added."),
        run=lambda: numbers.add_to_stock(session, batch, tier),
    )


def _when(raw: str, field: str) -> datetime | None:
    if not raw:
        return None
    try:
        value = datetime.fromisoformat(raw)
    except ValueError:
        raise InvalidInput(
            Text(fr="Date invalide : {raw}", en="Invalid date: {raw}"),
            field=field,
            details={"raw": raw},
        ) from None
    return value if value.tzinfo else value.replace(tzinfo=PARIS)


@router.get("/staff/audit", response_class=HTMLResponse)
def audit_page(
    request: Request,
    actor: Annotated[Actor, allowed(Permission.AUDIT_READ, staff_only=True)],
    session: SessionDep,
    who: str = "",
    action: str = "",
    entity: str = "",
    entity_id: str = "",
    customer_id: str = "",
    since: str = "",
    until: str = "",
) -> Response:
    """Every change: who, what, when — filtered (SEC-02, MAIL-11)."""
    query = audit.AuditQuery(
        operator_id=actor.operator_id,  # SEC-02: never another operator's events
        customer_id=int(customer_id) if customer_id.isdigit() else None,
        actor_label=who.strip() or None,
        action=action or None,
        entity=entity.strip() or None,
        entity_id=entity_id.strip() or None,
        since=_when(since, "since"),
        until=_when(until, "until"),
        limit=300,
    )
    entities = sorted(set(session.scalars(select(AuditEvent.entity).distinct())))
    return render(
        request,
        "staff/audit.html",
        _page(
            actor,
            events=audit.query(session, query),
            entities=entities,
            filters={
                "who": who,
                "action": action,
                "entity": entity,
                "entity_id": entity_id,
                "customer_id": customer_id,
                "since": since,
                "until": until,
            },
        ),
    )
