"""The OpenAPI document tells the truth about answers and auth: a walk over every operation."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from api.app import create_app
from settings import Settings

ENVELOPE = "#/components/schemas/ErrorEnvelope"
PAYER: list[dict[str, list[str]]] = [{"payerSession": []}]
OPERATOR: list[dict[str, list[str]]] = [{"operatorToken": []}]
# The operations anyone may call; every other one names the scheme it checks.
PUBLIC = {
    ("GET", "/healthz"),
    ("POST", "/api/v1/session"),
    ("POST", "/api/v1/session/wechat"),
    ("GET", "/api/v1/captcha"),
    ("GET", "/api/v1/certificates/{certificate_no}/verify"),
    ("POST", "/api/v1/payments/{provider}/notify"),
}
OPERATOR_PREFIXES = ("/api/v1/operator/", "/codec/")


def operations(doc: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (method.upper(), path, op)
        for path, item in doc["paths"].items()
        for method, op in item.items()
        if method in {"get", "put", "post", "delete", "patch"}
    ]


def refs(schema: Any) -> set[str]:
    """Every $ref a schema names, however nested (anyOf, items, ...)."""
    if isinstance(schema, dict):
        found = {schema["$ref"]} if isinstance(schema.get("$ref"), str) else set()
        return found.union(*(refs(v) for v in schema.values()))
    if isinstance(schema, list):
        return set().union(*(refs(v) for v in schema))
    return set()


def required_security(method: str, path: str) -> list[dict[str, list[str]]] | None:
    if (method, path) in PUBLIC:
        return None
    return OPERATOR if path.startswith(OPERATOR_PREFIXES) else PAYER


def success_problem(responses: dict[str, Any]) -> str | None:
    """None when the operation declares a 2xx: 204 without a body, else a body with a schema."""
    ok = {status: r for status, r in responses.items() if status.startswith("2")}
    if not ok:
        return "no 2xx response"
    for status, response in ok.items():
        content = response.get("content") or {}
        if status == "204":
            if content:
                return "204 with a body"
            continue
        if not content or not all(media.get("schema") for media in content.values()):
            return f"{status} without a schema"
    return None


def error_problems(responses: dict[str, Any]) -> list[str]:
    problems = []
    for status, response in responses.items():
        if status[0] not in "45":
            continue
        media = (response.get("content") or {}).get("application/json") or {}
        if ENVELOPE not in refs(media.get("schema")):
            problems.append(f"{status} is not the error envelope")
    return problems


def document_problems(doc: dict[str, Any]) -> list[str]:
    """Every way the document misleads a client; empty when it holds."""
    problems: list[str] = []
    text = json.dumps(doc)
    for default in ("HTTPValidationError", '"ValidationError"'):
        if default in text:
            problems.append(f"FastAPI's {default.strip(chr(34))} is in the document")
    declared_tags = {tag["name"] for tag in doc.get("tags", [])}
    schemes = set(doc.get("components", {}).get("securitySchemes", {}))
    seen_ids: set[str] = set()
    for method, path, op in operations(doc):
        where = f"{method} {path}"
        tags = op.get("tags", [])
        if len(tags) != 1:
            problems.append(f"{where}: {len(tags)} tags")
        elif tags[0] not in declared_tags:
            problems.append(f"{where}: tag {tags[0]!r} has no description")
        op_id = op.get("operationId", "")
        if op_id in seen_ids:
            problems.append(f"{where}: operationId {op_id!r} twice")
        seen_ids.add(op_id)
        responses = op.get("responses", {})
        problem = success_problem(responses)
        if problem is not None:
            problems.append(f"{where}: {problem}")
        problems.extend(f"{where}: {p}" for p in error_problems(responses))
        expected = required_security(method, path)
        if op.get("security") != expected:
            problems.append(f"{where}: security {op.get('security')} instead of {expected}")
        for requirement in op.get("security", []):
            problems.extend(
                f"{where}: undeclared scheme {s}" for s in requirement if s not in schemes
            )
    return problems


@pytest.fixture(params=[True, False], ids=["simulators", "production-shape"])
def doc(request: pytest.FixtureRequest, tmp_path: Path) -> dict[str, Any]:
    settings = Settings(env="test", data_dir=tmp_path, simulators=request.param)
    return create_app(settings).openapi()


def test_the_document_describes_answers_auth_and_areas(doc: dict[str, Any]) -> None:
    assert not document_problems(doc), "\n".join(document_problems(doc))
    # Every area of docs/api.md is in it, H5 pages and simulators are not.
    paths = set(doc["paths"])
    assert "/api/v1/contributions" in paths and "/api/v1/payments/{provider}/notify" in paths
    assert not any(p.startswith(("/h5", "/sim")) for p in paths), sorted(paths)


def test_the_start_and_the_envelope_are_schemas(doc: dict[str, Any]) -> None:
    schemas = doc["components"]["schemas"]
    start = doc["paths"]["/api/v1/contributions"]["post"]["responses"]["201"]
    assert refs(start) == {"#/components/schemas/StartOut"}
    assert set(schemas["ErrorEnvelope"]["required"]) == {"code", "message", "field"}
    calendar = doc["paths"]["/api/v1/operator/calendar/{year}"]["put"]["responses"]["422"]
    assert "CALENDAR_TABLE_INVALID" in calendar["description"]


def _broken(doc: dict[str, Any], how: str) -> dict[str, Any]:
    broken = copy.deepcopy(doc)
    op = broken["paths"]["/api/v1/messages"]["get"]
    if how == "no 2xx schema":
        op["responses"]["200"]["content"]["application/json"] = {}
    elif how == "error without envelope":
        op["responses"]["401"]["content"]["application/json"]["schema"] = {"type": "object"}
    elif how == "no security":
        del op["security"]
    elif how == "two tags":
        op["tags"].append("records")
    elif how == "FastAPI's 422":
        op["responses"]["422"] = {
            "content": {"application/json": {"schema": {"$ref": "#/c/HTTPValidationError"}}}
        }
    return broken


@pytest.mark.parametrize(
    "how", ["no 2xx schema", "error without envelope", "no security", "two tags", "FastAPI's 422"]
)
def test_the_walk_finds_each_kind_of_fault(doc: dict[str, Any], how: str) -> None:
    assert document_problems(_broken(doc, how))
