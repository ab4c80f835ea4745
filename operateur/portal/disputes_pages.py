"""Invoice disputes and late-payment penalties in the portal (BIL-07, BIL-06): the customer
follows its disputes to their outcome and the credit note that settles an upheld one; the
staff's queue of open disputes, each accepted (a credit note, by default of the contested
amount) or refused (collection resumes), and a customer's late invoices with the penalties of
its terms, invoiced on request — through the billing context's ``collection`` functions as the
API does."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import Form, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy import select

from operateur.accounts.models import Customer
from operateur.accounts.permissions import Actor, Permission
from operateur.billing import collection, reference_rates
from operateur.billing.models import Dispute, DisputeStatus, Invoice
from operateur.config import Settings
from operateur.http.deps import SessionDep
from operateur.i18n import Text
from operateur.portal.customer import _amount, space
from operateur.portal.render import render
from operateur.portal.security import allowed
from operateur.portal.web import act, portal_router, today

router = portal_router()

BillingReader = Annotated[Actor, allowed(Permission.BILLING_READ)]
BillingWriter = Annotated[Actor, allowed(Permission.BILLING_WRITE, staff_only=True)]


@router.get("/customers/{customer_id}/disputes", response_class=HTMLResponse)
def disputes_page(
    customer_id: int, request: Request, actor: BillingReader, session: SessionDep
) -> Response:
    """Each dispute with its invoice, what is held out of collection, its outcome and the
    credit note of an upheld one."""
    disputes = session.scalars(
        select(Dispute).where(Dispute.customer_id == customer_id).order_by(Dispute.id.desc())
    ).all()
    linked = {d.invoice_id for d in disputes} | {
        d.credit_note_id for d in disputes if d.credit_note_id is not None
    }
    invoices = {
        i.id: i
        for i in session.scalars(
            select(Invoice).where(Invoice.customer_id == customer_id, Invoice.id.in_(linked))
        )
    }
    return render(
        request,
        "customer/disputes.html",
        space(
            session,
            actor,
            customer_id,
            disputes=disputes,
            invoices=invoices,
            may_resolve=actor.is_staff and actor.has(Permission.BILLING_WRITE),
            today=today(request),
        ),
    )


@router.get("/staff/disputes", response_class=HTMLResponse)
def dispute_queue(request: Request, actor: BillingWriter, session: SessionDep) -> Response:
    """Open disputes of the operator's customers, oldest first."""
    rows = session.execute(
        select(Dispute, Invoice, Customer)
        .join(Invoice, Invoice.id == Dispute.invoice_id)
        .join(Customer, Customer.id == Dispute.customer_id)
        .where(Customer.operator_id == actor.operator_id, Dispute.status == DisputeStatus.OPEN)
        .order_by(Dispute.filed_on, Dispute.id)
    ).all()
    return render(request, "staff/disputes.html", {"rows": rows, "today": today(request)})


@router.post("/customers/{customer_id}/disputes/{dispute_id}/resolve")
def resolve(
    customer_id: int,
    dispute_id: int,
    request: Request,
    actor: BillingWriter,
    session: SessionDep,
    decision: Annotated[str, Form(pattern="^(uphold|reject)$")],
    reason: Annotated[str, Form(min_length=1, max_length=2000)],
    resolved_on: Annotated[date | None, Form()] = None,
    credit_net: Annotated[str, Form(max_length=30)] = "",
    back: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    """Accept (credit note of ``credit_net`` excl. VAT, by default the contested amount) or
    refuse a dispute; the reason goes to the audit log."""
    dispute = collection.get_dispute(session, customer_id, dispute_id)
    upheld = decision == "uphold"
    done = (
        Text(fr="Contestation acceptée : avoir émis.", en="Dispute upheld: credit note issued.")
        if upheld
        else Text(fr="Contestation rejetée : recouvrement repris.", en="Dispute rejected.")
    )
    return act(
        request,
        session,
        back=back if back == "/staff/disputes" else f"/customers/{customer_id}/disputes",
        done=done,
        reason=reason,
        run=lambda: collection.resolve_dispute(
            session,
            dispute,
            upheld=upheld,
            resolved_on=resolved_on or today(request),
            credit_net=_amount(credit_net, "credit_net") if upheld and credit_net else None,
        ),
    )


# --- late-payment penalties (BIL-06) ---------------------------------------------------------


@router.get("/customers/{customer_id}/penalties", response_class=HTMLResponse)
def penalties_page(
    customer_id: int,
    request: Request,
    actor: BillingWriter,
    session: SessionDep,
    as_of: date | None = None,
) -> Response:
    """The customer's late invoices with their penalties as of a date (today by default):
    interest and fixed indemnity of the terms, what earlier penalty invoices already claimed."""
    day = as_of or today(request)
    settings: Settings = request.app.state.settings
    late = collection.late_invoices(
        session, customer_id, day, reference_rates.tables_for(settings.data_dir)
    )
    return render(
        request,
        "staff/penalties.html",
        space(session, actor, customer_id, late=late, as_of=day),
    )


@router.post("/customers/{customer_id}/penalties")
def issue_penalties(
    customer_id: int,
    request: Request,
    actor: BillingWriter,
    session: SessionDep,
    as_of: Annotated[date, Form()],
    reason: Annotated[str, Form(min_length=1, max_length=2000)],
) -> Response:
    """Invoice the penalties due as of the date; the same date twice issues nothing more."""
    settings: Settings = request.app.state.settings
    return act(
        request,
        session,
        back=f"/customers/{customer_id}/penalties?as_of={as_of.isoformat()}",
        done=Text(fr="Pénalités facturées.", en="Penalties invoiced."),
        reason=reason,
        run=lambda: collection.issue_penalty_invoices(
            session, customer_id, as_of, reference_rates.tables_for(settings.data_dir)
        ),
    )
