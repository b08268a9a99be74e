"""Requests to the service under test: the key header, typed JSON bodies, problem+json."""

from __future__ import annotations

from typing import Any

import httpx2 as httpx

PROBLEM_JSON = "application/problem+json"


def auth(token: str) -> dict[str, str]:
    """Return the header that presents the API key ``token``."""
    return {"Authorization": f"Bearer {token}"}


def json_object(response: httpx.Response, status: int = 200) -> dict[str, Any]:
    """Check that ``response`` has ``status`` and a JSON object body; return the object."""
    assert response.status_code == status, response.text
    body = response.json()
    assert isinstance(body, dict), body
    return body


def json_list(response: httpx.Response, status: int = 200) -> list[Any]:
    """Check that ``response`` has ``status`` and a JSON array body; return the array."""
    assert response.status_code == status, response.text
    body = response.json()
    assert isinstance(body, list), body
    return body


def problem(response: httpx.Response, status: int, *words: str) -> dict[str, Any]:
    """Check that ``response`` is a problem+json of ``status`` naming ``words``; return it."""
    body = json_object(response, status)
    assert response.headers["content-type"] == PROBLEM_JSON
    assert body["status"] == status
    for word in words:
        assert word in str(body["detail"]), body["detail"]
    return body
