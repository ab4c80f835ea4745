"""Typed settings from ``OPERATEUR_*`` environment variables (see ``operateur.env.sample``)."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from operateur.i18n import Lang


class Settings(BaseSettings):
    """Every setting of the platform. Build one with ``Settings()``; nothing reads it at import."""

    model_config = SettingsConfigDict(env_prefix="OPERATEUR_", extra="ignore")

    data_dir: Path = Field(
        default=Path("var"), description="Where the embedded database and files live"
    )
    database_url: str | None = Field(
        default=None, description="SQLAlchemy URL; default sqlite:///<data_dir>/operateur.db"
    )
    host: str = "127.0.0.1"
    port: int = 8000
    lang: Lang = "fr"
    log_level: str = "INFO"
    session_hours: int = Field(default=12, ge=1, description="Lifetime of a login session")
    login_max_failures: int = Field(default=5, ge=1, description="Failed logins before a lock-out")
    login_lockout_minutes: int = Field(default=15, ge=1, description="Length of a lock-out")
    number_quarantine_days: int = Field(
        default=90, ge=0, description="Days a released number rests before reassignment"
    )
    scheduler_enabled: bool = Field(
        default=True, description="Run the scheduled jobs every minute inside `operateur serve`"
    )
    cookie_secure: bool = Field(
        default=False, description="Mark the session cookie Secure (set true behind TLS)"
    )
    support_attachment_max_bytes: int = Field(
        default=10_485_760, ge=1, description="Largest file joined to a support ticket"
    )
    smtp_url: str | None = Field(
        default=None,
        description="Where notification emails go: smtp://[user:password@]host:port, "
        "smtps://... or smtp+starttls://...; unset: emails wait in the outbox",
    )
    smtp_from: str = Field(
        default="operateur <noreply@operateur.localhost>", description="Sender of notifications"
    )
    notification_max_attempts: int = Field(
        default=8, ge=1, description="Attempts to deliver an email or webhook before giving up"
    )
    notification_retry_seconds: int = Field(
        default=60, ge=1, description="First retry delay of a failed delivery, doubled each time"
    )
    notification_timeout_seconds: float = Field(
        default=10.0, gt=0, description="Timeout of one SMTP or webhook delivery"
    )
    webhook_allow_private_targets: bool = Field(
        default=False, description="Allow webhooks to loopback or private addresses (tests)"
    )

    # --- voice call control (operateur/voice/) -----------------------------------------------
    redis_url: str | None = Field(
        default=None,
        description="redis://host:port/db holding the real-time counters (concurrent calls, "
        "CAPS, live calls) shared by several API workers; unset: in-process counters (one worker)",
    )
    voice_cache_seconds: float = Field(
        default=10.0,
        ge=0,
        description="How long call control reuses what it read about a line (contract, terms, "
        "rate deck, numbers) before reading it again; changes made in this process apply at once",
    )
    voice_auth_cache_seconds: float = Field(
        default=10.0,
        ge=0,
        description="How long the call-control routes trust a checked API key (a revoked key "
        "stops working within this delay)",
    )
    voice_ring_seconds: int = Field(
        default=300, ge=1, description="Longest time a call may ring before it is answered"
    )
    voice_reap_margin_seconds: int = Field(
        default=60,
        ge=0,
        description="Grace after a call's maximum duration before a call whose end never "
        "arrived is ended by the reaper",
    )
    voice_uncapped_call_seconds: int = Field(
        default=14_400,
        ge=60,
        description="Dialog timeout given to the proxy when no contract term caps a call, and "
        "for emergency calls (never cut by a contract limit)",
    )
    voice_reap_every_seconds: float = Field(
        default=30.0, gt=0, description="How often `operateur serve` reaps calls that never ended"
    )
    sip_evapi: str = Field(
        default="",
        description="Event sockets (Kamailio evapi) of the SIP proxies to serve call control "
        "to, host:port[,host:port]; unset: the proxies ask over HTTP",
    )
    voice_blocklist_path: Path | None = Field(
        default=None,
        description="The operator's premium/IRSF prefix blocklist (CSV prefix,label,source); "
        "default: the list shipped in operateur/voice/data/blocked_prefixes.csv",
    )

    # --- mail security gateway (operateur/mail/) ---------------------------------------------
    mail_instance: str = Field(
        default="gw1", description="Name of this gateway instance (logs, queue claims, prober)"
    )
    mail_hostname: str = Field(
        default="localhost", description="Name the gateway gives in its banner and EHLO"
    )
    mail_inbound_listen: str = Field(
        default="127.0.0.1:2525", description="HOST:PORT of the inbound (MX) SMTP listener"
    )
    mail_submission_listen: str = Field(
        default="127.0.0.1:2587",
        description="HOST:PORT of the authenticated submission listener (MAILOUT); empty: off",
    )
    mail_spool_dir: Path | None = Field(
        default=None,
        description="Durable spool of accepted mail, shared by every gateway instance "
        "(default <data_dir>/mail/spool)",
    )
    mail_tls_cert: Path | None = Field(
        default=None, description="PEM certificate for STARTTLS (default: a self-signed one)"
    )
    mail_tls_key: Path | None = Field(default=None, description="PEM private key for STARTTLS")
    mail_max_connections_per_ip: int = Field(
        default=20, ge=1, description="Simultaneous SMTP connections allowed from one IP"
    )
    mail_max_message_bytes: int = Field(
        default=52_428_800,
        ge=1024,
        description="Size ceiling of the listener; each contract's own limit applies below it",
    )
    mail_retry_first_seconds: int = Field(
        default=60, ge=1, description="Delay before the second delivery attempt (then doubled)"
    )
    mail_retry_max_seconds: int = Field(
        default=3600, ge=1, description="Longest delay between two delivery attempts"
    )
    mail_delivery_lease_seconds: int = Field(
        default=600, ge=10, description="How long an instance owns a message it is delivering"
    )
    mail_relay_timeout_seconds: int = Field(
        default=60, ge=1, description="SMTP timeout when relaying to a receiving server"
    )
    mail_outbound_port: int = Field(
        default=25, ge=1, description="Port of the recipients' MX servers (25 outside tests)"
    )
    mail_resolver_nameservers: str = Field(
        default="", description="Comma-separated HOST[:PORT] DNS servers; empty: the system's"
    )
    mail_dnsbl_zones: str = Field(default="", description="Comma-separated DNSBL zones")
    mail_uribl_zones: str = Field(default="", description="Comma-separated URI blocklist zones")
    mail_network_checks: bool = Field(
        default=True, description="DNS lookups (DNSBL, SPF, DKIM, DMARC) while filtering"
    )
    mail_rspamd_url: str = Field(
        default="", description="rspamd's normal worker the gateway also asks (empty: none)"
    )
    mail_spamd_address: str = Field(
        default="", description="HOST:PORT of a spamd the gateway also asks (empty: none)"
    )
    mail_cache_seconds: float = Field(
        default=5.0,
        ge=0,
        description="How long a gateway keeps a customer's terms, lists and mailboxes in memory",
    )
    mail_gateways: str = Field(
        default="",
        description="Comma-separated HOST:PORT of every gateway the prober checks each minute",
    )
    mail_public_url: str = Field(
        default="http://127.0.0.1:8000",
        description="Public base URL of the web server, for release and challenge links",
    )
    mail_link_secret: str | None = Field(
        default=None,
        description="Key signing release links (default: one generated under <data_dir>/mail)",
    )
    sms_routes: str = Field(
        default="",
        description="SMPP routes to the SMSC: JSON {route: {host, port, system_id, password, "
        "system_type, window, throughput, enquire_link_seconds, ...}} or @/path/routes.json|yaml "
        "(fields: operateur.sms.smpp.SmppRoute)",
    )
    sms_short_code: str = Field(
        default="38100",
        pattern=r"^3[0-9]{4}$",
        description="The operator's shared SMS short code (ARCEP 3BPQ, AF2M 36xxx/38xxx): the "
        "default sender under offers with a shared short code, the number named in the STOP "
        "mention and where STOP answers arrive (SMS-06). The default 38100 is a placeholder for "
        "development and tests: set the number assigned to the operator",
    )
    sms_import_max_bytes: int = Field(
        default=10_485_760, ge=1024, description="Largest distribution-list file uploaded"
    )

    # --- voice operations: recordings and traffic data (VOX-12, VOX-13) -----------------------
    recording_max_bytes: int = Field(
        default=104_857_600, ge=1024, description="Largest call recording file accepted"
    )
    orphan_traffic_data_months: int = Field(
        default=12,
        ge=1,
        description="Months usage records of no contract (unknown accounts) are kept (VOX-13)",
    )

    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'operateur.db').as_posix()}"
