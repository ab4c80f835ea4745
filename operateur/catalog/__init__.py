"""The catalogue: offer templates and their contract terms, as data.

``terms`` holds the models, ``offers/`` the built-in templates (one per seed document),
``service`` the use cases (read templates, apply negotiated overrides) and ``cli`` the
``operateur catalog`` commands.
"""

from __future__ import annotations

from operateur.catalog.service import (
    apply_overrides,
    get_offer,
    list_offers,
    load_offer_file,
    parse_offer,
)
from operateur.catalog.terms import ContractTerms, OfferTemplate

__all__ = [
    "ContractTerms",
    "OfferTemplate",
    "apply_overrides",
    "get_offer",
    "list_offers",
    "load_offer_file",
    "parse_offer",
]
