"""STOP: recipients who unsubscribed (SMS-06).

An inbound SMS whose first word is STOP or one of its usual French and English variants
("stop", "Stop.", "STOP SMS", "arrêt", "désabonner", "unsubscribe"…), or a message of at most
three words holding one, unsubscribes its sender:

- from every customer sharing the short code it was sent to (scope ``short-code:<code>``),
  when the customers' terms say STOP applies to the whole shared short code (004 annex §1) —
  the operator's short code (:func:`operator_short_code`), named in the STOP mention;
- from every customer that sent SMS to that number from the sender it answered (scope
  ``customer:<id>``).

A customer's later sends to the number are refused and reported (status UNSUBSCRIBED), never
sent. Detection ignores case, accents and punctuation.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from operateur.catalog.terms import SmsRules
from operateur.config import Settings
from operateur.sms.models import SmsOptOut

# The words that mean STOP, folded (lower case, no accents). Usual answers to a French
# marketing SMS (AF2M practice, CNIL guidance on the "STOP SMS" mention) and their English form.
STOP_WORDS = frozenset(
    {
        "stop",
        "stopsms",
        "stopper",
        "arret",
        "arrete",
        "arreter",
        "arretez",
        "desabonner",
        "desabonnement",
        "desabonnez",
        "desabonne",
        "desinscription",
        "desinscrire",
        "desinscrivez",
        "unsubscribe",
        "unsub",
        "optout",
    }
)

_SHORT_MESSAGE_WORDS = 3  # "merci stop", "svp stop sms": STOP anywhere in a short answer


def _fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


def is_stop(text: str) -> bool:
    """True when an inbound text asks to unsubscribe (SMS-06)."""
    words = re.findall(r"[a-z0-9]+", _fold(text))
    if not words:
        return False
    if words[0] in STOP_WORDS or "".join(words) in STOP_WORDS:
        return True
    return len(words) <= _SHORT_MESSAGE_WORDS and any(word in STOP_WORDS for word in words)


def short_code_scope(code: str) -> str:
    return f"short-code:{code}"


def customer_scope(customer_id: int) -> str:
    return f"customer:{customer_id}"


def operator_short_code(settings: Settings | None = None) -> str:
    """The operator's shared short code (setting ``OPERATEUR_SMS_SHORT_CODE``): the default
    sender of offers sharing it, the number of the STOP mention, where STOP answers arrive."""
    return (settings or Settings()).sms_short_code


def scopes_for(customer_id: int, rules: SmsRules, short_code: str) -> tuple[str, ...]:
    """The unsubscription scopes that bind a customer under its SMS rules, ``short_code`` being
    the operator's shared short code."""
    scopes = [customer_scope(customer_id)]
    if rules.stop_unsubscribes_all_senders:
        scopes.append(short_code_scope(short_code))
    return tuple(scopes)


def record(session: Session, recipient: str, scopes: Iterable[str], keyword: str) -> int:
    """Unsubscribe ``recipient`` in each scope (once); returns how many were new."""
    wanted = set(scopes)
    known = set(
        session.scalars(
            select(SmsOptOut.scope).where(
                SmsOptOut.recipient == recipient, SmsOptOut.scope.in_(wanted)
            )
        )
    )
    for scope in sorted(wanted - known):
        session.add(SmsOptOut(recipient=recipient, scope=scope, keyword=keyword[:160]))
    session.flush()
    return len(wanted - known)


_CHUNK = 500


def unsubscribed_among(
    session: Session,
    customer_id: int,
    rules: SmsRules,
    recipients: Iterable[str],
    short_code: str,
) -> set[str]:
    """Which of ``recipients`` (E.164) the customer may no longer send to."""
    scopes = scopes_for(customer_id, rules, short_code)
    numbers = list(dict.fromkeys(recipients))
    found: set[str] = set()
    for start in range(0, len(numbers), _CHUNK):
        chunk = numbers[start : start + _CHUNK]
        found.update(
            session.scalars(
                select(SmsOptOut.recipient).where(
                    SmsOptOut.recipient.in_(chunk), SmsOptOut.scope.in_(scopes)
                )
            )
        )
    return found


def is_unsubscribed(
    session: Session, customer_id: int, rules: SmsRules, recipient: str, short_code: str
) -> bool:
    return bool(unsubscribed_among(session, customer_id, rules, [recipient], short_code))
