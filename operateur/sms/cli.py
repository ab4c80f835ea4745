"""``operateur sms``: check an SMS text and a sender ID against an offer's rules.

Both commands exit with status 0 when the message or sender is acceptable and 1 when it is not,
so that a script can chain them; the verdict itself is printed on stdout.
"""

from __future__ import annotations

from typing import Annotated, Any

import typer

from operateur.catalog.service import get_offer
from operateur.catalog.terms import SmsRules
from operateur.cli_support import lang, print_json, reports_errors
from operateur.errors import InvalidInput
from operateur.i18n import Text
from operateur.sms.encoding import SmsAnalysis, SmsEncoding, analyze
from operateur.sms.senders import SenderCheck, check_sender

app = typer.Typer(
    help="SMS: message length and sender checks (SMS-02, SMS-03, SMS-05).", no_args_is_help=True
)

_YES = Text(fr="oui", en="yes")
_NO = Text(fr="non", en="no")
_ENCODINGS = {
    SmsEncoding.GSM7: Text(fr="GSM 7 bits", en="GSM 7-bit"),
    SmsEncoding.UCS2: Text(fr="UCS-2 (Unicode)", en="UCS-2 (Unicode)"),
}


def sms_rules(offer_id: str) -> SmsRules:
    """The SMS rules of the built-in offer ``offer_id``; an offer without them is refused."""
    rules = get_offer(offer_id).terms.sms
    if rules is None:
        raise InvalidInput(
            Text(
                fr="L'offre {offer_id} ne comprend pas de service SMS (aucune règle SMS).",
                en="The offer {offer_id} has no SMS service (no SMS rules).",
            ),
            code="offer_without_sms",
            field="offer",
            details={"offer_id": offer_id},
        )
    return rules


def _analysis_data(offer_id: str, analysis: SmsAnalysis, language: str) -> dict[str, Any]:
    texts = analysis.part_texts()
    return {
        "offer": offer_id,
        "encoding": analysis.encoding.value,
        "length": analysis.length,
        "stop_reserved": analysis.stop_reserved,
        "total_length": analysis.total_length,
        "max_length": analysis.max_length,
        "part_count": analysis.part_count,
        "parts": [
            {
                "start": part.start,
                "end": part.end,
                "length": part.length,
                "capacity": part.capacity,
                "text": text,
            }
            for part, text in zip(analysis.parts, texts, strict=True)
        ],
        "faults": [
            {"character": fault.character, "codepoint": fault.codepoint, "index": fault.index}
            for fault in analysis.faults
        ],
        "valid": analysis.valid,
        "problem": analysis.problem.value if analysis.problem else None,
        "reason": analysis.reason.render(language) if analysis.reason else None,
    }


def _print_analysis(analysis: SmsAnalysis, language: str) -> None:
    separator = ": " if language == "en" else " : "  # French puts a space before the colon

    def line(label: Text, value: str) -> None:
        typer.echo(f"{label.render(language)}{separator}{value}")

    line(Text(fr="Encodage", en="Encoding"), _ENCODINGS[analysis.encoding].render(language))
    length = Text(
        fr="{length} + {reserved} réservés à la mention STOP = {total} (au plus {max_length})",
        en="{length} + {reserved} reserved for the STOP mention = {total} (at most {max_length})",
    ).render(
        language,
        length=analysis.length,
        reserved=analysis.stop_reserved,
        total=analysis.total_length,
        max_length=analysis.max_length,
    )
    line(Text(fr="Longueur", en="Length"), length)
    sizes = " + ".join(str(part.length) for part in analysis.parts)
    line(
        Text(fr="Parties", en="Parts"),
        f"{analysis.part_count} ({sizes})" if analysis.parts else "0",
    )
    if analysis.faults:
        faults = ", ".join(
            f'"{fault.character}" {fault.codepoint} #{fault.index + 1}' for fault in analysis.faults
        )
        line(Text(fr="Caractères refusés", en="Refused characters"), faults)
    line(Text(fr="Valide", en="Valid"), (_YES if analysis.valid else _NO).render(language))
    if analysis.reason is not None:
        line(Text(fr="Motif", en="Reason"), analysis.reason.render(language))


@app.command("analyze")
@reports_errors
def analyze_command(
    text: Annotated[str, typer.Argument(help="The text of the SMS")],
    offer: Annotated[str, typer.Option("--offer", help="Offer whose SMS rules apply")],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON")] = False,
) -> None:
    """Encoding, counted length, parts and characters at fault of TEXT under an offer's rules."""
    language = lang()
    analysis = analyze(text, sms_rules(offer))
    if as_json:
        print_json(_analysis_data(offer, analysis, language))
    else:
        _print_analysis(analysis, language)
    if not analysis.valid:
        raise typer.Exit(1)


def _sender_data(check: SenderCheck, language: str) -> dict[str, Any]:
    return {
        "sender": check.sender,
        "allowed": check.allowed,
        "rule": check.rule.value if check.rule else None,
        "matched_name": check.matched_name,
        "reason": check.reason.render(language),
    }


@app.command("check-sender")
@reports_errors
def check_sender_command(
    name: Annotated[str, typer.Argument(help="The sender ID (OADC) asked for")],
    offer: Annotated[
        str | None,
        typer.Option("--offer", help="Apply this offer's sender rules (default: all rules)"),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON")] = False,
) -> None:
    """Whether NAME may be asked for as a custom sender (SMS-05)."""
    language = lang()
    check = check_sender(name, sms_rules(offer) if offer is not None else None)
    if as_json:
        print_json(_sender_data(check, language))
    else:
        typer.echo(check.reason.render(language))
    if not check.allowed:
        raise typer.Exit(1)
