"""RFC 9457 problem details: the one table from exceptions to HTTP statuses, documented.

Every operation of the OpenAPI document lists the error answers as ``application/problem+json``
with the :class:`~gis_service.api.schemas.Problem` schema.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from gis_service.api.schemas import Problem
from gis_service.errors import (
    AuthenticationError,
    BusyError,
    ConflictError,
    InvalidInputError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitedError,
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
    RateLimitedError: 429,
    StoreError: 503,
    BusyError: 503,
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
    if isinstance(error, BusyError):  # rate limits included
        headers = {"Retry-After": str(error.retry_after_s)}
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


#: The error answers every operation may give, with what they mean (Vietnamese first).
DOCUMENTED_PROBLEMS = {
    "400": "Yêu cầu sai / Bad request",
    "401": "Thiếu khóa API hoặc khóa không hợp lệ / Missing or invalid API key",
    "403": "Vai trò không được phép / The key's role may not do this",
    "404": "Không tìm thấy / Not found",
    "405": "Phương thức không được hỗ trợ / Method not allowed",
    "409": "Xung đột với dữ liệu hiện có / Conflicts with what is stored",
    "413": "Tệp quá lớn / Request too large",
    "422": "Dữ liệu không hợp lệ, kèm vị trí / Invalid input, with where",
    "429": "Quá nhiều yêu cầu, thử lại sau Retry-After / Too many requests",
    "500": "Lỗi máy chủ, đã ghi nhật ký / Internal error, logged",
    "503": "Kho dữ liệu bận hoặc không dùng được / Store busy or unavailable",
}


def _problem_response(description: str) -> dict[str, Any]:
    schema = {"$ref": "#/components/schemas/Problem"}
    return {"description": description, "content": {PROBLEM_JSON: {"schema": schema}}}


def document_problems(document: dict[str, Any]) -> dict[str, Any]:
    """Add the problem+json error answers to every operation of an OpenAPI ``document``.

    An error answer a route documents as problem+json itself (e.g. a 429 with its headers)
    is kept; FastAPI's own 422 (``HTTPValidationError`` as JSON) is replaced: the service
    answers every error as a problem.
    """
    components = document.setdefault("components", {}).setdefault("schemas", {})
    problem_schema = Problem.model_json_schema(ref_template="#/components/schemas/{model}")
    components.update(problem_schema.pop("$defs", {}))
    components["Problem"] = problem_schema
    for name in ("HTTPValidationError", "ValidationError"):
        components.pop(name, None)
    for operations in document.get("paths", {}).values():
        for operation in operations.values():
            responses = operation.setdefault("responses", {})
            for status, description in DOCUMENTED_PROBLEMS.items():
                given = responses.get(status)
                if given is None or PROBLEM_JSON not in given.get("content", {}):
                    responses[status] = _problem_response(description)
            responses["default"] = _problem_response("Lỗi khác / Any other error")
    return document


def install_problem_handlers(app: FastAPI) -> None:
    """Make every error of ``app`` answer as problem+json, and document it in its OpenAPI."""
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        document = generate()  # FastAPI keeps it in app.openapi_schema: documented once
        if "Problem" not in document.get("components", {}).get("schemas", {}):
            document_problems(document)
        return document

    app.openapi = openapi  # type: ignore[method-assign]
    app.add_exception_handler(ServiceError, _service_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(Exception, _unexpected_error)
