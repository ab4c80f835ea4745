"""Prometheus metrics (request counts and latencies per route, on a registry per app) and one
access-log line per request with the ids that matter."""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable

from fastapi import FastAPI, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram
from prometheus_client.exposition import generate_latest

from operateur.http.routes import ApiRoute, api_routes, route_template
from operateur.logs import event

log = logging.getLogger("operateur.http")


def install(app: FastAPI) -> CollectorRegistry:
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

    known: list[ApiRoute] = []

    @app.middleware("http")
    async def measure(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        started = time.perf_counter()
        response = await call_next(request)
        if not known:
            known.extend(api_routes(app))
        template = route_template(known, request.method, request.url.path)
        elapsed = time.perf_counter() - started
        latency.labels(request.method, template).observe(elapsed)
        requests.labels(request.method, template, str(response.status_code)).inc()
        actor = getattr(request.state, "actor", None)
        event(
            log,
            "http.request",
            method=request.method,
            route=template,
            status=response.status_code,
            actor=getattr(actor, "label", None),
            customer=request.path_params.get("customer_id"),
            ms=round(elapsed * 1000, 1),
        )
        return response

    @app.get("/metrics", include_in_schema=False)
    def metrics() -> Response:
        return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)

    app.state.metrics_registry = registry
    return registry
