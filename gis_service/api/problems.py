"""RFC 9457 problem details: the one table from exceptions to HTTP statuses."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from gis_service.errors import (
    AuthenticationError,
    ConflictError,
    InvalidInputError,
    NotFoundError,
    PermissionDeniedError,
    ServiceError,
    StoreError,
)

logger = logging.getLogger(__name__)

PROBLEM_JSON = "application/problem+json"

STATUS_OF: dict[type[ServiceError], int] = {
    NotFoundError: 404,
    ConflictError: 409,
    InvalidInputError: 422,
    AuthenticationError: 401,
    PermissionDeniedError: 403,
    StoreError: 503,
}


def problem_response(
    request: Request,
    *,
    status: int,
    title: str,
    detail: str,
    errors: list[dict[str, str]] | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    """Return an ``application/problem+json`` response."""
    body: dict[str, Any] = {
        "type": "about:blank",
        "title": title,
        "status": status,
        "detail": detail,
        "instance": request.url.path,
    }
    if errors:
        body["errors"] = errors
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


def _status_of(error: ServiceError) -> int:
    for kind in type(error).__mro__:
        if kind in STATUS_OF:
            return STATUS_OF[kind]
    return 400


async def _service_error(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, ServiceError)
    status = _status_of(error)
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return problem_response(
        request,
        status=status,
        title=error.title,
        detail=error.detail,
        errors=[{"pointer": p.pointer, "detail": p.detail} for p in error.problems],
        headers=headers,
    )


def _pointer(location: tuple[Any, ...]) -> str:
    parts = [str(part) for part in location]
    if parts and parts[0] == "body":
        return "/" + "/".join(parts[1:])
    return "/".join(parts) if len(parts) < 2 else f"{parts[0]}:{'/'.join(parts[1:])}"


async def _validation_error(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, RequestValidationError)
    errors = [{"pointer": _pointer(tuple(e["loc"])), "detail": e["msg"]} for e in error.errors()]
    summary = "; ".join(f"{e['pointer']}: {e['detail']}" for e in errors[:3])
    return problem_response(
        request, status=422, title="Invalid request", detail=summary, errors=errors
    )


async def _http_error(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, StarletteHTTPException)
    return problem_response(
        request,
        status=error.status_code,
        title=str(error.detail),
        detail=str(error.detail),
        headers=dict(error.headers or {}),
    )


async def _unexpected_error(request: Request, error: Exception) -> JSONResponse:
    logger.exception("unexpected error on %s", request.url.path, exc_info=error)
    return problem_response(
        request,
        status=500,
        title="Internal error",
        detail="The service failed to answer; the error has been logged.",
    )


def install_problem_handlers(app: FastAPI) -> None:
    """Make every error of ``app`` answer as problem+json."""
    app.add_exception_handler(ServiceError, _service_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(Exception, _unexpected_error)
