"""Invoice documents: the EN 16931 CII XML, the French invoice PDF and the Factur-X PDF/A-3."""

from __future__ import annotations

import dataclasses
import io
from datetime import date
from decimal import Decimal
from typing import Any
from xml.etree import ElementTree as ET

import facturx  # type: ignore[import-untyped]
import pytest
from pypdf import PdfReader

from operateur.billing.documents import (
    Address,
    DocumentLine,
    InvoiceDocument,
    Party,
    VatBreakdown,
    cii_xml,
    facturx_pdf,
    render_pdf,
    validate_cii,
)
from operateur.errors import InvalidInput

NS = {
    "rsm": "urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100",
    "ram": "urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100",
    "udt": "urn:un:unece:uncefact:data:standard:UnqualifiedDataType:100",
    "qdt": "urn:un:unece:uncefact:data:standard:QualifiedDataType:100",
}
SETTLEMENT = "rsm:SupplyChainTradeTransaction/ram:ApplicableHeaderTradeSettlement"
TOTALS = f"{SETTLEMENT}/ram:SpecifiedTradeSettlementHeaderMonetarySummation"
AGREEMENT = "rsm:SupplyChainTradeTransaction/ram:ApplicableHeaderTradeAgreement"


# --------------------------------------------------------------------------------------------
# Documents built by hand
# --------------------------------------------------------------------------------------------


def seller() -> Party:
    return Party(
        name="Opérateur Démo",
        legal_form="SAS",
        siren="732 829 320",
        siret="73282932000074",
        vat_number="FR44732829320",
        address_line="12 rue de la Paix",
        postal_code="75002",
        city="Paris",
        country="FR",
        email="facturation@operateur.example",
        iban="FR14 2004 1010 0505 0001 3M02 606",
        bic="PSSTFRPPPAR",
        share_capital=Decimal("50000"),
        registry="RCS Paris",
    )


def french_buyer() -> Party:
    return Party(
        name="Cabinet Martin & Associés",
        legal_form="SARL",
        siren="552008443",
        siret="55200844300012",
        vat_number="FR19552008443",
        address_line="3 place Bellecour",
        postal_code="69002",
        city="Lyon",
        country="FR",
        email="compta@martin.example",
    )


def belgian_buyer() -> Party:
    return Party(
        name="Brussels Contact Center SRL",
        legal_form="SRL",
        siren="0403.019.261",  # Belgian enterprise number (BCE/KBO)
        siret=None,
        vat_number="BE0403019261",
        address_line="Avenue Louise 54",
        postal_code="1050",
        city="Bruxelles",
        country="BE",
    )


def french_invoice(**changes: Any) -> InvoiceDocument:
    """September 2026 Centrex invoice, 20 % VAT, computed by hand:

    line 1: 12 licences × 24.90 € = 298.80 €
    line 2: 1 437 min × 0.0150 € = 21.555 € → 21.56 € (half up)
    line 3: 1 month × 15.00 € = 15.00 €
    total HT = 298.80 + 21.56 + 15.00 = 335.36 €
    VAT 20 % = 335.36 × 0.20 = 67.072 € → 67.07 €
    total TTC = 335.36 + 67.07 = 402.43 €, nothing paid yet: 402.43 € due.
    """
    fields: dict[str, Any] = dict(
        kind="invoice",
        number="F-2026-09-0042",
        issue_date=date(2026, 9, 30),
        due_date=date(2026, 10, 10),
        period_start=date(2026, 9, 1),
        period_end=date(2026, 9, 30),
        seller=seller(),
        buyer=french_buyer(),
        lines=(
            DocumentLine(
                "Abonnement Centrex — licence utilisateur",
                Decimal("12"),
                "C62",
                Decimal("24.90"),
                Decimal("20.00"),
                "S",
                Decimal("298.80"),
            ),
            DocumentLine(
                "Communications hors forfait vers mobiles",
                Decimal("1437"),
                "MIN",
                Decimal("0.0150"),
                Decimal("20.00"),
                "S",
                Decimal("21.56"),
            ),
            DocumentLine(
                "Numéro Gold — redevance mensuelle",
                Decimal("1"),
                "MON",
                Decimal("15.00"),
                Decimal("20.00"),
                "S",
                Decimal("15.00"),
            ),
        ),
        vat_breakdown=(VatBreakdown("S", Decimal("20.00"), Decimal("335.36"), Decimal("67.07")),),
        total_net=Decimal("335.36"),
        total_vat=Decimal("67.07"),
        total_gross=Decimal("402.43"),
        amount_due=Decimal("402.43"),
        payment_terms_text="10 jours à compter de la date d'émission",
        late_penalty_text="BCE + 10 points",
        recovery_indemnity=Decimal("40.00"),
        reverse_charge=False,
        vat_on_debits=True,
        supply_type="services",
        payment_method="transfer",
        purchase_order_reference="PO-7781",
        delivery_address=Address(
            "Zone artisanale des Prés, bâtiment C",
            "69800",
            "Saint-Priest",
            "FR",
            name="Cabinet Martin - agence Est",
        ),
    )
    fields.update(changes)
    return InvoiceDocument(**fields)


def reverse_charge_invoice(**changes: Any) -> InvoiceDocument:
    """CPaaS services to a Belgian company: reverse charge (autoliquidation), no French VAT.

    line 1: 1 month × 250.00 € = 250.00 €
    line 2: 2 000 min × 0.0120 € = 24.00 €
    total HT = 274.00 €, VAT 0 (category AE), total = 274.00 € due.
    """
    fields: dict[str, Any] = dict(
        kind="invoice",
        number="F-2026-09-0043",
        issue_date=date(2026, 9, 30),
        due_date=date(2026, 10, 30),
        period_start=date(2026, 9, 1),
        period_end=date(2026, 9, 30),
        seller=seller(),
        buyer=belgian_buyer(),
        lines=(
            DocumentLine(
                "Plateforme CPaaS — abonnement",
                Decimal("1"),
                "MON",
                Decimal("250.00"),
                Decimal("0"),
                "AE",
                Decimal("250.00"),
            ),
            DocumentLine(
                "Appels sortants vers la Belgique",
                Decimal("2000"),
                "MIN",
                Decimal("0.0120"),
                Decimal("0"),
                "AE",
                Decimal("24.00"),
            ),
        ),
        vat_breakdown=(VatBreakdown("AE", Decimal("0"), Decimal("274.00"), Decimal("0.00")),),
        total_net=Decimal("274.00"),
        total_vat=Decimal("0.00"),
        total_gross=Decimal("274.00"),
        amount_due=Decimal("274.00"),
        payment_terms_text="30 jours à compter de la date d'émission",
        late_penalty_text="BCE + 10 points",
        recovery_indemnity=Decimal("40.00"),
        reverse_charge=True,
        vat_on_debits=False,
        supply_type="services",
        payment_method="sepa_direct_debit",
        mandate_reference="MDT-7K4Q-9ZPX-M2RA",
    )
    fields.update(changes)
    return InvoiceDocument(**fields)


def credit_note(**changes: Any) -> InvoiceDocument:
    """Credit for 2 licences billed but never activated on F-2026-09-0042:

    2 × 24.90 € = 49.80 € HT; VAT 20 % = 9.96 €; 59.76 € credited to the customer.
    """
    fields: dict[str, Any] = dict(
        kind="credit_note",
        number="A-2026-10-0003",
        issue_date=date(2026, 10, 5),
        due_date=date(2026, 10, 5),
        period_start=date(2026, 9, 1),
        period_end=date(2026, 9, 30),
        seller=seller(),
        buyer=french_buyer(),
        lines=(
            DocumentLine(
                "Licences Centrex non activées (septembre 2026)",
                Decimal("2"),
                "C62",
                Decimal("24.90"),
                Decimal("20.00"),
                "S",
                Decimal("49.80"),
            ),
        ),
        vat_breakdown=(VatBreakdown("S", Decimal("20.00"), Decimal("49.80"), Decimal("9.96")),),
        total_net=Decimal("49.80"),
        total_vat=Decimal("9.96"),
        total_gross=Decimal("59.76"),
        amount_due=Decimal("59.76"),
        payment_terms_text="Déduit de la prochaine facture",
        late_penalty_text="BCE + 10 points",
        recovery_indemnity=Decimal("40.00"),
        reverse_charge=False,
        vat_on_debits=True,
        supply_type="services",
        preceding_invoice_number="F-2026-09-0042",
        preceding_invoice_date=date(2026, 9, 30),
    )
    fields.update(changes)
    return InvoiceDocument(**fields)


def xml_tree(doc: InvoiceDocument) -> ET.Element:
    return ET.fromstring(cii_xml(doc))


def find(root: ET.Element, path: str) -> str:
    text = root.findtext(path, namespaces=NS)
    assert text is not None, path
    return text


def pdf_text(pdf: bytes) -> str:
    """All the text of a PDF, whitespace (including no-break spaces) collapsed."""
    reader = PdfReader(io.BytesIO(pdf))
    return " ".join(" ".join(page.extract_text() for page in reader.pages).split())


# --------------------------------------------------------------------------------------------
# The document as data
# --------------------------------------------------------------------------------------------


def test_french_invoice_totals_are_checked_to_the_cent() -> None:
    # SPEC: BIL-11 — prices excluding VAT, VAT added per rate
    doc = french_invoice()
    assert [line.net_amount for line in doc.lines] == [
        Decimal("298.80"),
        Decimal("21.56"),  # 1 437 × 0.0150 = 21.555, rounded half up
        Decimal("15.00"),
    ]
    assert doc.total_net == Decimal("335.36")
    assert doc.total_vat == Decimal("67.07")  # 335.36 × 20 % = 67.072
    assert doc.total_gross == Decimal("402.43")
    assert doc.paid_amount == Decimal("0.00")
    assert doc.type_code == "380"
    assert doc.seller.siren == "732829320"  # stored compact
    assert doc.seller.iban == "FR1420041010050500013M02606"
    assert doc.buyer.country == "FR"


def test_an_inconsistent_total_is_refused_with_the_field_named() -> None:
    # SPEC: BIL-11
    with pytest.raises(InvalidInput) as error:
        french_invoice(total_net=Decimal("335.37"))  # the lines sum to 335.36
    assert error.value.field == "total_net"
    assert error.value.details["expected"] == "335.36"
    assert error.value.details["actual"] == "335.37"
    assert "335.36" in error.value.render("fr")


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"total_vat": Decimal("67.08")}, "total_vat"),
        ({"total_gross": Decimal("402.42")}, "total_gross"),
        ({"amount_due": Decimal("402.44")}, "amount_due"),
        (
            {
                "vat_breakdown": (
                    VatBreakdown("S", Decimal("20.00"), Decimal("335.00"), Decimal("67.00")),
                )
            },
            "vat_breakdown[0].taxable_amount",
        ),
        (
            {
                "vat_breakdown": (
                    VatBreakdown("S", Decimal("10.00"), Decimal("335.36"), Decimal("33.54")),
                )
            },
            "vat_breakdown[0]",
        ),
        ({"vat_breakdown": ()}, "vat_breakdown"),
        ({"lines": ()}, "lines"),
        ({"due_date": date(2026, 9, 29)}, "due_date"),
        ({"number": "F 2026 09 42"}, "number"),
        ({"seller": dataclasses.replace(seller(), iban=None)}, "seller.iban"),
        ({"reverse_charge": True}, "lines[0].vat_category"),
        ({"supply_type": "software"}, "supply_type"),
        ({"payment_method": "bitcoin"}, "payment_method"),
        ({"mandate_reference": "MDT-1"}, "mandate_reference"),
        ({"recovery_indemnity": 40.0}, "recovery_indemnity"),
    ],
)
def test_inconsistent_documents_are_refused(changes: dict[str, Any], field: str) -> None:
    # SPEC: BIL-11
    with pytest.raises(InvalidInput) as error:
        french_invoice(**changes)
    assert error.value.field == field


def test_a_line_amount_must_be_quantity_times_unit_price() -> None:
    # SPEC: BIL-11
    with pytest.raises(InvalidInput) as error:
        DocumentLine(
            "Minutes",
            Decimal("1437"),
            "MIN",
            Decimal("0.0150"),
            Decimal("20"),
            "S",
            Decimal("21.55"),
        )
    assert error.value.field == "net_amount"
    assert error.value.details["expected"] == "21.56"


@pytest.mark.parametrize(
    ("args", "field"),
    [
        (("x", 1.5, "C62", Decimal("1"), Decimal("20"), "S", Decimal("1.50")), "quantity"),
        (
            ("x", Decimal("1"), "C62", Decimal("-5"), Decimal("20"), "S", Decimal("-5")),
            "unit_price",
        ),
        (("x", Decimal("1"), "minutes", Decimal("1"), Decimal("20"), "S", Decimal("1")), "unit"),
        (("x", Decimal("1"), "C62", Decimal("1"), Decimal("0"), "S", Decimal("1")), "vat_rate"),
        (("x", Decimal("1"), "C62", Decimal("1"), Decimal("20"), "AE", Decimal("1")), "vat_rate"),
        (
            ("x", Decimal("1"), "C62", Decimal("1"), Decimal("20"), "K", Decimal("1")),
            "vat_category",
        ),
        ((" ", Decimal("1"), "C62", Decimal("1"), Decimal("20"), "S", Decimal("1")), "description"),
        (
            ("x", Decimal("0.00001"), "C62", Decimal("1"), Decimal("20"), "S", Decimal("0")),
            "quantity",
        ),
    ],
)
def test_malformed_lines_are_refused(args: tuple[Any, ...], field: str) -> None:
    with pytest.raises(InvalidInput) as error:
        DocumentLine(*args)
    assert error.value.field == field


def test_a_deduction_is_a_negative_quantity_at_a_positive_price() -> None:
    # SPEC: BIL-11 (EN 16931 BR-27: a net price is never negative)
    line = DocumentLine(
        "Avoir SLA", Decimal("-1"), "C62", Decimal("30.00"), Decimal("20"), "S", Decimal("-30.00")
    )
    assert line.net_amount == Decimal("-30.00")


def test_breakdown_tax_must_be_the_rounded_rate_of_its_base() -> None:
    # SPEC: BIL-11
    with pytest.raises(InvalidInput) as error:
        VatBreakdown("S", Decimal("20.00"), Decimal("335.36"), Decimal("67.08"))
    assert error.value.field == "tax_amount"
    with pytest.raises(InvalidInput) as error:
        VatBreakdown("E", Decimal("0"), Decimal("10.00"), Decimal("0.00"))
    assert error.value.field == "exemption_reason"


def test_parties_are_checked() -> None:
    base = vars(french_buyer())
    for changes, field in [
        ({"siren": "552008444"}, "siren"),
        ({"siret": "73282932000074"}, "siret"),  # another company's SIRET
        ({"vat_number": "FR44732829320"}, "vat_number"),  # another company's VAT number
        ({"country": "France"}, "country"),
        ({"email": "compta"}, "email"),
        ({"iban": "FR1420041010050500013M02607"}, "iban"),
    ]:
        with pytest.raises(InvalidInput) as error:
            Party(**{**base, **changes})
        assert error.value.field == field, changes


def test_reverse_charge_needs_the_customers_vat_number() -> None:
    # SPEC: BIL-11 — autoliquidation: the customer accounts for the VAT
    buyer = dataclasses.replace(belgian_buyer(), vat_number=None)
    with pytest.raises(InvalidInput) as error:
        reverse_charge_invoice(buyer=buyer)
    assert error.value.field == "buyer.vat_number"


def test_a_credit_note_names_the_invoice_it_corrects() -> None:
    # SPEC: BIL-12
    with pytest.raises(InvalidInput) as error:
        credit_note(preceding_invoice_number=None, preceding_invoice_date=None)
    assert error.value.field == "preceding_invoice_number"
    assert credit_note().type_code == "381"


# --------------------------------------------------------------------------------------------
# CII XML
# --------------------------------------------------------------------------------------------


def test_french_invoice_xml_validates_and_carries_numbers_and_totals() -> None:
    # SPEC: BIL-12 — the invoice as a Factur-X EN 16931 document
    doc = french_invoice()
    xml = cii_xml(doc)
    assert facturx.xml_check_xsd(xml, flavor="factur-x", level="en16931") is True
    validate_cii(xml)
    root = ET.fromstring(xml)
    assert (
        find(
            root,
            "rsm:ExchangedDocumentContext/ram:GuidelineSpecifiedDocumentContextParameter/ram:ID",
        )
        == "urn:cen.eu:en16931:2017"
    )  # noqa: E501
    assert (
        find(
            root,
            "rsm:ExchangedDocumentContext/ram:BusinessProcessSpecifiedDocumentContextParameter/ram:ID",
        )
        == "S1"
    )  # noqa: E501
    assert find(root, "rsm:ExchangedDocument/ram:ID") == "F-2026-09-0042"
    assert find(root, "rsm:ExchangedDocument/ram:TypeCode") == "380"
    assert find(root, "rsm:ExchangedDocument/ram:IssueDateTime/udt:DateTimeString") == "20260930"
    seller_party = root.find(f"{AGREEMENT}/ram:SellerTradeParty", NS)
    buyer_party = root.find(f"{AGREEMENT}/ram:BuyerTradeParty", NS)
    assert seller_party is not None and buyer_party is not None
    seller_id = seller_party.find("ram:SpecifiedLegalOrganization/ram:ID", NS)
    assert seller_id is not None
    assert (seller_id.text, seller_id.get("schemeID")) == ("732829320", "0002")
    buyer_id = buyer_party.find("ram:SpecifiedLegalOrganization/ram:ID", NS)
    assert buyer_id is not None
    assert (buyer_id.text, buyer_id.get("schemeID")) == ("552008443", "0002")
    siret = seller_party.find("ram:GlobalID", NS)
    assert siret is not None and (siret.text, siret.get("schemeID")) == ("73282932000074", "0009")
    assert find(seller_party, "ram:SpecifiedTaxRegistration/ram:ID") == "FR44732829320"
    assert find(buyer_party, "ram:SpecifiedTaxRegistration/ram:ID") == "FR19552008443"
    assert find(seller_party, "ram:Description").startswith("SAS")
    line_totals = [
        element.text
        for element in root.iterfind(
            "rsm:SupplyChainTradeTransaction/ram:IncludedSupplyChainTradeLineItem/"
            "ram:SpecifiedLineTradeSettlement/ram:SpecifiedTradeSettlementLineMonetarySummation/"
            "ram:LineTotalAmount",
            NS,
        )
    ]
    assert line_totals == ["298.80", "21.56", "15.00"]
    assert find(root, f"{TOTALS}/ram:LineTotalAmount") == "335.36"
    assert find(root, f"{TOTALS}/ram:TaxBasisTotalAmount") == "335.36"
    assert find(root, f"{TOTALS}/ram:TaxTotalAmount") == "67.07"
    assert find(root, f"{TOTALS}/ram:GrandTotalAmount") == "402.43"
    assert find(root, f"{TOTALS}/ram:DuePayableAmount") == "402.43"
    assert find(root, f"{SETTLEMENT}/ram:ApplicableTradeTax/ram:BasisAmount") == "335.36"
    assert find(root, f"{SETTLEMENT}/ram:ApplicableTradeTax/ram:RateApplicablePercent") == "20.00"
    # VAT on debits: VAT due at the invoice date (BT-8 code 5)
    assert find(root, f"{SETTLEMENT}/ram:ApplicableTradeTax/ram:DueDateTypeCode") == "5"
    terms = f"{SETTLEMENT}/ram:SpecifiedTradePaymentTerms"
    assert find(root, f"{terms}/ram:DueDateDateTime/udt:DateTimeString") == "20261010"
    assert find(root, f"{terms}/ram:Description") == "10 jours à compter de la date d'émission"
    assert find(root, f"{SETTLEMENT}/ram:SpecifiedTradeSettlementPaymentMeans/ram:TypeCode") == "58"
    assert (
        find(
            root,
            f"{SETTLEMENT}/ram:SpecifiedTradeSettlementPaymentMeans/"
            "ram:PayeePartyCreditorFinancialAccount/ram:IBANID",
        )
        == "FR1420041010050500013M02606"
    )
    ship_to = (
        "rsm:SupplyChainTradeTransaction/ram:ApplicableHeaderTradeDelivery/ram:ShipToTradeParty"
    )
    assert find(root, f"{ship_to}/ram:PostalTradeAddress/ram:CityName") == "Saint-Priest"
    assert (
        find(root, f"{AGREEMENT}/ram:BuyerOrderReferencedDocument/ram:IssuerAssignedID")
        == "PO-7781"
    )


def test_xml_notes_carry_the_late_payment_mentions() -> None:
    # SPEC: BIL-06 — penalty rate and the 40 € recovery indemnity on the invoice
    root = xml_tree(french_invoice())
    notes = {
        find(note, "ram:SubjectCode"): find(note, "ram:Content")
        for note in root.iterfind("rsm:ExchangedDocument/ram:IncludedNote", NS)
    }
    assert "BCE + 10 points" in notes["PMD"]
    assert "indemnité forfaitaire pour frais de recouvrement de 40,00 €" in notes["PMT"]
    assert "L441-10" in notes["PMT"]
    assert notes["AAB"] == "Pas d'escompte pour paiement anticipé."
    assert notes["TXD"] == "Option pour le paiement de la taxe d'après les débits."
    assert "Prestations de services" in notes["AAI"]


def test_reverse_charge_xml_has_category_ae_and_its_exemption() -> None:
    # SPEC: BIL-11 — reverse charge: no French VAT, the customer self-assesses
    doc = reverse_charge_invoice()
    xml = cii_xml(doc)
    assert facturx.xml_check_xsd(xml, flavor="factur-x", level="en16931") is True
    root = ET.fromstring(xml)
    tax = root.find(f"{SETTLEMENT}/ram:ApplicableTradeTax", NS)
    assert tax is not None
    assert find(tax, "ram:CategoryCode") == "AE"
    assert find(tax, "ram:RateApplicablePercent") == "0.00"
    assert find(tax, "ram:CalculatedAmount") == "0.00"
    assert find(tax, "ram:BasisAmount") == "274.00"
    assert find(tax, "ram:ExemptionReasonCode") == "VATEX-EU-AE"
    assert find(tax, "ram:ExemptionReason") == "Autoliquidation"
    assert tax.find("ram:DueDateTypeCode", NS) is None  # no VAT-on-debits option here
    line_categories = [
        element.text
        for element in root.iterfind(
            ".//ram:SpecifiedLineTradeSettlement/ram:ApplicableTradeTax/ram:CategoryCode", NS
        )
    ]
    assert line_categories == ["AE", "AE"]
    buyer_party = root.find(f"{AGREEMENT}/ram:BuyerTradeParty", NS)
    assert buyer_party is not None
    assert find(buyer_party, "ram:SpecifiedTaxRegistration/ram:ID") == "BE0403019261"
    legal = buyer_party.find("ram:SpecifiedLegalOrganization/ram:ID", NS)
    assert legal is not None and (legal.text, legal.get("schemeID")) == ("0403019261", "0208")
    assert find(buyer_party, "ram:PostalTradeAddress/ram:CountryID") == "BE"
    assert find(root, f"{TOTALS}/ram:TaxTotalAmount") == "0.00"
    assert find(root, f"{TOTALS}/ram:GrandTotalAmount") == "274.00"
    assert find(root, f"{SETTLEMENT}/ram:SpecifiedTradeSettlementPaymentMeans/ram:TypeCode") == "59"
    assert (
        find(root, f"{SETTLEMENT}/ram:SpecifiedTradePaymentTerms/ram:DirectDebitMandateID")
        == "MDT-7K4Q-9ZPX-M2RA"
    )
    notes = [
        find(note, "ram:Content")
        for note in root.iterfind("rsm:ExchangedDocument/ram:IncludedNote", NS)
    ]
    assert any("283-2" in note and "2006/112/CE" in note for note in notes)


def test_credit_note_xml_references_the_corrected_invoice() -> None:
    # SPEC: BIL-12
    xml = cii_xml(credit_note())
    assert facturx.xml_check_xsd(xml, flavor="factur-x", level="en16931") is True
    root = ET.fromstring(xml)
    assert find(root, "rsm:ExchangedDocument/ram:TypeCode") == "381"
    reference = f"{SETTLEMENT}/ram:InvoiceReferencedDocument"
    assert find(root, f"{reference}/ram:IssuerAssignedID") == "F-2026-09-0042"
    assert find(root, f"{reference}/ram:FormattedIssueDateTime/qdt:DateTimeString") == "20260930"
    assert find(root, f"{TOTALS}/ram:GrandTotalAmount") == "59.76"  # positive on a credit note


def test_an_amount_already_paid_is_written_as_prepaid() -> None:
    # SPEC: BIL-12
    doc = french_invoice(amount_due=Decimal("2.43"))  # 400.00 € paid on account
    root = xml_tree(doc)
    assert find(root, f"{TOTALS}/ram:TotalPrepaidAmount") == "400.00"
    assert find(root, f"{TOTALS}/ram:DuePayableAmount") == "2.43"
    validate_cii(cii_xml(doc))
    assert "Déjà réglé 400,00 €" in pdf_text(render_pdf(doc))


def test_validate_cii_converts_the_schema_error() -> None:
    xml = cii_xml(french_invoice()).replace(b"<ram:TypeCode>380", b"<ram:TypeCodes>380", 1)
    xml = xml.replace(b"</ram:TypeCode>", b"</ram:TypeCodes>", 1)
    with pytest.raises(InvalidInput) as error:
        validate_cii(xml)
    assert error.value.field == "xml"
    assert "TypeCodes" in error.value.details["reason"]


# --------------------------------------------------------------------------------------------
# PDF
# --------------------------------------------------------------------------------------------


def test_french_invoice_pdf_has_every_mandatory_mention() -> None:
    # SPEC: BIL-12 — the invoice document with the French mandatory mentions
    # SPEC: BIL-06 — late-payment rate and the 40 € recovery indemnity
    text = pdf_text(render_pdf(french_invoice()))
    expected = [
        "FACTURE N° F-2026-09-0042",
        # seller identity
        "Opérateur Démo",
        "Forme juridique : SAS",
        "Capital social : 50 000,00 €",
        "RCS Paris 732829320",
        "SIREN : 732829320",
        "SIRET : 73282932000074",
        "N° TVA intracommunautaire : FR44732829320",
        "12 rue de la Paix",
        "75002 Paris",
        # customer identity, with its SIREN (e-invoicing mention since 1 Sept 2026)
        "Cabinet Martin & Associés",
        "Forme juridique : SARL",
        "SIREN : 552008443",
        "SIRET : 55200844300012",
        "N° TVA intracommunautaire : FR19552008443",
        "3 place Bellecour",
        "69002 Lyon",
        # delivery address, different from the customer's
        "Adresse de livraison",
        "Zone artisanale des Prés, bâtiment C, 69800 Saint-Priest",
        # dates
        "Date d'émission 30/09/2026",
        "Date d'échéance 10/10/2026",
        "Période de facturation du 01/09/2026 au 30/09/2026",
        # nature of the supply
        "Nature des opérations Prestations de services",
        # lines: quantity, unit price HT, VAT rate, amount HT
        "Prix unitaire HT",
        "Montant HT",
        "Abonnement Centrex — licence utilisateur 12 unité 24,90 € 20 % 298,80 €",
        "Communications hors forfait vers mobiles 1 437 min 0,015 € 20 % 21,56 €",
        "Numéro Gold — redevance mensuelle 1 mois 15,00 € 20 % 15,00 €",
        # VAT per rate and totals
        "Détail de la TVA",
        "20 % 335,36 € 67,07 €",
        "Total HT 335,36 €",
        "Total TVA 67,07 €",
        "Total TTC 402,43 €",
        "Net à payer 402,43 €",
        # payment terms, penalties, indemnity, discount, VAT option
        "Conditions de paiement : 10 jours à compter de la date d'émission",
        "Mode de paiement : virement SEPA - IBAN : FR1420041010050500013M02606",
        "taux BCE + 10 points",
        "indemnité forfaitaire pour frais de recouvrement de 40,00 €",
        "art. L441-10 du code de commerce",
        "Pas d'escompte pour paiement anticipé",
        "Option pour le paiement de la taxe d'après les débits",
        "Votre référence de commande PO-7781",
    ]
    missing = [mention for mention in expected if mention not in text]
    assert not missing, f"missing {missing} in {text}"
    assert "Autoliquidation" not in text


def test_reverse_charge_pdf_says_autoliquidation_and_cites_the_law() -> None:
    # SPEC: BIL-11 — reverse charge: no VAT charged, the legal references printed
    text = pdf_text(render_pdf(reverse_charge_invoice()))
    for mention in [
        "Autoliquidation : TVA due par le preneur",
        "article 283-2 du CGI",
        "article 196 de la directive 2006/112/CE",
        "Brussels Contact Center SRL",
        "N° d'immatriculation : 0403019261",
        "N° TVA intracommunautaire : BE0403019261",
        "Plateforme CPaaS — abonnement 1 mois 250,00 € 0 % 250,00 €",
        "Autoliquidation 274,00 € 0,00 €",
        "Total TVA 0,00 €",
        "Net à payer 274,00 €",
        "Mode de paiement : prélèvement SEPA",
        "Référence du mandat : MDT-7K4Q-9ZPX-M2RA",
        "indemnité forfaitaire pour frais de recouvrement de 40,00 €",
    ]:
        assert mention in text, mention
    assert "débits" not in text


def test_credit_note_pdf_names_the_original_invoice() -> None:
    # SPEC: BIL-12
    text = pdf_text(render_pdf(credit_note()))
    assert "AVOIR N° A-2026-10-0003" in text
    assert "Facture d'origine n° F-2026-09-0042 du 30/09/2026" in text
    assert "Net à créditer 59,76 €" in text
    assert "Total TVA 9,96 €" in text


def test_english_invoice_pdf_translates_every_mention() -> None:
    # SPEC: BIL-12
    # SPEC: BIL-06
    text = pdf_text(render_pdf(reverse_charge_invoice(lang="en")))
    for mention in [
        "INVOICE No. F-2026-09-0043",
        "Seller",
        "Customer",
        "Legal form: SAS",
        "SIREN: 732829320",
        "Company number: 0403019261",
        "VAT number: BE0403019261",
        "Issue date 2026-09-30",
        "Due date 2026-10-30",
        "Billing period from 2026-09-01 to 2026-09-30",
        "Type of supply Supply of services",
        "Unit price excl. VAT",
        "2,000 min €0.012 0% €24.00",
        "Total excl. VAT €274.00",
        "Total incl. VAT €274.00",
        "Amount due €274.00",
        "Payment terms: 30 jours à compter de la date d'émission",
        "rate BCE + 10 points",
        "fixed recovery indemnity",
        "of €40.00",
        "article 196 of Council Directive 2006/112/EC",
        "article 283-2 of the French CGI",
        "No discount for early payment",
    ]:
        assert mention in text, mention
    assert "Facture" not in text


def test_long_invoices_continue_on_numbered_pages() -> None:
    # SPEC: BIL-12
    line = DocumentLine(
        "Ligne Centrex", Decimal("1"), "MON", Decimal("10.00"), Decimal("20"), "S", Decimal("10.00")
    )
    doc = french_invoice(
        lines=(line,) * 80,
        vat_breakdown=(VatBreakdown("S", Decimal("20"), Decimal("800.00"), Decimal("160.00")),),
        total_net=Decimal("800.00"),
        total_vat=Decimal("160.00"),
        total_gross=Decimal("960.00"),
        amount_due=Decimal("960.00"),
    )
    pdf = render_pdf(doc)
    assert len(PdfReader(io.BytesIO(pdf)).pages) >= 2
    text = pdf_text(pdf)
    assert "Page 2" in text
    assert text.count("Désignation") >= 2  # the header row repeats on each page
    assert "Net à payer 960,00 €" in text


# --------------------------------------------------------------------------------------------
# Factur-X
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("build", [french_invoice, reverse_charge_invoice, credit_note])
def test_facturx_pdf_embeds_the_valid_xml(build: Any) -> None:
    # SPEC: BIL-12 — e-invoice: PDF/A-3 with the EN 16931 XML inside
    doc = build()
    pdf = facturx_pdf(doc)
    filename, xml = facturx.get_xml_from_pdf(pdf, check_xsd=True)
    assert filename == "factur-x.xml"
    assert xml == cii_xml(doc)
    assert facturx.xml_check_xsd(xml, flavor="factur-x", level="en16931") is True
    guideline = "rsm:ExchangedDocumentContext/ram:GuidelineSpecifiedDocumentContextParameter"
    assert find(ET.fromstring(xml), f"{guideline}/ram:ID") == "urn:cen.eu:en16931:2017"
    assert doc.number in pdf_text(pdf)


def test_facturx_pdf_is_marked_pdfa3_with_embedded_fonts() -> None:
    # SPEC: BIL-12
    reader = PdfReader(io.BytesIO(facturx_pdf(french_invoice())))
    root: Any = reader.trailer["/Root"]  # pypdf's objects are loosely typed
    xmp = root["/Metadata"].get_object().get_data().decode()
    assert "<pdfaid:part>3</pdfaid:part>" in xmp
    assert "<pdfaid:conformance>B</pdfaid:conformance>" in xmp
    assert "<fx:ConformanceLevel>EN 16931</fx:ConformanceLevel>" in xmp
    assert "<fx:DocumentFileName>factur-x.xml</fx:DocumentFileName>" in xmp
    intent = root["/OutputIntents"][0].get_object()
    assert intent["/S"] == "/GTS_PDFA1"
    assert intent["/DestOutputProfile"].get_object()["/N"] == 3
    filespec = root["/AF"][0].get_object()
    assert filespec["/AFRelationship"] == "/Data"
    assert filespec["/F"] == "factur-x.xml"
    for page in reader.pages:
        resources: Any = page["/Resources"]
        for font in resources["/Font"].values():
            descriptor = font.get_object()["/FontDescriptor"].get_object()
            assert "/FontFile2" in descriptor  # every font embedded
    info = {key: str(value) for key, value in (reader.metadata or {}).items()}
    assert info["/Producer"] == "pypdf"  # as the XMP says
    assert "/Keywords" not in info
    assert info["/Title"] == "Opérateur Démo: Facture F-2026-09-0042"
