"""The content filter (SMS-09): messages matching a rule of the operator's list are held for
review, with the rule named; staff then release or reject them.

The rules are a maintained data file, ``data/content_rules.txt`` (one ``rule-id: pattern`` per
line, patterns written for the folded text: lower case, accents removed). The seed lets the
operator refuse "content likely to break the law (anti-spam filter)" [004 SMS annex §5]; the
list targets SMS phishing ("smishing") lures and plainly illegal offers.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from dataclasses import dataclass
from importlib import resources

DATA_PACKAGE = "operateur.sms.data"
RULES_FILE = "content_rules.txt"


@dataclass(frozen=True)
class ContentRule:
    id: str
    pattern: re.Pattern[str]


def fold(text: str) -> str:
    """Lower case without accents, whitespace collapsed: what the patterns are written for."""
    decomposed = unicodedata.normalize("NFKD", text)
    plain = "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()
    return re.sub(r"\s+", " ", plain)


def parse_rules(text: str) -> tuple[ContentRule, ...]:
    """Rules from the file's text; a bad line raises ``ValueError`` naming its number."""
    rules: list[ContentRule] = []
    seen: set[str] = set()
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        rule_id, sep, pattern = line.partition(":")
        rule_id, pattern = rule_id.strip(), pattern.strip()
        if not sep or not re.fullmatch(r"[a-z][a-z0-9-]*", rule_id) or not pattern:
            raise ValueError(f"{RULES_FILE} line {number}: expected 'rule-id: pattern'")
        if rule_id in seen:
            raise ValueError(f"{RULES_FILE} line {number}: rule {rule_id} given twice")
        try:
            compiled = re.compile(pattern)
        except re.error as exc:
            raise ValueError(f"{RULES_FILE} line {number}: {exc}") from None
        seen.add(rule_id)
        rules.append(ContentRule(rule_id, compiled))
    return tuple(rules)


@functools.lru_cache(maxsize=1)
def builtin_rules() -> tuple[ContentRule, ...]:
    """The operator's rule list, read once."""
    return parse_rules(resources.files(DATA_PACKAGE).joinpath(RULES_FILE).read_text("utf-8"))


def matching_rule(text: str, rules: tuple[ContentRule, ...] | None = None) -> str | None:
    """The id of the first rule ``text`` matches, or None."""
    folded = fold(text)
    for rule in builtin_rules() if rules is None else rules:
        if rule.pattern.search(folded):
            return rule.id
    return None
