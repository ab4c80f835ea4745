"""Prometheus metrics (request counts and latencies per route, on a registry per app) and one
access-log line per request with the ids that matter.

Both come from one pure ASGI middleware (:class:`RequestMetrics`): it sits on the path of every
call-control request of the SIP proxy, so it does no more than wrap ``send`` to see the status.
(Starlette's ``@app.middleware("http")`` runs the rest of the application in a task of its own,
wraps ``receive`` and streams the response through a memory channel: more CPU per request than
the call-control engine's whole decision, see ``bench/http_overhead.py``.)
The route label is the path template the router chose, read from the matched route in the
scope (no second matching), and the log line is formatted only when INFO is enabled.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from fastapi import FastAPI, Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram
from prometheus_client.exposition import generate_latest
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from operateur.http.routes import RouteTemplates
from operateur.logs import event

log = logging.getLogger("operateur.http")

# Methods kept as they are in labels; any other (only possible on unmatched paths) is "OTHER",
# so that a client cannot create label values at will.
KNOWN_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


class RequestMetrics:
    """Pure ASGI middleware: latency histogram and request counter per (method, route
    template[, status]), then the access-log line ``http.request method=… route=… status=…
    actor=… customer=… ms=… client=<address>`` (the only one: ``operateur serve`` turns
    uvicorn's off). A request that fails with an unhandled exception is counted and logged as
    500 (the server's error middleware, outside this one, answers it)."""

    def __init__(
        self, app: ASGIApp, *, fastapi_app: FastAPI, requests: Counter, latency: Histogram
    ) -> None:
        self.app = app
        self.templates = RouteTemplates(fastapi_app)
        self.requests = requests
        self.latency = latency
        # Label children looked up once per label set (prometheus_client's .labels() locks).
        self._latency_children: dict[tuple[str, str], Any] = {}
        self._request_children: dict[tuple[str, str, int], Any] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def send_and_see_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_and_see_status)
        finally:
            self._record(scope, status, time.perf_counter() - started)

    def _record(self, scope: Scope, status: int, elapsed: float) -> None:
        method: str = scope["method"]
        template = self.templates.of(scope)
        if template == "unmatched" and method not in KNOWN_METHODS:
            method = "OTHER"
        latency = self._latency_children.get((method, template))
        if latency is None:
            latency = self._latency_children[method, template] = self.latency.labels(
                method, template
            )
        latency.observe(elapsed)
        counter = self._request_children.get((method, template, status))
        if counter is None:
            counter = self._request_children[method, template, status] = self.requests.labels(
                method, template, str(status)
            )
        counter.inc()
        if log.isEnabledFor(logging.INFO):
            actor = (scope.get("state") or {}).get("actor")
            client = scope.get("client")
            event(
                log,
                "http.request",
                method=method,
                route=template,
                status=status,
                actor=getattr(actor, "label", None),
                customer=(scope.get("path_params") or {}).get("customer_id"),
                ms=round(elapsed * 1000, 1),
                client=client[0] if client else None,
            )


def install(app: FastAPI) -> CollectorRegistry:
    """Measure every request of ``app`` and serve the registry at ``/metrics``."""
    registry = CollectorRegistry()
    requests = Counter(
        "operateur_http_requests_total",
        "HTTP requests by method, route template and status",
        ["method", "route", "status"],
        registry=registry,
    )
    latency = Histogram(
        "operateur_http_request_seconds",
        "HTTP request latency by method and route template",
        ["method", "route"],
        registry=registry,
    )
    app.add_middleware(RequestMetrics, fastapi_app=app, requests=requests, latency=latency)

    @app.get("/metrics", include_in_schema=False)
    def metrics() -> Response:
        return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)

    app.state.metrics_registry = registry
    return registry
