"""Who holds a key: the pages behind login ask this before they show anything."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from pydantic import BaseModel

from gis_service.api.deps import get_principal
from gis_service.db.repository import Principal

router = APIRouter(tags=["auth"])


class Caller(BaseModel):
    """The name and role of the key's holder."""

    name: str
    role: str


@router.get("/me")
def who_am_i(principal: Annotated[Principal, Depends(get_principal)]) -> Caller:
    """The holder of the bearer key (401 without a valid key)."""
    return Caller(name=principal.name, role=principal.role)
