"""The ASGI application, built from settings (nothing is created at import time)."""

from __future__ import annotations

from fastapi import FastAPI
from sqlalchemy.orm import Session, sessionmaker

from operateur import __version__
from operateur.accounts import audit
from operateur.accounts.api import router as accounts_router
from operateur.billing.api import router as billing_router
from operateur.catalog.api import router as catalog_router
from operateur.config import Settings
from operateur.contracts.api import operator_router as maintenance_router
from operateur.contracts.api import router as contracts_router
from operateur.db import make_engine, make_session_factory
from operateur.dialer.api import router as dialer_router
from operateur.fraud.api import router as fraud_router
from operateur.http import metrics, problems
from operateur.http.health import router as health_router
from operateur.http.routes import warm_up
from operateur.mail.api import operator_router as mail_operator_router
from operateur.mail.api import router as mail_router
from operateur.mail.web import router as mail_links_router
from operateur.notifications.api import router as notifications_router
from operateur.numbers.api import public_router as numbers_public_router
from operateur.numbers.api import router as numbers_router
from operateur.orders.api import router as orders_router
from operateur.portal import install as install_portal
from operateur.privacy.api import operator_router as privacy_operator_router
from operateur.privacy.api import router as privacy_router
from operateur.quality.api import router as quality_router
from operateur.recordings.api import router as recordings_router
from operateur.sms.api import operator_router as sms_operator_router
from operateur.sms.api import router as sms_router
from operateur.support.api import router as support_router
from operateur.voice import proxy_link
from operateur.voice.api import router as voice_router

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

    routers = (
        voice_router,  # first: call control runs on every INVITE, matched before the rest
        health_router,
        accounts_router,
        catalog_router,
        contracts_router,
        maintenance_router,  # CTR-06 planned maintenance, staff only
        numbers_router,
        billing_router,
        support_router,
        notifications_router,
        orders_router,
        fraud_router,
        quality_router,
        recordings_router,
        dialer_router,
        privacy_router,  # SEC-02/03, PRIV-01 what a customer sees and asks
        privacy_operator_router,  # SEC-02/03, PRIV-01 the registers, staff only
        numbers_public_router,  # VOX-17: the public, unauthenticated number lookup
    )
    for router in routers:
        app.include_router(router, prefix=API_PREFIX)
    app.include_router(mail_router, prefix=API_PREFIX)
    app.include_router(mail_operator_router, prefix=API_PREFIX)
    app.include_router(mail_links_router)  # MAIL-03 signed links, outside the API
    app.include_router(sms_router, prefix=API_PREFIX)
    app.include_router(sms_operator_router, prefix=API_PREFIX)
    install_portal(app)  # last: the web pages and their error pages (the API keeps its own)
    if settings.sip_evapi:
        proxy_link.install(app)  # call control over the SIP proxies' event sockets
    return app


def create_served_app() -> FastAPI:
    """The app as a server runs it (``uvicorn operateur.app:create_served_app --factory``):
    its routes built before the first request (``routes.warm_up``)."""
    app = create_app()
    warm_up(app)
    return app
