"""The HTTP layer itself: health, metrics labels, the access log, errors nobody handled."""

from __future__ import annotations

import logging

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from operateur.app import create_app
from operateur.config import Settings
from tests.api.conftest import World, auth


# No SPEC rule: operations. A monitor polling health must not wait for the database's writers.
def test_health_answers_while_another_transaction_holds_the_write_lock(
    settings: Settings, committed_factory: sessionmaker[Session]
) -> None:
    app = create_app(settings, session_factory=committed_factory)
    with TestClient(app) as client, committed_factory() as writer:
        writer.connection()  # a transaction is open: on SQLite, BEGIN IMMEDIATE holds the lock
        response = client.get("/api/v1/health")
        writer.rollback()
    assert response.status_code == 200
    assert response.json()["status"] == "ok"


def _metric_lines(client: TestClient) -> list[str]:
    return [
        line
        for line in client.get("/metrics").text.splitlines()
        if line.startswith("operateur_http_requests_total{")
    ]


# SPEC: SEC-02
def test_metrics_count_each_route_template_and_put_the_rest_together(
    client: TestClient, world: World
) -> None:
    client.get(f"/api/v1/customers/{world.a.id}", headers=auth(world.a.admin_key))
    client.get(f"/api/v1/customers/{world.b.id}", headers=auth(world.b.admin_key))
    client.get("/api/v1/no/such/page")
    client.delete("/api/v1/health")  # the path exists, not for this method
    client.request("PURGE", "/api/v1/no/such/page")
    lines = _metric_lines(client)
    assert (
        'operateur_http_requests_total{method="GET",route="/api/v1/customers/{customer_id}",'
        'status="200"} 2.0'
    ) in lines
    assert 'operateur_http_requests_total{method="GET",route="unmatched",status="404"} 1.0' in lines
    assert (
        'operateur_http_requests_total{method="DELETE",route="unmatched",status="405"} 1.0'
    ) in lines
    # a method a client makes up does not become a label value of its own
    assert 'operateur_http_requests_total{method="OTHER",route="unmatched",status="404"} 1.0' in (
        lines
    )
    assert not any("PURGE" in line for line in lines)


# SPEC: SEC-02
def test_an_error_nobody_handled_is_answered_500_counted_and_logged(
    settings: Settings,
    session_factory: sessionmaker[Session],
    caplog: pytest.LogCaptureFixture,
) -> None:
    app = create_app(settings, session_factory=session_factory)

    @app.get("/api/v1/test-broken/{customer_id}")
    def broken(customer_id: int) -> None:
        raise RuntimeError("a bug")

    caplog.set_level(logging.INFO, logger="operateur.http")
    with TestClient(app, raise_server_exceptions=False) as client:
        assert client.get("/api/v1/test-broken/7").status_code == 500
        lines = _metric_lines(client)
    assert (
        'operateur_http_requests_total{method="GET",route="/api/v1/test-broken/{customer_id}",'
        'status="500"} 1.0'
    ) in lines
    logged = [r.getMessage() for r in caplog.records if r.name == "operateur.http"]
    assert any(
        line.startswith("http.request method=GET route=/api/v1/test-broken/{customer_id}")
        and "status=500" in line
        and "customer=7" in line
        for line in logged
    ), logged


# SPEC: SEC-02
def test_the_access_line_names_the_client_address(
    client: TestClient, world: World, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="operateur.http")
    client.get("/api/v1/health")
    logged = [r.getMessage() for r in caplog.records if r.name == "operateur.http"]
    assert any(
        line.startswith("http.request method=GET route=/api/v1/health status=200")
        and line.endswith("client=testclient")  # the address TestClient gives its requests
        for line in logged
    ), logged


# SPEC: SEC-02
def test_nothing_is_logged_per_request_below_info(
    client: TestClient, world: World, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="operateur.http")
    client.get("/api/v1/health")
    assert client.get("/metrics").status_code == 200
    assert not [r for r in caplog.records if r.name == "operateur.http"]
