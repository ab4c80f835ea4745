"""REST endpoints of the notifications context: a customer's webhooks and what was sent."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Response, status

from operateur.accounts.permissions import Actor, Permission
from operateur.http.deps import SessionDep, require
from operateur.notifications import service
from operateur.notifications.schemas import (
    NotificationOut,
    WebhookCreated,
    WebhookIn,
    WebhookOut,
)

router = APIRouter(prefix="/customers/{customer_id}", tags=["notifications"])

Manager = Annotated[Actor, require(Permission.WEBHOOKS_MANAGE)]
Reader = Annotated[Actor, require(Permission.CUSTOMER_READ)]


@router.get("/webhooks", response_model=list[WebhookOut])
def list_webhooks(customer_id: int, actor: Manager, session: SessionDep) -> list[WebhookOut]:
    return [WebhookOut.model_validate(e) for e in service.list_endpoints(session, customer_id)]


@router.post("/webhooks", response_model=WebhookCreated, status_code=status.HTTP_201_CREATED)
def add_webhook(
    customer_id: int, body: WebhookIn, actor: Manager, session: SessionDep
) -> WebhookCreated:
    """Register an endpoint; the response carries its signing secret, never shown again."""
    endpoint, secret = service.add_endpoint(session, customer_id, body.url, body.events)
    return WebhookCreated.model_validate(
        WebhookOut.model_validate(endpoint).model_dump() | {"secret": secret}
    )


@router.delete("/webhooks/{webhook_id}", status_code=status.HTTP_204_NO_CONTENT)
def remove_webhook(
    customer_id: int, webhook_id: int, actor: Manager, session: SessionDep
) -> Response:
    service.remove_endpoint(session, service.get_endpoint(session, customer_id, webhook_id))
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/notifications", response_model=list[NotificationOut])
def list_notifications(
    customer_id: int, actor: Reader, session: SessionDep
) -> list[NotificationOut]:
    """The emails and webhook events sent (or waiting) for this customer, newest first."""
    return [NotificationOut.model_validate(m) for m in service.list_messages(session, customer_id)]
