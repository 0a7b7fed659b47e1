"""`GET /api/openapi.json` is a valid OpenAPI 3.1 document describing every API route."""

from __future__ import annotations

import re

import jsonschema
import pytest
from flask import Flask
from flask.testing import FlaskClient
from jsonschema import Draft202012Validator
from schemathesis.specs.openapi.definitions import OPENAPI_31
from social.api.schemas import UserCreate


@pytest.fixture
def document(client: FlaskClient) -> dict[str, object]:
    response = client.get("/api/openapi.json")
    assert response.status_code == 200
    body: dict[str, object] = response.get_json()
    return body


def test_the_document_validates_as_openapi_3_1(document: dict[str, object]) -> None:
    assert document["openapi"] == "3.1.0"
    Draft202012Validator(OPENAPI_31).validate(document)


def test_every_component_schema_is_valid_json_schema(document: dict[str, object]) -> None:
    for schema in document["components"]["schemas"].values():  # type: ignore[index]
        Draft202012Validator.check_schema(schema)


def test_the_document_describes_exactly_the_api_routes(
    app: Flask, document: dict[str, object]
) -> None:
    routes = {
        (re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule), method.lower())
        for rule in app.url_map.iter_rules()
        if rule.rule.startswith("/api/")
        for method in rule.methods or ()
        if method not in {"HEAD", "OPTIONS"}
    }
    documented = {
        (path, method)
        for path, item in document["paths"].items()  # type: ignore[attr-defined]
        for method in item
    }
    assert documented == routes


def test_protected_operations_name_their_security_scheme(document: dict[str, object]) -> None:
    paths = document["paths"]
    assert paths["/api/tokens"]["post"]["security"] == [{"basicAuth": []}]  # type: ignore[index]
    for method in ("put", "delete"):
        assert paths["/api/users/me/following/{nickname}"][method]["security"] == [  # type: ignore[index]
            {"bearerAuth": []}
        ]
    schemes = document["components"]["securitySchemes"]  # type: ignore[index]
    assert schemes["bearerAuth"]["scheme"] == "bearer"
    assert schemes["basicAuth"]["scheme"] == "basic"


def test_every_error_response_is_the_error_schema(document: dict[str, object]) -> None:
    for item in document["paths"].values():  # type: ignore[attr-defined]
        for operation in item.values():
            for status, response in operation["responses"].items():
                if int(status) >= 400:
                    schema = response["content"]["application/json"]["schema"]
                    assert schema == {"$ref": "#/components/schemas/ErrorOut"}


def test_the_sign_up_schema_is_the_one_the_api_validates_with(document: dict[str, object]) -> None:
    published = document["components"]["schemas"]["UserCreate"]  # type: ignore[index]
    assert published["additionalProperties"] is False
    assert set(published["required"]) == {"nickname", "email", "password"}
    good = {"nickname": "李雷", "email": "li@example.com", "password": "lantern quietly 42"}
    jsonschema.validate(good, published)
    UserCreate.model_validate(good)
