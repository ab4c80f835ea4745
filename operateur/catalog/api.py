"""REST endpoints of the offer catalogue."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter

from operateur.accounts.permissions import Actor, Permission
from operateur.catalog import service as catalog
from operateur.http.deps import require

router = APIRouter(tags=["catalog"])


@router.get("/offers")
def list_offers(actor: Annotated[Actor, require(Permission.CATALOG_READ)]) -> list[dict[str, Any]]:
    return [offer.model_dump(mode="json") for offer in catalog.list_offers()]


@router.get("/offers/{offer_id}")
def get_offer(
    offer_id: str, actor: Annotated[Actor, require(Permission.CATALOG_READ)]
) -> dict[str, Any]:
    return catalog.get_offer(offer_id).model_dump(mode="json")
