"""Outgoing notifications: emails to a customer's contacts and signed webhook events, queued in
an outbox within the caller's transaction and delivered later, retried with backoff."""
