"""Telephone numbers: parsing to E.164 and classification along the French numbering plan.

Parsing and validation are done by ``phonenumbers`` (libphonenumber's metadata), with France as
the default region: ``01 40 00 00 00``, ``+33 1 40 00 00 00`` and ``0033140000000`` are the same
number, ``+33140000000``.

French numbering plan (source: Arcep, décision n° 2018-0881 du 24 juillet 2018 modifiée,
notably by décision n° 2022-1583 du 1er septembre 2022, "établissant le plan national de
numérotation et ses règles de gestion", annexe 1 "Plan national de numérotation"):

=============  ===================================  ==========================================
National form  Range                                :class:`NumberKind`
=============  ===================================  ==========================================
01 – 05        geographic (fixed) numbers; no       ``geographic``
               location constraint since 2023;
               0262/0263 Réunion, 0269 Mayotte,
               0590 Guadeloupe/St-Martin/St-Barth,
               0594 Guyane, 0596 Martinique
06, 07         mobile numbers (interpersonal        ``mobile``
               services only); 0639 Mayotte,
               0690/0691 Guadeloupe, 0692/0693
               Réunion, 0694 Guyane, 0696/0697
               Martinique
09             non-geographic numbers               ``non_geographic``
08AB           special (value-added) numbers:       ``special``
               0800–0805 free of charge,
               0806–0809 price of a normal call,
               081, 082, 089 surcharged
               ("tarification majorée")
3BPQ           4-digit short numbers (30PQ/31PQ     ``short``
               free); also 10YZ, 118XYZ, 36PQ…
15, 17, 18…    emergency numbers, see               ``emergency``
               :data:`FRENCH_EMERGENCY_NUMBERS`
+CC (≠ +33)    numbers of other countries           ``international``
=============  ===================================  ==========================================

Overseas departments share the 10-digit national plan but have their own country codes
(+262, +590, +594, +596): ``0692 12 34 56`` dialled in France is ``+262692123456``. Such numbers
are French (their kind follows the national form above), but not metropolitan.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from types import MappingProxyType

import phonenumbers
from phonenumbers import NumberParseException, PhoneNumber, PhoneNumberFormat, ValidationResult

from operateur.errors import InvalidInput
from operateur.i18n import Text

DEFAULT_REGION = "FR"
FRANCE_COUNTRY_CODE = 33

#: French emergency numbers, routed free by every telephony service and never billed.
#: Source: Arcep, décision n° 02-1179 modifiée "établissant la liste des numéros d'urgence"
#: (list as published by Arcep: 15, 17, 18, 112, 114, 115, 116000, 116117, 119, 191, 196, 197).
#: This is regulation, not a contract term.
FRENCH_EMERGENCY_NUMBERS: Mapping[str, Text] = MappingProxyType(
    {
        "15": Text(fr="SAMU (urgence médicale)", en="SAMU (medical emergency)"),
        "17": Text(fr="Police secours", en="Police"),
        "18": Text(fr="Sapeurs-pompiers", en="Fire brigade"),
        "112": Text(fr="Numéro d'urgence européen", en="European emergency number"),
        "114": Text(
            fr="Urgence pour les personnes sourdes ou malentendantes",
            en="Emergency number for deaf and hard-of-hearing people",
        ),
        "115": Text(fr="SAMU social (hébergement d'urgence)", en="Emergency shelter (SAMU social)"),
        "116000": Text(fr="Enfants disparus", en="Missing children"),
        "116117": Text(fr="Médecin de garde", en="Out-of-hours doctor"),
        "119": Text(fr="Enfance en danger", en="Children at risk"),
        "191": Text(fr="Urgence aéronautique", en="Aviation emergency"),
        "196": Text(fr="Urgence en mer", en="Maritime emergency"),
        "197": Text(fr="Alerte attentat et enlèvement", en="Terrorism and abduction alert"),
    }
)

#: Overseas departments in the French 10-digit plan: first three digits of the national
#: significant number -> libphonenumber region (Arcep plan national de numérotation).
OVERSEAS_PREFIXES: Mapping[str, str] = MappingProxyType(
    {
        "262": "RE",
        "263": "RE",
        "692": "RE",
        "693": "RE",
        "269": "YT",
        "639": "YT",
        "590": "GP",
        "690": "GP",
        "691": "GP",
        "594": "GF",
        "694": "GF",
        "596": "MQ",
        "696": "MQ",
        "697": "MQ",
    }
)

#: Country codes of the overseas departments that share the French national plan.
OVERSEAS_COUNTRY_CODES: frozenset[int] = frozenset({262, 590, 594, 596})

_SEPARATORS = str.maketrans("", "", " \u00a0\u202f.-/()\t")


class NumberKind(StrEnum):
    GEOGRAPHIC = "geographic"
    MOBILE = "mobile"
    NON_GEOGRAPHIC = "non_geographic"
    SPECIAL = "special"
    SHORT = "short"
    EMERGENCY = "emergency"
    INTERNATIONAL = "international"
    OTHER = "other"


@dataclass(frozen=True)
class NumberInfo:
    """What a dialled or written number is.

    ``e164`` is ``None`` for numbers without an international form (short and emergency
    numbers) and for numbers that are not valid (``kind`` ``other``). ``national_number`` is the
    national significant number (``"140000000"`` for ``01 40 00 00 00``), or the digits of a
    short or emergency number.
    """

    raw: str
    e164: str | None
    kind: NumberKind
    country_code: int | None
    region: str | None
    national_number: str
    is_emergency: bool
    description: Text

    @property
    def is_valid(self) -> bool:
        """True for a complete, allocated number with an E.164 form."""
        return self.e164 is not None

    @property
    def is_french(self) -> bool:
        """France, metropolitan or overseas departments, including short and emergency numbers."""
        return self.country_code == FRANCE_COUNTRY_CODE or (
            self.country_code in OVERSEAS_COUNTRY_CODES
        )


def _not_a_number(raw: str, field: str, reason: str) -> InvalidInput:
    messages = {
        "required": Text(fr="Le numéro est obligatoire.", en="The number is required."),
        "invalid_country_code": Text(
            fr="Numéro invalide : « {number} » a un indicatif pays inconnu.",
            en="Invalid number: “{number}” has an unknown country code.",
        ),
        "too_short": Text(
            fr="Numéro invalide : « {number} » est trop court.",
            en="Invalid number: “{number}” is too short.",
        ),
        "too_long": Text(
            fr="Numéro invalide : « {number} » est trop long.",
            en="Invalid number: “{number}” is too long.",
        ),
        "invalid_length": Text(
            fr="Numéro invalide : « {number} » n'a pas le bon nombre de chiffres.",
            en="Invalid number: “{number}” does not have the right number of digits.",
        ),
        "unallocated": Text(
            fr="Numéro invalide : « {number} » n'existe pas dans le plan de numérotation.",
            en="Invalid number: “{number}” does not exist in the numbering plan.",
        ),
        "emergency": Text(
            fr="Le {number} est un numéro d'urgence, pas un numéro d'abonné.",
            en="{number} is an emergency number, not a subscriber number.",
        ),
        "short_number": Text(
            fr="Le {number} est un numéro court, sans forme internationale.",
            en="{number} is a short number, with no international form.",
        ),
    }
    message = messages.get(
        reason,
        Text(
            fr="Numéro invalide : « {number} » n'est pas un numéro de téléphone.",
            en="Invalid number: “{number}” is not a telephone number.",
        ),
    )
    return InvalidInput(message, field=field, details={"number": raw, "reason": reason})


_PARSE_REASONS = {
    NumberParseException.INVALID_COUNTRY_CODE: "invalid_country_code",
    NumberParseException.TOO_SHORT_NSN: "too_short",
    NumberParseException.TOO_SHORT_AFTER_IDD: "too_short",
    NumberParseException.TOO_LONG: "too_long",
}

_POSSIBLE_REASONS = {
    ValidationResult.TOO_SHORT: "too_short",
    ValidationResult.TOO_LONG: "too_long",
    ValidationResult.INVALID_LENGTH: "invalid_length",
    ValidationResult.INVALID_COUNTRY_CODE: "invalid_country_code",
}


def _digits(raw: str) -> str:
    return raw.strip().translate(_SEPARATORS)


def _parse(raw: str, field: str) -> PhoneNumber:
    """libphonenumber's parse with France as default region; national-form overseas numbers
    (``0692…``) are read in their own region (``+262692…``)."""
    if not isinstance(raw, str) or not raw.strip():
        raise _not_a_number(str(raw or ""), field, "required")
    try:
        number = phonenumbers.parse(raw, DEFAULT_REGION, keep_raw_input=True)
    except NumberParseException as exc:
        raise _not_a_number(
            raw, field, _PARSE_REASONS.get(exc.error_type, "not_a_number")
        ) from None
    if (
        number.country_code == FRANCE_COUNTRY_CODE
        and number.country_code_source == phonenumbers.CountryCodeSource.FROM_DEFAULT_COUNTRY
        and not phonenumbers.is_valid_number(number)
    ):
        region = OVERSEAS_PREFIXES.get(phonenumbers.national_significant_number(number)[:3])
        if region is not None:
            number = phonenumbers.parse(raw, region, keep_raw_input=True)
    return number


def _is_short(digits: str, number: PhoneNumber) -> bool:
    if number.country_code_source != phonenumbers.CountryCodeSource.FROM_DEFAULT_COUNTRY:
        return False  # written with +33 or 0033: not a short number
    if len(digits) == 4 and digits.startswith("3"):
        return True  # 3BPQ range (Arcep plan), whatever libphonenumber's metadata knows
    return bool(phonenumbers.is_valid_short_number_for_region(number, DEFAULT_REGION))


def _kind_for_national(nsn: str) -> NumberKind:
    first = nsn[:1]
    if first in {"1", "2", "3", "4", "5"}:
        return NumberKind.GEOGRAPHIC
    if first in {"6", "7"}:
        return NumberKind.MOBILE
    if first == "8":
        return NumberKind.SPECIAL
    if first == "9":
        return NumberKind.NON_GEOGRAPHIC
    return NumberKind.OTHER


def _special_tariff(prefix: str) -> Text:
    """Tariff class of a 08AB prefix (Arcep plan, 2015 reform of value-added numbers)."""
    if "0800" <= prefix <= "0805":
        return Text(fr="appel gratuit", en="free call")
    if "0806" <= prefix <= "0809":
        return Text(fr="prix d'un appel normal", en="price of a normal call")
    return Text(fr="tarification majorée", en="surcharged")


def _describe(kind: NumberKind, nsn: str, country_code: int | None, region: str | None) -> Text:
    where_fr = where_en = ""
    if country_code in OVERSEAS_COUNTRY_CODES:
        where_fr = where_en = f", {region}"
    if kind is NumberKind.GEOGRAPHIC:
        return Text(
            fr=f"Numéro géographique (0{nsn[:1]}{where_fr})",
            en=f"Geographic number (0{nsn[:1]}{where_en})",
        )
    if kind is NumberKind.MOBILE:
        return Text(
            fr=f"Numéro mobile (0{nsn[:1]}{where_fr})", en=f"Mobile number (0{nsn[:1]}{where_en})"
        )
    if kind is NumberKind.NON_GEOGRAPHIC:
        return Text(fr="Numéro non géographique (09)", en="Non-geographic number (09)")
    if kind is NumberKind.SPECIAL:
        prefix = "0" + nsn[:3]
        tariff = _special_tariff(prefix)
        return Text(
            fr=f"Numéro spécial {prefix} ({tariff.fr})",
            en=f"Special number {prefix} ({tariff.en})",
        )
    if kind is NumberKind.SHORT:
        return Text(fr=f"Numéro court {nsn}", en=f"Short number {nsn}")
    if kind is NumberKind.INTERNATIONAL:
        return Text(
            fr=f"Numéro international (+{country_code}, {region or '?'})",
            en=f"International number (+{country_code}, {region or '?'})",
        )
    return Text(fr="Numéro non reconnu", en="Unrecognised number")


def classify(raw: str, *, field: str = "number") -> NumberInfo:
    """Classify a number as written or dialled (French national form by default).

    Emergency numbers (:data:`FRENCH_EMERGENCY_NUMBERS`) are recognised first, before any
    parsing. Raises :class:`InvalidInput` naming ``field`` only when ``raw`` is not a telephone
    number at all (empty, text, unknown country code); a number that parses but is incomplete
    or unallocated comes back with kind ``other`` and no ``e164``.
    """
    digits = _digits(raw) if isinstance(raw, str) else ""
    if digits in FRENCH_EMERGENCY_NUMBERS:
        return NumberInfo(
            raw=raw,
            e164=None,
            kind=NumberKind.EMERGENCY,
            country_code=FRANCE_COUNTRY_CODE,
            region=DEFAULT_REGION,
            national_number=digits,
            is_emergency=True,
            description=FRENCH_EMERGENCY_NUMBERS[digits],
        )
    number = _parse(raw, field)
    nsn = phonenumbers.national_significant_number(number)
    if not phonenumbers.is_valid_number(number):
        if _is_short(digits, number):
            return NumberInfo(
                raw=raw,
                e164=None,
                kind=NumberKind.SHORT,
                country_code=FRANCE_COUNTRY_CODE,
                region=DEFAULT_REGION,
                national_number=nsn,
                is_emergency=False,
                description=_describe(NumberKind.SHORT, nsn, None, None),
            )
        return NumberInfo(
            raw=raw,
            e164=None,
            kind=NumberKind.OTHER,
            country_code=number.country_code,
            region=phonenumbers.region_code_for_number(number),
            national_number=nsn,
            is_emergency=False,
            description=_describe(NumberKind.OTHER, nsn, None, None),
        )
    country_code = number.country_code
    region = phonenumbers.region_code_for_number(number)
    if country_code == FRANCE_COUNTRY_CODE or country_code in OVERSEAS_COUNTRY_CODES:
        kind = _kind_for_national(nsn)
    else:
        kind = NumberKind.INTERNATIONAL
    return NumberInfo(
        raw=raw,
        e164=phonenumbers.format_number(number, PhoneNumberFormat.E164),
        kind=kind,
        country_code=country_code,
        region=region,
        national_number=nsn,
        is_emergency=False,
        description=_describe(kind, nsn, country_code, region),
    )


def parse_number(raw: str, *, field: str = "number") -> str:
    """The E.164 form (``+33140000000``) of a subscriber number, French national form by default.

    Raises :class:`InvalidInput` naming ``field``, with ``details["reason"]`` one of
    ``required``, ``not_a_number``, ``invalid_country_code``, ``too_short``, ``too_long``,
    ``invalid_length``, ``unallocated``, ``emergency`` or ``short_number`` (emergency and short
    numbers have no E.164 form: use :func:`classify` to route them).
    """
    info = classify(raw, field=field)
    if info.e164 is not None:
        return info.e164
    if info.kind is NumberKind.EMERGENCY:
        raise _not_a_number(raw, field, "emergency")
    if info.kind is NumberKind.SHORT:
        raise _not_a_number(raw, field, "short_number")
    number = _parse(raw, field)
    reason = _POSSIBLE_REASONS.get(
        phonenumbers.is_possible_number_with_reason(number), "unallocated"
    )
    raise _not_a_number(raw, field, reason)


def _classify_or_none(raw: str) -> NumberInfo | None:
    try:
        return classify(raw)
    except InvalidInput:
        return None


def is_french_metropolitan_mobile(e164: str) -> bool:
    """True for a valid +33 6/7 mobile number (not overseas departments, not other countries).

    National forms (``06 12 34 56 78``) are accepted too; anything unparseable is ``False``.
    """
    info = _classify_or_none(e164)
    return (
        info is not None
        and info.kind is NumberKind.MOBILE
        and info.country_code == FRANCE_COUNTRY_CODE
        and info.national_number[:3] not in OVERSEAS_PREFIXES
    )


def special_number_prefix(e164: str) -> str | None:
    """The ``08AB`` prefix of a French special (value-added) number (``"0899"`` for
    ``+33899123456``), or ``None`` when the number is not a special number."""
    info = _classify_or_none(e164)
    if info is None or info.kind is not NumberKind.SPECIAL:
        return None
    return "0" + info.national_number[:3]
