"""Requests to the service under test: the key header and the problem+json check."""

from __future__ import annotations

from typing import Any

import httpx2 as httpx

PROBLEM_JSON = "application/problem+json"


def auth(token: str) -> dict[str, str]:
    """Return the header that presents the API key ``token``."""
    return {"Authorization": f"Bearer {token}"}


def problem(response: httpx.Response, status: int, *words: str) -> dict[str, Any]:
    """Check that ``response`` is a problem+json of ``status`` naming ``words``; return it."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM_JSON
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    for word in words:
        assert word in str(body["detail"]), body["detail"]
    return body
