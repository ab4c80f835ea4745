"""Mail filter (MAIL-01, MAIL-02, MAIL-04): a pipeline of scanners (lists, DNSBL/URIBL,
SPF/DKIM/DMARC, statistical classifier, malware and phishing, optional rspamd/spamd) whose
scored symbols combine into one Verdict against the customer's Policy thresholds."""

from operateur.mail.filter.pipeline import Filter
from operateur.mail.filter.types import Action, Envelope, Policy, Symbol, Verdict

__all__ = ["Action", "Envelope", "Filter", "Policy", "Symbol", "Verdict"]
