"""The portal over HTTP without a browser: the demo-like world of the browser tests, and a
client that logs in through the form and sends each form's CSRF token as a browser does."""

from __future__ import annotations

import re
from typing import Any

import httpx2 as httpx  # what starlette's TestClient answers with
import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from tests.e2e.world import World, build

TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


@pytest.fixture
def world(session_factory: sessionmaker[Session]) -> World:
    return build(session_factory)


class Browser:
    """A TestClient used like a browser: it reads the token of the page a form is on."""

    def __init__(self, client: TestClient) -> None:
        self.client = client

    def get(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.client.get(path, follow_redirects=False, **kwargs)

    def token(self, page: str) -> str:
        found = TOKEN.search(self.client.get(page).text)
        assert found, page
        return found.group(1)

    def post(self, page: str, action: str, data: dict[str, Any], **kwargs: Any) -> httpx.Response:
        """Submit a form of ``page`` to ``action``, as the browser would."""
        return self.client.post(
            action,
            data={**data, "csrf_token": self.token(page)},
            follow_redirects=False,
            **kwargs,
        )

    def login(self, email: str, password: str) -> httpx.Response:
        self.client.cookies.clear()
        return self.post("/login", "/login", {"email": email, "password": password})


@pytest.fixture
def browser(client: TestClient) -> Browser:
    return Browser(client)
