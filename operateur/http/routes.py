"""The application's API routes as (method, full path template, route), flattened.

FastAPI includes routers lazily; this walks them with ``fastapi.routing.iter_route_contexts``
where it exists (FastAPI ≥ 0.160) and falls back to ``app.routes`` on older versions.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from fastapi import FastAPI
from fastapi import routing as fastapi_routing
from fastapi.routing import APIRoute
from starlette.routing import compile_path


@dataclass(frozen=True)
class ApiRoute:
    method: str
    path: str
    route: APIRoute
    regex: re.Pattern[str]


def api_routes(app: FastAPI) -> list[ApiRoute]:
    found: list[ApiRoute] = []
    iterate = getattr(fastapi_routing, "iter_route_contexts", None)
    pairs: list[tuple[object, str | None]]
    if iterate is not None:
        pairs = [(ctx.original_route, ctx.path) for ctx in iterate(app.routes)]
    else:
        pairs = [(route, getattr(route, "path", None)) for route in app.routes]
    for route, path in pairs:
        if isinstance(route, APIRoute) and path:
            regex = compile_path(path)[0]
            for method in sorted((route.methods or set()) - {"HEAD", "OPTIONS"}):
                found.append(ApiRoute(method, path, route, regex))
    return found


def route_template(routes: list[ApiRoute], method: str, path: str) -> str:
    """The path template a request matched, for metrics labels; ``unmatched`` otherwise."""
    for candidate in routes:
        if candidate.method == method and candidate.regex.match(path):
            return candidate.path
    return "unmatched"
