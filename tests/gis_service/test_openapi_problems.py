"""The OpenAPI document lists every error answer of every operation as problem+json."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient

from gis_service.api.problems import DOCUMENTED_PROBLEMS, PROBLEM_JSON
from gis_service.app import create_app
from gis_service.settings import Settings


def test_every_operation_documents_its_problems(tmp_path: Path) -> None:
    document = TestClient(create_app(Settings(data_dir=tmp_path))).get("/openapi.json").json()
    schemas = document["components"]["schemas"]
    assert {"title", "status", "detail"} <= set(schemas["Problem"]["required"])
    assert "HTTPValidationError" not in schemas
    operations = [op for ops in document["paths"].values() for op in ops.values()]
    assert len(operations) > 50
    for operation in operations:
        responses = operation["responses"]
        for status in [*DOCUMENTED_PROBLEMS, "default"]:
            assert PROBLEM_JSON in responses[status]["content"], (operation["operationId"], status)
        assert all(
            set(answer.get("content", {})) <= {PROBLEM_JSON}
            for status, answer in responses.items()
            if status[0] in "45" or status == "default"
        ), operation["operationId"]
    limited = document["paths"]["/api/v1/eligibility"]["get"]["responses"]["429"]
    assert "Retry-After" in limited["headers"]
