"""Traffic quality (VOX-08 KPIs and penalties) and consumer reports on value-added numbers
(VOX-16)."""
