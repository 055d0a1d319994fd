"""The request examples shown in /docs are valid: each one passes its request model and the schema the OpenAPI
document publishes, the main operations have some, and the product's set-up replays on a node as written."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Annotated, Any

import jsonschema
import pytest
from fastapi import FastAPI
from pydantic import Field, TypeAdapter

from connector.api import schemas as s
from connector.api.app import create_app
from connector.api.operator import examples as ex
from connector.api.operator import users
from connector.api.operator.declarations import CertifyBody
from connector.declaration import ConformityInput, DeclarationInput

from .conftest import make_settings

BomLine = Annotated[s.SupplierLineCreate | s.SecondaryLineCreate, Field(discriminator="kind")]

# the request model of every operation that shows examples
MODELS: dict[tuple[str, str], Any] = {
    ("post", "/api/v1/products"): s.ProductCreate,
    ("patch", "/api/v1/products/{product_id}"): s.ProductUpdate,
    ("post", "/api/v1/products/{product_id}/bom"): BomLine,
    ("post", "/api/v1/products/{product_id}/emissions"): s.EmissionCreate,
    ("post", "/api/v1/upstream-footprints"): s.EnteredUpstreamCreate,
    ("post", "/api/v1/partners"): s.PartnerCreate,
    ("patch", "/api/v1/partners/{partner_id}"): s.PartnerUpdate,
    ("post", "/api/v1/grants"): s.GrantCreate,
    ("post", "/api/v1/requests"): s.RequestCreate,
    ("post", "/api/v1/requests/{request_id}/reject"): s.RejectBody,
    ("post", "/api/v1/requests/{request_id}/link"): s.LinkBody,
    ("patch", "/api/v1/part-links/{link_id}"): s.PartLinkUpdate,
    ("post", "/api/v1/pact-clients"): s.PeerClientCreate,
    ("post", "/api/v1/api-keys"): s.ApiKeyCreate,
    ("post", "/api/v1/declarations"): DeclarationInput,
    ("post", "/api/v1/declarations/{declaration_id}/conformity"): ConformityInput,
    ("post", "/api/v1/declarations/{declaration_id}/catenax"): dict[str, Any],
    ("post", "/api/v1/upstream-footprints/import"): dict[
        str, Any
    ],  # read by its format's reader: test_footprint_import
    ("post", "/api/v1/attestations/{attestation_id}/certify"): CertifyBody,
    ("post", "/api/v1/auth/token"): users.LoginBody,
    ("post", "/api/v1/auth/token/refresh"): users.RefreshBody,
    ("post", "/api/v1/users"): users.UserCreate,
    ("patch", "/api/v1/users/{login}"): users.UserUpdate,
}
# a body without examples: an evidence bundle is what GET .../bundle returned, too long to show
WITHOUT_EXAMPLES = {("post", "/api/v1/verify")}


@pytest.fixture(scope="module")
def spec(tmp_path_factory) -> dict[str, Any]:
    app: FastAPI = create_app(make_settings(tmp_path_factory.mktemp("spec")))
    document = app.openapi()
    app.state.engine.dispose()
    return document


def _bodies(spec: dict[str, Any]):
    for path, item in spec["paths"].items():
        for method, op in item.items():
            if path.startswith("/api/v1") and isinstance(op, dict) and "requestBody" in op:
                yield (method, path), op["requestBody"]["content"]["application/json"]


def test_every_operator_body_has_examples(spec):
    seen = dict(_bodies(spec))
    assert set(seen) == set(MODELS) | WITHOUT_EXAMPLES, "a new body: add examples (operator/examples.py) and a row here"
    for key in MODELS:
        assert seen[key].get("examples"), f"{key} shows no example"
        for name, example in seen[key]["examples"].items():
            assert example.get("summary") and "value" in example, (key, name)


def test_examples_pass_their_request_model(spec):
    checked = 0
    for key, media in _bodies(spec):
        if key in WITHOUT_EXAMPLES:
            continue
        adapter = TypeAdapter(MODELS[key])
        for name, example in media["examples"].items():
            try:
                adapter.validate_json(json.dumps(example["value"]))  # as the node reads a request
            except ValueError as exc:
                pytest.fail(f"example {name!r} of {key[0].upper()} {key[1]} is invalid: {exc}")
            checked += 1
    assert checked >= 20


def test_examples_match_the_published_schema(spec):
    """A client generated from /openapi.json accepts them too (JSON Schema 2020-12 of OpenAPI 3.1)."""
    for key, media in _bodies(spec):
        for name, example in (media.get("examples") or {}).items():
            schema = {**media["schema"], "components": spec["components"]}
            errors = [e.message for e in jsonschema.Draft202012Validator(schema).iter_errors(example["value"])]
            assert not errors, (key, name, errors)


def test_a_broken_example_is_caught():
    """The check above can fail: an emission with both a value and an activity is refused by the model."""
    broken = {**ex.EMISSION["direct"]["value"], "amount": "6.1"}
    with pytest.raises(ValueError, match="either value, or amount and factor"):
        TypeAdapter(s.EmissionCreate).validate_json(json.dumps(broken))


def test_the_declaration_example_is_the_example_chains(chain):
    assert ex.DECLARATION["nmc811"]["value"] == chain["declaration"]


def _values(examples: dict[str, Any]) -> list[dict[str, Any]]:
    return [example["value"] for example in examples.values()]


@pytest.mark.asyncio
async def test_the_examples_replay_on_a_node(api):
    """Product, BOM, emissions, partners, upstream footprints, footprint, grant and request: each example as shown
    (with the ids the node returned in place of the example's), accepted by a node."""
    product = await api.post("/api/v1/products", ex.PRODUCT_CREATE["cathode"]["value"])
    assert product.status_code == 201, product.text
    pid = product.json()["id"]
    lines = {}
    for name, example in ex.BOM_LINE.items():
        r = await api.post(f"/api/v1/products/{pid}/bom", example["value"])
        assert r.status_code == 201, (name, r.text)
        lines[name] = r.json()
    assert lines["supplier-in-grams"]["unit"] == "gram"
    for body in _values(ex.EMISSION):
        r = await api.post(f"/api/v1/products/{pid}/emissions", body)
        assert r.status_code == 201, r.text
    for body in _values(ex.PRODUCT_UPDATE):
        assert (await api.patch(f"/api/v1/products/{pid}", body)).status_code == 200
    partners = []
    for body in _values(ex.PARTNER_CREATE):
        r = await api.post("/api/v1/partners", body)
        assert r.status_code == 201, r.text
        partners.append(r.json()["id"])
    for body in _values(ex.PARTNER_UPDATE):
        assert (await api.patch(f"/api/v1/partners/{partners[1]}", body)).status_code == 200
    for body in _values(ex.UPSTREAM_FOOTPRINT):
        r = await api.post("/api/v1/upstream-footprints", body)
        assert r.status_code == 201, r.text

    computed = await api.post(f"/api/v1/products/{pid}/footprints")
    assert computed.status_code == 201, computed.text
    # the descriptions' arithmetic: 0.95 kg x 19.821 (precursor) + 0.44 kg x 15.2 (lithium) + 0.31 x 8.1 (cobalt);
    # 0.95 kg x 1.52 (precursor) + 3.05 (direct) + 6.1 kWh x 0.5 (activity); the recycling credit
    stages = computed.json()["footprint"]["stages"]
    assert Decimal(stages["raw_material_acquisition"]) == Decimal("28.02895")
    assert Decimal(stages["main_production"]) == Decimal("7.544")
    assert Decimal(stages["end_of_life"]) == Decimal("-225")

    grant = {**ex.GRANT["customer"]["value"], "productId": pid}
    assert (await api.post("/api/v1/grants", grant)).status_code == 201
    request = {**ex.REQUEST_CREATE["art7"]["value"], "bomLineId": lines["supplier"]["id"]}
    r = await api.post("/api/v1/requests", request)
    assert r.status_code == 201, r.text
    assert r.json()["companyId"] == ex.PCAM_MAKER
    for body in _values(ex.API_KEY):
        assert (await api.post("/api/v1/api-keys", body, role="admin")).status_code == 201
    for body in _values(ex.PACT_CLIENT):
        assert (await api.post("/api/v1/pact-clients", body, role="admin")).status_code == 201
