"""Refund transfers the bank rejects or sends back (BIL-07 [004 §9.4]): the refund is owed
again, its customer is asked for another account, and it is not sent to the same one twice."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from operateur.accounts import audit
from operateur.accounts.models import Customer
from operateur.accounts.permissions import system_actor
from operateur.billing import refund_transfers, refunds
from operateur.billing.models import RefundStatus
from operateur.cli import app
from operateur.db import make_engine
from operateur.errors import Conflict
from operateur.notifications.models import OutboxMessage
from tests.integration.billing.test_refund_transfers import CREATED, World, _transactions
from tests.integration.billing.test_refund_transfers import world as world  # the fixture
from tests.integration.conftest import Builder

RETURNED_AT = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
NEW_IBAN = "FR7630001007941234567890185"


def _pain002(batch_id: str, *transactions: tuple[str, str, str], group: str = "PART") -> bytes:
    """The bank's status report on transfer file ``batch_id``: (end-to-end id, amount, reason)
    rejected."""
    rejected = "".join(
        f"""<TxInfAndSts><OrgnlEndToEndId>{e2e}</OrgnlEndToEndId><TxSts>RJCT</TxSts>
        <StsRsnInf><Rsn><Cd>{code}</Cd></Rsn></StsRsnInf>
        <OrgnlTxRef><Amt><InstdAmt Ccy="EUR">{amount}</InstdAmt></Amt></OrgnlTxRef>
        </TxInfAndSts>"""
        for e2e, amount, code in transactions
    )
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:pain.002.001.03">
  <CstmrPmtStsRpt>
    <GrpHdr><MsgId>PSR-BNP-1</MsgId><CreDtTm>2026-02-24T06:00:00</CreDtTm></GrpHdr>
    <OrgnlGrpInfAndSts><OrgnlMsgId>{batch_id}</OrgnlMsgId>
      <OrgnlMsgNmId>pain.001.001.03</OrgnlMsgNmId><GrpSts>{group}</GrpSts>
      {"<StsRsnInf><Rsn><Cd>FF01</Cd></Rsn></StsRsnInf>" if group == "RJCT" else ""}
    </OrgnlGrpInfAndSts>
    {
        f"<OrgnlPmtInfAndSts><OrgnlPmtInfId>{batch_id}</OrgnlPmtInfId>{rejected}</OrgnlPmtInfAndSts>"
        if transactions
        else ""
    }
  </CstmrPmtStsRpt>
</Document>""".encode()


def _camt054(e2e: str, amount: str, code: str) -> bytes:
    """The operator's bank crediting back a transfer the beneficiary's bank returned."""
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.054.001.02">
  <BkToCstmrDbtCdtNtfctn>
    <GrpHdr><MsgId>NTF-BNP-7</MsgId><CreDtTm>2026-03-02T07:05:00</CreDtTm></GrpHdr>
    <Ntfctn><Id>NTF-BNP-7-1</Id>
      <Acct><Id><IBAN>FR7630004000031234567890143</IBAN></Id></Acct>
      <Ntry><Amt Ccy="EUR">{amount}</Amt><CdtDbtInd>CRDT</CdtDbtInd><Sts>BOOK</Sts>
        <BkTxCd><Domn><Cd>PMNT</Cd><Fmly><Cd>ICDT</Cd><SubFmlyCd>RRTN</SubFmlyCd></Fmly>
        </Domn></BkTxCd>
        <NtryDtls><TxDtls>
          <Refs><EndToEndId>{e2e}</EndToEndId></Refs>
          <AmtDtls><InstdAmt><Amt Ccy="EUR">{amount}</Amt></InstdAmt></AmtDtls>
          <RtrInf><Rsn><Cd>{code}</Cd></Rsn><AddtlInf>COMPTE CLOTURE</AddtlInf></RtrInf>
        </TxDtls></NtryDtls>
      </Ntry>
    </Ntfctn>
  </BkToCstmrDbtCdtNtfctn>
</Document>""".encode()


def _told(session: Session, customer: Customer) -> list[OutboxMessage]:
    return list(
        session.scalars(
            select(OutboxMessage).where(
                OutboxMessage.customer_id == customer.id,
                OutboxMessage.event == "refund.transfer_returned",
            )
        )
    )


# SPEC: BIL-07
def test_a_rejected_transfer_makes_the_refund_owed_again_and_asks_for_another_account(
    world: World, session: Session
) -> None:
    to_leroy = world.owe(world.leroy, "1234.56", date(2026, 2, 25))
    to_dupont = world.owe(world.dupont, "36.00", date(2026, 2, 27))
    batch = refund_transfers.export_refunds(session, world.operator_id, created_at=CREATED)
    assert batch.batch_id is not None

    report = _pain002(batch.batch_id, (f"REFUND-{to_leroy.id}", "1234.56", "AC04"))
    result = refund_transfers.import_returns(session, world.operator_id, report, now=RETURNED_AT)

    assert result.returned == [to_leroy] and result.ignored == []
    assert (to_leroy.status, to_leroy.bank_reference, to_leroy.returned_on) == (
        RefundStatus.PENDING,
        None,
        date(2026, 3, 2),
    )
    assert to_leroy.return_code == "AC04"
    assert (to_dupont.status, to_dupont.bank_reference) == (RefundStatus.SENT, batch.batch_id)
    [email] = _told(session, world.leroy)
    assert email.subject == (
        f"Remboursement de la facture {world.invoice(world.leroy).number} : virement renvoyé "
        "par la banque"
    )
    assert "1 234,56 €" in email.body and "Compte clôturé" in email.body
    assert "autre compte bancaire (IBAN)" in email.body

    # The same report again: nothing changes, nobody is told twice.
    again = refund_transfers.import_returns(session, world.operator_id, report, now=RETURNED_AT)
    assert again.returned == []
    assert [i.reason.en for i in again.ignored] == ["Return already recorded."]
    assert len(_told(session, world.leroy)) == 1


# SPEC: BIL-07
def test_a_returned_refund_waits_for_another_iban_then_goes_in_a_new_transfer(
    world: World, session: Session
) -> None:
    to_leroy = world.owe(world.leroy, "1234.56", date(2026, 2, 25))
    first = refund_transfers.export_refunds(session, world.operator_id, created_at=CREATED)
    assert first.batch_id is not None
    # recorded paid from the statement, then the beneficiary's bank sent it back
    refunds.mark_refund_paid(
        session, to_leroy, paid_on=date(2026, 2, 24), bank_reference="RELEVE-0224"
    )
    returned = refund_transfers.import_returns(
        session,
        world.operator_id,
        _camt054(f"REFUND-{to_leroy.id}", "1234.56", "AC04"),
        now=RETURNED_AT,
    )
    assert returned.returned == [to_leroy]
    assert (to_leroy.status, to_leroy.paid_on, to_leroy.return_code) == (
        RefundStatus.PENDING,
        None,
        "AC04",
    )

    # The account on file is the one it came back from: not sent there again.
    held = refund_transfers.export_refunds(session, world.operator_id, created_at=RETURNED_AT)
    assert held.xml is None
    [skipped] = held.skipped
    assert (skipped.refund_id, skipped.field) == (to_leroy.id, "iban")
    assert skipped.reason.fr == (
        "Virement renvoyé par la banque le 02/03/2026 (Compte clôturé) depuis cet IBAN : "
        "en attente d'un autre compte du client."
    )

    # The customer gives another account: the refund goes in a new transfer with its own id.
    world.leroy.iban, world.leroy.bic = NEW_IBAN, None
    second = refund_transfers.export_refunds(session, world.operator_id, created_at=RETURNED_AT)
    assert second.xml is not None and second.batch_id is not None
    [transfer] = _transactions(second.xml)
    assert (transfer["e2e"], transfer["iban"]) == (f"REFUND-{to_leroy.id}-2", NEW_IBAN)
    assert (to_leroy.status, to_leroy.return_code, to_leroy.returned_on) == (
        RefundStatus.SENT,
        None,
        None,
    )
    # A late copy of the first return is about the first transfer, not this one.
    late = refund_transfers.import_returns(
        session,
        world.operator_id,
        _camt054(f"REFUND-{to_leroy.id}", "1234.56", "AC04"),
        now=RETURNED_AT,
    )
    assert late.returned == [] and to_leroy.status is RefundStatus.SENT
    assert [i.reason.en for i in late.ignored] == [
        "Transfer no. 1 of this refund, which is at no. 2."
    ]
    # The file of the second batch is rebuilt to the account it was sent to, even if the
    # customer changes it again meanwhile.
    world.leroy.iban = "FR1420041010050500013M02606"
    rebuilt = refund_transfers.transfer_file(session, world.operator_id, second.batch_id)
    assert rebuilt.xml == second.xml


# SPEC: BIL-07
def test_staff_may_send_a_returned_refund_to_the_same_account_by_naming_it(
    world: World, session: Session
) -> None:
    to_leroy = world.owe(world.leroy, "1234.56", date(2026, 2, 25))
    batch = refund_transfers.export_refunds(session, world.operator_id, created_at=CREATED)
    assert batch.batch_id is not None
    refund_transfers.import_returns(
        session,
        world.operator_id,
        _pain002(batch.batch_id, (f"REFUND-{to_leroy.id}", "1234.56", "MS03")),
        now=RETURNED_AT,
    )
    named = refund_transfers.export_refunds(
        session, world.operator_id, created_at=RETURNED_AT, refund_ids=[to_leroy.id]
    )
    assert named.xml is not None and named.skipped == []
    assert [t["e2e"] for t in _transactions(named.xml)] == [f"REFUND-{to_leroy.id}-2"]


# SPEC: BIL-07
def test_a_file_rejected_as_a_whole_puts_back_every_refund_of_its_batch(
    world: World, session: Session
) -> None:
    to_leroy = world.owe(world.leroy, "1234.56", date(2026, 2, 25))
    to_dupont = world.owe(world.dupont, "36.00", date(2026, 2, 27))
    batch = refund_transfers.export_refunds(session, world.operator_id, created_at=CREATED)
    assert batch.batch_id is not None

    result = refund_transfers.import_returns(
        session, world.operator_id, _pain002(batch.batch_id, group="RJCT"), now=RETURNED_AT
    )

    assert {r.id for r in result.returned} == {to_leroy.id, to_dupont.id}
    assert {(r.status, r.return_code) for r in (to_leroy, to_dupont)} == {
        (RefundStatus.PENDING, "FF01")
    }
    # A whole file rejected that is not one of the operator's refund batches is not applied.
    with pytest.raises(Conflict) as caught:
        refund_transfers.import_returns(
            session, world.operator_id, _pain002("OPR-20260201-0001", group="RJCT"), now=CREATED
        )
    assert caught.value.code == "sepa_file_rejected"


# SPEC: BIL-07
def test_lines_about_other_payments_or_amounts_change_nothing(
    world: World, session: Session
) -> None:
    to_leroy = world.owe(world.leroy, "1234.56", date(2026, 2, 25))
    batch = refund_transfers.export_refunds(session, world.operator_id, created_at=CREATED)
    assert batch.batch_id is not None
    report = _pain002(
        batch.batch_id,
        ("OPR-F-2026-0001", "10.00", "AM04"),  # a direct debit's
        (f"REFUND-{to_leroy.id}", "1000.00", "AC04"),  # not the refund's amount
        ("REFUND-999999", "5.00", "AC04"),  # no such refund
    )
    result = refund_transfers.import_returns(session, world.operator_id, report, now=CREATED)
    assert result.returned == []
    assert [i.reason.en for i in result.ignored] == [
        "Not a refund transfer.",
        "Amount 1000.00 is not the refund's (1234.56).",
        "Refund 999999 not found.",
    ]
    assert to_leroy.status is RefundStatus.SENT


# SPEC: BIL-07
def test_the_cli_applies_the_banks_report(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPERATEUR_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("OPERATEUR_LANG", "en")
    monkeypatch.delenv("OPERATEUR_DATABASE_URL", raising=False)
    runner = CliRunner()
    assert runner.invoke(app, ["db", "upgrade"]).exit_code == 0
    engine = make_engine(f"sqlite:///{tmp_path / 'operateur.db'}")
    try:
        factory = sessionmaker(bind=engine, expire_on_commit=False)
        with factory() as session:
            audit.set_actor(session, system_actor("test"))
            world = World(Builder(session), session, factory)
            refund_id = world.owe(world.leroy, "1234.56", date(2026, 2, 25)).id
            batch = refund_transfers.export_refunds(session, world.operator_id, created_at=CREATED)
            session.commit()
    finally:
        engine.dispose()
    assert batch.batch_id is not None
    report = tmp_path / "pain002.xml"
    report.write_bytes(_pain002(batch.batch_id, (f"REFUND-{refund_id}", "1234.56", "AC01")))

    result = runner.invoke(app, ["billing", "refunds-returns", str(report)])

    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == [
        "1 refund transfer(s) sent back by the bank.",
        f"  refund {refund_id} (customer {world.leroy.id}) pending again, reason AC01",
    ]
    listed = runner.invoke(app, ["billing", "refunds", "--pending", "--json"])
    assert [(r["id"], r["status"]) for r in json.loads(listed.output)] == [(refund_id, "pending")]
    missing = runner.invoke(app, ["billing", "refunds-returns", str(tmp_path / "none.xml")])
    assert missing.exit_code != 0 and "report" in missing.output
