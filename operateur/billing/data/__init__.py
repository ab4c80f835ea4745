"""Reference tables shipped with the billing context (ECB and French legal rates)."""
