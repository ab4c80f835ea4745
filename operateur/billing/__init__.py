"""Billing: usage rating and totals, invoices (Factur-X), payments, SEPA direct debit,
penalties, disputes, price revisions, prepaid wallets (BIL-*).

``operateur.billing.rating`` is the pure rating core: rate decks, longest-prefix match, billing
steps, call costs, and a vectorised fast path for bulk rating. Importing the package installs
the usage totals' mapper events (``usage_totals``): every rated record counts once.
"""

from operateur.billing import usage_totals as usage_totals
