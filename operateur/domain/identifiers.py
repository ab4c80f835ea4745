"""Company and bank identifiers: SIREN, SIRET, EU VAT numbers, IBAN, BIC; human references.

Validation is done by python-stdnum (SIREN, SIRET, VAT) and schwifty (IBAN, BIC); this module
only converts their errors into :class:`InvalidInput` with a bilingual message and the field
name. Every validator returns the compact form (no spaces, upper case) to be stored.
"""

from __future__ import annotations

import re
import secrets
import warnings

from schwifty import BIC, IBAN
from schwifty import exceptions as schwifty_errors
from stdnum import exceptions as stdnum_errors
from stdnum.eu import vat as eu_vat
from stdnum.fr import siren as fr_siren
from stdnum.fr import siret as fr_siret

from operateur.errors import InvalidInput
from operateur.i18n import Text

_REQUIRED = Text(fr="Ce champ est obligatoire.", en="This field is required.")

_STDNUM_REASONS: tuple[tuple[type[stdnum_errors.ValidationError], str, Text], ...] = (
    # Most specific first: InvalidLength is a subclass of InvalidFormat.
    (
        stdnum_errors.InvalidLength,
        "bad_length",
        Text(
            fr="{label} invalide : « {value} » n'a pas la bonne longueur.",
            en="Invalid {label_en}: “{value}” has the wrong length.",
        ),
    ),
    (
        stdnum_errors.InvalidChecksum,
        "bad_checksum",
        Text(
            fr="{label} invalide : la clé de contrôle de « {value} » est fausse.",
            en="Invalid {label_en}: the check digits of “{value}” are wrong.",
        ),
    ),
    (
        stdnum_errors.InvalidComponent,
        "bad_component",
        Text(
            fr="{label} invalide : « {value} » a un préfixe ou pays inconnu.",
            en="Invalid {label_en}: “{value}” has an unknown prefix or country.",
        ),
    ),
    (
        stdnum_errors.InvalidFormat,
        "bad_format",
        Text(
            fr="{label} invalide : « {value} » contient des caractères non permis.",
            en="Invalid {label_en}: “{value}” contains characters that are not allowed.",
        ),
    ),
)

_SCHWIFTY_REASONS: tuple[tuple[type[schwifty_errors.SchwiftyException], str, Text], ...] = (
    (
        schwifty_errors.InvalidLength,
        "bad_length",
        Text(
            fr="{label} invalide : « {value} » n'a pas la bonne longueur.",
            en="Invalid {label_en}: “{value}” has the wrong length.",
        ),
    ),
    (
        schwifty_errors.InvalidCountryCode,
        "unknown_country",
        Text(
            fr="{label} invalide : le pays de « {value} » est inconnu.",
            en="Invalid {label_en}: the country of “{value}” is unknown.",
        ),
    ),
    (
        schwifty_errors.InvalidChecksumDigits,
        "bad_checksum",
        Text(
            fr="{label} invalide : la clé de contrôle de « {value} » est fausse.",
            en="Invalid {label_en}: the check digits of “{value}” are wrong.",
        ),
    ),
    (
        schwifty_errors.InvalidBBANChecksum,
        "bad_national_checksum",
        Text(
            fr="{label} invalide : la clé nationale (clé RIB) de « {value} » est fausse.",
            en="Invalid {label_en}: the national check digits of “{value}” are wrong.",
        ),
    ),
    (
        schwifty_errors.InvalidBankCode,
        "bad_bank_code",
        Text(
            fr="{label} invalide : le code banque de « {value} » est mal formé.",
            en="Invalid {label_en}: the bank code of “{value}” is malformed.",
        ),
    ),
    (
        schwifty_errors.InvalidBranchCode,
        "bad_branch_code",
        Text(
            fr="{label} invalide : le code guichet de « {value} » est mal formé.",
            en="Invalid {label_en}: the branch code of “{value}” is malformed.",
        ),
    ),
    (
        schwifty_errors.InvalidAccountCode,
        "bad_account_code",
        Text(
            fr="{label} invalide : le numéro de compte de « {value} » est mal formé.",
            en="Invalid {label_en}: the account number of “{value}” is malformed.",
        ),
    ),
    (
        schwifty_errors.InvalidStructure,
        "bad_format",
        Text(
            fr="{label} invalide : « {value} » n'a pas la structure attendue.",
            en="Invalid {label_en}: “{value}” does not have the expected structure.",
        ),
    ),
)

_FALLBACK = Text(
    fr="{label} invalide : « {value} ».",
    en="Invalid {label_en}: “{value}”.",
)


def is_eu_member(country: str) -> bool:
    """Whether an ISO 3166 country code is an EU member state (python-stdnum's list)."""
    return country.lower() in eu_vat.MEMBER_STATES


def _invalid(
    reasons: tuple[tuple[type[Exception], str, Text], ...],
    exc: Exception,
    *,
    field: str,
    label: str,
    label_en: str,
    value: str,
) -> InvalidInput:
    reason, message = next(
        ((code, text) for error_class, code, text in reasons if isinstance(exc, error_class)),
        ("invalid", _FALLBACK),
    )
    text = Text(
        fr=message.fr.replace("{label}", label), en=message.en.replace("{label_en}", label_en)
    )
    return InvalidInput(text, field=field, details={"value": value, "reason": reason})


def _require(raw: object, field: str) -> str:
    if not isinstance(raw, str) or not raw.strip():
        raise InvalidInput(_REQUIRED, field=field, details={"reason": "required"})
    return raw.strip()


def validate_siren(raw: str, *, field: str = "siren") -> str:
    """The 9-digit SIREN, spaces removed; checks the length and the Luhn key."""
    value = _require(raw, field)
    try:
        return str(fr_siren.validate(value))
    except stdnum_errors.ValidationError as exc:
        raise _invalid(
            _STDNUM_REASONS, exc, field=field, label="SIREN", label_en="SIREN", value=value
        ) from None


def validate_siret(raw: str, *, field: str = "siret") -> str:
    """The 14-digit SIRET, spaces removed; checks the length, the SIREN and the Luhn key."""
    value = _require(raw, field)
    try:
        return str(fr_siret.validate(value))
    except stdnum_errors.ValidationError as exc:
        raise _invalid(
            _STDNUM_REASONS, exc, field=field, label="SIRET", label_en="SIRET", value=value
        ) from None


def validate_vat(raw: str, *, field: str = "vat_number") -> str:
    """An EU VAT number (any member state, ``stdnum.eu.vat``) in compact form with its country
    prefix (``FR44732829320``, ``DE136695976``, ``EL094014201``)."""
    value = _require(raw, field)
    try:
        return str(eu_vat.validate(value))
    except stdnum_errors.ValidationError as exc:
        raise _invalid(
            _STDNUM_REASONS,
            exc,
            field=field,
            label="Numéro de TVA",
            label_en="VAT number",
            value=value,
        ) from None


def french_vat_from_siren(siren: str, *, field: str = "siren") -> str:
    """The French intra-EU VAT number of a company from its SIREN (``FR`` + key + SIREN)."""
    compact = validate_siren(siren, field=field)
    return "FR" + str(fr_siren.to_tva(compact))


def validate_iban(raw: str, *, field: str = "iban") -> str:
    """The compact IBAN (``FR1420041010050500013M02606``): length and structure for its
    country, ISO 13616 check digits and, where schwifty knows it, the national key (RIB key)."""
    value = _require(raw, field)
    try:
        with warnings.catch_warnings():
            # Countries without a registered national algorithm: schwifty accepts the digits
            # unverified and says so with a warning; the IBAN check digits still apply.
            warnings.simplefilter("ignore", schwifty_errors.NationalChecksumNotVerified)
            iban = IBAN(value, validate_bban=True)
    except schwifty_errors.SchwiftyException as exc:
        raise _invalid(
            _SCHWIFTY_REASONS, exc, field=field, label="IBAN", label_en="IBAN", value=value
        ) from None
    return str(iban.compact)


def validate_bic(raw: str, *, field: str = "bic") -> str:
    """The compact BIC (8 or 11 characters, ``BNPAFRPP``): length, structure, country code."""
    value = _require(raw, field)
    try:
        bic = BIC(value)
    except schwifty_errors.SchwiftyException as exc:
        raise _invalid(
            _SCHWIFTY_REASONS, exc, field=field, label="BIC", label_en="BIC", value=value
        ) from None
    return str(bic.compact)


# Crockford-style alphabet without look-alikes (no 0/O, 1/I/L, U): safe to read out and type.
REFERENCE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTVWXYZ"
_PREFIX = re.compile(r"[A-Z][A-Z0-9]{0,9}")


def new_reference(prefix: str, *, length: int = 12, group: int = 4) -> str:
    """A random, human-friendly reference such as ``MDT-7K4Q-9ZPX-M2RA``.

    Drawn with :mod:`secrets` from :data:`REFERENCE_ALPHABET` (30 symbols: 12 characters are
    about 59 bits), so collisions are negligible; callers still keep a unique constraint. Only
    upper-case letters, digits and hyphens are used, which fits SEPA mandate references (at most
    35 characters). ``prefix`` is 1–10 upper-case letters or digits, starting with a letter.
    """
    if not _PREFIX.fullmatch(prefix):
        raise ValueError("prefix must be 1-10 upper-case letters or digits, starting with a letter")
    if length < 8:
        raise ValueError("length must be at least 8 characters")
    if group < 1:
        raise ValueError("group must be >= 1")
    body = "".join(secrets.choice(REFERENCE_ALPHABET) for _ in range(length))
    parts = [body[i : i + group] for i in range(0, length, group)]
    return "-".join([prefix, *parts])
