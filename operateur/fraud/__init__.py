"""Fraud detection over usage records (VOX-06, BIL-13, BIL-15): detectors, alerts, actions."""
