"""The filter (MAIL-01): every scanner's symbols summed into one score, turned into an action
by the policy's thresholds (deliver < tag_at <= tag < quarantine_at <= quarantine < reject_at
<= reject).

Decisions that do not depend on the sum:
- an allow-listed sender is delivered (MAIL-04), unless the message carries a virus;
- a deny-listed sender, a corrupted host or domain (MAIL-02) and a virus are rejected;
- an executable attachment (alone or in an archive) is quarantined at least.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from operateur.mail.filter import auth, blocklists, malware, phishing
from operateur.mail.filter.classifier import Model, OperatingPoint, shipped_model_path
from operateur.mail.filter.domains import organizational_domain
from operateur.mail.filter.lists import ALLOWLISTED, DENYLISTED, matching_entry, senders
from operateur.mail.filter.message import ParsedMessage
from operateur.mail.filter.scanning import ScanContext, Scanner
from operateur.mail.filter.types import Action, Envelope, Policy, Symbol, Verdict

# The filter's score scale: the classifier's operating point (the decision value chosen by
# cross-validation at training, one for list mail and one for direct mail) is worth 8 points,
# where the mail-security offer's terms quarantine; the median training spam of that kind of
# mail is worth 12 and its median ham 0 (cross-validated decisions), linear on either side.
# Both kinds of mail thus reach the tag score (5) at the same distance from their ham. A
# customer with other thresholds is stricter or more lenient from there. Content alone never
# reaches a reject threshold.
CLASSIFIER_OPERATING_SCORE = 8.0
CLASSIFIER_MEDIAN_SPAM_SCORE = 12.0
CLASSIFIER_MEDIAN_HAM_SCORE = 0.0
CLASSIFIER_MIN, CLASSIFIER_MAX = -5.0, 12.0
LIST_SCORE = 100.0
REJECTING_SYMBOLS = (
    frozenset({DENYLISTED, blocklists.CORRUPTED_HOST, blocklists.CORRUPTED_DOMAIN})
    | malware.VIRUS_SYMBOLS
)
QUARANTINING_SYMBOLS = malware.EXECUTABLE_SYMBOLS
SEVERITY = (Action.DELIVER, Action.TAG, Action.QUARANTINE, Action.REJECT)


def action_for(score: float, policy: Policy) -> Action:
    if score >= policy.reject_at:
        return Action.REJECT
    if score >= policy.quarantine_at:
        return Action.QUARANTINE
    if score >= policy.tag_at:
        return Action.TAG
    return Action.DELIVER


class ContentClassifier:
    """The statistical classifier as a scanner, its decision value mapped to the score scale
    from the operating point of the message's kind of mail (list or direct)."""

    def __init__(self, model: Model) -> None:
        self.model = model

    @staticmethod
    def score(decision: float, point: OperatingPoint) -> float:
        if decision >= point.threshold:
            slope = (CLASSIFIER_MEDIAN_SPAM_SCORE - CLASSIFIER_OPERATING_SCORE) / point.spread
        else:
            slope = (CLASSIFIER_OPERATING_SCORE - CLASSIFIER_MEDIAN_HAM_SCORE) / point.ham_spread
        points = CLASSIFIER_OPERATING_SCORE + slope * (decision - point.threshold)
        return round(min(max(points, CLASSIFIER_MIN), CLASSIFIER_MAX), 2)

    def __call__(self, ctx: ScanContext) -> list[Symbol]:
        decision = self.model.decision(ctx.message)
        kind, point = self.model.operating_point(ctx.message)
        name = "CLASSIFIER_SPAM" if decision >= point.threshold else "CLASSIFIER_HAM"
        detail = f"decision {decision:.3f}, {kind} mail threshold {point.threshold:.3f}"
        return [Symbol(name, self.score(decision, point), detail)]


class Filter:
    """Scan raw messages with the policy of their customer; never touches the database."""

    def __init__(self, model_path: Path | None = None, *, engines: Sequence[Scanner] = ()) -> None:
        self.model = Model.load(model_path or shipped_model_path())
        # parse the Public Suffix List now: on first use, every gateway thread scanning at
        # once would parse it (functools.cache does not lock) while holding up its message
        organizational_domain("example.com")
        self.classifier = ContentClassifier(self.model)
        self.network_scanners: tuple[Scanner, ...] = (
            blocklists.scan_dnsbl,
            blocklists.scan_uribl,
            auth.scan_spf,
            auth.scan_dkim,
            auth.scan_dmarc,
        )
        self.scanners: tuple[Scanner, ...] = (
            self.classifier,
            phishing.scan_phishing,
            *engines,
        )

    def scan(self, raw: bytes, envelope: Envelope, policy: Policy) -> Verdict:
        return self.scan_message(ParsedMessage(raw), envelope, policy)

    def scan_message(self, message: ParsedMessage, envelope: Envelope, policy: Policy) -> Verdict:
        """``scan`` of a message already parsed (the gateway reads its headers too)."""
        ctx = ScanContext(message, envelope, policy)
        symbols = malware.scan_malware(ctx)
        virus = any(s.name in malware.VIRUS_SYMBOLS for s in symbols)
        allowed = matching_entry(policy.allow, senders(ctx))
        if allowed is not None:
            symbols.append(Symbol(ALLOWLISTED, -LIST_SCORE, allowed))
            return self._verdict(symbols, policy, virus, forced=Action.REJECT if virus else None)
        denied = matching_entry(policy.deny, senders(ctx))
        if denied is not None:
            symbols.append(Symbol(DENYLISTED, LIST_SCORE, denied))
        if policy.network:
            for scanner in self.network_scanners:
                symbols.extend(scanner(ctx))
        for scanner in self.scanners:
            symbols.extend(scanner(ctx))
        names = {s.name for s in symbols}
        if names & REJECTING_SYMBOLS:
            forced: Action | None = Action.REJECT
        elif names & QUARANTINING_SYMBOLS:
            forced = Action.QUARANTINE
        else:
            forced = None
        return self._verdict(symbols, policy, virus, forced=forced)

    def _verdict(
        self, symbols: list[Symbol], policy: Policy, virus: bool, forced: Action | None
    ) -> Verdict:
        """The action of the score, raised to `forced` if that is more severe; an allow-listed
        sender is delivered unless forced."""
        score = round(sum(s.score for s in symbols), 2)
        if any(s.name == ALLOWLISTED for s in symbols):
            action = forced or Action.DELIVER
        else:
            action = action_for(score, policy)
            if forced is not None and SEVERITY.index(forced) > SEVERITY.index(action):
                action = forced
        return Verdict(action=action, score=score, symbols=tuple(symbols), virus=virus)
