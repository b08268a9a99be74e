"""The admission routes document their answers: every JSON answer has a real schema."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from gis_service.app import create_app
from gis_service.settings import Settings

#: Free-form objects allowed in an admission answer: (schema, property).
FREE_FORM = {("AuditPublic", "detail")}


@pytest.fixture(scope="module")
def openapi(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    data_dir: Path = tmp_path_factory.mktemp("openapi")
    document: dict[str, Any] = (
        TestClient(create_app(Settings(data_dir=data_dir))).get("/openapi.json").json()
    )
    return document


def _admission_answers(openapi: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The JSON schema of the success answer of each admission route, by 'METHOD path'."""
    answers = {}
    for path, operations in openapi["paths"].items():
        for method, operation in operations.items():
            if "admission" not in operation.get("tags", []):
                continue
            for status, response in operation["responses"].items():
                if status.startswith("2"):
                    schema = response.get("content", {}).get("application/json", {}).get("schema")
                    answers[f"{method.upper()} {path}"] = schema or {}
    return answers


def _named(openapi: dict[str, Any], schema: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    name = schema["$ref"].rsplit("/", 1)[1]
    found: dict[str, Any] = openapi["components"]["schemas"][name]
    return name, found


def _free_forms(
    openapi: dict[str, Any], schema: dict[str, Any], owner: tuple[str, str], seen: set[str]
) -> list[tuple[str, str]]:
    """Where ``schema`` (reached as ``owner``) holds an object of undescribed values."""
    if "$ref" in schema:
        name, target = _named(openapi, schema)
        if name in seen:
            return []
        seen.add(name)
        return [
            place
            for prop, sub in target.get("properties", {}).items()
            for place in _free_forms(openapi, sub, (name, prop), seen)
        ]
    found = []
    typed = "properties" in schema or isinstance(schema.get("additionalProperties"), dict)
    if schema.get("type") == "object" and not typed and owner not in FREE_FORM:
        found.append(owner)
    for key in ("items", "additionalProperties"):
        if isinstance(schema.get(key), dict):
            found += _free_forms(openapi, schema[key], owner, seen)
    for option in schema.get("anyOf", []):
        found += _free_forms(openapi, option, owner, seen)
    if schema == {}:
        found.append(owner)
    return found


def test_every_admission_answer_has_a_described_schema(openapi: dict[str, Any]) -> None:
    answers = _admission_answers(openapi)
    assert len(answers) == 16
    for route, schema in answers.items():
        assert _free_forms(openapi, schema, (route, ""), set()) == [], route


def test_runs_explanations_and_inputs_are_typed(openapi: dict[str, Any]) -> None:
    schemas = openapi["components"]["schemas"]
    statistics = schemas["RunPublic"]["properties"]["statistics"]["anyOf"][0]
    assert statistics == {"$ref": "#/components/schemas/RunStatistics"}
    assert schemas["ExplanationPublic"]["properties"]["explanation"] == {
        "$ref": "#/components/schemas/PlacementExplanation"
    }
    figures = schemas["RunStatistics"]["properties"]
    assert {"mechanism", "placed_share", "schools", "priority_order"} <= set(figures)
    choice = schemas["ChoiceResult"]["properties"]
    assert {"outcome", "cutoff", "detail", "distance_by"} <= set(choice)
    answers = _admission_answers(openapi)
    inputs = answers["GET /api/v1/rounds/{round_id}/placement/{run_id}/inputs"]
    assert inputs == {"$ref": "#/components/schemas/FrozenInputs"}
    frozen = schemas["FrozenInputs"]["properties"]
    assert {"round", "mechanism", "seed", "schools", "applications"} <= set(frozen)
    assert answers["POST /api/v1/rounds"] == {"$ref": "#/components/schemas/RoundPublic"}
    body = openapi["paths"]["/api/v1/rounds"]["post"]["requestBody"]["content"]
    assert body["application/json"]["schema"] == {"$ref": "#/components/schemas/RoundIn"}
