"""Liveness and readiness."""

from __future__ import annotations

from typing import Literal

import anyio
import anyio.to_thread
from fastapi import APIRouter, Request
from pydantic import BaseModel, Field
from sqlalchemy import Engine, text
from sqlalchemy import exc as sa_exc

from gis_service.errors import StoreBusyError, StoreError

router = APIRouter(tags=["health"])

#: The health check's own thread: it never waits behind the threads serving requests.
_CHECKER = anyio.CapacityLimiter(1)
#: What a check that found its connection in use is told to wait, seconds.
RETRY_AFTER_S = 1


class Health(BaseModel):
    """The service answers and so does its store."""

    status: Literal["ok"] = "ok"
    store: str = Field(description="the store's SQL dialect: sqlite or postgresql")


def _check(engine: Engine) -> str:
    """Ask the store a trivial question; return its dialect."""
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except sa_exc.TimeoutError:
        msg = "the store's connection for health checks is in use: try again in a moment"
        raise StoreBusyError(msg, retry_after_s=RETRY_AFTER_S) from None
    except Exception as error:  # noqa: BLE001
        msg = f"the store does not answer: {type(error).__name__}"
        raise StoreError(msg) from None
    return engine.dialect.name


@router.get("/health")
async def health(request: Request) -> Health:
    """Whether the service and its store answer.

    The check has a connection and a thread of its own: it answers while every other
    connection and thread serve requests.
    """
    engine: Engine = request.app.state.health_engine
    return Health(store=await anyio.to_thread.run_sync(_check, engine, limiter=_CHECKER))
