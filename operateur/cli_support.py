"""Helpers shared by every context's CLI: settings, one transaction per command, errors."""

from __future__ import annotations

import getpass
import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, ParamSpec, TypeVar

import typer
from sqlalchemy.orm import Session

from operateur.accounts import audit
from operateur.accounts.permissions import system_actor
from operateur.config import Settings
from operateur.db import make_engine, make_session_factory, transaction, utcnow
from operateur.errors import InvalidInput, OperateurError
from operateur.i18n import Text

P = ParamSpec("P")
R = TypeVar("R")


def settings() -> Settings:
    return Settings()


def lang() -> str:
    return settings().lang


@contextmanager
def unit_of_work(reason: str | None = None) -> Iterator[Session]:
    """One transaction for one CLI command, acting as ``cli:<os user>`` in the audit log."""
    current = settings()
    engine = make_engine(current.resolved_database_url())
    audit.install()
    try:
        with transaction(make_session_factory(engine)) as session:
            audit.set_actor(session, system_actor(f"cli:{getpass.getuser()}"), reason)
            yield session
    finally:
        engine.dispose()


def reports_errors(func: Callable[P, R]) -> Callable[P, R]:
    """Print an ``OperateurError`` in the user's language on stderr and exit 1."""
    import functools

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return func(*args, **kwargs)
        except OperateurError as error:
            where = f" [{error.field}]" if error.field else ""
            typer.echo(f"{error.code}{where}: {error.render(lang())}", err=True)
            raise typer.Exit(1) from error

    return wrapper


def print_json(value: Any) -> None:
    def default(obj: Any) -> Any:
        return str(obj)

    json.dump(value, sys.stdout, default=default, ensure_ascii=False, indent=2)
    sys.stdout.write("\n")


def now_iso() -> str:
    return utcnow().isoformat(timespec="seconds")


def read_file(path: Path, field: str) -> bytes:
    """A file a command was given; unreadable: ``InvalidInput`` naming ``field``."""
    try:
        return path.read_bytes()
    except OSError as error:
        raise InvalidInput(
            Text(
                fr="Lecture impossible de {path} : {reason}.",
                en="Cannot read {path}: {reason}.",
            ),
            field=field,
            details={"path": str(path), "reason": error.strerror or type(error).__name__},
        ) from None


def read_text_file(path: Path, field: str) -> str:
    """A UTF-8 text file a command was given, its line ends read as ``\\n`` (as ``open`` reads
    them); unreadable or not UTF-8: ``InvalidInput`` naming ``field``."""
    try:
        return read_file(path, field).decode("utf-8").replace("\r\n", "\n").replace("\r", "\n")
    except UnicodeDecodeError:
        raise InvalidInput(
            Text(
                fr="Le fichier {path} n'est pas en UTF-8.",
                en="The file {path} is not UTF-8.",
            ),
            field=field,
            details={"path": str(path)},
        ) from None
