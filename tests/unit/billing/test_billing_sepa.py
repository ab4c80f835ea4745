from __future__ import annotations

import dataclasses
import xml.etree.ElementTree as ET
from collections.abc import Callable
from datetime import UTC, date, datetime
from decimal import Decimal
from importlib.resources import files
from typing import Any

import pytest
import xmlschema
from sepaxml import SepaDD  # type: ignore[import-untyped]
from sepaxml.validation import ValidationError  # type: ignore[import-untyped]

from operateur.billing.sepa import (
    REASON_CODES,
    Creditor,
    DebtorAddress,
    DirectDebit,
    Mandate,
    MandateAmendment,
    Reject,
    Scheme,
    SequenceType,
    build_pain008,
    next_sequence_type,
    parse_rejects,
    reason_text,
    to_sepa_latin,
    validate_creditor_id,
    validate_pain008,
)
from operateur.domain.calendar import PARIS
from operateur.errors import Conflict, InvalidInput

NS02 = "urn:iso:std:iso:20022:tech:xsd:pain.008.001.02"
CREATED = datetime(2025, 1, 8, 9, 30, tzinfo=PARIS)
COLLECTION = date(2025, 1, 15)

CREDITOR = Creditor(
    name="Opérateur Télécom SAS",
    iban="FR14 2004 1010 0505 0001 3M02 606",
    bic="PSSTFRPPPAR",
    creditor_id="FR72 ZZZ 123456",
)

FIRST_MANDATE = Mandate(
    reference="MDT-7K4Q-9ZPX-M2RA",
    signature_date=date(2024, 12, 2),
    scheme=Scheme.CORE,
    sequence_type=SequenceType.FIRST,
    debtor_name="Boulangerie Dupont & Fils",
    iban="FR76 3000 6000 0112 3456 7890 189",
    bic="AGRIFRPP",
)
RECURRENT_MANDATE = Mandate(
    reference="MDT-2H8N-C4TW-5XQE",
    signature_date=date(2023, 3, 15),
    scheme=Scheme.CORE,
    sequence_type=SequenceType.RECURRENT,
    debtor_name="Cabinet Lefèvre",
    iban="DE89370400440532013000",
)


def _debits() -> list[DirectDebit]:
    """3 debits over 2 mandates: one FRST, two RCUR, 1 234.57 € in all."""
    return [
        DirectDebit(
            "OPR-F-2025-0001", "F-2025-0001", Decimal("1000.00"), FIRST_MANDATE, COLLECTION
        ),
        DirectDebit(
            "OPR-F-2025-0002", "F-2025-0002", Decimal("199.99"), RECURRENT_MANDATE, COLLECTION
        ),
        DirectDebit(
            "OPR-F-2025-0003", "F-2025-0003", Decimal("34.58"), RECURRENT_MANDATE, COLLECTION
        ),
    ]


def _build(debits: list[DirectDebit], **kwargs: Any) -> bytes:
    options: dict[str, Any] = {"message_id": "OPR-20250108-0001", "created_at": CREATED}
    options.update(kwargs)
    return build_pain008(CREDITOR, debits, **options)


def _xsd(schema: str) -> xmlschema.XMLSchema:
    """The XSD shipped by sepaxml, loaded independently of the module under test."""
    return xmlschema.XMLSchema(str(files("sepaxml") / "schemas" / f"{schema}.xsd"))


def _invalid(call: Callable[[], object]) -> InvalidInput:
    with pytest.raises(InvalidInput) as caught:
        call()
    assert caught.value.code == "invalid_input"
    assert caught.value.render("fr") != caught.value.render("en")
    return caught.value


def _mandate(**changes: Any) -> Mandate:
    return dataclasses.replace(RECURRENT_MANDATE, **changes)


def _debit(
    e2e: str, mandate: Mandate, day: date = COLLECTION, amount: str = "10.00"
) -> DirectDebit:
    return DirectDebit(e2e, f"F-{e2e}", Decimal(amount), mandate, day)


# --- pain.008 ---------------------------------------------------------------------------------


def test_batch_of_three_debits_is_exported_and_reads_back() -> None:
    # SPEC: BIL-05
    document = _build(_debits())
    assert document.startswith(b'<?xml version="1.0" encoding="UTF-8"?>')
    assert _xsd("pain.008.001.02").is_valid(document.decode())
    assert validate_pain008(document) == "pain.008.001.02"

    ns = {"p": NS02}
    root = ET.fromstring(document)
    assert root.tag == f"{{{NS02}}}Document"
    header = root.find("p:CstmrDrctDbtInitn/p:GrpHdr", ns)
    assert header is not None
    assert header.findtext("p:MsgId", namespaces=ns) == "OPR-20250108-0001"
    assert header.findtext("p:CreDtTm", namespaces=ns) == "2025-01-08T09:30:00"
    assert header.findtext("p:NbOfTxs", namespaces=ns) == "3"
    assert header.findtext("p:CtrlSum", namespaces=ns) == "1234.57"
    assert Decimal(header.findtext("p:CtrlSum", "", ns)) == sum(d.amount for d in _debits())

    blocks = root.findall("p:CstmrDrctDbtInitn/p:PmtInf", ns)
    summary = [
        (
            block.findtext("p:PmtInfId", namespaces=ns),
            block.findtext("p:PmtTpInf/p:LclInstrm/p:Cd", namespaces=ns),
            block.findtext("p:PmtTpInf/p:SeqTp", namespaces=ns),
            block.findtext("p:ReqdColltnDt", namespaces=ns),
            block.findtext("p:NbOfTxs", namespaces=ns),
            block.findtext("p:CtrlSum", namespaces=ns),
            block.findtext("p:BtchBookg", namespaces=ns),
        )
        for block in blocks
    ]
    assert summary == [
        ("OPR-20250108-0001-1", "CORE", "FRST", "2025-01-15", "1", "1000.00", "true"),
        ("OPR-20250108-0001-2", "CORE", "RCUR", "2025-01-15", "2", "234.57", "true"),
    ]
    for block in blocks:
        scheme_id = "p:CdtrSchmeId/p:Id/p:PrvtId/p:Othr"
        assert block.findtext(f"{scheme_id}/p:Id", namespaces=ns) == "FR72ZZZ123456"
        assert block.findtext(f"{scheme_id}/p:SchmeNm/p:Prtry", namespaces=ns) == "SEPA"
        assert block.findtext("p:CdtrAcct/p:Id/p:IBAN", namespaces=ns) == (
            "FR1420041010050500013M02606"
        )
        assert block.findtext("p:Cdtr/p:Nm", namespaces=ns) == "Operateur Telecom SAS"

    transactions = root.findall(".//p:DrctDbtTxInf", ns)
    rows = [
        (
            tx.findtext("p:PmtId/p:EndToEndId", namespaces=ns),
            tx.findtext("p:InstdAmt", namespaces=ns),
            tx.find("p:InstdAmt", ns).get("Ccy"),  # type: ignore[union-attr]
            tx.findtext("p:DrctDbtTx/p:MndtRltdInf/p:MndtId", namespaces=ns),
            tx.findtext("p:DrctDbtTx/p:MndtRltdInf/p:DtOfSgntr", namespaces=ns),
            tx.findtext("p:RmtInf/p:Ustrd", namespaces=ns),
            tx.findtext("p:Dbtr/p:Nm", namespaces=ns),
            tx.findtext("p:DbtrAcct/p:Id/p:IBAN", namespaces=ns),
            tx.findtext("p:DbtrAgt/p:FinInstnId/p:BIC", namespaces=ns)
            or tx.findtext("p:DbtrAgt/p:FinInstnId/p:Othr/p:Id", namespaces=ns),
        )
        for tx in transactions
    ]
    assert rows == [
        (
            "OPR-F-2025-0001",
            "1000.00",
            "EUR",
            "MDT-7K4Q-9ZPX-M2RA",
            "2024-12-02",
            "F-2025-0001",
            "Boulangerie Dupont + Fils",
            "FR7630006000011234567890189",
            "AGRIFRPP",
        ),
        (
            "OPR-F-2025-0002",
            "199.99",
            "EUR",
            "MDT-2H8N-C4TW-5XQE",
            "2023-03-15",
            "F-2025-0002",
            "Cabinet Lefevre",
            "DE89370400440532013000",
            "NOTPROVIDED",
        ),
        (
            "OPR-F-2025-0003",
            "34.58",
            "EUR",
            "MDT-2H8N-C4TW-5XQE",
            "2023-03-15",
            "F-2025-0003",
            "Cabinet Lefevre",
            "DE89370400440532013000",
            "NOTPROVIDED",
        ),
    ]
    assert root.find(".//p:AmdmntInd", ns) is None


def test_the_same_batch_gives_the_same_bytes() -> None:
    # SPEC: BIL-05
    assert _build(_debits()) == _build(_debits())


def test_pain008_001_08_is_valid_too() -> None:
    # SPEC: BIL-05
    document = _build(_debits(), schema="pain.008.001.08")
    assert _xsd("pain.008.001.08").is_valid(document.decode())
    assert validate_pain008(document) == "pain.008.001.08"
    root = ET.fromstring(document)
    ns = {"p": "urn:iso:std:iso:20022:tech:xsd:pain.008.001.08"}
    assert root.findtext(".//p:CdtrAgt/p:FinInstnId/p:BICFI", namespaces=ns) == "PSSTFRPPPAR"
    assert root.findtext("p:CstmrDrctDbtInitn/p:GrpHdr/p:CtrlSum", namespaces=ns) == "1234.57"


def test_blocks_follow_scheme_sequence_and_date_and_booking_flag() -> None:
    # SPEC: BIL-05
    later = date(2025, 1, 20)
    debits = [
        _debit("E-1", RECURRENT_MANDATE, COLLECTION, "0.10"),
        _debit("E-2", _mandate(reference="MDT-B", sequence_type=SequenceType.FIRST), later),
        _debit("E-3", _mandate(reference="MDT-C"), later, "0.20"),
        _debit("E-4", _mandate(reference="MDT-D"), COLLECTION, "999999999.99"),
    ]
    document = _build(debits, batch_booking=False)
    root = ET.fromstring(document)
    ns = {"p": NS02}
    blocks = [
        (
            b.findtext("p:PmtTpInf/p:SeqTp", namespaces=ns),
            b.findtext("p:ReqdColltnDt", namespaces=ns),
            b.findtext("p:NbOfTxs", namespaces=ns),
            b.findtext("p:CtrlSum", namespaces=ns),
            b.findtext("p:BtchBookg", namespaces=ns),
        )
        for b in root.findall(".//p:PmtInf", ns)
    ]
    assert blocks == [
        ("RCUR", "2025-01-15", "2", "1000000000.09", "false"),
        ("FRST", "2025-01-20", "1", "10.00", "false"),
        ("RCUR", "2025-01-20", "1", "0.20", "false"),
    ]
    assert root.findtext(".//p:GrpHdr/p:CtrlSum", namespaces=ns) == "1000000010.29"


def test_b2b_batch_carries_its_scheme() -> None:
    # SPEC: BIL-05
    b2b = _mandate(scheme=Scheme.B2B)
    document = _build([_debit("E-1", b2b)])
    assert b"<Cd>B2B</Cd>" in document
    assert b"<Cd>CORE</Cd>" not in document


def test_amounts_go_to_sepaxml_as_exact_cents() -> None:
    assert [d.amount_cents for d in _debits()] == [100000, 19999, 3458]
    assert _debit("E-1", RECURRENT_MANDATE, amount="0.1").amount_cents == 10
    assert _debit("E-1", RECURRENT_MANDATE, amount="12").amount == Decimal("12.00")


def test_sepaxml_export_validation_rejects_an_invalid_document() -> None:
    # The library's own check (export(validate=True)) fails on a document the XSD refuses:
    # a mandate reference longer than Max35Text.
    config = {
        "name": "Operateur",
        "IBAN": "FR1420041010050500013M02606",
        "BIC": "PSSTFRPPPAR",
        "batch": True,
        "creditor_id": "FR72ZZZ123456",
        "currency": "EUR",
    }
    sepa = SepaDD(config, schema="pain.008.001.02", clean=True)
    sepa.add_payment(
        {
            "name": "Debtor",
            "IBAN": "DE89370400440532013000",
            "amount": 1000,
            "type": "RCUR",
            "collection_date": COLLECTION,
            "mandate_id": "M" * 36,
            "mandate_date": date(2024, 1, 1),
            "description": "F-1",
            "endtoend_id": "E-1",
        }
    )
    with pytest.raises(ValidationError):
        sepa.export(validate=True)


def test_validate_pain008_rejects_a_tampered_document() -> None:
    document = _build(_debits())
    broken = document.replace(b"<CtrlSum>1234.57</CtrlSum>", b"<CtrlSum>1.234,57</CtrlSum>")
    error = _invalid(lambda: validate_pain008(broken))
    assert error.field == "xml"
    assert error.details["reason"] == "xsd_invalid"
    assert "CtrlSum" in error.details["path"]
    missing = document.replace(b"<EndToEndId>OPR-F-2025-0001</EndToEndId>", b"")
    assert _invalid(lambda: validate_pain008(missing)).details["reason"] == "xsd_invalid"
    unknown_sequence = document.replace(b"<SeqTp>FRST</SeqTp>", b"<SeqTp>LAST</SeqTp>")
    assert _invalid(lambda: validate_pain008(unknown_sequence)).details["reason"] == "xsd_invalid"
    other = document.replace(NS02.encode(), b"urn:example:other")
    assert _invalid(lambda: validate_pain008(other)).details["reason"] == "unknown_namespace"


def test_amended_mandate_after_a_change_of_bank() -> None:
    # SPEC: BIL-05
    moved = _mandate(
        sequence_type=SequenceType.FIRST,
        iban="FR7630006000011234567890189",
        bic="AGRIFRPP",
        amendment=MandateAmendment(new_debtor_bank=True, original_reference="OLD-REF-42"),
    )
    later = dataclasses.replace(moved, sequence_type=SequenceType.RECURRENT, amendment=None)
    debits = [_debit("E-1", moved), _debit("E-2", later, date(2025, 2, 15))]
    for schema in ("pain.008.001.02", "pain.008.001.08"):
        document = _build(debits, schema=schema)
        assert _xsd(schema).is_valid(document.decode())
        ns = {"p": f"urn:iso:std:iso:20022:tech:xsd:{schema}"}
        root = ET.fromstring(document)
        infos = root.findall(".//p:MndtRltdInf", ns)
        assert infos[0].findtext("p:AmdmntInd", namespaces=ns) == "true"
        details = "p:AmdmntInfDtls"
        assert infos[0].findtext(f"{details}/p:OrgnlMndtId", namespaces=ns) == "OLD-REF-42"
        agent = f"{details}/p:OrgnlDbtrAgt/p:FinInstnId/p:Othr/p:Id"
        assert infos[0].findtext(agent, namespaces=ns) == "SMNDA"
        assert infos[1].find("p:AmdmntInd", ns) is None


def test_amendment_is_sent_once_per_mandate_in_a_file() -> None:
    amended = _mandate(amendment=MandateAmendment(original_iban="FR7630006000011234567890189"))
    debits = [_debit("E-2", amended, date(2025, 2, 1)), _debit("E-1", amended, COLLECTION)]
    root = ET.fromstring(_build(debits))
    ns = {"p": NS02}
    amended_e2e = [
        tx.findtext("p:PmtId/p:EndToEndId", namespaces=ns)
        for tx in root.findall(".//p:DrctDbtTxInf", ns)
        if tx.find(".//p:AmdmntInfDtls", ns) is not None
    ]
    assert amended_e2e == ["E-1"]
    assert b"<IBAN>FR7630006000011234567890189</IBAN>" in _build(debits)


def test_debtor_outside_the_eea_needs_bic_and_address() -> None:
    # SPEC: BIL-05
    swiss = dict(iban="CH9300762011623852957", debtor_name="Müller AG")
    assert _invalid(lambda: _mandate(**swiss)).field == "bic"
    assert _invalid(lambda: _mandate(bic="POFICHBEXXX", **swiss)).field == "debtor_address"
    mandate = _mandate(
        bic="POFICHBEXXX",
        debtor_address=DebtorAddress("ch", ("Bahnhofstrasse 1", "8001 Zürich")),
        **swiss,
    )
    document = _build([_debit("E-1", mandate)])
    root = ET.fromstring(document)
    ns = {"p": NS02}
    address = root.find(".//p:Dbtr/p:PstlAdr", ns)
    assert address is not None
    assert address.findtext("p:Ctry", namespaces=ns) == "CH"
    assert [line.text for line in address.findall("p:AdrLine", ns)] == [
        "Bahnhofstrasse 1",
        "8001 Zurich",
    ]
    assert root.findtext(".//p:Dbtr/p:Nm", namespaces=ns) == "Muller AG"


# --- refusals -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("FR73ZZZ123456", "bad_checksum"),
        ("FR72ZZZ123457", "bad_checksum"),
        ("FR72", "bad_format"),
        ("72FRZZZ123456", "bad_format"),
        ("FR72ZZZ" + "1" * 29, "bad_format"),
        ("", "required"),
    ],
)
def test_bad_creditor_id_is_refused(raw: str, reason: str) -> None:
    # SPEC: BIL-05
    error = _invalid(lambda: dataclasses.replace(CREDITOR, creditor_id=raw))
    assert error.field == "creditor_id"
    assert error.details["reason"] == reason


def test_creditor_ids_of_several_countries() -> None:
    # EPC262-08: the check digits skip the business code, so changing it keeps them valid.
    assert validate_creditor_id("fr72 zzz 123456") == "FR72ZZZ123456"
    assert validate_creditor_id("FR72ABC123456") == "FR72ABC123456"
    assert validate_creditor_id("ES23ZZZ47690558N") == "ES23ZZZ47690558N"
    assert validate_creditor_id("DE98ZZZ09999999999") == "DE98ZZZ09999999999"


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"iban": "FR7630006000011234567890188"}, "iban"),
        ({"iban": "BR1800360305000010009795493C1"}, "iban"),
        ({"iban": ""}, "iban"),
        ({"bic": "AGRI"}, "bic"),
        ({"reference": "MDT 001"}, "reference"),
        ({"reference": "RÉF-001"}, "reference"),
        ({"reference": "/MDT-001"}, "reference"),
        ({"reference": "MDT//001"}, "reference"),
        ({"reference": "M" * 36}, "reference"),
        ({"scheme": "COR1"}, "scheme"),
        ({"sequence_type": "LAST"}, "sequence_type"),
        ({"debtor_name": "X" * 71}, "debtor_name"),
        ({"debtor_name": "  "}, "debtor_name"),
        ({"signature_date": datetime(2024, 1, 1, tzinfo=UTC)}, "signature_date"),
        (
            {"amendment": MandateAmendment(original_reference="MDT-2H8N-C4TW-5XQE")},
            "amendment.original_reference",
        ),
    ],
)
def test_bad_mandate_is_refused_with_its_field(changes: dict[str, Any], field: str) -> None:
    # SPEC: BIL-05
    assert _invalid(lambda: _mandate(**changes)).field == field


def test_bad_iban_reason_is_given() -> None:
    # SPEC: BIL-05
    error = _invalid(lambda: _mandate(iban="BR1800360305000010009795493C1"))
    assert error.details["reason"] == "outside_sepa"
    error = _invalid(lambda: _mandate(iban="DE89370400440532013001"))
    assert error.details["reason"] == "bad_checksum"


@pytest.mark.parametrize(
    "amount",
    [Decimal("12.345"), Decimal("0"), Decimal("0.00"), Decimal("-5"), Decimal("1E+9"), 12.5, "abc"],
)
def test_bad_amount_is_refused(amount: object) -> None:
    # SPEC: BIL-05
    error = _invalid(
        lambda: DirectDebit("E-1", "F-1", amount, RECURRENT_MANDATE, COLLECTION)  # type: ignore[arg-type]
    )
    assert error.field == "amount"


@pytest.mark.parametrize(
    ("args", "field"),
    [
        (("E 1", "F-1"), "end_to_end_id"),
        (("E-1" * 12, "F-1"), "end_to_end_id"),
        (("E-1", "Facture n°1"), "invoice_number"),
        (("E-1", "F" * 141), "invoice_number"),
    ],
)
def test_bad_debit_identifiers_are_refused(args: tuple[str, str], field: str) -> None:
    error = _invalid(lambda: DirectDebit(*args, Decimal("1.00"), RECURRENT_MANDATE, COLLECTION))
    assert error.field == field


def test_collection_before_the_signature_is_refused() -> None:
    error = _invalid(lambda: _debit("E-1", RECURRENT_MANDATE, date(2023, 3, 14)))
    assert error.field == "collection_date"


def test_mixed_schemes_are_refused_naming_the_debit() -> None:
    # SPEC: BIL-05
    b2b = _mandate(reference="MDT-B2B", scheme=Scheme.B2B)
    error = _invalid(lambda: _build([_debit("E-1", RECURRENT_MANDATE), _debit("E-2", b2b)]))
    assert error.field == "debits[1].mandate.scheme"
    assert error.details["debit"] == 1
    assert error.details["end_to_end_id"] == "E-2"
    assert error.details["reason"] == "mixed_schemes"


def test_one_mandate_with_two_ibans_is_refused_naming_the_debit() -> None:
    # SPEC: BIL-05
    moved = _mandate(iban="FR7630006000011234567890189")
    debits = [*_debits(), _debit("E-4", moved)]
    error = _invalid(lambda: _build(debits))
    assert error.field == "debits[3].mandate.iban"
    assert error.details["end_to_end_id"] == "E-4"
    assert error.details["reason"] == "mandate_mismatch"


def test_debtor_account_equal_to_the_creditors_is_refused() -> None:
    own = _mandate(iban=CREDITOR.iban)
    error = _invalid(lambda: _build([_debit("E-1", own)]))
    assert error.field == "debits[0].mandate.iban"


@pytest.mark.parametrize(
    ("debits", "field", "reason"),
    [
        (
            lambda: [
                _debit("E-1", _mandate(sequence_type=SequenceType.ONE_OFF)),
                _debit("E-2", _mandate(sequence_type=SequenceType.ONE_OFF), date(2025, 2, 1)),
            ],
            "debits[1].mandate.sequence_type",
            "one_off_reused",
        ),
        (
            lambda: [
                _debit("E-1", _mandate(sequence_type=SequenceType.FIRST)),
                _debit("E-2", _mandate(sequence_type=SequenceType.FIRST), date(2025, 2, 1)),
            ],
            "debits[1].mandate.sequence_type",
            "duplicate_first",
        ),
        (
            lambda: [
                _debit("E-1", _mandate(sequence_type=SequenceType.FIRST), date(2025, 2, 1)),
                _debit("E-2", RECURRENT_MANDATE, COLLECTION),
            ],
            "debits[1].mandate.sequence_type",
            "before_first",
        ),
        (
            lambda: [
                _debit("E-1", _mandate(sequence_type=SequenceType.FINAL)),
                _debit("E-2", RECURRENT_MANDATE, date(2025, 2, 1)),
            ],
            "debits[1].mandate.sequence_type",
            "after_final",
        ),
        (
            lambda: [
                _debit("E-1", _mandate(amendment=MandateAmendment(new_debtor_bank=True))),
            ],
            "debits[0].mandate.sequence_type",
            "smnda_not_first",
        ),
        (
            lambda: [_debit("E-1", RECURRENT_MANDATE), _debit("E-1", FIRST_MANDATE)],
            "debits[1].end_to_end_id",
            "duplicate",
        ),
        (
            lambda: [_debit("E-1", RECURRENT_MANDATE, date(2025, 1, 8))],
            "debits[0].collection_date",
            "too_early",
        ),
        (
            lambda: [_debit("E-1", _mandate(signature_date=date(2025, 1, 9)))],
            "debits[0].mandate.signature_date",
            "signed_in_future",
        ),
        (
            lambda: [
                _debit(
                    "E-1",
                    _mandate(amendment=MandateAmendment(original_creditor_id="FR72ZZZ123456")),
                )
            ],
            "debits[0].mandate.amendment.original_creditor_id",
            "unchanged",
        ),
    ],
)
def test_inconsistent_sequence_or_batch_is_refused_whole(
    debits: Callable[[], list[DirectDebit]], field: str, reason: str
) -> None:
    # SPEC: BIL-05
    error = _invalid(lambda: _build(debits()))
    assert error.field == field
    assert error.details["reason"] == reason


def test_batch_level_arguments_are_checked() -> None:
    assert _invalid(lambda: _build([])).field == "debits"
    assert _invalid(lambda: _build(_debits(), message_id="OPR 2025")).field == "message_id"
    assert _invalid(lambda: _build(_debits(), schema="pain.008.003.02")).field == "schema"
    with pytest.raises(ValueError, match="timezone-aware"):
        _build(_debits(), created_at=datetime(2025, 1, 8, 9, 30))


def test_names_are_transliterated_to_the_sepa_latin_set() -> None:
    assert to_sepa_latin("Société Générale & Cie") == "Societe Generale + Cie"
    assert to_sepa_latin("Œuvre «sociale»  n°1") == "OEuvre sociale no1"
    assert to_sepa_latin("Zoë – Müller ß") == "Zoe - Muller ss"
    assert to_sepa_latin("  a_b@c  ") == "a b c"


# --- sequence types -----------------------------------------------------------------------


def test_next_sequence_type_of_a_recurrent_mandate() -> None:
    # SPEC: BIL-05
    assert next_sequence_type(FIRST_MANDATE, previously_collected=False) == "FRST"
    assert next_sequence_type(FIRST_MANDATE, previously_collected=True) == "RCUR"
    assert next_sequence_type(RECURRENT_MANDATE, previously_collected=True) == "RCUR"
    assert next_sequence_type(RECURRENT_MANDATE, previously_collected=False) == "FRST"
    changed_bank = _mandate(
        sequence_type=SequenceType.FIRST, amendment=MandateAmendment(new_debtor_bank=True)
    )
    assert next_sequence_type(changed_bank, previously_collected=True) == "FRST"
    final = _mandate(sequence_type=SequenceType.FINAL)
    assert next_sequence_type(final, previously_collected=True) == "FNAL"
    with pytest.raises(Conflict) as caught:
        next_sequence_type(final, previously_collected=False)
    assert caught.value.field == "sequence_type"


def test_one_off_mandate_is_used_once() -> None:
    # SPEC: BIL-05
    one_off = _mandate(sequence_type=SequenceType.ONE_OFF)
    assert next_sequence_type(one_off, previously_collected=False) == "OOFF"
    with pytest.raises(Conflict) as caught:
        next_sequence_type(one_off, previously_collected=True)
    assert caught.value.details["reason"] == "one_off_used"


# --- rejects --------------------------------------------------------------------------------

PAIN002 = b"""<?xml version="1.0" encoding="UTF-8"?>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:pain.002.001.03"
          xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
  <CstmrPmtStsRpt>
    <GrpHdr>
      <MsgId>PSR-PSST-20250116-000427</MsgId>
      <CreDtTm>2025-01-16T06:42:11</CreDtTm>
      <CdtrAgt>
        <FinInstnId>
          <BIC>PSSTFRPPPAR</BIC>
        </FinInstnId>
      </CdtrAgt>
    </GrpHdr>
    <OrgnlGrpInfAndSts>
      <OrgnlMsgId>OPR-20250108-0001</OrgnlMsgId>
      <OrgnlMsgNmId>pain.008.001.02</OrgnlMsgNmId>
      <OrgnlNbOfTxs>3</OrgnlNbOfTxs>
      <OrgnlCtrlSum>1234.57</OrgnlCtrlSum>
      <GrpSts>PART</GrpSts>
    </OrgnlGrpInfAndSts>
    <OrgnlPmtInfAndSts>
      <OrgnlPmtInfId>OPR-20250108-0001-1</OrgnlPmtInfId>
      <OrgnlNbOfTxs>1</OrgnlNbOfTxs>
      <OrgnlCtrlSum>1000.00</OrgnlCtrlSum>
      <PmtInfSts>RJCT</PmtInfSts>
      <TxInfAndSts>
        <StsId>RJ2501160000001</StsId>
        <OrgnlEndToEndId>OPR-F-2025-0001</OrgnlEndToEndId>
        <TxSts>RJCT</TxSts>
        <StsRsnInf>
          <Orgtr>
            <Id>
              <OrgId>
                <BICOrBEI>AGRIFRPP</BICOrBEI>
              </OrgId>
            </Id>
          </Orgtr>
          <Rsn>
            <Cd>AM04</Cd>
          </Rsn>
        </StsRsnInf>
        <OrgnlTxRef>
          <Amt>
            <InstdAmt Ccy="EUR">1000.00</InstdAmt>
          </Amt>
          <ReqdColltnDt>2025-01-15</ReqdColltnDt>
          <CdtrSchmeId>
            <Id>
              <PrvtId>
                <Othr>
                  <Id>FR72ZZZ123456</Id>
                  <SchmeNm>
                    <Prtry>SEPA</Prtry>
                  </SchmeNm>
                </Othr>
              </PrvtId>
            </Id>
          </CdtrSchmeId>
          <PmtTpInf>
            <SvcLvl>
              <Cd>SEPA</Cd>
            </SvcLvl>
            <LclInstrm>
              <Cd>CORE</Cd>
            </LclInstrm>
            <SeqTp>FRST</SeqTp>
          </PmtTpInf>
          <MndtRltdInf>
            <MndtId>MDT-7K4Q-9ZPX-M2RA</MndtId>
            <DtOfSgntr>2024-12-02</DtOfSgntr>
          </MndtRltdInf>
          <Dbtr>
            <Nm>Boulangerie Dupont + Fils</Nm>
          </Dbtr>
          <DbtrAcct>
            <Id>
              <IBAN>FR7630006000011234567890189</IBAN>
            </Id>
          </DbtrAcct>
          <DbtrAgt>
            <FinInstnId>
              <BIC>AGRIFRPP</BIC>
            </FinInstnId>
          </DbtrAgt>
          <CdtrAgt>
            <FinInstnId>
              <BIC>PSSTFRPPPAR</BIC>
            </FinInstnId>
          </CdtrAgt>
          <Cdtr>
            <Nm>Operateur Telecom SAS</Nm>
          </Cdtr>
          <CdtrAcct>
            <Id>
              <IBAN>FR1420041010050500013M02606</IBAN>
            </Id>
          </CdtrAcct>
        </OrgnlTxRef>
      </TxInfAndSts>
    </OrgnlPmtInfAndSts>
    <OrgnlPmtInfAndSts>
      <OrgnlPmtInfId>OPR-20250108-0001-2</OrgnlPmtInfId>
      <OrgnlNbOfTxs>2</OrgnlNbOfTxs>
      <OrgnlCtrlSum>234.57</OrgnlCtrlSum>
      <PmtInfSts>PART</PmtInfSts>
      <TxInfAndSts>
        <StsId>RJ2501160000002</StsId>
        <OrgnlEndToEndId>OPR-F-2025-0003</OrgnlEndToEndId>
        <TxSts>RJCT</TxSts>
        <StsRsnInf>
          <Orgtr>
            <Id>
              <OrgId>
                <BICOrBEI>COBADEFFXXX</BICOrBEI>
              </OrgId>
            </Id>
          </Orgtr>
          <Rsn>
            <Cd>MD01</Cd>
          </Rsn>
          <AddtlInf>MANDAT REVOQUE PAR LE DEBITEUR</AddtlInf>
        </StsRsnInf>
        <OrgnlTxRef>
          <Amt>
            <InstdAmt Ccy="EUR">34.58</InstdAmt>
          </Amt>
          <ReqdColltnDt>2025-01-15</ReqdColltnDt>
          <PmtTpInf>
            <SvcLvl>
              <Cd>SEPA</Cd>
            </SvcLvl>
            <LclInstrm>
              <Cd>CORE</Cd>
            </LclInstrm>
            <SeqTp>RCUR</SeqTp>
          </PmtTpInf>
          <MndtRltdInf>
            <MndtId>MDT-2H8N-C4TW-5XQE</MndtId>
            <DtOfSgntr>2023-03-15</DtOfSgntr>
          </MndtRltdInf>
          <Dbtr>
            <Nm>Cabinet Lefevre</Nm>
          </Dbtr>
          <DbtrAcct>
            <Id>
              <IBAN>DE89370400440532013000</IBAN>
            </Id>
          </DbtrAcct>
        </OrgnlTxRef>
      </TxInfAndSts>
    </OrgnlPmtInfAndSts>
  </CstmrPmtStsRpt>
</Document>
"""


def test_pain002_rejects_are_read_with_amounts_and_reasons() -> None:
    # SPEC: BIL-05
    rejects = parse_rejects(PAIN002)
    assert rejects == [
        Reject(
            end_to_end_id="OPR-F-2025-0001",
            amount=Decimal("1000.00"),
            reason_code="AM04",
            reason=REASON_CODES["AM04"],
            mandate_reference="MDT-7K4Q-9ZPX-M2RA",
        ),
        Reject(
            end_to_end_id="OPR-F-2025-0003",
            amount=Decimal("34.58"),
            reason_code="MD01",
            reason=REASON_CODES["MD01"],
            mandate_reference="MDT-2H8N-C4TW-5XQE",
            additional_info="MANDAT REVOQUE PAR LE DEBITEUR",
        ),
    ]
    assert rejects[0].reason.fr == "Provision insuffisante"
    assert rejects[0].reason.en == "Insufficient funds"
    assert rejects[1].reason.fr == "Pas de mandat, ou opération non autorisée"
    # The rejects point back at debits of the file sent.
    sent = {d.end_to_end_id: d.amount for d in _debits()}
    assert all(sent[r.end_to_end_id] == r.amount for r in rejects)


def test_pain002_without_rejects_gives_nothing() -> None:
    accepted = PAIN002.replace(b"<TxSts>RJCT</TxSts>", b"<TxSts>ACCP</TxSts>")
    assert parse_rejects(accepted) == []


def test_pain002_reason_may_come_from_the_block() -> None:
    xml = b"""<?xml version="1.0" encoding="UTF-8"?>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:pain.002.001.10">
  <CstmrPmtStsRpt>
    <GrpHdr><MsgId>PSR-2</MsgId><CreDtTm>2025-01-16T06:42:11+01:00</CreDtTm></GrpHdr>
    <OrgnlGrpInfAndSts><OrgnlMsgId>OPR-2</OrgnlMsgId><OrgnlMsgNmId>pain.008.001.08</OrgnlMsgNmId>
    </OrgnlGrpInfAndSts>
    <OrgnlPmtInfAndSts>
      <OrgnlPmtInfId>OPR-2-1</OrgnlPmtInfId>
      <PmtInfSts>RJCT</PmtInfSts>
      <StsRsnInf><Rsn><Cd>ac04</Cd></Rsn></StsRsnInf>
      <TxInfAndSts>
        <OrgnlEndToEndId>E-9</OrgnlEndToEndId>
        <OrgnlTxRef><Amt><InstdAmt Ccy="EUR">5.5</InstdAmt></Amt></OrgnlTxRef>
      </TxInfAndSts>
    </OrgnlPmtInfAndSts>
  </CstmrPmtStsRpt>
</Document>"""
    [reject] = parse_rejects(xml)
    assert (reject.end_to_end_id, reject.amount, reject.reason_code) == (
        "E-9",
        Decimal("5.50"),
        "AC04",
    )
    assert reject.reason.en == "Account closed"


def test_whole_file_rejected_is_a_conflict() -> None:
    # SPEC: BIL-05
    xml = b"""<?xml version="1.0" encoding="UTF-8"?>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:pain.002.001.03">
  <CstmrPmtStsRpt>
    <GrpHdr><MsgId>PSR-3</MsgId><CreDtTm>2025-01-16T06:42:11</CreDtTm></GrpHdr>
    <OrgnlGrpInfAndSts>
      <OrgnlMsgId>OPR-20250108-0001</OrgnlMsgId>
      <OrgnlMsgNmId>pain.008.001.02</OrgnlMsgNmId>
      <GrpSts>RJCT</GrpSts>
      <StsRsnInf><Rsn><Cd>FF01</Cd></Rsn></StsRsnInf>
    </OrgnlGrpInfAndSts>
  </CstmrPmtStsRpt>
</Document>"""
    with pytest.raises(Conflict) as caught:
        parse_rejects(xml)
    assert caught.value.code == "sepa_file_rejected"
    assert caught.value.details["message_id"] == "OPR-20250108-0001"
    assert caught.value.details["code"] == "FF01"
    assert "Format de fichier invalide" in caught.value.render("fr")


CAMT054 = b"""<?xml version="1.0" encoding="UTF-8"?>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.054.001.02">
  <BkToCstmrDbtCdtNtfctn>
    <GrpHdr>
      <MsgId>NTF-PSST-20250121-0042</MsgId>
      <CreDtTm>2025-01-21T07:05:00</CreDtTm>
    </GrpHdr>
    <Ntfctn>
      <Id>NTF-PSST-20250121-0042-1</Id>
      <CreDtTm>2025-01-21T07:05:00</CreDtTm>
      <Acct>
        <Id><IBAN>FR1420041010050500013M02606</IBAN></Id>
        <Ccy>EUR</Ccy>
      </Acct>
      <Ntry>
        <Amt Ccy="EUR">1234.57</Amt>
        <CdtDbtInd>CRDT</CdtDbtInd>
        <Sts>BOOK</Sts>
        <BookgDt><Dt>2025-01-15</Dt></BookgDt>
        <ValDt><Dt>2025-01-15</Dt></ValDt>
        <BkTxCd><Domn><Cd>PMNT</Cd><Fmly><Cd>IDDT</Cd><SubFmlyCd>ESDD</SubFmlyCd></Fmly></Domn>
        </BkTxCd>
        <NtryDtls><Btch><MsgId>OPR-20250108-0001</MsgId><NbOfTxs>3</NbOfTxs></Btch></NtryDtls>
      </Ntry>
      <Ntry>
        <Amt Ccy="EUR">199.99</Amt>
        <CdtDbtInd>DBIT</CdtDbtInd>
        <RvslInd>true</RvslInd>
        <Sts>BOOK</Sts>
        <BookgDt><Dt>2025-01-21</Dt></BookgDt>
        <ValDt><Dt>2025-01-21</Dt></ValDt>
        <AcctSvcrRef>2501210042000017</AcctSvcrRef>
        <BkTxCd><Domn><Cd>PMNT</Cd><Fmly><Cd>IDDT</Cd><SubFmlyCd>UPDD</SubFmlyCd></Fmly></Domn>
        </BkTxCd>
        <NtryDtls>
          <TxDtls>
            <Refs>
              <EndToEndId>OPR-F-2025-0002</EndToEndId>
              <MndtId>MDT-2H8N-C4TW-5XQE</MndtId>
            </Refs>
            <AmtDtls>
              <InstdAmt><Amt Ccy="EUR">199.99</Amt></InstdAmt>
              <TxAmt><Amt Ccy="EUR">199.99</Amt></TxAmt>
            </AmtDtls>
            <RltdPties>
              <Dbtr><Nm>Cabinet Lefevre</Nm></Dbtr>
              <DbtrAcct><Id><IBAN>DE89370400440532013000</IBAN></Id></DbtrAcct>
            </RltdPties>
            <RmtInf><Ustrd>F-2025-0002</Ustrd></RmtInf>
            <RtrInf>
              <Rsn><Cd>AC04</Cd></Rsn>
              <AddtlInf>COMPTE CLOTURE</AddtlInf>
            </RtrInf>
          </TxDtls>
        </NtryDtls>
      </Ntry>
    </Ntfctn>
  </BkToCstmrDbtCdtNtfctn>
</Document>
"""


def test_camt054_debit_returns_are_read() -> None:
    # SPEC: BIL-05
    assert parse_rejects(CAMT054) == [
        Reject(
            end_to_end_id="OPR-F-2025-0002",
            amount=Decimal("199.99"),
            reason_code="AC04",
            reason=REASON_CODES["AC04"],
            mandate_reference="MDT-2H8N-C4TW-5XQE",
            additional_info="COMPTE CLOTURE",
        )
    ]


def test_camt054_version_8_with_the_entry_amount() -> None:
    xml = b"""<?xml version="1.0" encoding="UTF-8"?>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.054.001.08">
  <BkToCstmrDbtCdtNtfctn>
    <GrpHdr><MsgId>N-8</MsgId><CreDtTm>2025-02-03T07:00:00+01:00</CreDtTm></GrpHdr>
    <Ntfctn>
      <Id>N-8-1</Id>
      <Acct><Id><IBAN>FR1420041010050500013M02606</IBAN></Id></Acct>
      <Ntry>
        <Amt Ccy="EUR">10.00</Amt>
        <CdtDbtInd>DBIT</CdtDbtInd>
        <Sts><Cd>BOOK</Cd></Sts>
        <BkTxCd><Domn><Cd>PMNT</Cd><Fmly><Cd>IDDT</Cd><SubFmlyCd>PRDD</SubFmlyCd></Fmly></Domn>
        </BkTxCd>
        <NtryDtls><TxDtls>
          <Refs><EndToEndId>E-1</EndToEndId></Refs>
          <RtrInf><Rsn><Cd>MD06</Cd></Rsn></RtrInf>
        </TxDtls></NtryDtls>
      </Ntry>
      <Ntry>
        <Amt Ccy="EUR">15.00</Amt>
        <CdtDbtInd>DBIT</CdtDbtInd>
        <Sts><Cd>PDNG</Cd></Sts>
        <BkTxCd><Domn><Cd>PMNT</Cd><Fmly><Cd>IDDT</Cd><SubFmlyCd>UPDD</SubFmlyCd></Fmly></Domn>
        </BkTxCd>
        <NtryDtls><TxDtls>
          <Refs><EndToEndId>E-2</EndToEndId></Refs>
          <RtrInf><Rsn><Cd>AM04</Cd></Rsn></RtrInf>
        </TxDtls></NtryDtls>
      </Ntry>
    </Ntfctn>
  </BkToCstmrDbtCdtNtfctn>
</Document>"""
    [refund] = parse_rejects(xml)
    assert (refund.end_to_end_id, refund.amount, refund.reason_code) == (
        "E-1",
        Decimal("10.00"),
        "MD06",
    )
    assert refund.reason.fr == "Remboursement demandé par le débiteur"


@pytest.mark.parametrize(
    ("old", "new", "field"),
    [
        (b'<InstdAmt Ccy="EUR">1000.00</InstdAmt>', b"", "TxInfAndSts/OrgnlTxRef/Amt/InstdAmt"),
        (b"<OrgnlEndToEndId>OPR-F-2025-0001</OrgnlEndToEndId>", b"", "TxInfAndSts/OrgnlEndToEndId"),
        (b"<Cd>AM04</Cd>", b"", "TxInfAndSts/StsRsnInf/Rsn/Cd"),
        (b'Ccy="EUR">1000.00', b'Ccy="USD">1000.00', "TxInfAndSts/OrgnlTxRef/Amt/InstdAmt/@Ccy"),
        (b'Ccy="EUR">1000.00', b">1000.00", "TxInfAndSts/OrgnlTxRef/Amt/InstdAmt/@Ccy"),
        (b'"EUR">1000.00<', b'"EUR">1000.001<', "TxInfAndSts/OrgnlTxRef/Amt/InstdAmt"),
        (b'"EUR">1000.00<', b'"EUR">-1000.00<', "TxInfAndSts/OrgnlTxRef/Amt/InstdAmt"),
        (b"<OrgnlMsgId>OPR-20250108-0001</OrgnlMsgId>", b"", "OrgnlGrpInfAndSts/OrgnlMsgId"),
    ],
)
def test_pain002_missing_or_bad_element_is_named(old: bytes, new: bytes, field: str) -> None:
    # SPEC: BIL-05
    assert old in PAIN002
    error = _invalid(lambda: parse_rejects(PAIN002.replace(old, new, 1)))
    assert error.field == field


@pytest.mark.parametrize(
    ("old", "new", "field"),
    [
        (b"<EndToEndId>OPR-F-2025-0002</EndToEndId>", b"", "TxDtls/Refs/EndToEndId"),
        (b"<Rsn><Cd>AC04</Cd></Rsn>", b"", "TxDtls/RtrInf/Rsn/Cd"),
        (b"<Sts>BOOK</Sts>", b"", "Ntry/Sts"),
    ],
)
def test_camt054_missing_element_is_named(old: bytes, new: bytes, field: str) -> None:
    assert old in CAMT054
    error = _invalid(lambda: parse_rejects(CAMT054.replace(old, new)))
    assert error.field == field


def test_malformed_or_unsafe_xml_is_refused() -> None:
    # SPEC: BIL-05
    error = _invalid(lambda: parse_rejects(PAIN002[:400]))
    assert (error.field, error.details["reason"]) == ("xml", "malformed")
    assert _invalid(lambda: parse_rejects(b"")).field == "xml"
    bomb = (
        b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
        b'<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>'
        b"<Document>&lol2;</Document>"
    )
    assert _invalid(lambda: parse_rejects(bomb)).details["reason"] == "doctype_forbidden"
    error = _invalid(lambda: parse_rejects(_build(_debits())))
    assert (error.field, error.details["reason"]) == ("Document", "unknown_document")


def test_unknown_reason_code_is_kept_with_a_generic_text() -> None:
    text = reason_text("ZZ99")
    assert "ZZ99" in text.fr and "ZZ99" in text.en
    assert reason_text("am04") == REASON_CODES["AM04"]
    assert all(t.fr and t.en and t.fr != t.en for t in REASON_CODES.values())
