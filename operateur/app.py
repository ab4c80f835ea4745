"""The ASGI application, built from settings (nothing is created at import time)."""

from __future__ import annotations

from fastapi import APIRouter, FastAPI
from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker

from operateur import __version__
from operateur.accounts import audit
from operateur.accounts.api import router as accounts_router
from operateur.billing.api import router as billing_router
from operateur.catalog.api import router as catalog_router
from operateur.config import Settings
from operateur.contracts.api import router as contracts_router
from operateur.db import make_engine, make_session_factory
from operateur.http import metrics, problems
from operateur.http.deps import SessionDep
from operateur.numbers.api import router as numbers_router

API_PREFIX = "/api/v1"


def create_app(
    settings: Settings | None = None, session_factory: sessionmaker[Session] | None = None
) -> FastAPI:
    settings = settings or Settings()
    if session_factory is None:
        session_factory = make_session_factory(make_engine(settings.resolved_database_url()))
    audit.install()

    app = FastAPI(
        title="operateur",
        version=__version__,
        description="The platform of a B2B telecom and messaging operator.",
        docs_url="/docs",
        openapi_url="/openapi.json",
    )
    app.state.settings = settings
    app.state.session_factory = session_factory
    problems.install(app)
    metrics.install(app)

    health = APIRouter(tags=["health"])

    @health.get("/health")
    def get_health(session: SessionDep) -> dict[str, str]:
        session.execute(text("SELECT 1"))
        return {"status": "ok", "version": __version__}

    routers = (
        health,
        accounts_router,
        catalog_router,
        contracts_router,
        numbers_router,
        billing_router,
    )
    for router in routers:
        app.include_router(router, prefix=API_PREFIX)
    return app
