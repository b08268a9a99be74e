"""Liveness and readiness."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from sqlalchemy import text

from gis_service.api.deps import SessionDep
from gis_service.errors import StoreError

router = APIRouter(tags=["health"])


@router.get("/health")
def health(session: SessionDep) -> dict[str, Any]:
    """Whether the service and its store answer."""
    try:
        session.execute(text("SELECT 1"))
    except Exception as error:  # noqa: BLE001
        msg = f"the store does not answer: {type(error).__name__}"
        raise StoreError(msg) from None
    return {"status": "ok", "store": session.get_bind().dialect.name}
