"""The customer space: the pages of one customer, for its own users and for the operator's
staff. Every page sits below ``/customers/{customer_id}`` so that the platform's single access
check (permissions and tenancy) guards it; objects are looked up below that customer."""

from __future__ import annotations

import json
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any

from fastapi import Form, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from operateur.accounts import audit
from operateur.accounts import service as accounts
from operateur.accounts.models import Role
from operateur.accounts.permissions import Actor, Permission
from operateur.accounts.schemas import UserIn
from operateur.billing import collection, payments, statements
from operateur.billing.documents import cii_xml
from operateur.billing.models import Dispute, DisputeStatus
from operateur.catalog.terms import Channel, DisputeReference, PriceKind
from operateur.config import Settings
from operateur.contracts import service as contracts
from operateur.errors import InvalidInput, OperateurError
from operateur.http.deps import SessionDep
from operateur.i18n import Text
from operateur.numbers import service as numbers
from operateur.portal import charts, queries
from operateur.portal.labels import label
from operateur.portal.nav import customer_nav
from operateur.portal.render import money, number, redirect, render
from operateur.portal.security import allowed, page_lang
from operateur.portal.web import act, model, portal_router, today

router = portal_router()

Reader = Annotated[Actor, allowed(Permission.CUSTOMER_READ)]
ContractsReader = Annotated[Actor, allowed(Permission.CONTRACTS_READ)]
BillingReader = Annotated[Actor, allowed(Permission.BILLING_READ)]
UsersManager = Annotated[Actor, allowed(Permission.USERS_MANAGE)]


def space(session: Session, actor: Actor, customer_id: int, **extra: Any) -> dict[str, Any]:
    """What every page of the customer space shows: the customer and its navigation."""
    return {
        "customer": accounts.get_customer(session, customer_id),
        "nav": customer_nav(actor, customer_id),
        **extra,
    }


# --- dashboard -------------------------------------------------------------------------------


@router.get("/customers/{customer_id}", response_class=HTMLResponse)
def dashboard(customer_id: int, request: Request, actor: Reader, session: SessionDep) -> Response:
    day = today(request)
    rows = queries.contract_rows(session, customer_id, day)
    money = queries.balance(session, customer_id, day)
    return render(
        request,
        "customer/dashboard.html",
        space(
            session,
            actor,
            customer_id,
            rows=rows,
            balance=money,
            alerts=queries.alerts(session, customer_id, rows, money, day),
        ),
    )


# --- contracts -------------------------------------------------------------------------------


@router.get("/customers/{customer_id}/contracts", response_class=HTMLResponse)
def contracts_page(
    customer_id: int, request: Request, actor: ContractsReader, session: SessionDep
) -> Response:
    rows = queries.contract_rows(session, customer_id, today(request))
    return render(
        request,
        "customer/contracts.html",
        space(
            session,
            actor,
            customer_id,
            rows=rows,
            may_write=actor.has(Permission.CONTRACTS_WRITE),
        ),
    )


@router.get("/customers/{customer_id}/contracts/{contract_id}", response_class=HTMLResponse)
def contract_page(
    customer_id: int,
    contract_id: int,
    request: Request,
    actor: ContractsReader,
    session: SessionDep,
) -> Response:
    from operateur.billing.models import Invoice
    from operateur.catalog.terms import SuspensionCause
    from operateur.contracts import lifecycle
    from operateur.contracts.models import SuspensionScope

    contract = contracts.get_contract(session, customer_id, contract_id)
    day = today(request)
    invoices = session.scalars(
        select(Invoice)
        .where(Invoice.contract_id == contract.id, Invoice.customer_id == customer_id)
        .order_by(Invoice.issue_date.desc())
    ).all()
    return render(
        request,
        "customer/contract.html",
        space(
            session,
            actor,
            customer_id,
            contract=contract,
            offer_name=queries.offer_name(contract.offer_id),
            schedule=contracts.contract_schedule(contract, day),
            subscriptions=contracts.list_subscriptions(session, contract),
            monthly=contracts.monthly_total(contracts.list_subscriptions(session, contract)),
            events=lifecycle.history(session, contract.id),
            suspensions=lifecycle.open_suspensions(session, contract.id),
            invoices=invoices,
            may_write=actor.has(Permission.CONTRACTS_WRITE),
            may_order=actor.has(Permission.ORDERS_PLACE),
            price_items=[
                p for p in contracts.prices_of(contract) if p.kind is not PriceKind.PER_UNIT
            ],
            causes=list(SuspensionCause),
            scopes=list(SuspensionScope),
            today=day,
        ),
    )


@router.get("/customers/{customer_id}/contracts/{contract_id}/terms.json")
def contract_terms(
    customer_id: int, contract_id: int, actor: ContractsReader, session: SessionDep
) -> Response:
    """The contract's document: its frozen terms and price list, as signed (CTR-01)."""
    contract = contracts.get_contract(session, customer_id, contract_id)
    body = {
        "reference": contract.reference,
        "offer_id": contract.offer_id,
        "status": contract.status.value,
        "signed_at": contract.signed_at.isoformat() if contract.signed_at else None,
        "signed_by": contract.signed_by,
        "overrides": contract.overrides,
        "terms": contract.terms,
        "prices": contract.prices,
    }
    return Response(
        json.dumps(body, ensure_ascii=False, indent=2),
        media_type="application/json",
        headers={"Content-Disposition": f'attachment; filename="{contract.reference}.json"'},
    )


# --- lines, numbers, equipment ---------------------------------------------------------------


@router.get("/customers/{customer_id}/lines", response_class=HTMLResponse)
def lines_page(
    customer_id: int, request: Request, actor: ContractsReader, session: SessionDep
) -> Response:
    return render(
        request,
        "customer/lines.html",
        space(
            session,
            actor,
            customer_id,
            lines=contracts.list_lines(session, customer_id),
            numbers=numbers.list_customer_numbers(session, customer_id),
            equipment=contracts.list_equipment(session, customer_id),
            may_directory=actor.has(Permission.DIRECTORY_WRITE),
        ),
    )


# --- invoices, payments, disputes ------------------------------------------------------------


@router.get("/customers/{customer_id}/invoices", response_class=HTMLResponse)
def invoices_page(
    customer_id: int, request: Request, actor: BillingReader, session: SessionDep
) -> Response:
    disputes = session.scalars(
        select(Dispute).where(Dispute.customer_id == customer_id).order_by(Dispute.id.desc())
    ).all()
    return render(
        request,
        "customer/invoices.html",
        space(
            session,
            actor,
            customer_id,
            invoices=payments.list_invoices(session, customer_id),
            payments=payments.list_payments(session, customer_id),
            disputes=disputes,
            outstanding=payments.outstanding,
            today=today(request),
            may_penalties=actor.is_staff and actor.has(Permission.BILLING_WRITE),
        ),
    )


@router.get("/customers/{customer_id}/invoices/{invoice_id}", response_class=HTMLResponse)
def invoice_page(
    customer_id: int, invoice_id: int, request: Request, actor: BillingReader, session: SessionDep
) -> Response:
    invoice = payments.get_invoice(session, customer_id, invoice_id)
    contract = (
        contracts.get_contract(session, customer_id, invoice.contract_id)
        if invoice.contract_id
        else None
    )
    terms = contracts.terms_of(contract).disputes if contract else None
    channels = list(terms.channels) if terms else []
    channels += [c for c in Channel if c not in channels]
    disputes = session.scalars(
        select(Dispute).where(Dispute.invoice_id == invoice.id, Dispute.customer_id == customer_id)
    ).all()
    return render(
        request,
        "customer/invoice.html",
        space(
            session,
            actor,
            customer_id,
            invoice=invoice,
            outstanding=payments.outstanding(invoice),
            dispute_terms=terms,
            channels=channels,
            disputes=disputes,
            may_dispute=actor.has(Permission.DISPUTES_FILE) and invoice.kind.value == "invoice",
            today=today(request),
        ),
    )


@router.get("/customers/{customer_id}/invoices/{invoice_id}/pdf")
def invoice_pdf(
    customer_id: int, invoice_id: int, request: Request, actor: BillingReader, session: SessionDep
) -> Response:
    """The invoice's Factur-X PDF (PDF/A-3 with its EN 16931 XML inside)."""
    invoice = payments.get_invoice(session, customer_id, invoice_id)
    settings: Settings = request.app.state.settings
    return Response(
        statements.invoice_pdf(session, invoice, settings.data_dir),
        media_type="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="{invoice.number}.pdf"'},
    )


@router.get("/customers/{customer_id}/invoices/{invoice_id}/facturx.xml")
def invoice_xml(
    customer_id: int, invoice_id: int, actor: BillingReader, session: SessionDep
) -> Response:
    """The invoice's Factur-X XML alone (UN/CEFACT CII, EN 16931 profile)."""
    invoice = payments.get_invoice(session, customer_id, invoice_id)
    return Response(
        cii_xml(statements.invoice_document(session, invoice)),
        media_type="application/xml",
        headers={"Content-Disposition": f'attachment; filename="{invoice.number}-factur-x.xml"'},
    )


def _amount(raw: str, field: str) -> Decimal:
    """An amount typed in a form (1 234,56 or 1234.56), to the cent."""
    try:
        value = Decimal(raw.replace("\u202f", "").replace(" ", "").replace(",", "."))
        exact = value.is_finite() and value == value.quantize(Decimal("0.01"))
    except InvalidOperation:
        exact = False
    if not exact:
        raise InvalidInput(
            Text(fr="Montant invalide : {raw} (au centime près)", en="Invalid amount: {raw}"),
            field=field,
            details={"raw": raw},
        )
    return value


@router.post("/customers/{customer_id}/invoices/{invoice_id}/dispute")
def file_dispute(
    customer_id: int,
    invoice_id: int,
    request: Request,
    actor: Annotated[Actor, allowed(Permission.DISPUTES_FILE)],
    session: SessionDep,
    contested_amount: Annotated[str, Form(max_length=30)],
    reason: Annotated[str, Form(min_length=1, max_length=2000)],
    channel: Annotated[Channel, Form()],
    evidence: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    """Contest an invoice (BIL-07): the portal form states the invoice's date, number and
    amount; the terms decide at once whether it is admissible."""
    back = f"/customers/{customer_id}/invoices/{invoice_id}"
    lang = page_lang(request)
    references = {
        DisputeReference.INVOICE_DATE.value,
        DisputeReference.INVOICE_NUMBER.value,
        DisputeReference.AMOUNT.value,
        DisputeReference.REASON.value,
    }
    if evidence.strip():
        references.add(DisputeReference.EVIDENCE.value)
    try:
        dispute = collection.file_dispute(
            session,
            customer_id,
            invoice_id,
            filed_on=today(request),
            channel=channel.value,
            contested_amount=_amount(contested_amount, "contested_amount"),
            reason=reason + (f"\n\n{evidence.strip()}" if evidence.strip() else ""),
            references=references,
        )
    except OperateurError as error:
        session.rollback()
        return redirect(request, back, flash=error.render(lang), level="error")
    if dispute.status is DisputeStatus.REFUSED:
        reasons = ", ".join(label(code, lang) for code in dispute.refusal_reasons)
        text = Text(
            fr="Contestation enregistrée mais irrecevable selon votre contrat : {reasons}.",
            en="Dispute recorded but not admissible under your contract: {reasons}.",
        )
        return redirect(request, back, flash=text.render(lang, reasons=reasons), level="error")
    text = Text(
        fr="Contestation enregistrée : {amount} suspendus du recouvrement.",
        en="Dispute recorded: {amount} held out of collection.",
    )
    return redirect(request, back, flash=text.render(lang, amount=money(dispute.held_amount, lang)))


# --- usage -----------------------------------------------------------------------------------


@router.get("/customers/{customer_id}/usage", response_class=HTMLResponse)
def usage_page(
    customer_id: int, request: Request, actor: BillingReader, session: SessionDep, days: int = 30
) -> Response:
    """Calls and minutes per day, SMS per day, spend per month, drawn on the server."""
    lang = page_lang(request)
    span = max(7, min(days, 92))
    last = today(request)
    first = last - timedelta(days=span - 1)
    daily = queries.daily_usage(session, customer_id, first, last)
    spend = queries.monthly_spend(session, customer_id, last)

    def day_label(d: date) -> str:
        return d.strftime("%d/%m") if lang == "fr" else d.strftime("%m-%d")

    def chart(title: Text, values: list[tuple[str, Decimal, str]], top: str) -> Any:
        points = [charts.Point(label, value, shown) for label, value, shown in values]
        return charts.bar_chart(title.render(lang), points, axis_max_label=top)

    calls = [(day_label(d.day), Decimal(d.calls), number(d.calls, lang)) for d in daily]
    minutes = [
        (day_label(d.day), Decimal(d.seconds) / 60, number(Decimal(d.seconds) / 60, lang, 0))
        for d in daily
    ]
    sms = [(day_label(d.day), Decimal(d.sms), number(d.sms, lang)) for d in daily]
    months = [(period, amount, money(amount, lang)) for period, amount in spend]

    def top(values: list[tuple[str, Decimal, str]]) -> str:
        return max(values, key=lambda v: v[1])[2] if values else "0"

    figures = [
        (Text("Appels par jour", "Calls per day"), calls),
        (Text("Minutes facturées par jour", "Billed minutes per day"), minutes),
        (Text("SMS par jour", "SMS per day"), sms),
        (Text("Dépense HT par mois", "Spend excl. VAT per month"), months),
    ]
    drawn = [(title, chart(title, values, top(values)), values) for title, values in figures]
    totals = {
        "calls": sum(d.calls for d in daily),
        "minutes": Decimal(sum(d.seconds for d in daily)) / 60,
        "sms": sum(d.sms for d in daily),
    }
    return render(
        request,
        "customer/usage.html",
        space(
            session,
            actor,
            customer_id,
            figures=drawn,
            totals=totals,
            days=span,
            first=first,
            last=last,
        ),
    )


# --- users and API keys ----------------------------------------------------------------------


def _users_page(
    request: Request, session: Session, actor: Actor, customer_id: int, new_key: str | None = None
) -> Response:
    customer = accounts.get_customer(session, customer_id)
    return render(
        request,
        "customer/users.html",
        space(
            session,
            actor,
            customer_id,
            users=accounts.list_users(session, customer.operator_id, customer_id),
            keys=accounts.list_api_keys(session, customer.operator_id, customer_id),
            roles=[Role.CUSTOMER_ADMIN, Role.CUSTOMER_USER],
            new_key=new_key,
        ),
    )


@router.get("/customers/{customer_id}/users", response_class=HTMLResponse)
def users_page(
    customer_id: int, request: Request, actor: UsersManager, session: SessionDep
) -> Response:
    return _users_page(request, session, actor, customer_id)


@router.post("/customers/{customer_id}/users")
def create_user(
    customer_id: int,
    request: Request,
    actor: UsersManager,
    session: SessionDep,
    email: Annotated[str, Form(max_length=200)],
    display_name: Annotated[str, Form(max_length=200)],
    password: Annotated[str, Form(max_length=500)],
    role: Annotated[Role, Form()],
) -> Response:
    customer = accounts.get_customer(session, customer_id)
    return act(
        request,
        session,
        back=f"/customers/{customer_id}/users",
        done=Text(fr="Utilisateur créé.", en="User created."),
        run=lambda: accounts.create_user(
            session,
            actor,
            operator_id=customer.operator_id,
            customer_id=customer_id,
            data=model(
                UserIn,
                {
                    "email": email,
                    "display_name": display_name,
                    "password": password,
                    "role": role.value,
                    "lang": page_lang(request),
                },
            ),
        ),
    )


@router.post("/customers/{customer_id}/users/{user_id}/deactivate")
def deactivate_user(
    customer_id: int, user_id: int, request: Request, actor: UsersManager, session: SessionDep
) -> Response:
    user = accounts.get_user(session, customer_id, user_id)
    return act(
        request,
        session,
        back=f"/customers/{customer_id}/users",
        done=Text(fr="Utilisateur désactivé.", en="User deactivated."),
        run=lambda: accounts.deactivate_user(session, user),
    )


@router.post("/customers/{customer_id}/api-keys", response_class=HTMLResponse)
def create_api_key(
    customer_id: int,
    request: Request,
    actor: UsersManager,
    session: SessionDep,
    name: Annotated[str, Form(min_length=1, max_length=100)],
    role: Annotated[Role, Form()],
) -> Response:
    """Create a key and show it on this page only: it is stored hashed and never shown again."""
    customer = accounts.get_customer(session, customer_id)
    created: list[str] = []

    def run() -> None:
        _, key = accounts.create_api_key(
            session,
            actor,
            operator_id=customer.operator_id,
            customer_id=customer_id,
            name=name,
            role=role,
        )
        created.append(key)

    refused = act(
        request,
        session,
        back=f"/customers/{customer_id}/users",
        done=Text(fr="Clé créée.", en="Key created."),
        run=run,
    )
    if not created:
        return refused
    return _users_page(request, session, actor, customer_id, new_key=created[0])


@router.post("/customers/{customer_id}/api-keys/{key_id}/revoke")
def revoke_api_key(
    customer_id: int, key_id: int, request: Request, actor: UsersManager, session: SessionDep
) -> Response:
    key = accounts.get_api_key(session, customer_id, key_id)
    return act(
        request,
        session,
        back=f"/customers/{customer_id}/users",
        done=Text(fr="Clé révoquée.", en="Key revoked."),
        run=lambda: accounts.revoke_api_key(session, key),
    )


# --- the customer's own audit trail ----------------------------------------------------------


@router.get("/customers/{customer_id}/audit", response_class=HTMLResponse)
def customer_audit(
    customer_id: int,
    request: Request,
    actor: Annotated[Actor, allowed(Permission.CUSTOMER_AUDIT_READ)],
    session: SessionDep,
) -> Response:
    """SEC-02: every change of the customer's data, who made it and when."""
    events = audit.query(session, audit.AuditQuery(customer_id=customer_id, limit=200))
    return render(request, "customer/audit.html", space(session, actor, customer_id, events=events))


# --- data export (PRIV-01) -------------------------------------------------------------------


@router.get("/customers/{customer_id}/export", response_class=HTMLResponse)
def export_page(
    customer_id: int,
    request: Request,
    actor: Annotated[Actor, allowed(Permission.DATA_EXPORT)],
    session: SessionDep,
) -> Response:
    from operateur.portal.export import customer_tables

    return render(
        request,
        "customer/export.html",
        space(session, actor, customer_id, tables=[t.name for t, _ in customer_tables()]),
    )


@router.get("/customers/{customer_id}/export.zip")
def export_download(
    customer_id: int,
    request: Request,
    actor: Annotated[Actor, allowed(Permission.DATA_EXPORT)],
    session: SessionDep,
) -> Response:
    """Every row of the customer's data as JSON files in one zip (PRIV-01, right of access)."""
    from operateur.portal.export import export_zip

    data = export_zip(session, customer_id)
    name = f"donnees-client-{customer_id}-{today(request).isoformat()}.zip"
    return Response(
        data,
        media_type="application/zip",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )
