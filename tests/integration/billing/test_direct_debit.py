"""SEPA direct debit on stored invoices: batch export and rejects (BIL-05)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from operateur.accounts.models import Operator
from operateur.billing import direct_debit, invoicing, sepa
from operateur.billing.models import Invoice, InvoiceStatus
from operateur.catalog.terms import PaymentMethod
from tests.integration.conftest import Builder

REJECT = """<?xml version="1.0" encoding="UTF-8"?>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:pain.002.001.03">
  <CstmrPmtStsRpt>
    <GrpHdr><MsgId>PSR-1</MsgId><CreDtTm>2026-02-16T06:42:11</CreDtTm></GrpHdr>
    <OrgnlGrpInfAndSts>
      <OrgnlMsgId>{batch}</OrgnlMsgId><OrgnlMsgNmId>pain.008.001.02</OrgnlMsgNmId>
      <GrpSts>PART</GrpSts>
    </OrgnlGrpInfAndSts>
    <OrgnlPmtInfAndSts>
      <OrgnlPmtInfId>{batch}-1</OrgnlPmtInfId>
      <TxInfAndSts>
        <OrgnlEndToEndId>{e2e}</OrgnlEndToEndId>
        <TxSts>RJCT</TxSts>
        <StsRsnInf><Rsn><Cd>AM04</Cd></Rsn></StsRsnInf>
        <OrgnlTxRef>
          <Amt><InstdAmt Ccy="EUR">{amount}</InstdAmt></Amt>
          <ReqdColltnDt>2026-02-13</ReqdColltnDt>
        </OrgnlTxRef>
      </TxInfAndSts>
    </OrgnlPmtInfAndSts>
  </CstmrPmtStsRpt>
</Document>
"""


# SPEC: BIL-05
def test_due_invoices_are_debited_and_a_reject_reopens_them_with_the_fee(
    build: Builder, session: Session, session_factory: sessionmaker[Session]
) -> None:
    operator = session.get(Operator, build.operator_id)
    assert operator is not None
    operator.iban, operator.bic = "FR7630004000031234567890143", "BNPAFRPP"
    operator.sepa_creditor_id = "FR72ZZZ123456"
    customer = build.customer(payment_method=PaymentMethod.SEPA_DIRECT_DEBIT)
    build.contract(customer, "telecom", date(2026, 1, 1), [("fixed.line", 1)])
    direct_debit.create_mandate(session, customer.id, signed_on=date(2025, 12, 20))
    session.commit()
    invoicing.run_period(session_factory, build.operator_id, "2026-01")
    session.expire_all()
    [january] = session.scalars(select(Invoice).where(Invoice.customer_id == customer.id))
    # January + February fixed line 2 x 25.00 = 50.00 HT, 60.00 TTC; due 10 business days
    # after 31 January 2026 = 13 February
    assert january.total_gross == Decimal("60.00") and january.due_date == date(2026, 2, 13)
    assert (
        direct_debit.export_batch(
            session,
            build.operator_id,
            collection_date=date(2026, 2, 12),
            created_at=datetime(2026, 2, 10, 9, tzinfo=UTC),
        )
        is None
    )
    batch = direct_debit.export_batch(
        session,
        build.operator_id,
        collection_date=date(2026, 2, 13),
        created_at=datetime(2026, 2, 10, 9, tzinfo=UTC),
    )
    assert batch is not None
    assert sepa.validate_pain008(batch.xml) == "pain.008.001.02"
    assert b"<SeqTp>FRST</SeqTp>" in batch.xml and b"<CtrlSum>60.00</CtrlSum>" in batch.xml
    assert january.status is InvoiceStatus.PAID
    [debit] = batch.debits
    report = REJECT.format(batch=batch.message_id, e2e=debit.end_to_end_id, amount="60.00")
    assert len(direct_debit.import_rejects(session, report.encode())) == 1
    assert direct_debit.import_rejects(session, report.encode()) == []  # idempotent
    assert january.status is InvoiceStatus.ISSUED and january.amount_paid == Decimal("0")
    session.commit()
    invoicing.run_period(session_factory, build.operator_id, "2026-02")
    session.expire_all()
    february = session.scalars(
        select(Invoice).where(Invoice.customer_id == customer.id, Invoice.period == "2026-02")
    ).one()
    # the 40.00 HT rejection fee of the terms [004 §9.2] is on the next invoice
    assert ("sdd_rejection_fee", Decimal("40.00")) in [
        (line.code, line.net_amount) for line in february.lines
    ]
