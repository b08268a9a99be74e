"""Who may see an application: enrolment officers, and the family holding its secret.

Personal data (applications, individual results and explanations) is answered to a
bearer key of role ``enrolment_officer`` or ``admin``, or to whoever sends the
application's secret in the ``X-Application-Secret`` header (or a lookup body). Without
either the answer is 401; with a secret that does not match, 404 whether or not the id
exists (nothing reveals that an application exists). Every granted access is written to
the audit log with the request it came from; secrets that did not match are counted per
client, audited when a client's window of failures opens and when it reaches the limit
(``SCHOOLGIS_RATE_LIMIT_SECRET_FAILURES``), and past it the client is answered 429.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from typing import TypeGuard

from fastapi import Request
from fastapi.security import HTTPBearer
from sqlalchemy.orm import Session

from gis_service.api.deps import client_key
from gis_service.api.limits import RateLimiter
from gis_service.db import applications_repository, audit_repository
from gis_service.db.applications_repository import ApplicationRecord
from gis_service.db.audit_repository import AuditContext
from gis_service.db.repository import Principal
from gis_service.errors import AuthenticationError, NotFoundError, PermissionDeniedError

#: Header carrying a family's application secret.
SECRET_HEADER = "X-Application-Secret"  # noqa: S105 - a header name
#: Roles that see every application.
OFFICER_ROLES = frozenset({"enrolment_officer", "admin"})
#: The role recorded for a family identified by its application's secret.
FAMILY_ROLE = "family"
_REQUEST_ID = re.compile(r"^[\w.:\-]{1,64}$")
_bearer = HTTPBearer(auto_error=False, description="API key issued by `schoolgis keys create`")


def audit_context(request: Request, *, actor: str, role: str) -> AuditContext:
    """Return who acts, with the request's id (``X-Request-ID`` or a new one), path, client."""
    given = request.headers.get("x-request-id", "")
    request_id = given if _REQUEST_ID.match(given) else uuid.uuid4().hex
    return AuditContext(
        actor=actor,
        role=role,
        request_id=request_id,
        request_method=request.method,
        request_path=request.url.path,
        client_address=None if request.client is None else request.client.host,
    )


def officer_context(request: Request, principal: Principal) -> AuditContext:
    """Return the audit context of a bearer key's holder."""
    return audit_context(request, actor=principal.name, role=principal.role)


def is_officer(principal: Principal | None) -> TypeGuard[Principal]:
    """Whether the caller sees every application."""
    return principal is not None and principal.role in OFFICER_ROLES


@dataclass(frozen=True, slots=True)
class Reader:
    """Who reads an application: an officer, or the family holding its secret."""

    audit: AuditContext
    officer: bool


def _not_found() -> NotFoundError:
    return NotFoundError("no application with this id and secret")


def _count_failure(
    session: Session, request: Request, limiter: RateLimiter, client: str, application_id: str
) -> None:
    """Count a secret that did not match; audit the first of the client's window and the last.

    The audit log keeps one entry when a client's window of failures opens and one when it
    reaches the limit (with the count), not one per guess; past the limit the client is
    answered 429 before any secret is compared.
    """
    count = limiter.hit("secret_failures", client)
    if count is not None and count.used > 1 and count.remaining > 0:
        return
    detail: dict[str, object] = {"reason": "unknown id or a secret that does not match"}
    if count is not None:
        detail |= {
            "failures_in_window": count.used,
            "limit": limiter.limit_of("secret_failures"),
        }
    audit_repository.append_audit(
        session,
        audit_context(request, actor="unknown", role=FAMILY_ROLE),
        action="application.denied",
        object_type="application",
        object_id=applications_repository.normalize_code(application_id)[:64],
        detail=detail,
    )
    session.commit()


def application_reader(
    session: Session,
    request: Request,
    *,
    limiter: RateLimiter,
    principal: Principal | None,
    application_id: str,
    secret: str | None,
) -> tuple[Reader, ApplicationRecord]:
    """Return who reads the application and the application, or refuse.

    Secrets that do not match are counted per client: the first of a window and the one
    that reaches the limit are audited (and committed) before the 404, and a client past
    the limit is refused before its secret is compared.

    Raises
    ------
    AuthenticationError
        Without a bearer key or a secret (401).
    PermissionDeniedError
        With a bearer key of another role and no secret (403).
    NotFoundError
        If the id is unknown or the secret is not its secret (404, the same answer).
    RateLimitedError
        If the client sent too many secrets that did not match (429).
    """
    if is_officer(principal):
        found = applications_repository.find_application(session, application_id)
        if found is None:
            raise _not_found()
        return Reader(officer_context(request, principal), officer=True), found
    if secret:
        client = client_key(request)
        limiter.check("secret_failures", client)
        found = applications_repository.application_for_secret(session, application_id, secret)
        if found is None:
            _count_failure(session, request, limiter, client, application_id)
            raise _not_found()
        family = audit_context(request, actor=f"family:{found.application_id}", role=FAMILY_ROLE)
        return Reader(family, officer=False), found
    if principal is not None:
        msg = (
            f"role {principal.role!r} may not see applications; send the application's "
            f"secret in {SECRET_HEADER} or use an enrolment officer's key"
        )
        raise PermissionDeniedError(msg)
    msg = (
        f"applications are personal: send the application's secret in {SECRET_HEADER} "
        "or an enrolment officer's key ('Authorization: Bearer <token>')"
    )
    raise AuthenticationError(msg)


__all__ = [
    "FAMILY_ROLE",
    "OFFICER_ROLES",
    "SECRET_HEADER",
    "Reader",
    "application_reader",
    "audit_context",
    "is_officer",
    "officer_context",
]
