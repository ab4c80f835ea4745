"""VOX-09 caller IDs: only numbers really assigned to the customer, and on automated or
call-centre offers neither a 06/07 mobile number nor a French number outside ARCEP's ranges for
automated calling systems (décision 2022-1583, in force since 1 January 2023)."""

from __future__ import annotations

from functools import lru_cache

from operateur.catalog.terms import CliRules
from operateur.domain.numbering import NumberKind
from operateur.i18n import Text
from operateur.voice.decision import FORBIDDEN, Refusal
from operateur.voice.destinations import PrefixSet, _data, dialled, national_form, read_prefix_file


@lru_cache(maxsize=1)
def automated_calling_ranges() -> PrefixSet:
    """The national-form prefixes an automated calling system may present (shipped data)."""
    return PrefixSet(read_prefix_file(_data("automated_calling_ranges.csv")))


def _refused(cause: str, fr: str, en: str) -> Refusal:
    return Refusal(FORBIDDEN, "VOX-09", cause, Text(fr=fr, en=en))


def caller_id_refusal(raw: str, rules: CliRules, *, assigned: frozenset[str]) -> Refusal | None:
    """Why ``raw`` may not be presented as caller ID, or ``None``.

    ``assigned`` holds the E.164 numbers assigned to the customer; the offer's
    ``cli.automated_calling`` says its calls come from automated calling systems or call
    centres."""
    number = dialled(raw)
    e164 = number.info.e164 if number is not None else None
    if e164 is None:
        return _refused(
            "caller_id_not_a_number",
            f"l'identifiant d'appelant « {raw} » n'est pas un numéro valide",
            f"caller ID “{raw}” is not a valid number",
        )
    if rules.assigned_numbers_only and e164 not in assigned:
        return _refused(
            "caller_id_not_assigned",
            f"le numéro {e164} présenté n'est pas attribué au client",
            f"caller ID {e164} is not a number assigned to the customer",
        )
    if not rules.automated_calling:
        return None
    assert number is not None
    info = number.info
    if rules.no_mobile_cli_for_automated_calls and info.kind is NumberKind.MOBILE:
        return _refused(
            "mobile_caller_id_automated",
            f"un numéro mobile ({e164}) ne peut pas être présenté par un système d'appels "
            "automatisés",
            f"a mobile number ({e164}) may not be presented by an automated calling system",
        )
    national = national_form(info)
    if national is not None and automated_calling_ranges().match(national) is None:
        return _refused(
            "caller_id_outside_automated_ranges",
            f"le numéro {e164} n'appartient pas aux tranches autorisées aux appels automatisés "
            "(décision Arcep 2022-1583)",
            f"caller ID {e164} is outside the ranges allowed for automated calling "
            "(Arcep decision 2022-1583)",
        )
    return None
