"""Tenancy through request bodies: a customer's credential naming, in the body of a request on
its own customer path, an object of another customer (a line, a subscription, a number, a
contract) is refused and learns nothing of it. ``test_tenancy.py`` covers the ids of paths."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from tests.api.conftest import World, auth
from tests.api.test_tenancy import BODIES, PARAM, PATH_DEFAULTS

# body field -> the World id naming the other customer's object of that kind
BODY_IDS = {
    "contract_id": "contract_id",
    "subscription_id": "subscription_id",
    "line_id": "line_id",
    "line_ids": "line_id",
    "number_id": "number_id",
    "caller_id_number_id": "number_id",
    "equipment_id": "equipment_id",
    "invoice_id": "invoice_id",
    "ticket_id": "ticket_id",
    "order_id": "order_id",
}


def _with_other_ids(body: dict[str, Any], other: dict[str, int]) -> dict[str, Any] | None:
    """The body with every id field naming the other customer's object; None: no id field."""
    changed = {
        key: ([other[BODY_IDS[key]]] if key.endswith("_ids") else other[BODY_IDS[key]])
        for key in body
        if key in BODY_IDS
    }
    return body | changed if changed else None


# SPEC: SEC-01, SEC-02
def test_ids_in_bodies_never_reach_another_customers_objects(
    client: TestClient, world: World
) -> None:
    probed = 0
    ids = {"customer_id": world.a.id, **world.a.ids}
    for (method, template), body in BODIES.items():
        if "{customer_id}" not in template:
            continue
        hostile = _with_other_ids(body, world.b.ids)
        if hostile is None:
            continue
        path = "/api/v1" + PARAM.sub(
            lambda m: str(ids.get(m.group(1), PATH_DEFAULTS.get(m.group(1), 1))), template
        )
        response = client.request(method, path, headers=auth(world.a.admin_key), json=hostile)
        probed += 1
        assert 400 <= response.status_code < 500, (method, template, hostile, response.text)
        assert world.b.name not in response.text, (method, template, response.text)
    assert probed >= 5
