"""Database plumbing: the declarative base, engines and sessions.

Service functions take a ``Session`` and never commit: the caller (an API request, a CLI command,
a scheduler job) owns the transaction. Nothing here runs at import time.
"""

from __future__ import annotations

import enum
import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    BigInteger,
    DateTime,
    Engine,
    Enum,
    MetaData,
    Numeric,
    create_engine,
    event,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.pool import StaticPool
from sqlalchemy.types import TypeDecorator, TypeEngine

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware datetimes stored as UTC; SQLite gives them back aware too."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime refused: store timezone-aware datetimes")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def StrEnumType(enum_class: type[enum.StrEnum]) -> Enum:  # noqa: N802 - a column type
    """A string-enum column stored as its value (portable, no native DB enum type)."""
    return Enum(
        enum_class,
        native_enum=False,
        create_constraint=False,
        length=30,
        values_callable=lambda members: [m.value for m in members],
    )


class ExactDecimal(TypeDecorator[Decimal]):
    """An exact decimal column. PostgreSQL stores NUMERIC; SQLite, which has no decimal type
    and would store floats, stores the integer number of 10^-scale units, so sums in SQL stay
    exact there too. A float, or a value finer than the scale, is refused rather than rounded."""

    impl = Numeric
    cache_ok = True

    def __init__(self, precision: int, scale: int) -> None:
        super().__init__(precision, scale, asdecimal=True)
        self.precision = precision
        self.scale = scale

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "sqlite":
            return dialect.type_descriptor(BigInteger())
        return dialect.type_descriptor(Numeric(self.precision, self.scale, asdecimal=True))

    def process_bind_param(self, value: Any, dialect: Dialect) -> Any:
        if value is None:
            return None
        if isinstance(value, float) or not isinstance(value, Decimal | int):
            raise TypeError(f"exact decimal column given {type(value).__name__}: use Decimal")
        number = Decimal(value)
        if dialect.name != "sqlite":
            return number
        units = number.scaleb(self.scale)
        if units != units.to_integral_value():
            raise ValueError(f"{number} has more than {self.scale} decimal places")
        return int(units)

    def process_result_value(self, value: Any, dialect: Dialect) -> Decimal | None:
        if value is None:
            return None
        if dialect.name == "sqlite":
            return Decimal(int(value)).scaleb(-self.scale)
        return Decimal(value)


def Money() -> ExactDecimal:  # noqa: N802 - reads like a type in column declarations
    """Money column: exact decimal, 4 places so unit prices keep sub-cent precision."""
    return ExactDecimal(18, 4)


def _json_default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def json_dumps(value: Any) -> str:
    return json.dumps(value, default=_json_default, ensure_ascii=False, sort_keys=True)


def client_default(column: Any, *, on_update: bool = False) -> Callable[[], Any] | None:
    """What SQLAlchemy fills in for ``column`` when a row written in bulk leaves it out: its
    Python-side ``default`` (INSERT) or ``onupdate`` (UPDATE), as a function of no argument;
    None when it has none. For the bulk writers that bypass ``insert()`` (``billing.bulk``,
    ``sms.bulk``); a default computed by the database in the statement is refused."""
    default = column.onupdate if on_update else column.default
    if default is None:
        return None
    if default.is_scalar:
        value = default.arg
        return lambda: value
    if default.is_callable:
        function = default.arg
        return lambda: function(None)  # SQLAlchemy's wrapper takes a context it ignores
    raise NotImplementedError(f"the default of {column.key} is computed in SQL")


def make_engine(url: str, *, echo: bool = False) -> Engine:
    """Create an engine; SQLite gets foreign keys, real transactions and savepoints."""
    kwargs: dict[str, Any] = {"echo": echo, "json_serializer": json_dumps}
    if url.startswith("sqlite"):
        kwargs["connect_args"] = {"check_same_thread": False, "timeout": 30}
        if url in ("sqlite://", "sqlite:///:memory:"):
            kwargs["poolclass"] = StaticPool
    else:
        kwargs["pool_pre_ping"] = True
    engine = create_engine(url, **kwargs)
    if engine.dialect.name == "sqlite":
        _configure_sqlite(engine)
    return engine


def _configure_sqlite(engine: Engine) -> None:
    # pysqlite's own transaction handling breaks SAVEPOINT; let SQLAlchemy emit BEGIN itself
    # (SQLAlchemy docs, "Serializable isolation / Savepoints / Transactional DDL"). BEGIN
    # IMMEDIATE takes the write lock at once: transactions of the embedded database run one at a
    # time, which is what ``SELECT … FOR UPDATE`` gives on PostgreSQL, and no transaction can
    # fail later on a stale snapshot.
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        # In WAL mode NORMAL syncs at checkpoints, not at every commit: a commit survives a crash
        # of the process (the WAL is in the OS's hands), and the database is never corrupted; a
        # power loss can roll back the last commits. That is SQLite's documented setting for WAL
        # and the price of one fsync per call/SMS; deployments that cannot accept it run
        # PostgreSQL. The mail queue fsyncs its own files before answering 250.
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(bind=engine, expire_on_commit=False)


@contextmanager
def transaction(factory: sessionmaker[Session]) -> Iterator[Session]:
    """One unit of work: commit on success, roll back on any error."""
    session = factory()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()
