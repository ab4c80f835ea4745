"""``GET /health``: the process is up and its database answers.

Load balancers and monitors poll it, so it costs one trip to a worker thread and takes no
transaction: a ``SELECT 1`` on a pooled connection. (A transaction on the embedded SQLite
database begins with ``BEGIN IMMEDIATE``, the write lock, see :mod:`operateur.db`: the check
would queue behind every write, and a long billing run would make the node look down.)
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker
from starlette.concurrency import run_in_threadpool

from operateur import __version__

router = APIRouter(tags=["health"])


def ping_database(factory: sessionmaker[Session]) -> None:
    """``SELECT 1`` outside any transaction of the application."""
    bind = factory.kw["bind"]
    if isinstance(bind, Engine):
        connection = bind.raw_connection()
        try:
            _select_one(connection)
        finally:
            connection.close()  # back to the pool
    else:  # sessions bound to one connection (tests): ask on that one
        _select_one(bind.connection)


def _select_one(connection: Any) -> None:
    cursor = connection.cursor()
    try:
        cursor.execute("SELECT 1")
        cursor.fetchall()
    finally:
        cursor.close()


@router.get("/health")
async def get_health(request: Request) -> dict[str, str]:
    await run_in_threadpool(ping_database, request.app.state.session_factory)
    return {"status": "ok", "version": __version__}
