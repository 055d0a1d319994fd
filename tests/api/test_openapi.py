"""Every operator endpoint documents itself (one-line docstrings become the OpenAPI summary/description)."""

from __future__ import annotations

import pytest
from fastapi import FastAPI

from connector.api.app import create_app

from .conftest import make_settings

METHODS = {"get", "post", "put", "patch", "delete"}


@pytest.fixture
def app(engine, tmp_path) -> FastAPI:
    return create_app(make_settings(tmp_path), engine=engine)


def operations(app: FastAPI, prefix: str):
    for path, item in app.openapi()["paths"].items():
        if path.startswith(prefix):
            for method, op in item.items():
                if method in METHODS:
                    yield path, method, op


def test_every_operator_endpoint_is_described(app):
    ops = list(operations(app, "/api/v1"))
    assert len(ops) >= 25
    for path, method, op in ops:
        assert op.get("summary"), f"{method.upper()} {path} has no summary"
        assert (op.get("description") or "").strip(), f"{method.upper()} {path} has no description"
        assert op.get("tags"), f"{method.upper()} {path} has no tag"


# a login and a refresh are what a user without a token sends: their credentials are in the body
OPEN = {("/api/v1/auth/token", "post"), ("/api/v1/auth/token/refresh", "post")}


def test_operator_endpoints_require_an_api_key(app):
    for path, method, op in operations(app, "/api/v1"):
        if (path, method) in OPEN:
            assert not op.get("security"), f"{method.upper()} {path}"
            continue
        assert op.get("security"), f"{method.upper()} {path} is not secured"
        if path != "/api/v1/auth/logout":  # an API key or a user's access token, either one
            assert {"APIKeyHeader", "UserToken"} <= {name for req in op["security"] for name in req}, path


def test_decimal_fields_are_strings_in_the_schema(app):
    schemas = app.openapi()["components"]["schemas"]
    line = schemas["SupplierLineCreate"]["properties"]["quantity"]
    assert line.get("type") == "string" and "pattern" in line, line
