"""Shared pure helpers with no I/O: money, business calendars, phone numbering, identifiers.

Import from the modules themselves (``from operateur.domain.money import parse_amount``).
"""
