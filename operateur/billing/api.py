"""REST endpoints of the billing context."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Request, Response, status
from sqlalchemy import select

from operateur.accounts.permissions import Actor, Permission
from operateur.billing import (
    collection,
    invoicing,
    payments,
    reference_rates,
    refund_transfers,
    refunds,
    statements,
    wallets,
)
from operateur.billing.models import Dispute
from operateur.billing.schemas import (
    DisputeIn,
    DisputeOut,
    IgnoredReturnOut,
    InvoiceDetailOut,
    InvoiceOut,
    LatePenaltyOut,
    PaymentIn,
    PaymentOut,
    PenaltiesIn,
    RefundOut,
    RefundPaidIn,
    RefundReturnsOut,
    RefundTransferIn,
    RefundTransferOut,
    ResolveIn,
    RunIn,
    RunOut,
    SkippedRefundOut,
    TopUpIn,
    WalletOut,
)
from operateur.config import Settings
from operateur.db import utcnow
from operateur.errors import InvalidInput
from operateur.http.deps import LangDep, SessionDep, request_now, require
from operateur.i18n import Text

router = APIRouter(tags=["billing"])

Reader = Annotated[Actor, require(Permission.BILLING_READ)]
Writer = Annotated[Actor, require(Permission.BILLING_WRITE)]


@router.post("/billing/runs", response_model=RunOut, status_code=status.HTTP_201_CREATED)
def run_billing(body: RunIn, request: Request, actor: Writer) -> RunOut:
    """Invoice every billable contract for a period; rerunning completes it, never duplicates."""
    if actor.operator_id is None:
        raise InvalidInput(Text(fr="Opérateur inconnu.", en="Unknown operator."), field="operator")
    report = invoicing.run_period(
        request.app.state.session_factory, actor.operator_id, body.period, actor=actor
    )
    return RunOut(
        run_id=report.run_id, period=report.period, issued=report.issued, skipped=report.skipped
    )


@router.get("/customers/{customer_id}/invoices", response_model=list[InvoiceOut])
def list_invoices(customer_id: int, actor: Reader, session: SessionDep) -> list[InvoiceOut]:
    rows = payments.list_invoices(session, customer_id)
    return [InvoiceOut.model_validate(i) for i in rows]


@router.get("/customers/{customer_id}/invoices/{invoice_id}", response_model=InvoiceDetailOut)
def get_invoice(
    customer_id: int, invoice_id: int, actor: Reader, session: SessionDep
) -> InvoiceDetailOut:
    return InvoiceDetailOut.model_validate(payments.get_invoice(session, customer_id, invoice_id))


@router.get(
    "/customers/{customer_id}/invoices/{invoice_id}/pdf",
    response_class=Response,
    responses={200: {"content": {"application/pdf": {}}}},
)
def invoice_pdf(
    customer_id: int, invoice_id: int, request: Request, actor: Reader, session: SessionDep
) -> Response:
    """The invoice as a Factur-X PDF (PDF/A-3 with its EN 16931 XML), French or English."""
    invoice = payments.get_invoice(session, customer_id, invoice_id)
    settings: Settings = request.app.state.settings
    pdf = statements.invoice_pdf(session, invoice, settings.data_dir)
    return Response(
        pdf,
        media_type="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="{invoice.number}.pdf"'},
    )


@router.get("/customers/{customer_id}/payments", response_model=list[PaymentOut])
def list_payments(customer_id: int, actor: Reader, session: SessionDep) -> list[PaymentOut]:
    return [PaymentOut.model_validate(p) for p in payments.list_payments(session, customer_id)]


@router.post(
    "/customers/{customer_id}/payments",
    response_model=PaymentOut,
    status_code=status.HTTP_201_CREATED,
)
def record_payment(
    customer_id: int, body: PaymentIn, actor: Writer, session: SessionDep
) -> PaymentOut:
    payment = payments.record_payment(
        session,
        customer_id,
        amount=body.amount,
        method=body.method,
        received_on=body.received_on,
        reference=body.reference,
        allocations=[payments.Allocation(a.invoice_id, a.amount) for a in body.allocations]
        if body.allocations
        else None,
    )
    return PaymentOut.model_validate(payment)


def _wallet_out(view: wallets.WalletView) -> WalletOut:
    return WalletOut(
        customer_id=view.customer_id,
        balance=view.balance,
        reserved=view.reserved,
        available=view.available,
    )


@router.get("/customers/{customer_id}/wallet", response_model=WalletOut)
def get_wallet(customer_id: int, actor: Reader, session: SessionDep) -> WalletOut:
    return _wallet_out(wallets.get_wallet(session, customer_id))


@router.post("/customers/{customer_id}/wallet/top-ups", response_model=WalletOut)
def top_up(customer_id: int, body: TopUpIn, actor: Writer, session: SessionDep) -> WalletOut:
    wallets.open_wallet(session, customer_id)
    view = wallets.top_up(
        session,
        customer_id,
        received=body.received,
        bank_fees=body.bank_fees,
        reference=body.reference,
    )
    return _wallet_out(view)


@router.post(
    "/customers/{customer_id}/invoices/{invoice_id}/disputes",
    response_model=DisputeOut,
    status_code=status.HTTP_201_CREATED,
)
def file_dispute(
    customer_id: int,
    invoice_id: int,
    body: DisputeIn,
    actor: Annotated[Actor, require(Permission.DISPUTES_FILE)],
    session: SessionDep,
) -> DisputeOut:
    """Contest an invoice; the terms decide at once whether the dispute is admissible (BIL-07)
    and every reason for a refusal is returned."""
    dispute = collection.file_dispute(
        session,
        customer_id,
        invoice_id,
        filed_on=body.filed_on,
        channel=body.channel,
        contested_amount=body.contested_amount,
        reason=body.reason,
        references=set(body.references),
    )
    return DisputeOut.model_validate(dispute)


@router.get("/customers/{customer_id}/disputes", response_model=list[DisputeOut])
def list_disputes(customer_id: int, actor: Reader, session: SessionDep) -> list[DisputeOut]:
    rows = session.scalars(
        select(Dispute).where(Dispute.customer_id == customer_id).order_by(Dispute.id)
    )
    return [DisputeOut.model_validate(d) for d in rows]


@router.post("/customers/{customer_id}/disputes/{dispute_id}/resolve", response_model=DisputeOut)
def resolve_dispute(
    customer_id: int, dispute_id: int, body: ResolveIn, actor: Writer, session: SessionDep
) -> DisputeOut:
    dispute = collection.get_dispute(session, customer_id, dispute_id)
    resolved = collection.resolve_dispute(
        session,
        dispute,
        upheld=body.upheld,
        resolved_on=body.resolved_on,
        credit_net=body.credit_net,
    )
    return DisputeOut.model_validate(resolved)


@router.get("/customers/{customer_id}/refunds", response_model=list[RefundOut])
def list_refunds(customer_id: int, actor: Reader, session: SessionDep) -> list[RefundOut]:
    """What the operator owes the customer back, pending or paid (BIL-07 [004 §9.4])."""
    return [RefundOut.model_validate(r) for r in refunds.list_refunds(session, customer_id)]


@router.post("/customers/{customer_id}/refunds/{refund_id}/paid", response_model=RefundOut)
def refund_paid(
    customer_id: int, refund_id: int, body: RefundPaidIn, actor: Writer, session: SessionDep
) -> RefundOut:
    """Record the transfer that paid a refund; the same transfer recorded again is a no-op."""
    refund = refunds.get_refund(session, customer_id, refund_id)
    paid = refunds.mark_refund_paid(
        session, refund, paid_on=body.paid_on, bank_reference=body.bank_reference
    )
    return RefundOut.model_validate(paid)


def _operator_of(actor: Actor) -> int:
    if actor.operator_id is None:
        raise InvalidInput(Text(fr="Opérateur inconnu.", en="Unknown operator."), field="operator")
    return actor.operator_id


@router.post("/billing/refunds/transfers", response_model=RefundTransferOut)
def export_refund_transfers(
    body: RefundTransferIn,
    request: Request,
    response: Response,
    actor: Writer,
    session: SessionDep,
    lang: LangDep,
) -> RefundTransferOut:
    """Pay the operator's pending refunds by one SEPA credit-transfer file (BIL-07 [004 §9.4]):
    they become sent in a new batch (201, its pain.001 file at ``file``); refunds whose
    customer's account cannot be paid are listed in ``skipped`` and stay pending. Nothing new
    to pay: 200 without a batch."""
    result = refund_transfers.export_refunds(
        session,
        _operator_of(actor),
        created_at=utcnow(),
        due_by=body.up_to,
        refund_ids=body.refund_ids,
    )
    file = None
    if result.batch_id is not None:
        response.status_code = status.HTTP_201_CREATED
        file = str(request.url_for("refund_transfer_file", batch_id=result.batch_id).path)
    return RefundTransferOut(
        batch_id=result.batch_id,
        file=file,
        refunds=[RefundOut.model_validate(r) for r in result.refunds],
        total=result.total,
        skipped=[
            SkippedRefundOut(
                refund_id=s.refund_id,
                customer_id=s.customer_id,
                customer_name=s.customer_name,
                field=s.field,
                reason=s.reason.render(lang),
            )
            for s in result.skipped
        ],
    )


@router.get(
    "/billing/refunds/transfers/{batch_id}",
    name="refund_transfer_file",
    response_class=Response,
    responses={200: {"content": {"application/xml": {}}}},
)
def refund_transfer_file(batch_id: str, actor: Writer, session: SessionDep) -> Response:
    """The pain.001 file of a batch of refund transfers, the same each time it is asked for."""
    result = refund_transfers.transfer_file(session, _operator_of(actor), batch_id)
    assert result.xml is not None
    return Response(
        result.xml,
        media_type="application/xml",
        headers={"Content-Disposition": f'attachment; filename="{batch_id}.xml"'},
    )


@router.post(
    "/billing/refunds/returns",
    response_model=RefundReturnsOut,
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/xml": {"schema": {"type": "string", "format": "binary"}}},
        }
    },
)
async def refund_returns(
    request: Request, actor: Writer, session: SessionDep, lang: LangDep
) -> RefundReturnsOut:
    """Apply the bank's report on refund transfers (the request body: a pain.002 or a
    camt.054): each rejected or returned transfer puts its refund back to pending and asks its
    customer for another account (BIL-07 [004 §9.4]). Sending the same report again changes
    nothing."""
    result = refund_transfers.import_returns(
        session, _operator_of(actor), await request.body(), now=request_now(request)
    )
    return RefundReturnsOut(
        returned=[RefundOut.model_validate(r) for r in result.returned],
        ignored=[
            IgnoredReturnOut(end_to_end_id=i.end_to_end_id, reason=i.reason.render(lang))
            for i in result.ignored
        ],
    )


@router.post("/customers/{customer_id}/penalties", response_model=list[LatePenaltyOut])
def penalties(
    customer_id: int,
    body: PenaltiesIn,
    request: Request,
    actor: Writer,
    session: SessionDep,
    lang: LangDep,
) -> list[LatePenaltyOut]:
    """The customer's late invoices and penalties as of a date (BIL-06); with ``issue``, the
    penalty invoices are issued (once per date)."""
    settings: Settings = request.app.state.settings
    tables = reference_rates.tables_for(settings.data_dir)
    late = collection.late_invoices(session, customer_id, body.as_of, tables)
    issued = (
        {
            i.purpose.split(":")[1]: i.number
            for i in collection.issue_penalty_invoices(session, customer_id, body.as_of, tables)
        }
        if body.issue
        else {}
    )
    return [
        LatePenaltyOut(
            customer_id=customer_id,
            invoice_id=row.invoice.id,
            invoice=row.invoice.number,
            days_late=row.penalty.days_late,
            interest=row.penalty.interest,
            indemnity=row.penalty.indemnity,
            to_invoice=row.interest_due + row.indemnity_due,
            explanation=row.penalty.explanation.render(lang),
            issued=issued.get(str(row.invoice.id)),
        )
        for row in late
    ]
