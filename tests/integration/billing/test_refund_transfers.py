"""Refunds paid by one SEPA credit-transfer file (pain.001) for the bank (BIL-07 [004 §9.4])."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from datetime import UTC, date, datetime
from decimal import Decimal
from importlib.resources import files
from pathlib import Path

import pytest
import xmlschema
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from operateur.accounts import audit
from operateur.accounts.models import Customer, Operator
from operateur.accounts.permissions import system_actor
from operateur.billing import invoicing, refund_transfers, refunds
from operateur.billing.models import Invoice, Refund, RefundStatus
from operateur.catalog.terms import PaymentMethod
from operateur.cli import app
from operateur.db import make_engine
from operateur.errors import NotFound
from tests.integration.conftest import Builder, commit_while_waited_for

NS = {"p": "urn:iso:std:iso:20022:tech:xsd:pain.001.001.03"}
OPERATOR_IBAN = "FR7630004000031234567890143"
CREATED = datetime(2026, 2, 23, 9, 30, tzinfo=UTC)  # 10:30 in Paris


def _xsd() -> xmlschema.XMLSchema:
    """The ISO schema sepaxml validates against, read independently of the code under test."""
    source = (files("sepaxml") / "schemas" / "pain.001.001.03.xsd").read_text(encoding="utf-8")
    return xmlschema.XMLSchema(source)


class World:
    """An operator with a bank account, four customers each owed a refund on their invoice."""

    def __init__(self, build: Builder, session: Session, factory: sessionmaker[Session]) -> None:
        self.session = session
        operator = session.get(Operator, build.operator_id)
        assert operator is not None
        operator.iban, operator.bic = OPERATOR_IBAN, "BNPAFRPP"
        self.operator_id = build.operator_id
        # each signs with the builder's IBAN on file (a means of payment in euros), then:
        self.dupont, self.martin, self.leroy, self.petit = (
            build.customer(payment_method=PaymentMethod.SEPA_DIRECT_DEBIT, name=name)
            for name in ("Société Dupont & Fils", "Martin SARL", "Leroy SAS", "Petit SA")
        )
        for customer in (self.dupont, self.martin, self.leroy, self.petit):
            build.contract(customer, "telecom", date(2026, 1, 1), [("fixed.line", 1)])
        session.commit()
        invoicing.run_period(factory, build.operator_id, "2026-01")
        session.expire_all()
        self.martin.iban = None  # now pays by transfer: no IBAN on file
        self.martin.payment_method = PaymentMethod.TRANSFER
        self.leroy.iban, self.leroy.bic = "FR1420041010050500013M02606", "PSSTFRPPXXX"
        self.petit.iban = "FR7630006000011234567890188"  # a digit mistyped: the key is wrong
        self.petit.lang = "en"
        session.flush()

    def invoice(self, customer: Customer) -> Invoice:
        return self.session.scalars(select(Invoice).where(Invoice.customer_id == customer.id)).one()

    def owe(self, customer: Customer, amount: str, due_by: date) -> Refund:
        refund = Refund(
            customer_id=customer.id,
            invoice_id=self.invoice(customer).id,
            amount=Decimal(amount),
            due_by=due_by,
            reason="Trop-perçu",
            status=RefundStatus.PENDING,
        )
        self.session.add(refund)
        self.session.flush()
        return refund


@pytest.fixture
def world(build: Builder, session: Session, session_factory: sessionmaker[Session]) -> World:
    return World(build, session, session_factory)


def _transactions(xml: bytes) -> list[dict[str, str]]:
    root = ET.fromstring(xml)
    return [
        {
            "e2e": tx.findtext("p:PmtId/p:EndToEndId", namespaces=NS) or "",
            "amount": tx.findtext("p:Amt/p:InstdAmt", namespaces=NS) or "",
            "currency": tx.find("p:Amt/p:InstdAmt", NS).get("Ccy") or "",  # type: ignore[union-attr]
            "name": tx.findtext("p:Cdtr/p:Nm", namespaces=NS) or "",
            "iban": tx.findtext("p:CdtrAcct/p:Id/p:IBAN", namespaces=NS) or "",
            "bic": tx.findtext("p:CdtrAgt/p:FinInstnId/p:BIC", namespaces=NS) or "",
            "text": tx.findtext("p:RmtInf/p:Ustrd", namespaces=NS) or "",
        }
        for tx in root.iterfind(".//p:CdtTrfTxInf", NS)
    ]


# SPEC: BIL-07
def test_pending_refunds_go_into_one_valid_pain001_and_a_customer_without_iban_stays_pending(
    world: World, session: Session
) -> None:
    to_dupont = world.owe(world.dupont, "36.00", date(2026, 2, 27))
    to_leroy = world.owe(world.leroy, "1234.56", date(2026, 2, 25))
    to_dupont_again = world.owe(world.dupont, "0.07", date(2026, 3, 2))
    to_martin = world.owe(world.martin, "50.00", date(2026, 2, 26))
    to_petit = world.owe(world.petit, "19.99", date(2026, 2, 26))

    batch = refund_transfers.export_refunds(session, world.operator_id, created_at=CREATED)

    assert batch.xml is not None and batch.batch_id is not None
    assert batch.batch_id.startswith("RFD-20260223-103000-")
    _xsd().validate(batch.xml)  # raises when the file breaks the ISO schema
    root = ET.fromstring(batch.xml)
    header = root.find("p:CstmrCdtTrfInitn/p:GrpHdr", NS)
    assert header is not None
    assert header.findtext("p:MsgId", namespaces=NS) == batch.batch_id
    assert header.findtext("p:CreDtTm", namespaces=NS) == "2026-02-23T10:30:00"
    # 36.00 + 1234.56 + 0.07, exact to the cent
    assert header.findtext("p:NbOfTxs", namespaces=NS) == "3"
    assert header.findtext("p:CtrlSum", namespaces=NS) == "1270.63"
    assert batch.total == Decimal("1270.63")
    block = root.find("p:CstmrCdtTrfInitn/p:PmtInf", NS)
    assert block is not None
    assert block.findtext("p:PmtMtd", namespaces=NS) == "TRF"
    assert block.findtext("p:DbtrAcct/p:Id/p:IBAN", namespaces=NS) == OPERATOR_IBAN
    assert block.findtext("p:ReqdExctnDt", namespaces=NS) == "2026-02-23"
    dupont_invoice = world.invoice(world.dupont).number
    leroy_invoice = world.invoice(world.leroy).number
    # earliest due first; names in the SEPA Latin set
    assert _transactions(batch.xml) == [
        {
            "e2e": f"REFUND-{to_leroy.id}",
            "amount": "1234.56",
            "currency": "EUR",
            "name": "Leroy SAS",
            "iban": "FR1420041010050500013M02606",
            "bic": "PSSTFRPPXXX",
            "text": f"Remboursement {to_leroy.id} facture {leroy_invoice}",
        },
        {
            "e2e": f"REFUND-{to_dupont.id}",
            "amount": "36.00",
            "currency": "EUR",
            "name": "Societe Dupont + Fils",
            "iban": "FR7630006000011234567890189",
            "bic": "",
            "text": f"Remboursement {to_dupont.id} facture {dupont_invoice}",
        },
        {
            "e2e": f"REFUND-{to_dupont_again.id}",
            "amount": "0.07",
            "currency": "EUR",
            "name": "Societe Dupont + Fils",
            "iban": "FR7630006000011234567890189",
            "bic": "",
            "text": f"Remboursement {to_dupont_again.id} facture {dupont_invoice}",
        },
    ]
    # exported: sent in that batch, not paid (the bank's statement confirms that later)
    for refund in (to_dupont, to_leroy, to_dupont_again):
        assert (refund.status, refund.bank_reference, refund.paid_on) == (
            RefundStatus.SENT,
            batch.batch_id,
            None,
        )
    # the customer without an IBAN and the one whose IBAN is wrong: reported, still pending
    assert [(s.refund_id, s.customer_id, s.customer_name, s.field) for s in batch.skipped] == [
        (to_martin.id, world.martin.id, "Martin SARL", "iban"),
        (to_petit.id, world.petit.id, "Petit SA", "iban"),
    ]
    assert batch.skipped[0].reason.fr == "Aucun IBAN enregistré pour ce client."
    assert batch.skipped[0].reason.en == "No IBAN on file for this customer."
    assert "FR7630006000011234567890188" in batch.skipped[1].reason.en
    assert "FR7630006000011234567890188" in batch.skipped[1].reason.fr
    assert (to_martin.status, to_petit.status) == (RefundStatus.PENDING, RefundStatus.PENDING)
    # still owed: listed among the refunds not yet paid
    not_paid = refunds.list_refunds(session, status=(RefundStatus.PENDING, RefundStatus.SENT))
    assert len(not_paid) == 5


# SPEC: BIL-07
def test_a_second_export_does_not_pay_the_same_refund_twice(world: World, session: Session) -> None:
    first_refund = world.owe(world.dupont, "36.00", date(2026, 2, 27))
    first = refund_transfers.export_refunds(session, world.operator_id, created_at=CREATED)
    assert first.batch_id is not None and first.xml is not None
    # nothing new: no file, nothing changed
    again = refund_transfers.export_refunds(session, world.operator_id, created_at=CREATED)
    assert (again.batch_id, again.xml, again.refunds) == (None, None, [])
    assert first_refund.bank_reference == first.batch_id
    # asking for that refund by id says where it went
    named = refund_transfers.export_refunds(
        session, world.operator_id, created_at=CREATED, refund_ids=[first_refund.id]
    )
    assert named.xml is None
    [skipped] = named.skipped
    assert skipped.refund_id == first_refund.id
    assert skipped.reason.en == f"Already sent in transfer batch {first.batch_id}."
    # a new refund, to a customer who reads English: the next file holds it alone
    world.petit.iban = "FR7630006000011234567890189"
    second_refund = world.owe(world.petit, "12.34", date(2026, 3, 5))
    second = refund_transfers.export_refunds(
        session, world.operator_id, created_at=datetime(2026, 2, 24, 8, tzinfo=UTC)
    )
    assert second.xml is not None and second.batch_id != first.batch_id
    [transfer] = _transactions(second.xml)
    assert (transfer["e2e"], transfer["amount"], transfer["text"]) == (
        f"REFUND-{second_refund.id}",
        "12.34",
        f"Refund {second_refund.id} invoice {world.invoice(world.petit).number}",
    )
    assert f"REFUND-{first_refund.id}".encode() not in second.xml
    # the first batch's file asked for again is the very same file
    assert refund_transfers.transfer_file(session, world.operator_id, first.batch_id).xml == (
        first.xml
    )
    # paid once the bank's statement shows it: a separate step, as before
    refunds.mark_refund_paid(
        session, first_refund, paid_on=date(2026, 2, 25), bank_reference="STMT-0225-1"
    )
    assert first_refund.status is RefundStatus.PAID
    with pytest.raises(NotFound):
        refund_transfers.transfer_file(session, world.operator_id, first.batch_id)


# SPEC: BIL-07
def test_export_up_to_a_date_or_of_chosen_refunds(world: World, session: Session) -> None:
    soon = world.owe(world.dupont, "10.00", date(2026, 2, 25))
    later = world.owe(world.leroy, "20.00", date(2026, 3, 10))
    other = world.owe(world.leroy, "30.01", date(2026, 3, 12))
    due = refund_transfers.export_refunds(
        session, world.operator_id, created_at=CREATED, due_by=date(2026, 2, 28)
    )
    assert [r.id for r in due.refunds] == [soon.id] and due.total == Decimal("10.00")
    assert later.status is RefundStatus.PENDING
    chosen = refund_transfers.export_refunds(
        session, world.operator_id, created_at=CREATED, refund_ids=[other.id, 999_999]
    )
    assert chosen.xml is not None
    assert [t["amount"] for t in _transactions(chosen.xml)] == ["30.01"]
    assert [(s.refund_id, s.field) for s in chosen.skipped] == [(999_999, "refund_ids")]
    assert later.status is RefundStatus.PENDING and other.status is RefundStatus.SENT


# SPEC: BIL-07
def test_another_operator_does_not_export_these_refunds(world: World, session: Session) -> None:
    refund = world.owe(world.dupont, "36.00", date(2026, 2, 27))
    other = Operator(
        name="Autre Opérateur",
        siren="552100554",
        vat_number="FR00552100554",
        address_line="2 rue Autre",
        postal_code="75002",
        city="Paris",
        email="contact@autre.fr",
        iban="FR7610107001011234567890129",
        bic="BREDFRPP",
    )
    session.add(other)
    session.flush()
    batch = refund_transfers.export_refunds(
        session, other.id, created_at=CREATED, refund_ids=[refund.id]
    )
    assert batch.xml is None and refund.status is RefundStatus.PENDING
    assert [s.refund_id for s in batch.skipped] == [refund.id]


# SPEC: BIL-07
def test_the_cli_writes_the_file_once_and_reports_who_stays_pending(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
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
            paid_by_file = world.owe(world.leroy, "1234.56", date(2026, 2, 25))
            left = world.owe(world.martin, "50.00", date(2026, 2, 26))
            session.commit()
            ids = (paid_by_file.id, left.id)
    finally:
        engine.dispose()

    out = tmp_path / "refunds.xml"
    first = runner.invoke(app, ["billing", "refunds-export", "--out", str(out)])
    assert first.exit_code == 0, first.output
    [summary, skipped] = first.output.splitlines()
    assert summary.startswith("1 transfer(s), €1,234.56, batch RFD-")
    batch_id = summary.split("batch ")[1].split(" ")[0]
    assert skipped == (
        f"  refund {ids[1]} (customer {world.martin.id} Martin SARL) left pending, "
        "iban: No IBAN on file for this customer."
    )
    _xsd().validate(out.read_bytes())
    assert [t["e2e"] for t in _transactions(out.read_bytes())] == [f"REFUND-{ids[0]}"]

    again = runner.invoke(app, ["billing", "refunds-export", "--out", str(tmp_path / "2.xml")])
    assert again.exit_code == 0 and again.output.startswith("No refund to transfer.")
    assert not (tmp_path / "2.xml").exists()
    copy = tmp_path / "copy.xml"
    rebuilt = runner.invoke(
        app, ["billing", "refunds-export", "--batch", batch_id, "--out", str(copy)]
    )
    assert rebuilt.exit_code == 0, rebuilt.output
    assert copy.read_bytes() == out.read_bytes()
    listed = runner.invoke(app, ["billing", "refunds", "--pending", "--json"])
    assert [(r["id"], r["status"], r["bank_reference"]) for r in json.loads(listed.output)] == [
        (ids[0], "sent", batch_id),
        (ids[1], "pending", None),
    ]


# SPEC: BIL-07
def test_two_exports_at_once_never_put_a_refund_in_both_files(
    committed_factory: sessionmaker[Session],
) -> None:
    with committed_factory() as prepare:
        audit.set_actor(prepare, system_actor("test"))
        world = World(Builder(prepare), prepare, committed_factory)
        refund_id = world.owe(world.leroy, "1234.56", date(2026, 2, 25)).id
        operator_id = world.operator_id
        prepare.commit()
    files_made: list[bytes | None] = []

    def export(session: Session) -> None:
        audit.set_actor(session, system_actor("test"))
        batch = refund_transfers.export_refunds(session, operator_id, created_at=CREATED)
        files_made.append(batch.xml)

    def second_exports() -> None:
        with committed_factory() as second:
            export(second)
            second.commit()

    first = committed_factory()
    try:
        export(first)
        commit_while_waited_for(first, second_exports)
    finally:
        first.close()
    # the second export waited for the first, then found the refund already sent
    assert files_made[0] is not None and files_made[1] is None
    assert f"REFUND-{refund_id}".encode() in files_made[0]
