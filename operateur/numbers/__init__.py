"""The operator's number inventory: classification, tiers, assignment (VOX-14)."""
