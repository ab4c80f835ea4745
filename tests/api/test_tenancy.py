"""Tenancy over every router: a customer's credentials never reach another customer's data.

The routes are enumerated from the application itself, so a route added later is covered (or
makes this test fail until it is classified).
"""

from __future__ import annotations

import re
from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient

from operateur.http.routes import api_routes
from tests.api.conftest import World, auth

# Routes any authenticated caller may use: they show nothing that belongs to a customer.
SHARED_ROUTES = {
    ("GET", "/api/v1/health"),
    ("POST", "/api/v1/auth/login"),
    ("POST", "/api/v1/auth/logout"),
    ("GET", "/api/v1/auth/me"),
    ("GET", "/api/v1/offers"),
    ("GET", "/api/v1/offers/{offer_id}"),
    ("GET", "/api/v1/numbers/classify"),
    ("GET", "/api/v1/numbers/check-rio"),  # VOX-15: a RIO's key, nobody's data
    ("GET", "/api/v1/public/numbers/{number}"),
}

# Routes open without credentials (VOX-17: the public identification of numbers).
PUBLIC_ROUTES = {("GET", "/api/v1/public/numbers/{number}")}

# A valid body for each route that takes one, so that a refusal is about access, not input.
BODIES: dict[tuple[str, str], dict[str, Any]] = {
    # voice operations (VOX-06, VOX-14..17)
    ("POST", "/fraud/alerts/{alert_id}/resolve"): {"resolution": "x"},
    ("POST", "/fraud/run"): {"as_of": "2026-01-05"},
    ("POST", "/customers/{customer_id}/consumer-reports"): {
        "number": "+33199000001",
        "kind": "report_33700",
        "reference": "EVE-33700",
        "received_on": "2026-01-05",
    },
    ("POST", "/customers/{customer_id}/address-proofs"): {
        "document": "kbis",
        "reference": "EVE",
        "received_on": "2026-01-05",
    },
    ("POST", "/customers/{customer_id}/numbers/aliases"): {"kind": "geographic", "line_ids": [1]},
    ("POST", "/customers/{customer_id}/port-requests"): {
        "number": "+33140000099",
        "rio": "",
        "line_id": 1,
        "holder_name": "Eve",
    },
    ("POST", "/customers/{customer_id}/port-requests/{port_id}/answer"): {
        "accepted": False,
        "reason": "not_holder",
    },
    ("POST", "/customers/{customer_id}/crm/contacts"): {"name": "Eve", "phone": "+33612345670"},
    ("POST", "/customers/{customer_id}/crm/call-lists"): {"name": "x", "caller_id_number_id": 1},
    ("POST", "/customers/{customer_id}/crm/call-lists/{call_list_id}/entries"): {
        "contact_ids": [1]
    },
    ("POST", "/customers/{customer_id}/crm/call-lists/{call_list_id}/next"): {},
    ("POST", "/customers/{customer_id}/crm/outcomes"): {
        "contact_id": 1,
        "outcome": "answered",
        "caller_id_number_id": 1,
    },
    ("PUT", "/customers/{customer_id}/numbers/{number_id}/directory"): {
        "service_name": "x",
        "description": "x",
        "provider": "x",
        "address": "x",
        "complaint_contact": "x",
    },
    ("POST", "/customers"): {
        "name": "X",
        "legal_form": "SAS",
        "siren": "443061841",
        "address_line": "1 rue",
        "postal_code": "75001",
        "city": "Paris",
        "email": "x@x-corp.fr",
        "payment_method": "transfer",
    },
    ("PATCH", "/customers/{customer_id}"): {"phone": "+33140000000"},
    ("POST", "/customers/{customer_id}/contacts"): {"name": "Eve", "email": "eve@evil.fr"},
    ("POST", "/customers/{customer_id}/users"): {
        "email": "eve@evil.fr",
        "display_name": "Eve",
        "password": "0123456789ab",
        "role": "customer_user",
    },
    ("POST", "/staff/users"): {
        "email": "eve@evil.fr",
        "display_name": "Eve",
        "password": "0123456789ab",
        "role": "admin",
    },
    ("POST", "/customers/{customer_id}/api-keys"): {"name": "k", "role": "customer_user"},
    ("POST", "/customers/{customer_id}/contracts"): {"offer_id": "centrex"},
    ("PUT", "/customers/{customer_id}/contracts/{contract_id}/overrides"): {"overrides": {}},
    ("POST", "/customers/{customer_id}/contracts/{contract_id}/sign"): {"signed_by": "Eve"},
    ("POST", "/customers/{customer_id}/contracts/{contract_id}/activate"): {
        "activated_on": "2030-01-01"
    },
    ("POST", "/customers/{customer_id}/contracts/{contract_id}/subscriptions"): {
        "item_code": "centrex.line"
    },
    ("POST", "/customers/{customer_id}/lines"): {"contract_id": 0, "kind": "centrex", "label": "x"},
    ("POST", "/customers/{customer_id}/equipment"): {
        "contract_id": 0,
        "serial": "SN-EVE",
        "model": "x",
        "mode": "rental",
        "value": "1.00",
    },
    ("POST", "/customers/{customer_id}/equipment/{equipment_id}/return"): {
        "returned_on": "2030-01-01"
    },
    ("POST", "/numbers"): {"numbers": ["+33199000099"]},
    ("POST", "/billing/runs"): {"period": "2026-01"},
    ("POST", "/customers/{customer_id}/contracts/{contract_id}/suspend"): {
        "cause": "fraud",
        "reason": "x",
    },
    ("POST", "/customers/{customer_id}/contracts/{contract_id}/restore"): {"reason": "x"},
    ("POST", "/customers/{customer_id}/contracts/{contract_id}/terminate"): {
        "on": "2026-01-05",
        "reason": "x",
    },
    ("POST", "/customers/{customer_id}/invoices/{invoice_id}/disputes"): {
        "filed_on": "2026-01-05",
        "channel": "email",
        "contested_amount": "1.00",
        "reason": "x",
    },
    ("POST", "/customers/{customer_id}/disputes/{dispute_id}/resolve"): {
        "upheld": False,
        "resolved_on": "2026-01-05",
    },
    ("POST", "/customers/{customer_id}/penalties"): {"as_of": "2026-01-05"},
    ("POST", "/customers/{customer_id}/refunds/{refund_id}/paid"): {
        "paid_on": "2026-01-05",
        "bank_reference": "x",
    },
    ("POST", "/billing/refunds/transfers"): {"up_to": "2026-01-05"},
    ("POST", "/customers/{customer_id}/payments"): {
        "amount": "10.00",
        "method": "transfer",
        "received_on": "2026-01-05",
        "reference": "EVE-1",
    },
    ("POST", "/customers/{customer_id}/wallet/top-ups"): {"received": "10.00", "reference": "EVE"},
    ("POST", "/customers/{customer_id}/numbers"): {"kind": "geographic"},
    ("POST", "/customers/{customer_id}/tickets"): {
        "contract_id": 0,
        "kind": "incident",
        "service": "centrex",
        "subject": "x",
        "body": "x",
    },
    ("POST", "/customers/{customer_id}/tickets/{ticket_id}/messages"): {"body": "x"},
    ("POST", "/customers/{customer_id}/tickets/{ticket_id}/close"): {"reason": "x"},
    ("POST", "/customers/{customer_id}/loss-declarations"): {
        "contract_id": 0,
        "kind": "sim",
        "line_id": 0,
        "suspend": True,
    },
    ("POST", "/customers/{customer_id}/webhooks"): {"url": "https://client.example/hook"},
    ("POST", "/customers/{customer_id}/orders"): {
        "contract_id": 0,
        "items": [{"type": "subscription", "item_code": "centrex.line"}],
    },
    ("POST", "/customers/{customer_id}/orders/{order_id}/accept"): {},
    ("POST", "/customers/{customer_id}/orders/{order_id}/refuse"): {"reason": "infeasible"},
    ("POST", "/customers/{customer_id}/orders/{order_id}/deposit"): {
        "amount": "100.00",
        "reason": "x",
    },
    ("POST", "/customers/{customer_id}/orders/{order_id}/deposit-received"): {
        "received_on": "2026-01-05",
        "reference": "x",
    },
    ("POST", "/customers/{customer_id}/contracts/{contract_id}/termination"): {
        "received_on": "2026-01-05",
        "reason": "x",
    },
    ("POST", "/customers/{customer_id}/contracts/{contract_id}/notices"): {
        "kind": "breach",
        "started_on": "2026-01-05",
        "summary": "x",
    },
    ("POST", "/customers/{customer_id}/contracts/{contract_id}/notices/{notice_id}/end"): {
        "ended_on": "2026-01-05"
    },
    ("POST", "/customers/{customer_id}/contracts/{contract_id}/notices/{notice_id}/terminate"): {
        "on": "2026-01-05",
        "reason": "x",
    },
    ("POST", "/customers/{customer_id}/contracts/{contract_id}/suspension-termination"): {
        "reason": "x"
    },
    ("POST", "/customers/{customer_id}/contracts/{contract_id}/operator-termination"): {
        "case": "authority_decision",
        "reason": "x",
    },
    ("POST", "/customers/{customer_id}/contracts/{contract_id}/licence-changes"): {
        "subscription_id": 0,
        "quantity": 3,
    },
    ("POST", "/customers/{customer_id}/equipment/{equipment_id}/inspection"): {
        "inspected_on": "2026-01-05",
        "good_condition": True,
    },
    ("POST", "/customers/{customer_id}/mail/domains"): {"name": "eve-example.fr"},
    ("POST", "/customers/{customer_id}/mail/servers"): {"host": "mx.eve-example.fr"},
    ("POST", "/customers/{customer_id}/mail/mailboxes"): {"address": "eve@eve-example.fr"},
    ("PATCH", "/customers/{customer_id}/mail/mailboxes/{mailbox_id}"): {"digest_enabled": False},
    ("PUT", "/customers/{customer_id}/mail/settings"): {"challenge_enabled": True},
    ("POST", "/customers/{customer_id}/mail/lists"): {"kind": "allow", "value": "@eve.fr"},
    ("POST", "/customers/{customer_id}/mail/reports"): {"log_id": 1, "kind": "report_spam"},
    ("POST", "/mail/operator-lists"): {"kind": "deny", "value": "@eve.fr"},
    ("POST", "/mail/refused-domains"): {"name": "eve.fr", "reason": "x"},
    ("POST", "/mail/sla-credits"): {"period": "2026-01"},
    ("POST", "/customers/{customer_id}/sms/messages"): {"to": "+33612345678", "text": "x"},
    ("POST", "/customers/{customer_id}/sms/messages/{message_id}/review"): {"release": False},
    ("PUT", "/customers/{customer_id}/sms/settings"): {"outside_window": "queue"},
    ("POST", "/customers/{customer_id}/sms/templates"): {"name": "Eve", "text": "x"},
    ("POST", "/customers/{customer_id}/sms/lists"): {"name": "Eve"},
    ("POST", "/customers/{customer_id}/sms/lists/{list_id}/import"): {
        "csv": "number\n0612345678\n"
    },
    ("POST", "/customers/{customer_id}/sms/campaigns"): {"name": "Eve", "list_id": 0, "text": "x"},
    ("POST", "/customers/{customer_id}/sms/campaigns/{campaign_id}/schedule"): {},
    ("POST", "/customers/{customer_id}/sms/senders"): {"name": "EveCorp"},
    ("POST", "/customers/{customer_id}/sms/senders/{sender_id}/review"): {
        "authorise": False,
        "reason": "x",
    },
    ("PUT", "/customers/{customer_id}/sms/stock"): {"monthly_limit": 10, "reason": "x"},
    ("POST", "/voice/authorize"): {"call_id": "x", "line": "x", "caller": "x", "callee": "x"},
    ("POST", "/voice/answer"): {"call_id": "x"},
    ("POST", "/voice/inbound"): {"call_id": "x", "caller": "x", "callee": "x"},
    ("POST", "/voice/update"): {"call_id": "x"},
    ("POST", "/voice/end"): {"call_id": "x", "disposition": "FAILED", "sip_code": 0},
    ("POST", "/voice/oppositions"): {"content": "0612345678\n", "source": "x"},
    ("POST", "/voice/destination-suspensions"): {
        "prefix": "32",
        "reason": "x",
        "effective_at": "2030-01-01T00:00:00Z",
    },
    ("POST", "/voice/destination-suspensions/{suspension_id}/lift"): {},
    ("POST", "/customers/{customer_id}/voice/consents"): {
        "number": "+33612345678",
        "subject": "Eve",
        "given_at": "2026-01-01T00:00:00Z",
        "proof": "x",
    },
    ("POST", "/customers/{customer_id}/voice/consents/{consent_id}/withdraw"): {},
    # CTR-06 planned maintenance (staff only)
    ("POST", "/maintenance"): {
        "starts_at": "2030-01-05T22:00:00+01:00",
        "ends_at": "2030-01-06T04:00:00+01:00",
        "offer_id": "cpaas",
        "reason_fr": "x",
        "reason_en": "x",
    },
    ("POST", "/maintenance/{window_id}/cancel"): {"reason": "x"},
    ("PUT", "/customers/{customer_id}/voice/profiles/{contract_id}"): {"prospecting": False},
    # SEC-02/03 the security-incident register (staff only), PRIV-01 data subjects' requests
    ("POST", "/security-incidents"): {
        "detected_at": "2026-01-05T10:00:00+01:00",
        "nature": "confidentiality",
        "description": "x",
        "customers": [{"customer_id": 1, "data_affected": True}],
    },
    ("POST", "/security-incidents/{incident_id}/notify"): {},
    ("POST", "/customers/{customer_id}/data-requests"): {
        "kind": "access",
        "subject_name": "Eve",
        "subject_contact": "eve@evil.fr",
    },
    ("POST", "/customers/{customer_id}/data-requests/{data_request_id}/answer"): {
        "outcome": "answered"
    },
}

PARAM = re.compile(r"{(\w+)}")
PATH_DEFAULTS = {"service": "centrex", "offer_id": "centrex"}


def _routes(client: TestClient) -> list[tuple[str, str]]:
    app = client.app
    assert isinstance(app, FastAPI)
    return [(r.method, r.path) for r in api_routes(app) if r.path.startswith("/api/v1")]


def _call(client: TestClient, method: str, template: str, key: str, ids: dict[str, int]) -> Any:
    path = PARAM.sub(lambda m: str(ids.get(m.group(1), PATH_DEFAULTS.get(m.group(1), 1))), template)
    body = BODIES.get((method, template.removeprefix("/api/v1")))
    if body is not None and "contract_id" in body:
        body = body | {"contract_id": ids["contract_id"]}
    params = {"number": "0140000000"} if template.endswith("/classify") else None
    return client.request(method, path, headers=auth(key), json=body, params=params)


# SPEC: SEC-01, SEC-02
def test_customer_credentials_never_reach_another_customer(
    client: TestClient, world: World
) -> None:
    routes = _routes(client)
    tenant_routes = [(m, p) for m, p in routes if "{customer_id}" in p]
    other_routes = [(m, p) for m, p in routes if "{customer_id}" not in p]
    assert len(tenant_routes) >= 20
    b_ids = {"customer_id": world.b.id, **world.b.ids}
    a_path_b_objects = {"customer_id": world.a.id, **world.b.ids}
    for key in (world.a.admin_key, world.a.user_key):
        for method, template in tenant_routes:
            # A's credential on B's customer path: refused before anything is read.
            response = _call(client, method, template, key, b_ids)
            assert response.status_code == 403, (method, template, response.text)
            assert world.b.name not in response.text
            # A's own path naming B's objects: those objects are not found there.
            if {p for p in PARAM.findall(template) if p.endswith("_id")} - {"customer_id"}:
                response = _call(client, method, template, key, a_path_b_objects)
                assert response.status_code in (403, 404), (method, template, response.text)
                assert world.b.name not in response.text
        for method, template in other_routes:
            if (method, template) in SHARED_ROUTES:
                continue
            response = _call(client, method, template, key, b_ids)
            assert response.status_code == 403, (method, template, response.text)


# SPEC: SEC-02
def test_staff_reach_every_customer_and_customers_reach_their_own(
    client: TestClient, world: World
) -> None:
    """The control group: the same reads succeed for the right credentials."""
    reads = [p for m, p in _routes(client) if m == "GET" and "{customer_id}" in p]
    a_ids = {"customer_id": world.a.id, **world.a.ids}
    b_ids = {"customer_id": world.b.id, **world.b.ids}
    for template in reads:
        own = _call(client, "GET", template, world.a.admin_key, a_ids)
        assert own.status_code == 200, (template, own.text)
        staff = _call(client, "GET", template, world.staff_key, b_ids)
        assert staff.status_code == 200, (template, staff.text)


def test_shared_routes_are_all_real_routes(client: TestClient) -> None:
    assert set(SHARED_ROUTES) <= set(_routes(client))


def test_without_credentials_everything_but_health_and_login_is_refused(
    client: TestClient, world: World
) -> None:
    for method, template in _routes(client):
        if (method, template) in {
            ("GET", "/api/v1/health"),
            ("POST", "/api/v1/auth/login"),
        } | PUBLIC_ROUTES:
            continue
        path = PARAM.sub("1", template)
        response = client.request(method, path, json=BODIES.get((method, template[7:])))
        assert response.status_code == 401, (method, template, response.text)
        assert response.headers["content-type"].startswith("application/problem+json")
