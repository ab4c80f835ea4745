"""operateur — the platform a small B2B telecom and messaging operator runs its business on."""

__version__ = "0.1.0"
