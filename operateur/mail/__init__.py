"""Mail security gateway (MAIL-01..MAIL-12): inbound and outbound SMTP filtering, quarantine,
buffering, abuse limits, SLA figures and licences."""
