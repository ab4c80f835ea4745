"""Billing: usage rating (BIL-09), and later invoices, payments and credits (BIL-*).

``operateur.billing.rating`` is the pure rating core: rate decks, longest-prefix match, billing
steps, call costs, and a vectorised fast path for bulk rating.
"""
