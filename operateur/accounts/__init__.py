"""Customers, users, roles, credentials and the audit log."""
