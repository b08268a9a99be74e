"""Liveness and readiness."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter
from pydantic import BaseModel, Field
from sqlalchemy import exc as sa_exc
from sqlalchemy import text

from gis_service.api.deps import SessionDep
from gis_service.errors import StoreError

router = APIRouter(tags=["health"])


class Health(BaseModel):
    """The service answers and so does its store."""

    status: Literal["ok"] = "ok"
    store: str = Field(description="the store's SQL dialect: sqlite or postgresql")


@router.get("/health")
def health(session: SessionDep) -> Health:
    """Whether the service and its store answer."""
    try:
        session.execute(text("SELECT 1"))
    except sa_exc.TimeoutError:
        raise  # every connection is in use: a 503 that says so (``get_session``)
    except Exception as error:  # noqa: BLE001
        msg = f"the store does not answer: {type(error).__name__}"
        raise StoreError(msg) from None
    return Health(store=session.get_bind().dialect.name)
