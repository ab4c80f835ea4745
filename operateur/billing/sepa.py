"""SEPA Direct Debit (SDD): pain.008 collection files and the bank's reject reports (BIL-05).

Pure code on frozen dataclasses, no database and no I/O. A use case loads the creditor's settings,
the mandates and the invoices, builds :class:`DirectDebit` values, calls :func:`build_pain008`
and sends the bytes to the bank; later it feeds the bank's status report or debit notification
to :func:`parse_rejects` and re-invoices the rejection fees the contract provides for (BIL-05).

Standards followed
    - ISO 20022 ``pain.008.001.02`` (the 2009 message every SEPA bank takes; the default) and
      ``pain.008.001.08`` (the 2019 message of the current EPC implementation guidelines). The
      XML is built by the ``sepaxml`` library and validated against the ISO XSD it ships.
    - EPC SDD Core Rulebook (EPC016-06) and SDD B2B Rulebook (EPC222-07), and their
      Customer-to-PSP implementation guidelines: the Latin character set, 35-character
      identifiers, 70-character names, 140 characters of unstructured remittance information,
      amounts from 0.01 to 999 999 999.99 EUR, the sequence types FRST/RCUR/OOFF/FNAL, the
      mandate amendment details (``SMNDA``: same mandate, new debtor agent).
    - SEPA creditor identifier (ICS, "identifiant créancier SEPA"): EPC262-08 *Creditor
      Identifier Overview* §3 — country code, two ISO 7064 MOD 97-10 check digits computed over
      the national identifier + country code + ``00`` (the 3-character creditor business code,
      ``ZZZ`` when unused, is left out of the computation), the business code, then the national
      identifier; 35 characters at most. The check is done by python-stdnum (``stdnum.eu.at_02``).
    - Reject, return and refund reason codes: ISO 20022 external code sets
      ``ExternalStatusReason1Code`` / ``ExternalReturnReason1Code`` as used by the EPC guidance
      EPC173-14 *Guidance on reason codes for SDD R-transactions* (see :data:`REASON_CODES`).

Choices worth knowing
    - One file holds one scheme: CORE and B2B are separate schemes with separate implementation
      guidelines and bank agreements, and banks take them in separate files. A batch mixing them
      is refused (the field named is the first debit whose scheme differs); build one file per
      scheme. Inside a file there is one payment information block per (scheme, sequence type,
      collection date), in the order the debits first use it.
    - Identifiers (message id, end-to-end id, mandate reference) must use the EPC Latin set
      without spaces, must not start or end with ``/`` nor contain ``//``; invoice numbers go
      unchanged into the remittance information and must use the Latin set (spaces allowed).
      Names are transliterated to the Latin set (``é`` → ``e``, ``&`` → ``+``; other characters
      become spaces) and must then fit in 70 characters: nothing is truncated silently.
    - A debtor whose account is in a SEPA country outside the EEA (Switzerland, the United
      Kingdom, Monaco, San Marino, …) needs the BIC of the bank and a postal address (SDD
      rulebooks, attributes AT-09 and AT-13).
    - Sequence types: FRST then RCUR for a recurrent mandate (:func:`next_sequence_type`); after
      a change of the debtor's bank (``SMNDA``) the next collection is a FRST again.
"""

from __future__ import annotations

import re
import string
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, fields
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from functools import cache
from importlib.resources import files
from types import MappingProxyType
from typing import Any, Final, Literal, TypeVar, get_args

import xmlschema
from schwifty import IBAN
from sepaxml import SepaDD  # type: ignore[import-untyped]
from stdnum import exceptions as stdnum_errors
from stdnum.eu import at_02
from text_unidecode import unidecode  # type: ignore[import-untyped]

from operateur.domain.calendar import PARIS
from operateur.domain.identifiers import validate_bic, validate_iban
from operateur.domain.money import parse_amount
from operateur.errors import Conflict, InvalidInput
from operateur.i18n import Text

__all__ = [
    "CURRENCY",
    "MAX_AMOUNT",
    "REASON_CODES",
    "Creditor",
    "DebtorAddress",
    "DirectDebit",
    "Mandate",
    "MandateAmendment",
    "Pain008Schema",
    "Reject",
    "Scheme",
    "SequenceType",
    "build_pain008",
    "next_sequence_type",
    "parse_rejects",
    "reason_text",
    "to_sepa_latin",
    "validate_creditor_id",
    "validate_pain008",
]

CURRENCY: Final = "EUR"
MIN_AMOUNT: Final = Decimal("0.01")  # EPC SDD rulebooks, AT-06
MAX_AMOUNT: Final = Decimal("999999999.99")  # EPC SDD rulebooks, AT-06
NAME_MAX: Final = 70  # EPC C2PSP IG: Max70Text names (AT-03 creditor, AT-14 debtor)
ID_MAX: Final = 35  # ISO 20022 Max35Text: MsgId, PmtInfId, EndToEndId, MndtId, creditor id
REMITTANCE_MAX: Final = 140  # EPC C2PSP IG: one occurrence of Ustrd, Max140Text (AT-22)
ADDRESS_LINES_MAX: Final = 2  # EPC C2PSP IG: at most two AdrLine of 70 characters

Pain008Schema = Literal["pain.008.001.02", "pain.008.001.08"]
SCHEMAS: Final[tuple[str, ...]] = get_args(Pain008Schema)
_ISO_NS_PREFIX: Final = "urn:iso:std:iso:20022:tech:xsd:"

# EPC C2PSP implementation guidelines §1.4 "Character set": the Latin characters every SEPA bank
# must accept.
SEPA_CHARACTERS: Final = frozenset(string.ascii_letters + string.digits + "/-?:().,'+ ")
_IDENTIFIER = re.compile(r"[A-Za-z0-9/\-?:().,'+]+")
_TEXT = re.compile(r"[A-Za-z0-9/\-?:().,'+ ]+")
_CREDITOR_ID = re.compile(r"[A-Z]{2}[0-9]{2}[A-Z0-9]{3}[A-Z0-9]{1,28}")  # EPC262-08 §3
_COUNTRY = re.compile(r"[A-Z]{2}")

# The European Economic Area: the 27 EU member states plus Iceland, Liechtenstein and Norway.
# SEPA countries outside it (CH, GB, MC, SM, VA, AD, …) need the debtor's BIC and address.
EEA_COUNTRIES: Final = frozenset(
    {
        *("AT", "BE", "BG", "CY", "CZ", "DE", "DK", "EE", "ES", "FI", "FR", "GR", "HR", "HU"),
        *("IE", "IT", "LT", "LU", "LV", "MT", "NL", "PL", "PT", "RO", "SE", "SI", "SK"),
        *("IS", "LI", "NO"),
    }
)


class Scheme(StrEnum):
    """The SEPA direct debit scheme of a mandate (``LclInstrm/Cd``)."""

    CORE = "CORE"
    B2B = "B2B"


class SequenceType(StrEnum):
    """The sequence type of a collection (``SeqTp``)."""

    FIRST = "FRST"
    RECURRENT = "RCUR"
    ONE_OFF = "OOFF"
    FINAL = "FNAL"


# --- errors and field checks -----------------------------------------------------------------


def _invalid(fr: str, en: str, *, field: str, **details: Any) -> InvalidInput:
    return InvalidInput(Text(fr=fr, en=en), field=field, details=details)


def _require_str(value: object, field: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise _invalid(
            "Ce champ est obligatoire.", "This field is required.", field=field, reason="required"
        )
    return value.strip()


def _check_identifier(value: object, field: str, *, max_length: int = ID_MAX) -> str:
    """An EPC identifier: Latin set without spaces, no leading/trailing ``/``, no ``//``."""
    text = _require_str(value, field)
    if len(text) > max_length:
        raise _invalid(
            "« {value} » dépasse {max} caractères.",
            "“{value}” is longer than {max} characters.",
            field=field,
            value=text,
            max=max_length,
            reason="too_long",
        )
    if (
        not _IDENTIFIER.fullmatch(text)
        or text.startswith("/")
        or text.endswith("/")
        or ("//" in text)
    ):
        raise _invalid(
            "« {value} » contient des caractères non permis par SEPA (lettres, chiffres et "
            "/ - ? : ( ) . , ' + seulement, sans espace, sans / au début ou à la fin ni //).",
            "“{value}” contains characters SEPA does not allow (letters, digits and "
            "/ - ? : ( ) . , ' + only, no space, no / at either end and no //).",
            field=field,
            value=text,
            reason="bad_characters",
        )
    return text


def _check_text(value: object, field: str, *, max_length: int) -> str:
    """Free text that must already be in the EPC Latin set (spaces allowed)."""
    text = _require_str(value, field)
    if len(text) > max_length:
        raise _invalid(
            "« {value} » dépasse {max} caractères.",
            "“{value}” is longer than {max} characters.",
            field=field,
            value=text,
            max=max_length,
            reason="too_long",
        )
    if not _TEXT.fullmatch(text):
        raise _invalid(
            "« {value} » contient des caractères non permis par SEPA (lettres non accentuées, "
            "chiffres, espace et / - ? : ( ) . , ' + seulement).",
            "“{value}” contains characters SEPA does not allow (unaccented letters, digits, "
            "space and / - ? : ( ) . , ' + only).",
            field=field,
            value=text,
            reason="bad_characters",
        )
    return text


def to_sepa_latin(text: str) -> str:
    """``text`` transliterated to the EPC Latin set: ``Société Générale & Cie`` becomes
    ``Societe Generale + Cie``, ``n°`` becomes ``no``; any other character becomes a space; runs
    of spaces collapse."""
    chars: list[str] = []
    for ch in unidecode(text.replace("°", "o")):  # "n°" is "no", not unidecode's "ndeg"
        if ch in SEPA_CHARACTERS:
            chars.append(ch)
        elif ch == "&":
            chars.append("+")
        else:
            chars.append(" ")
    return " ".join("".join(chars).split())


def _check_name(value: object, field: str, *, max_length: int = NAME_MAX) -> str:
    raw = _require_str(value, field)
    name = to_sepa_latin(raw)
    if not name:
        raise _invalid(
            "« {value} » ne contient aucun caractère utilisable en SEPA.",
            "“{value}” has no character SEPA can carry.",
            field=field,
            value=raw,
            reason="bad_characters",
        )
    if len(name) > max_length:
        raise _invalid(
            "« {value} » dépasse {max} caractères.",
            "“{value}” is longer than {max} characters.",
            field=field,
            value=raw,
            max=max_length,
            reason="too_long",
        )
    return name


def _check_date(value: object, field: str) -> date:
    if isinstance(value, datetime) or not isinstance(value, date):
        raise _invalid(
            "Une date (sans heure) est attendue.",
            "A date (without a time) is expected.",
            field=field,
            reason="not_a_date",
        )
    return value


def _sepa_iban(value: object, field: str) -> str:
    """A valid IBAN (:func:`validate_iban`) of a country in the SEPA schemes' scope."""
    iban = validate_iban(_require_str(value, field), field=field)
    if not IBAN(iban).in_sepa_zone:
        raise _invalid(
            "L'IBAN « {value} » n'est pas dans la zone SEPA.",
            "IBAN “{value}” is outside the SEPA area.",
            field=field,
            value=iban,
            reason="outside_sepa",
        )
    return iban


def validate_creditor_id(raw: str, *, field: str = "creditor_id") -> str:
    """The compact SEPA creditor identifier (ICS), e.g. ``FR72ZZZ123456``.

    EPC262-08 §3: country code, 2 check digits (ISO 7064 MOD 97-10 over the national identifier,
    the country code and ``00``; checked by ``stdnum.eu.at_02``), a 3-character creditor business
    code (``ZZZ`` when unused) and the national identifier; 35 characters at most.
    """
    value = _require_str(raw, field)
    compact = at_02.compact(value)
    if len(compact) > ID_MAX or not _CREDITOR_ID.fullmatch(compact):
        raise _invalid(
            "Identifiant créancier SEPA (ICS) invalide : « {value} » n'a pas la forme "
            "pays + 2 chiffres de contrôle + code activité + identifiant national (35 "
            "caractères au plus).",
            "Invalid SEPA creditor identifier: “{value}” is not country + 2 check digits + "
            "business code + national identifier (35 characters at most).",
            field=field,
            value=value,
            reason="bad_format",
        )
    try:
        return str(at_02.validate(compact))
    except stdnum_errors.ValidationError:
        raise _invalid(
            "Identifiant créancier SEPA (ICS) invalide : la clé de contrôle de « {value} » est "
            "fausse.",
            "Invalid SEPA creditor identifier: the check digits of “{value}” are wrong.",
            field=field,
            value=value,
            reason="bad_checksum",
        ) from None


def _set(obj: object, name: str, value: object) -> None:
    """Store a normalised value on a frozen dataclass during ``__post_init__``."""
    object.__setattr__(obj, name, value)


# --- values ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Creditor:
    """The operator as SEPA creditor: its name, account, bank and creditor identifier (ICS).

    Values are checked and normalised when built (compact IBAN, BIC and ICS; the name
    transliterated to the EPC Latin set); a bad one raises :class:`InvalidInput` naming it.
    """

    name: str
    iban: str
    bic: str
    creditor_id: str

    def __post_init__(self) -> None:
        _set(self, "name", _check_name(self.name, "name"))
        _set(self, "iban", _sepa_iban(self.iban, "iban"))
        _set(self, "bic", validate_bic(self.bic, field="bic"))
        _set(self, "creditor_id", validate_creditor_id(self.creditor_id, field="creditor_id"))


@dataclass(frozen=True)
class DebtorAddress:
    """A postal address as the EPC guidelines take it: a country and one or two lines."""

    country: str
    lines: tuple[str, ...]

    def __post_init__(self) -> None:
        country = _require_str(self.country, "country").upper()
        if not _COUNTRY.fullmatch(country):
            raise _invalid(
                "Code pays ISO 3166 à deux lettres attendu, pas « {value} ».",
                "A two-letter ISO 3166 country code is expected, not “{value}”.",
                field="country",
                value=self.country,
                reason="bad_format",
            )
        if isinstance(self.lines, str) or not 1 <= len(self.lines) <= ADDRESS_LINES_MAX:
            raise _invalid(
                "Une ou deux lignes d'adresse sont attendues.",
                "One or two address lines are expected.",
                field="lines",
                reason="bad_count",
            )
        lines = tuple(
            _check_name(line, f"lines[{i}]", max_length=NAME_MAX)
            for i, line in enumerate(self.lines)
        )
        _set(self, "country", country)
        _set(self, "lines", lines)


@dataclass(frozen=True)
class MandateAmendment:
    """What changed in a mandate since the last collection (``AmdmntInd`` + ``AmdmntInfDtls``).

    Sent once, with the first collection after the change. ``original_reference``: the mandate
    reference was changed by the creditor. ``original_creditor_id``: the creditor identifier
    changed (e.g. after a merger). ``original_iban``: the debtor moved to another account at the
    same bank. ``new_debtor_bank``: the debtor moved to another bank (``SMNDA``, "same mandate
    new debtor agent"); the collection is then a FRST. ``original_iban`` and ``new_debtor_bank``
    exclude each other.
    """

    original_reference: str | None = None
    original_creditor_id: str | None = None
    original_iban: str | None = None
    new_debtor_bank: bool = False

    def __post_init__(self) -> None:
        if self.original_reference is not None:
            _set(
                self,
                "original_reference",
                _check_identifier(self.original_reference, "original_reference"),
            )
        if self.original_creditor_id is not None:
            _set(
                self,
                "original_creditor_id",
                validate_creditor_id(self.original_creditor_id, field="original_creditor_id"),
            )
        if self.original_iban is not None:
            _set(self, "original_iban", validate_iban(self.original_iban, field="original_iban"))
        if self.original_iban is not None and self.new_debtor_bank:
            raise _invalid(
                "Un changement de banque (SMNDA) s'indique sans l'ancien IBAN.",
                "A change of bank (SMNDA) is given without the former IBAN.",
                field="original_iban",
                reason="conflicting",
            )
        if (
            self.original_reference is None
            and self.original_creditor_id is None
            and self.original_iban is None
            and not self.new_debtor_bank
        ):
            raise _invalid(
                "Un amendement de mandat doit indiquer ce qui a changé.",
                "A mandate amendment must say what changed.",
                field="amendment",
                reason="empty",
            )


@dataclass(frozen=True)
class Mandate:
    """A signed SEPA direct debit mandate, as used by one collection.

    ``reference`` is the unique mandate reference (RUM, at most 35 characters of the SEPA set),
    ``sequence_type`` the sequence type of the collection it is used for (see
    :func:`next_sequence_type`). ``bic`` is optional inside the EEA; an account outside the EEA
    needs ``bic`` and ``debtor_address``. Values are checked and normalised when built.
    """

    reference: str
    signature_date: date
    scheme: Scheme
    sequence_type: SequenceType
    debtor_name: str
    iban: str
    bic: str | None = None
    debtor_address: DebtorAddress | None = None
    amendment: MandateAmendment | None = None

    def __post_init__(self) -> None:
        _set(self, "reference", _check_identifier(self.reference, "reference"))
        _check_date(self.signature_date, "signature_date")
        _set(self, "scheme", _enum(Scheme, self.scheme, "scheme"))
        _set(self, "sequence_type", _enum(SequenceType, self.sequence_type, "sequence_type"))
        _set(self, "debtor_name", _check_name(self.debtor_name, "debtor_name"))
        _set(self, "iban", _sepa_iban(self.iban, "iban"))
        if self.bic is not None:
            _set(self, "bic", validate_bic(self.bic, field="bic"))
        if self.debtor_address is not None and not isinstance(self.debtor_address, DebtorAddress):
            raise _invalid(
                "Adresse du débiteur invalide.",
                "Invalid debtor address.",
                field="debtor_address",
                reason="bad_type",
            )
        if self.amendment is not None:
            self._check_amendment(self.amendment)
        country = self.iban[:2]
        if country not in EEA_COUNTRIES:
            # SDD rulebooks AT-13 (BIC of the debtor bank) and AT-09 (debtor address): mandatory
            # when the debtor's bank is in a SEPA country outside the EEA.
            if self.bic is None:
                raise _invalid(
                    "Le BIC est obligatoire pour un compte hors de l'EEE ({country}).",
                    "The BIC is required for an account outside the EEA ({country}).",
                    field="bic",
                    country=country,
                    reason="required_outside_eea",
                )
            if self.debtor_address is None:
                raise _invalid(
                    "L'adresse du débiteur est obligatoire pour un compte hors de l'EEE "
                    "({country}).",
                    "The debtor's address is required for an account outside the EEA ({country}).",
                    field="debtor_address",
                    country=country,
                    reason="required_outside_eea",
                )

    def _check_amendment(self, amendment: object) -> None:
        if not isinstance(amendment, MandateAmendment):
            raise _invalid(
                "Amendement de mandat invalide.",
                "Invalid mandate amendment.",
                field="amendment",
                reason="bad_type",
            )
        if amendment.original_reference == self.reference:
            raise _invalid(
                "L'ancienne référence de mandat est identique à la nouvelle.",
                "The former mandate reference is the same as the new one.",
                field="amendment.original_reference",
                reason="unchanged",
            )
        if amendment.original_iban == self.iban:
            raise _invalid(
                "L'ancien IBAN est identique au nouveau.",
                "The former IBAN is the same as the new one.",
                field="amendment.original_iban",
                reason="unchanged",
            )

    def identity(self) -> tuple[tuple[str, object], ...]:
        """What every debit on one mandate reference must agree on: all but the sequence type
        and the amendment (sent with the first collection after the change only)."""
        return tuple(
            (f.name, getattr(self, f.name))
            for f in fields(self)
            if f.name not in ("sequence_type", "amendment")
        )


_E = TypeVar("_E", bound=StrEnum)


def _enum(kind: type[_E], value: object, field: str) -> _E:
    try:
        if not isinstance(value, str):
            raise ValueError(value)
        return kind(value)
    except ValueError:
        raise _invalid(
            "Valeur « {value} » inconnue ; valeurs permises : {allowed}.",
            "Unknown value “{value}”; allowed values: {allowed}.",
            field=field,
            value=str(value),
            allowed=", ".join(member.value for member in kind),
            reason="unknown_value",
        ) from None


@dataclass(frozen=True)
class DirectDebit:
    """One collection: an invoice to collect under a mandate on a date.

    ``end_to_end_id`` is the reference the bank gives back in rejects (at most 35 characters of
    the SEPA set, unique in a file); ``invoice_number`` goes into the remittance information;
    ``amount`` is a ``Decimal`` in euros, from 0.01 to 999 999 999.99 with at most 2 decimals.
    """

    end_to_end_id: str
    invoice_number: str
    amount: Decimal
    mandate: Mandate
    collection_date: date

    def __post_init__(self) -> None:
        _set(self, "end_to_end_id", _check_identifier(self.end_to_end_id, "end_to_end_id"))
        _set(
            self,
            "invoice_number",
            _check_text(self.invoice_number, "invoice_number", max_length=REMITTANCE_MAX),
        )
        _set(self, "amount", _check_amount(self.amount, "amount"))
        if not isinstance(self.mandate, Mandate):
            raise _invalid(
                "Mandat manquant ou invalide.",
                "Missing or invalid mandate.",
                field="mandate",
                reason="bad_type",
            )
        _check_date(self.collection_date, "collection_date")
        if self.collection_date < self.mandate.signature_date:
            raise _invalid(
                "La date de prélèvement ({collection}) précède la signature du mandat "
                "({signature}).",
                "The collection date ({collection}) is before the mandate was signed "
                "({signature}).",
                field="collection_date",
                collection=self.collection_date.isoformat(),
                signature=self.mandate.signature_date.isoformat(),
                reason="before_signature",
            )

    @property
    def amount_cents(self) -> int:
        """The amount in integer cents, exactly (``Decimal("12.30")`` → ``1230``)."""
        return _to_cents(self.amount)


def _check_amount(value: object, field: str) -> Decimal:
    if not isinstance(value, str | int | Decimal) or isinstance(value, bool):
        raise _invalid(
            "Montant invalide : un nombre décimal exact est attendu (pas un flottant).",
            "Invalid amount: an exact decimal number is expected (not a float).",
            field=field,
            reason="bad_type",
        )
    amount = parse_amount(value, field=field)
    if not MIN_AMOUNT <= amount <= MAX_AMOUNT:
        raise _invalid(
            "Montant invalide : il doit être compris entre 0,01 et 999 999 999,99 €.",
            "Invalid amount: it must be between €0.01 and €999,999,999.99.",
            field=field,
            value=str(value),
            reason="out_of_range",
        )
    return amount


def _to_cents(amount: Decimal) -> int:
    cents = amount.scaleb(2)
    if cents != cents.to_integral_value():
        raise ValueError(f"{amount} has more than 2 decimal places")
    return int(cents)


@dataclass(frozen=True)
class Reject:
    """A collection the bank did not pay: refused before settlement (pain.002) or returned,
    refunded or reversed after it (camt.054). ``reason`` is the meaning of ``reason_code`` in
    French and English (:func:`reason_text`); ``additional_info`` is the bank's free text."""

    end_to_end_id: str
    amount: Decimal
    reason_code: str
    reason: Text
    mandate_reference: str | None = None
    additional_info: str | None = None


# --- sequence types ------------------------------------------------------------------------


def next_sequence_type(mandate: Mandate, *, previously_collected: bool) -> SequenceType:
    """The sequence type of the next collection under ``mandate``.

    A recurrent mandate (``FRST`` or ``RCUR``) gives ``FRST`` for its first collection and
    ``RCUR`` afterwards — and ``FRST`` again with the first collection after the debtor changed
    bank (amendment ``new_debtor_bank``, ``SMNDA``). A one-off mandate (``OOFF``) gives ``OOFF``
    once; a mandate marked for its final collection (``FNAL``) gives ``FNAL`` after at least one
    collection. Anything else is a :class:`Conflict` naming ``sequence_type``.
    """
    sequence = mandate.sequence_type
    if sequence is SequenceType.ONE_OFF:
        if previously_collected:
            raise Conflict(
                Text(
                    fr="Le mandat ponctuel {reference} a déjà servi : un nouveau mandat est "
                    "nécessaire.",
                    en="One-off mandate {reference} has already been used: a new mandate is "
                    "needed.",
                ),
                field="sequence_type",
                details={"reference": mandate.reference, "reason": "one_off_used"},
            )
        return SequenceType.ONE_OFF
    changed_bank = mandate.amendment is not None and mandate.amendment.new_debtor_bank
    if not previously_collected:
        if sequence is SequenceType.FINAL:
            raise Conflict(
                Text(
                    fr="Le mandat {reference} n'a jamais servi : son dernier prélèvement ne "
                    "peut pas être aussi le premier.",
                    en="Mandate {reference} has never been used: its final collection cannot "
                    "also be its first.",
                ),
                field="sequence_type",
                details={"reference": mandate.reference, "reason": "final_without_first"},
            )
        return SequenceType.FIRST
    if changed_bank:
        return SequenceType.FIRST
    if sequence is SequenceType.FINAL:
        return SequenceType.FINAL
    return SequenceType.RECURRENT


# --- pain.008 ------------------------------------------------------------------------------


def build_pain008(
    creditor: Creditor,
    debits: Sequence[DirectDebit],
    *,
    message_id: str,
    created_at: datetime,
    batch_booking: bool = True,
    schema: Pain008Schema = "pain.008.001.02",
) -> bytes:
    """A SEPA direct debit initiation (``pain.008.001.02`` by default, or ``.001.08``).

    ``message_id`` (``MsgId``, at most 35 characters) must be unique per creditor: banks refuse
    a file whose id they have seen. ``created_at`` is a timezone-aware time, written as Paris
    local time. ``batch_booking`` asks the bank for one booking per payment block (``True``) or
    one per collection. There is one payment information block per (scheme, sequence type,
    collection date); its id is ``<message_id>-<n>``.

    Every debit is checked before anything is built; the first problem raises
    :class:`InvalidInput` whose ``field`` names the debit and its field
    (``debits[2].mandate.sequence_type``) and whose ``details`` carry ``debit`` (the index) and
    ``end_to_end_id``. The document returned has been validated against the ISO XSD.
    """
    if not isinstance(creditor, Creditor):
        raise _invalid(
            "Créancier manquant ou invalide.",
            "Missing or invalid creditor.",
            field="creditor",
            reason="bad_type",
        )
    if schema not in SCHEMAS:
        raise _invalid(
            "Format « {value} » non pris en charge ; formats permis : {allowed}.",
            "Unsupported format “{value}”; allowed formats: {allowed}.",
            field="schema",
            value=str(schema),
            allowed=", ".join(SCHEMAS),
            reason="unknown_value",
        )
    message_id = _check_identifier(message_id, "message_id")
    if not isinstance(created_at, datetime) or created_at.utcoffset() is None:
        raise ValueError("created_at must be a timezone-aware datetime")
    batch = [] if isinstance(debits, str | bytes) else list(debits)
    if not batch:
        raise _invalid(
            "Aucun prélèvement à émettre.",
            "No direct debit to send.",
            field="debits",
            reason="empty",
        )
    _check_batch(creditor, batch, created_at.astimezone(PARIS).date())
    scheme = batch[0].mandate.scheme

    config: dict[str, Any] = {
        "name": creditor.name,
        "IBAN": creditor.iban,
        "BIC": creditor.bic,
        "batch": True,  # sepaxml groups by (sequence type, date); BtchBookg is set below
        "creditor_id": creditor.creditor_id,
        "currency": CURRENCY,
        "instrument": scheme.value,
    }
    sepa = SepaDD(config, schema=schema, clean=True)
    for debit in batch:
        sepa.add_payment(_payment(debit))
    # Validation happens once, below, on the final document: the group header (message id,
    # creation time), the block ids, the booking flag and the amendments are set after export.
    raw: bytes = sepa.export(validate=False)

    root = _parse_xml(raw)
    ns = _ISO_NS_PREFIX + schema
    _finish_document(root, ns, message_id=message_id, created_at=created_at)
    _set_batch_booking(root, ns, batch_booking)
    _add_amendments(root, ns, batch)
    # Written like sepaxml does: plain tags under a default namespace declared on the root (no
    # prefix, and no reliance on ElementTree's process-wide namespace registry).
    for element in root.iter():
        element.tag = _local(element.tag)
    root.set("xmlns", ns)
    ET.indent(root, space="  ")
    body: bytes = ET.tostring(root, encoding="utf-8", xml_declaration=False)
    document = b'<?xml version="1.0" encoding="UTF-8"?>\n' + body
    validate_pain008(document)
    _check_totals(document, ns, batch)
    return document


def _debit_error(exc: InvalidInput, index: int, debit: DirectDebit) -> InvalidInput:
    details = dict(exc.details)
    details.setdefault("debit", index)
    details.setdefault("end_to_end_id", debit.end_to_end_id)
    field = f"debits[{index}].{exc.field}" if exc.field else f"debits[{index}]"
    return InvalidInput(exc.text, code=exc.code, field=field, details=details)


def _check_batch(creditor: Creditor, debits: list[DirectDebit], created_on: date) -> None:
    """Refuse the whole batch at its first inconsistent debit (see :func:`build_pain008`)."""
    seen_e2e: dict[str, int] = {}
    by_mandate: dict[str, list[int]] = {}
    for index, debit in enumerate(debits):
        if not isinstance(debit, DirectDebit):
            raise _invalid(
                "Le prélèvement n° {debit} n'est pas un DirectDebit.",
                "Direct debit #{debit} is not a DirectDebit.",
                field=f"debits[{index}]",
                debit=index,
                reason="bad_type",
            )
        try:
            _check_debit(creditor, debits, index, created_on, seen_e2e)
        except InvalidInput as exc:
            raise _debit_error(exc, index, debit) from None
        seen_e2e[debit.end_to_end_id] = index
        by_mandate.setdefault(debit.mandate.reference, []).append(index)
    for indexes in by_mandate.values():
        _check_mandate_sequence(debits, indexes)


def _check_debit(
    creditor: Creditor,
    debits: list[DirectDebit],
    index: int,
    created_on: date,
    seen_e2e: Mapping[str, int],
) -> None:
    debit = debits[index]
    mandate = debit.mandate
    first_scheme = debits[0].mandate.scheme
    if mandate.scheme is not first_scheme:
        raise _invalid(
            "Schéma {scheme} différent de celui du fichier ({expected}) : CORE et B2B se "
            "remettent dans des fichiers distincts.",
            "Scheme {scheme} differs from the file's ({expected}): CORE and B2B go in separate "
            "files.",
            field="mandate.scheme",
            scheme=mandate.scheme.value,
            expected=first_scheme.value,
            reason="mixed_schemes",
        )
    if debit.end_to_end_id in seen_e2e:
        raise _invalid(
            "Référence de bout en bout « {value} » déjà utilisée par le prélèvement n° {other}.",
            "End-to-end id “{value}” is already used by direct debit #{other}.",
            field="end_to_end_id",
            value=debit.end_to_end_id,
            other=seen_e2e[debit.end_to_end_id],
            reason="duplicate",
        )
    if debit.collection_date <= created_on:
        raise _invalid(
            "La date de prélèvement ({collection}) doit suivre la date du fichier ({created}).",
            "The collection date ({collection}) must come after the file's date ({created}).",
            field="collection_date",
            collection=debit.collection_date.isoformat(),
            created=created_on.isoformat(),
            reason="too_early",
        )
    if mandate.signature_date > created_on:
        raise _invalid(
            "Le mandat est daté du {signature}, après la date du fichier ({created}).",
            "The mandate is dated {signature}, after the file's date ({created}).",
            field="mandate.signature_date",
            signature=mandate.signature_date.isoformat(),
            created=created_on.isoformat(),
            reason="signed_in_future",
        )
    if mandate.iban == creditor.iban:
        raise _invalid(
            "Le compte du débiteur est celui du créancier.",
            "The debtor's account is the creditor's own account.",
            field="mandate.iban",
            value=mandate.iban,
            reason="creditor_account",
        )
    amendment = mandate.amendment
    if amendment is not None:
        if amendment.original_creditor_id == creditor.creditor_id:
            raise _invalid(
                "L'ancien identifiant créancier est identique à l'actuel.",
                "The former creditor identifier is the same as the current one.",
                field="mandate.amendment.original_creditor_id",
                reason="unchanged",
            )
        if amendment.new_debtor_bank and mandate.sequence_type is not SequenceType.FIRST:
            raise _invalid(
                "Après un changement de banque du débiteur (SMNDA), le prélèvement est un FRST, "
                "pas un {sequence}.",
                "After the debtor changed bank (SMNDA) the collection is a FRST, not a {sequence}.",
                field="mandate.sequence_type",
                sequence=mandate.sequence_type.value,
                reason="smnda_not_first",
            )


def _check_mandate_sequence(debits: list[DirectDebit], indexes: list[int]) -> None:
    """Several debits on one mandate reference: same mandate data, and a coherent sequence."""
    first = debits[indexes[0]]
    identity = dict(first.mandate.identity())
    firsts: list[int] = []
    finals: list[int] = []
    for index in indexes:
        debit = debits[index]
        mandate = debit.mandate
        for name, value in mandate.identity():
            if value != identity[name]:
                raise _debit_error(
                    _invalid(
                        "Le mandat {reference} a ici une autre valeur de « {name} » que dans le "
                        "prélèvement n° {other}.",
                        "Mandate {reference} has another “{name}” here than in direct debit "
                        "#{other}.",
                        field=f"mandate.{name}",
                        reference=mandate.reference,
                        name=name,
                        other=indexes[0],
                        reason="mandate_mismatch",
                    ),
                    index,
                    debit,
                )
        sequence = mandate.sequence_type
        if sequence is SequenceType.FIRST:
            firsts.append(index)
        elif sequence is SequenceType.FINAL:
            finals.append(index)
    one_offs = [i for i in indexes if debits[i].mandate.sequence_type is SequenceType.ONE_OFF]
    if one_offs and len(indexes) > 1:
        # Name the debit that makes the second use: the later of the first two.
        raise _sequence_error(
            debits,
            indexes[1],
            "un mandat ponctuel (OOFF) ne sert qu'à un seul prélèvement",
            "a one-off (OOFF) mandate is used for a single collection",
            "one_off_reused",
        )
    if len(firsts) > 1:
        raise _sequence_error(
            debits,
            firsts[1],
            "le mandat a déjà un premier prélèvement (FRST) dans ce fichier",
            "the mandate already has a first collection (FRST) in this file",
            "duplicate_first",
        )
    if len(finals) > 1:
        raise _sequence_error(
            debits,
            finals[1],
            "le mandat a déjà un dernier prélèvement (FNAL) dans ce fichier",
            "the mandate already has a final collection (FNAL) in this file",
            "duplicate_final",
        )
    if firsts:
        first_date = debits[firsts[0]].collection_date
        for index in indexes:
            if index != firsts[0] and debits[index].collection_date <= first_date:
                raise _sequence_error(
                    debits,
                    index,
                    "ce prélèvement n'est pas postérieur au premier (FRST) du même mandat",
                    "this collection is not after the first (FRST) of the same mandate",
                    "before_first",
                )
    if finals:
        final_date = debits[finals[0]].collection_date
        for index in indexes:
            if index != finals[0] and debits[index].collection_date >= final_date:
                raise _sequence_error(
                    debits,
                    index,
                    "ce prélèvement n'est pas antérieur au dernier (FNAL) du même mandat",
                    "this collection is not before the final one (FNAL) of the same mandate",
                    "after_final",
                )


def _sequence_error(
    debits: list[DirectDebit], index: int, fr: str, en: str, reason: str
) -> InvalidInput:
    debit = debits[index]
    return _debit_error(
        _invalid(
            "Type de séquence {sequence} incohérent pour le mandat {reference} : " + fr + ".",
            "Inconsistent sequence type {sequence} for mandate {reference}: " + en + ".",
            field="mandate.sequence_type",
            sequence=debit.mandate.sequence_type.value,
            reference=debit.mandate.reference,
            reason=reason,
        ),
        index,
        debit,
    )


def _payment(debit: DirectDebit) -> dict[str, Any]:
    """The ``sepaxml`` payment dict of one debit (amount in integer cents)."""
    mandate = debit.mandate
    payment: dict[str, Any] = {
        "name": mandate.debtor_name,
        "IBAN": mandate.iban,
        "amount": debit.amount_cents,
        "type": mandate.sequence_type.value,
        "collection_date": debit.collection_date,
        "mandate_id": mandate.reference,
        "mandate_date": mandate.signature_date,
        "description": debit.invoice_number,
        "endtoend_id": debit.end_to_end_id,
    }
    if mandate.bic is not None:
        payment["BIC"] = mandate.bic
    if mandate.debtor_address is not None:
        payment["address"] = {
            "country": mandate.debtor_address.country,
            "lines": list(mandate.debtor_address.lines),
        }
    return payment


def _q(ns: str, path: str) -> str:
    """``GrpHdr/MsgId`` → ``{ns}GrpHdr/{ns}MsgId`` for ElementTree's ``find``."""
    return "/".join(f"{{{ns}}}{part}" for part in path.split("/"))


def _finish_document(
    root: ET.Element,
    ns: str,
    *,
    message_id: str,
    created_at: datetime,
) -> None:
    """Our message id and creation time, and deterministic payment block ids."""
    initiation = _found(root, ns, "CstmrDrctDbtInitn")
    _found(initiation, ns, "GrpHdr/MsgId").text = message_id
    _found(initiation, ns, "GrpHdr/CreDtTm").text = created_at.astimezone(PARIS).strftime(
        "%Y-%m-%dT%H:%M:%S"
    )
    blocks = initiation.findall(_q(ns, "PmtInf"))
    for number, block in enumerate(blocks, start=1):
        suffix = f"-{number}"
        _found(block, ns, "PmtInfId").text = message_id[: ID_MAX - len(suffix)] + suffix


def _set_batch_booking(root: ET.Element, ns: str, batch_booking: bool) -> None:
    for flag in root.iter(f"{{{ns}}}BtchBookg"):
        flag.text = "true" if batch_booking else "false"


def _found(parent: ET.Element, ns: str, path: str) -> ET.Element:
    element = parent.find(_q(ns, path))
    if element is None:  # sepaxml's own output: a missing element is a bug, not bad input
        raise RuntimeError(f"sepaxml output lacks {path}")
    return element


def _add_amendments(root: ET.Element, ns: str, debits: list[DirectDebit]) -> None:
    """``AmdmntInd`` and ``AmdmntInfDtls`` after ``DtOfSgntr`` for amended mandates (sepaxml
    does not write them); the element order follows ``MandateRelatedInformation6`` (.02) and
    ``MandateRelatedInformation14`` (.08), identical for these elements. The amendment goes
    with the earliest collection of the mandate in the file only: it is news once."""
    earliest: dict[str, DirectDebit] = {}
    for debit in debits:
        if debit.mandate.amendment is None:
            continue
        known = earliest.get(debit.mandate.reference)
        if known is None or debit.collection_date < known.collection_date:
            earliest[debit.mandate.reference] = debit
    amended = {d.end_to_end_id: d.mandate.amendment for d in earliest.values()}
    if not amended:
        return
    for tx in root.iter(f"{{{ns}}}DrctDbtTxInf"):
        amendment = amended.get(_found(tx, ns, "PmtId/EndToEndId").text or "")
        if amendment is None:
            continue
        info = _found(tx, ns, "DrctDbtTx/MndtRltdInf")
        position = list(info).index(_found(info, ns, "DtOfSgntr")) + 1
        indicator = ET.Element(f"{{{ns}}}AmdmntInd")
        indicator.text = "true"
        info.insert(position, indicator)
        info.insert(position + 1, _amendment_details(ns, amendment))


def _amendment_details(ns: str, amendment: MandateAmendment) -> ET.Element:
    def sub(parent: ET.Element, path: str, text: str | None = None) -> ET.Element:
        element = parent
        for part in path.split("/"):
            element = ET.SubElement(element, f"{{{ns}}}{part}")
        if text is not None:
            element.text = text
        return element

    details = ET.Element(f"{{{ns}}}AmdmntInfDtls")
    if amendment.original_reference is not None:
        sub(details, "OrgnlMndtId", amendment.original_reference)
    if amendment.original_creditor_id is not None:
        other = sub(details, "OrgnlCdtrSchmeId/Id/PrvtId/Othr")
        sub(other, "Id", amendment.original_creditor_id)
        sub(other, "SchmeNm/Prtry", "SEPA")
    if amendment.original_iban is not None:
        sub(details, "OrgnlDbtrAcct/Id/IBAN", amendment.original_iban)
    if amendment.new_debtor_bank:
        sub(details, "OrgnlDbtrAgt/FinInstnId/Othr/Id", "SMNDA")
    return details


def _check_totals(document: bytes, ns: str, debits: list[DirectDebit]) -> None:
    """The header's count and control sum are exactly ours (guards the library's arithmetic)."""
    header = _found(_parse_xml(document), ns, "CstmrDrctDbtInitn/GrpHdr")
    count = _found(header, ns, "NbOfTxs").text
    total = _found(header, ns, "CtrlSum").text
    expected = sum((d.amount for d in debits), Decimal(0))
    if count != str(len(debits)) or total is None or Decimal(total) != expected:
        raise RuntimeError(
            f"pain.008 totals mismatch: {count} / {total}, expected {len(debits)} / {expected}"
        )


@cache
def _xml_schema(schema: str) -> xmlschema.XMLSchema:
    """The ISO XSD shipped by sepaxml (``sepaxml/schemas/<schema>.xsd``), parsed once."""
    source = (files("sepaxml") / "schemas" / f"{schema}.xsd").read_text(encoding="utf-8")
    return xmlschema.XMLSchema(source)


def validate_pain008(document: bytes) -> str:
    """Check ``document`` against the ISO XSD of its own namespace (``pain.008.001.02`` or
    ``.001.08``, as shipped by sepaxml) and return that schema's name. An invalid document
    raises :class:`InvalidInput` (``field="xml"``) with the first error's reason and path."""
    root = _parse_xml(document)
    namespace = root.tag[1:].partition("}")[0] if root.tag.startswith("{") else ""
    schema = namespace.removeprefix(_ISO_NS_PREFIX)
    if schema not in SCHEMAS:
        raise _invalid(
            "Document non reconnu : espace de noms « {value} » au lieu de {allowed}.",
            "Unrecognised document: namespace “{value}” instead of {allowed}.",
            field="xml",
            value=namespace,
            allowed=", ".join(SCHEMAS),
            reason="unknown_namespace",
        )
    error = next(iter(_xml_schema(schema).iter_errors(root)), None)
    if error is not None:
        raise _invalid(
            "Le fichier {schema} ne respecte pas le schéma XSD : {error} ({path}).",
            "The {schema} file does not match the XSD: {error} ({path}).",
            field="xml",
            schema=schema,
            error=str(error.reason or error.message),
            path=str(error.path),
            reason="xsd_invalid",
        )
    return schema


# --- reading the bank's reports --------------------------------------------------------------


class _RefuseDoctype(ET.TreeBuilder):
    """A tree builder that stops at any ``<!DOCTYPE``: bank reports never need one, and refusing
    it rules out entity expansion ("billion laughs") and external entities."""

    def doctype(self, name: str | None, pubid: str | None, system: str | None) -> None:
        raise _invalid(
            "Le XML contient une déclaration DOCTYPE, refusée.",
            "The XML contains a DOCTYPE declaration, which is refused.",
            field="xml",
            reason="doctype_forbidden",
        )


def _parse_xml(data: bytes) -> ET.Element:
    if not isinstance(data, bytes | bytearray):
        raise _invalid(
            "Le document XML doit être fourni en octets.",
            "The XML document must be given as bytes.",
            field="xml",
            reason="bad_type",
        )
    parser = ET.XMLParser(target=_RefuseDoctype())
    try:
        parser.feed(bytes(data))
        root: ET.Element = parser.close()
    except ET.ParseError as exc:
        line, column = exc.position
        raise _invalid(
            "XML mal formé (ligne {line}, colonne {column}).",
            "Malformed XML (line {line}, column {column}).",
            field="xml",
            line=line,
            column=column,
            error=str(exc),
            reason="malformed",
        ) from None
    return root


def _local(tag: str) -> str:
    return tag.rpartition("}")[2]


def _children(parent: ET.Element, name: str) -> list[ET.Element]:
    return [child for child in parent if _local(child.tag) == name]


def _find(parent: ET.Element, path: str) -> ET.Element | None:
    """The first element at ``path`` (``A/B/C``) below ``parent``, by local names: banks send
    the ISO namespaces of several message versions, and the element names do not change."""
    element: ET.Element | None = parent
    for name in path.split("/"):
        if element is None:
            return None
        element = next((c for c in element if _local(c.tag) == name), None)
    return element


def _text(parent: ET.Element, path: str) -> str | None:
    element = _find(parent, path)
    if element is None or element.text is None or not element.text.strip():
        return None
    return element.text.strip()


def _missing(element: str, **details: Any) -> InvalidInput:
    return _invalid(
        "Élément {element} manquant ou vide dans le rapport de la banque.",
        "Element {element} is missing or empty in the bank's report.",
        field=element,
        element=element,
        reason="missing",
        **details,
    )


def _required(parent: ET.Element, path: str, where: str, **details: Any) -> str:
    value = _text(parent, path)
    if value is None:
        raise _missing(f"{where}/{path}", **details)
    return value


def _amount(element: ET.Element, where: str, **details: Any) -> Decimal:
    """A positive EUR amount from an ISO ``...Amount`` element with its ``Ccy`` attribute."""
    text = (element.text or "").strip()
    if not text:
        raise _missing(where, **details)
    currency = element.get("Ccy")
    if currency is None:
        raise _missing(f"{where}/@Ccy", **details)
    if currency != CURRENCY:
        raise _invalid(
            "Devise {value} inattendue dans {element} : les prélèvements SEPA sont en euros.",
            "Unexpected currency {value} in {element}: SEPA direct debits are in euros.",
            field=f"{where}/@Ccy",
            element=where,
            value=currency,
            reason="bad_currency",
            **details,
        )
    amount = parse_amount(text, field=where)
    if amount <= 0:
        raise _invalid(
            "Montant {value} invalide dans {element}.",
            "Invalid amount {value} in {element}.",
            field=where,
            element=where,
            value=text,
            reason="not_positive",
            **details,
        )
    return amount


def _find_reason(reason_parents: Iterable[ET.Element]) -> tuple[str, str | None] | None:
    """The reason code (``Rsn/Cd``, else ``Rsn/Prtry``) and the bank's additional text from the
    first of ``reason_parents`` (``StsRsnInf`` or ``RtrInf`` elements) that has a reason."""
    for parent in reason_parents:
        code = _text(parent, "Rsn/Cd") or _text(parent, "Rsn/Prtry")
        if code is not None:
            info = [
                (child.text or "").strip()
                for child in _children(parent, "AddtlInf")
                if (child.text or "").strip()
            ]
            return code.upper(), " ".join(info) or None
    return None


def _reason(
    reason_parents: Iterable[ET.Element], where: str, **details: Any
) -> tuple[str, str | None]:
    found = _find_reason(reason_parents)
    if found is None:
        raise _missing(f"{where}/Rsn/Cd", **details)
    return found


def parse_rejects(xml: bytes) -> list[Reject]:
    """The collections a bank report says were not paid, in document order.

    Two reports are read, whatever their ISO version (elements are matched by name):

    - a *customer payment status report* (``pain.002``, ``CstmrPmtStsRpt``): every
      ``TxInfAndSts`` whose status (``TxSts``, else its block's ``PmtInfSts``, else ``GrpSts``)
      is ``RJCT``, with ``OrgnlEndToEndId``, the amount ``OrgnlTxRef/Amt/InstdAmt`` and the
      reason ``StsRsnInf/Rsn/Cd`` (its block's or group's reason when it has none). A block or a
      whole file rejected without the list of its transactions raises :class:`Conflict` (code
      ``sepa_file_rejected``): every collection of that file must be considered unpaid;
    - a *debit notification* (``camt.054``, ``BkToCstmrDbtCdtNtfctn``): every booked (``BOOK``)
      transaction debited from the creditor's account (``CdtDbtInd`` ``DBIT``) that carries
      return information (``RtrInf``) — returns, refunds and reversals of collections — with
      ``Refs/EndToEndId``, the original amount (``AmtDtls/InstdAmt/Amt``, else
      ``AmtDtls/TxAmt/Amt``, else the transaction's ``Amt``, else the entry's ``Amt`` when the
      entry has that single transaction) and ``RtrInf/Rsn/Cd``.

    Malformed XML, a DOCTYPE, another kind of document, a missing element or an amount that is
    not a positive EUR amount with at most 2 decimals raise :class:`InvalidInput` whose
    ``field`` names the element (``TxInfAndSts/OrgnlTxRef/Amt/InstdAmt``).
    """
    return _bank_report(xml, returned="DBIT")


def parse_transfer_returns(xml: bytes) -> list[Reject]:
    """The credit transfers a bank report says were not paid, in document order: the same
    ``pain.002`` rejections as :func:`parse_rejects` (a report on a transfer file), or, from a
    ``camt.054``, every booked transaction *credited* back to the debtor's account (``CdtDbtInd``
    ``CRDT``) with return information — transfers the beneficiary's bank sent back. Errors as
    :func:`parse_rejects`."""
    return _bank_report(xml, returned="CRDT")


def _bank_report(xml: bytes, *, returned: str) -> list[Reject]:
    """``pain.002`` rejections, or the ``camt.054`` returns booked on the ``returned`` side of
    the account (``DBIT``: collections taken back; ``CRDT``: transfers coming back)."""
    root = _parse_xml(xml)
    if _local(root.tag) != "Document":
        raise _unknown_document(_local(root.tag))
    report = _find(root, "CstmrPmtStsRpt")
    if report is not None:
        return _pain002_rejects(report)
    notification = _find(root, "BkToCstmrDbtCdtNtfctn")
    if notification is not None:
        return _camt054_returns(notification, returned)
    first = next(iter(root), None)
    raise _unknown_document(_local(first.tag) if first is not None else "Document")


def _unknown_document(found: str) -> InvalidInput:
    return _invalid(
        "Document non reconnu ({value}) : un rapport pain.002 (CstmrPmtStsRpt) ou un avis "
        "camt.054 (BkToCstmrDbtCdtNtfctn) est attendu.",
        "Unrecognised document ({value}): a pain.002 report (CstmrPmtStsRpt) or a camt.054 "
        "notification (BkToCstmrDbtCdtNtfctn) is expected.",
        field="Document",
        value=found,
        reason="unknown_document",
    )


def _pain002_rejects(report: ET.Element) -> list[Reject]:
    group = _find(report, "OrgnlGrpInfAndSts")
    if group is None:
        raise _missing("CstmrPmtStsRpt/OrgnlGrpInfAndSts")
    original_message = _required(group, "OrgnlMsgId", "OrgnlGrpInfAndSts")
    group_status = _text(group, "GrpSts")
    group_reasons = _children(group, "StsRsnInf")
    blocks = _children(report, "OrgnlPmtInfAndSts")
    rejects: list[Reject] = []
    for block in blocks:
        block_status = _text(block, "PmtInfSts") or group_status
        block_reasons = _children(block, "StsRsnInf") + group_reasons
        transactions = _children(block, "TxInfAndSts")
        if not transactions and block_status == "RJCT":
            raise _file_rejected(original_message, _text(block, "OrgnlPmtInfId"), block_reasons)
        for tx in transactions:
            status = _text(tx, "TxSts") or block_status
            if status != "RJCT":
                continue
            where = "TxInfAndSts"
            e2e = _required(tx, "OrgnlEndToEndId", where)
            amount_element = _find(tx, "OrgnlTxRef/Amt/InstdAmt")
            if amount_element is None:
                raise _missing(f"{where}/OrgnlTxRef/Amt/InstdAmt", end_to_end_id=e2e)
            amount = _amount(amount_element, f"{where}/OrgnlTxRef/Amt/InstdAmt", end_to_end_id=e2e)
            code, info = _reason(
                _children(tx, "StsRsnInf") + block_reasons,
                f"{where}/StsRsnInf",
                end_to_end_id=e2e,
            )
            rejects.append(
                Reject(
                    end_to_end_id=e2e,
                    amount=amount,
                    reason_code=code,
                    reason=reason_text(code),
                    mandate_reference=_text(tx, "OrgnlTxRef/MndtRltdInf/MndtId"),
                    additional_info=info,
                )
            )
    if not blocks and group_status == "RJCT":
        raise _file_rejected(original_message, None, group_reasons)
    return rejects


def _file_rejected(message_id: str, block_id: str | None, reasons: list[ET.Element]) -> Conflict:
    """A rejection without the list of its transactions: reported even when the bank gave no
    reason (``NARR``-like reports), since every collection of the file is unpaid."""
    code, info = _find_reason(reasons) or ("", None)
    reason = reason_text(code) if code else Text(fr="motif non précisé", en="no reason given")
    return Conflict(
        Text(
            fr="La banque a rejeté en bloc la remise {message_id} ({reason_fr}) : ses "
            "prélèvements sont impayés.",
            en="The bank rejected file {message_id} as a whole ({reason_en}): its collections "
            "were not paid.",
        ),
        code="sepa_file_rejected",
        details={
            "message_id": message_id,
            "payment_information_id": block_id,
            "code": code or None,
            "reason_fr": reason.fr,
            "reason_en": reason.en,
            "additional_info": info,
        },
    )


def _camt054_returns(notification: ET.Element, returned: str) -> list[Reject]:
    returns: list[Reject] = []
    for ntfctn in _children(notification, "Ntfctn"):
        for entry in _children(ntfctn, "Ntry"):
            status = _text(entry, "Sts/Cd") or _text(entry, "Sts")
            if status is None:
                raise _missing("Ntry/Sts")
            entry_indicator = _text(entry, "CdtDbtInd")
            if entry_indicator is None:
                raise _missing("Ntry/CdtDbtInd")
            transactions = [
                tx
                for details in _children(entry, "NtryDtls")
                for tx in _children(details, "TxDtls")
            ]
            for tx in transactions:
                return_info = _find(tx, "RtrInf")
                if return_info is None or status != "BOOK":
                    continue
                if (_text(tx, "CdtDbtInd") or entry_indicator) != returned:
                    continue  # a return of the other kind (a collection, or a transfer)
                returns.append(_camt054_return(entry, tx, return_info, len(transactions)))
    return returns


def _camt054_return(
    entry: ET.Element, tx: ET.Element, return_info: ET.Element, siblings: int
) -> Reject:
    where = "TxDtls"
    e2e = _required(tx, "Refs/EndToEndId", where)
    for path in ("AmtDtls/InstdAmt/Amt", "AmtDtls/TxAmt/Amt", "Amt"):
        amount_element = _find(tx, path)
        if amount_element is not None:
            amount = _amount(amount_element, f"{where}/{path}", end_to_end_id=e2e)
            break
    else:
        entry_amount = _find(entry, "Amt")
        if siblings != 1 or entry_amount is None:
            raise _missing(f"{where}/AmtDtls/InstdAmt/Amt", end_to_end_id=e2e)
        amount = _amount(entry_amount, "Ntry/Amt", end_to_end_id=e2e)
    code, info = _reason([return_info], f"{where}/RtrInf", end_to_end_id=e2e)
    return Reject(
        end_to_end_id=e2e,
        amount=amount,
        reason_code=code,
        reason=reason_text(code),
        mandate_reference=_text(tx, "Refs/MndtId"),
        additional_info=info,
    )


# ISO 20022 external code sets ExternalStatusReason1Code (pain.002) and ExternalReturnReason1Code
# (camt.054), as used for SDD R-transactions by EPC173-14 "Guidance on reason codes for SDD
# R-transactions" (v8.0, 2024), and the same codes on returned credit transfers (BE04 is one of
# the SCT rulebook's). Wording summarised from those definitions; French by us.
REASON_CODES: Final[Mapping[str, Text]] = MappingProxyType(
    {
        "AC01": Text(
            fr="Identifiant de compte incorrect (IBAN invalide ou inexistant)",
            en="Account identifier incorrect (invalid or unknown IBAN)",
        ),
        "AC04": Text(fr="Compte clôturé", en="Account closed"),
        "AC06": Text(
            fr="Compte bloqué, ou bloqué aux prélèvements par le débiteur",
            en="Account blocked, or blocked for direct debits by the debtor",
        ),
        "AC13": Text(
            fr="Le compte du débiteur est un compte de particulier (interdit en B2B)",
            en="Debtor account is a consumer account (not allowed in B2B)",
        ),
        "AG01": Text(
            fr="Prélèvement interdit sur ce compte",
            en="Direct debit forbidden on this account",
        ),
        "AG02": Text(
            fr="Code opération incorrect ou format de fichier invalide",
            en="Operation code incorrect or invalid file format",
        ),
        "AM04": Text(fr="Provision insuffisante", en="Insufficient funds"),
        "AM05": Text(fr="Prélèvement en double", en="Duplicate collection"),
        "BE04": Text(
            fr="Adresse du bénéficiaire manquante ou incorrecte",
            en="Creditor address missing or incorrect",
        ),
        "BE05": Text(fr="Identifiant du créancier incorrect", en="Creditor identifier incorrect"),
        "CNOR": Text(
            fr="La banque du créancier n'est pas adhérente au schéma",
            en="Creditor bank is not registered in the scheme",
        ),
        "DNOR": Text(
            fr="La banque du débiteur n'est pas adhérente au schéma",
            en="Debtor bank is not registered in the scheme",
        ),
        "DUPL": Text(fr="Paiement en double", en="Duplicate payment"),
        "ED05": Text(fr="Échec du règlement interbancaire", en="Settlement failed"),
        "FF01": Text(fr="Format de fichier invalide", en="Invalid file format"),
        "FOCR": Text(
            fr="Retour à la suite d'une demande d'annulation",
            en="Return following a cancellation request",
        ),
        "MD01": Text(
            fr="Pas de mandat, ou opération non autorisée",
            en="No mandate, or unauthorised transaction",
        ),
        "MD02": Text(
            fr="Données obligatoires du mandat manquantes ou incorrectes",
            en="Mandatory mandate data missing or incorrect",
        ),
        "MD06": Text(
            fr="Remboursement demandé par le débiteur", en="Refund requested by the debtor"
        ),
        "MD07": Text(fr="Débiteur décédé", en="Debtor deceased"),
        "MS02": Text(
            fr="Refus du débiteur (motif non communiqué)",
            en="Refused by the debtor (reason not given)",
        ),
        "MS03": Text(
            fr="Motif non communiqué par la banque",
            en="Reason not given by the bank",
        ),
        "RC01": Text(fr="Code banque (BIC) incorrect", en="Bank identifier (BIC) incorrect"),
        "RR01": Text(
            fr="Compte ou identification du débiteur manquant (motif réglementaire)",
            en="Debtor account or identification missing (regulatory reason)",
        ),
        "RR02": Text(
            fr="Nom ou adresse du débiteur manquant ou invalide (motif réglementaire)",
            en="Debtor name or address missing or invalid (regulatory reason)",
        ),
        "RR03": Text(
            fr="Nom ou adresse du créancier manquant ou invalide (motif réglementaire)",
            en="Creditor name or address missing or invalid (regulatory reason)",
        ),
        "RR04": Text(fr="Motif réglementaire", en="Regulatory reason"),
        "SL01": Text(
            fr="Service particulier de la banque du débiteur (liste blanche ou noire, plafond)",
            en="Specific service of the debtor's bank (allow or block list, limit)",
        ),
        "TM01": Text(fr="Fichier reçu après l'heure limite", en="File received after the cut-off"),
    }
)


def reason_text(code: str) -> Text:
    """The meaning of an ISO 20022 reject/return reason code in French and English; a code not
    in :data:`REASON_CODES` is shown as such rather than refused (banks may use others)."""
    known = REASON_CODES.get(code.upper())
    if known is not None:
        return known
    return Text(fr=f"Motif {code} (code non répertorié)", en=f"Reason {code} (unlisted code)")
