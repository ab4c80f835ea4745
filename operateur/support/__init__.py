"""Support: tickets with business-hours SLAs, monthly quotas and fees (SUP-01..03), and
declarations of lost or stolen credentials, SIM cards and equipment (SUP-04)."""
