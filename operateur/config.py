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

    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'operateur.db').as_posix()}"
