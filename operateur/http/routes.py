"""The application's API routes as (method, full path template, route), flattened, and the
template of the route a request matched (:class:`RouteTemplates`, for metrics and logs).

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
from starlette.types import Scope


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


def warm_up(app: FastAPI) -> None:
    """Build every route's state now. FastAPI builds a route's dependencies and body models the
    first time the route is used, and the route index of the metrics walks them all: about a
    second on the first request, which the SIP proxy (2 s timeout) would pay as refused calls
    after each restart. A server calls this before it takes its first request."""
    api_routes(app)


UNMATCHED = "unmatched"


class RouteTemplates:
    """The full path template of the API route a request matched, for metrics and logs.

    The router leaves the matched route in ``scope["route"]`` (the route as declared: its path
    lacks the prefixes it was included under), so the template is a dictionary lookup, not a
    second matching over every route. ``unmatched`` when no API route answered: 404, 405 (the
    path exists for another method), documentation pages, static files.
    """

    def __init__(self, app: FastAPI) -> None:
        self.app = app
        self._routes: set[int] = set()
        self._by_route: dict[tuple[int, str], list[ApiRoute]] = {}

    def _index(self) -> None:
        by_route: dict[tuple[int, str], list[ApiRoute]] = {}
        for candidate in api_routes(self.app):
            by_route.setdefault((id(candidate.route), candidate.method), []).append(candidate)
        self._by_route = by_route
        self._routes = {route_id for route_id, _ in by_route}

    def of(self, scope: Scope) -> str:
        route = scope.get("route")
        if not isinstance(route, APIRoute):
            return UNMATCHED
        if id(route) not in self._routes:  # first request, or routes added since
            self._index()
            self._routes.add(id(route))  # indexed once, even a route with no API method
        candidates = self._by_route.get((id(route), scope["method"]), [])
        if len(candidates) == 1:
            return candidates[0].path
        path: str = scope["path"]  # one router included under several prefixes
        path = path.removeprefix(scope.get("root_path", ""))
        for candidate in candidates:
            if candidate.regex.match(path):
                return candidate.path
        return UNMATCHED
