"""The manual upstream endpoint takes an entered value's provenance (issue 17): the kind of source, the document or
its SHA-256, who entered it (the API key's name); bad provenance is a 422 problem, never a 500."""

from __future__ import annotations

import base64
import hashlib

import pytest

from .conftest import assert_problem
from .factories import upstream_body

pytestmark = pytest.mark.asyncio

UP = "/api/v1/upstream-footprints"
PDF = b"%PDF-1.7 a supplier's footprint statement"


async def test_document_recorded_with_its_digest_and_who_entered_it(api):
    body = {
        **upstream_body(raw_material_acquisition="15.2"),
        "sourceKind": "pact-file",
        "document": base64.b64encode(PDF).decode(),
        "mediaType": "application/pdf",
    }
    r = await api.post(UP, body)
    assert r.status_code == 201, r.text
    read = r.json()
    assert read["basis"] == "entered" and read["verified"] is False
    assert read["sourceKind"] == "pact-file" and read["documentSha256"] == hashlib.sha256(PDF).hexdigest()
    assert read["enteredBy"].startswith("api-key:")
    listed = (await api.get(UP)).json()["items"][0]
    assert listed["documentSha256"] == read["documentSha256"] and listed["basis"] == "entered"


async def test_defaults_and_digest_only(api):
    plain = (await api.post(UP, upstream_body())).json()
    assert plain["basis"] == "entered" and plain["sourceKind"] == "document" and plain["documentSha256"] is None
    digest = "AB" * 32
    read = (await api.post(UP, {**upstream_body(raw_material_acquisition="3"), "documentSha256": digest})).json()
    assert read["documentSha256"] == digest.lower()


async def test_bad_provenance_is_a_clear_422(api):
    pdf = base64.b64encode(PDF).decode()
    cases = [
        ({"sourceKind": "fax"}, "sourceKind"),
        ({"document": "not base64!", "mediaType": "application/pdf"}, "document"),
        ({"document": pdf}, "document"),  # "a document needs its mediaType"
        ({"mediaType": "application/pdf"}, "body"),  # "mediaType describes a document: give document too"
        ({"document": pdf, "mediaType": "application/pdf", "documentSha256": "0" * 64}, "document"),
        ({"documentSha256": "xyz"}, "documentSha256"),
        ({"enteredBy": "someone"}, "enteredBy"),  # who entered it is the API key, never the body
    ]
    for extra, where in cases:
        problem = assert_problem(await api.post(UP, {**upstream_body(), **extra}), 422, where)
        if extra in ({"document": pdf}, {"mediaType": "application/pdf"}):
            assert "mediaType" in problem["detail"] + str(problem["errors"])
    assert (await api.get(UP)).json()["total"] == 0
