"""Voice: real-time call control for the SIP proxy (VOX-01…VOX-11, BIL-09/10)."""
