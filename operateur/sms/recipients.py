"""Who may receive an SMS under an offer's rules (SMS-07).

Numbers are read with ``phonenumbers`` through ``operateur.domain.numbering`` (French national
form by default). Under the 004 offer (``french_metropolitan_mobiles_only``) French metropolitan
mobile numbers (+33 6, +33 7) are accepted; French fixed numbers (01–05, 09) are accepted with a
warning when the offer bills them (``fixed_numbers_billed``: delivery not guaranteed, billed);
everything else — overseas departments, other countries, special and short numbers — is refused
with the reason. Without that restriction, mobile numbers of any country are accepted, and fixed
numbers as above.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

import phonenumbers
from phonenumbers import PhoneNumberType

from operateur.catalog.terms import SmsRules
from operateur.domain.numbering import (
    FRANCE_COUNTRY_CODE,
    OVERSEAS_PREFIXES,
    NumberInfo,
    NumberKind,
    classify,
)
from operateur.errors import InvalidInput
from operateur.i18n import Text


class RecipientProblem(StrEnum):
    """Why a recipient is refused (stable codes, also used in import reports)."""

    BAD_NUMBER = "bad_number"
    NOT_METROPOLITAN = "not_metropolitan"  # overseas departments, other countries (SMS-07)
    NOT_MOBILE = "not_mobile"  # special, short, fixed numbers the offer does not bill


FIXED_NUMBER_WARNING = "fixed_number"  # SMS-07 accepted, delivery not guaranteed, billed


@dataclass(frozen=True)
class Recipient:
    """An accepted recipient: E.164 number, the destination billed, and a warning if any."""

    e164: str
    destination: str  # "FR mobile", "FR fixed", "BE mobile"...
    warning: str | None = None


_REASONS: dict[RecipientProblem, Text] = {
    RecipientProblem.BAD_NUMBER: Text(
        fr="Destinataire « {number} » refusé (SMS-07) : ce n'est pas un numéro valide.",
        en='Recipient "{number}" refused (SMS-07): not a valid number.',
    ),
    RecipientProblem.NOT_METROPOLITAN: Text(
        fr="Destinataire « {number} » refusé (SMS-07) : seuls les numéros mobiles de France "
        "métropolitaine sont desservis ({where_fr}).",
        en='Recipient "{number}" refused (SMS-07): only mobile numbers of metropolitan France '
        "are served ({where_en}).",
    ),
    RecipientProblem.NOT_MOBILE: Text(
        fr="Destinataire « {number} » refusé (SMS-07) : {what_fr} ne reçoit pas de SMS dans cette "
        "offre.",
        en='Recipient "{number}" refused (SMS-07): {what_en} receives no SMS under this offer.',
    ),
}

FIXED_WARNING_TEXT = Text(
    fr="Numéro fixe : la réception n'est pas garantie, l'envoi est facturé (SMS-07).",
    en="Fixed number: delivery is not guaranteed, the message is billed (SMS-07).",
)


def _refuse(
    problem: RecipientProblem, raw: str, field: str, info: NumberInfo | None = None
) -> InvalidInput:
    details = {"number": raw, "reason": problem.value}
    if info is not None:
        what = info.description
        details.update(what_fr=what.fr, what_en=what.en, where_fr=what.fr, where_en=what.en)
    return InvalidInput(
        _REASONS[problem], code=f"recipient_{problem.value}", field=field, details=details
    )


def _is_metropolitan(info: NumberInfo) -> bool:
    return (
        info.country_code == FRANCE_COUNTRY_CODE
        and info.national_number[:3] not in OVERSEAS_PREFIXES
    )


def _is_mobile(info: NumberInfo) -> bool:
    if info.country_code == FRANCE_COUNTRY_CODE or info.kind is not NumberKind.INTERNATIONAL:
        return info.kind is NumberKind.MOBILE
    kind = phonenumbers.number_type(phonenumbers.parse(info.e164 or ""))
    return kind in (PhoneNumberType.MOBILE, PhoneNumberType.FIXED_LINE_OR_MOBILE)


def _is_fixed(info: NumberInfo) -> bool:
    if info.kind in (NumberKind.GEOGRAPHIC, NumberKind.NON_GEOGRAPHIC):
        return True
    if info.kind is not NumberKind.INTERNATIONAL:
        return False
    kind = phonenumbers.number_type(phonenumbers.parse(info.e164 or ""))
    return bool(kind == PhoneNumberType.FIXED_LINE)


def check_recipient(raw: str, rules: SmsRules, *, field: str = "recipient") -> Recipient:
    """The recipient ``raw`` as accepted under ``rules``; ``InvalidInput`` with the reason."""
    try:
        info = classify(raw, field=field)
    except InvalidInput:
        raise _refuse(RecipientProblem.BAD_NUMBER, raw, field) from None
    if info.e164 is None:
        if info.kind in (NumberKind.SHORT, NumberKind.EMERGENCY):
            raise _refuse(RecipientProblem.NOT_MOBILE, raw, field, info)
        raise _refuse(RecipientProblem.BAD_NUMBER, raw, field)
    region = info.region or "?"
    if rules.french_metropolitan_mobiles_only and not _is_metropolitan(info):
        raise _refuse(RecipientProblem.NOT_METROPOLITAN, raw, field, info)
    if _is_mobile(info):
        return Recipient(info.e164, f"{region} mobile")
    if _is_fixed(info) and rules.fixed_numbers_billed:
        return Recipient(info.e164, f"{region} fixed", FIXED_NUMBER_WARNING)
    raise _refuse(RecipientProblem.NOT_MOBILE, raw, field, info)
