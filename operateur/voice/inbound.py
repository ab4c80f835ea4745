"""Inbound calls: the carrier hands the proxy a call for one of the customers' numbers, and the
proxy asks before ringing the line. The rules of the terms that concern receiving calls:

- VOX-04 [000 §9.6]: on offers whose numbers serve as caller IDs only (the calling CRM), the
  numbers receive no calls;
- VOX-09 [002 §7.1.1]: a call arriving from abroad that presents a French geographic (01–05)
  or 09 number is filtered (ARCEP's rule against spoofed caller IDs).

The line's suspension (CTR-06, whole or of its service, not of outbound or international calls
only) and its concurrent-call limits (VOX-05, VOX-07) apply as for outbound calls; receiving a
call is never billed, its record is kept as traffic data (VOX-13).
"""

from __future__ import annotations

from dataclasses import dataclass

from operateur.catalog.terms import CliRules
from operateur.i18n import Text
from operateur.voice.decision import FORBIDDEN, NOT_FOUND, Refusal
from operateur.voice.destinations import dialled, national_form

# ARCEP: French geographic (01–05) and 09 numbers may not be presented by calls from abroad
FILTERED_FROM_ABROAD = ("01", "02", "03", "04", "05", "09")

UNKNOWN_NUMBER = Refusal(
    NOT_FOUND,
    "LINE",
    "unknown_number",
    Text(fr="numéro non attribué", en="number not assigned"),
)
OUTBOUND_ONLY = Refusal(
    FORBIDDEN,
    "VOX-04",
    "outbound_only_number",
    Text(
        fr="ce numéro sert à présenter les appels sortants et ne reçoit pas d'appels",
        en="this number is a caller ID for outbound calls and receives no calls",
    ),
)


@dataclass(frozen=True)
class InboundRequest:
    call_id: str
    caller: str
    callee: str  # the customer's number called, as the carrier sent it
    from_abroad: bool  # the call entered through an international interconnection
    source_ip: str = ""


def inbound_refusal(caller: str, *, from_abroad: bool, rules: CliRules) -> Refusal | None:
    """Why a call to a number of an offer with ``rules`` may not be received, or ``None``."""
    if rules.outbound_only_numbers:
        return OUTBOUND_ONLY
    if from_abroad and rules.filter_foreign_calls_with_french_cli:
        number = dialled(caller)
        national = national_form(number.info) if number is not None else None
        if national is not None and national[:2] in FILTERED_FROM_ABROAD:
            return Refusal(
                FORBIDDEN,
                "VOX-09",
                "french_caller_id_from_abroad",
                Text(
                    fr=f"appel venu de l'étranger présentant un numéro français ({national})",
                    en=f"call from abroad presenting a French number ({national})",
                ),
            )
    return None
