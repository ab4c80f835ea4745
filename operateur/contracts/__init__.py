"""Contracts, their frozen terms, subscriptions, lines and equipment."""
