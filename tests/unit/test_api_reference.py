"""docs/api-reference.md is what scripts/gen_api_reference.py renders from the app's OpenAPI document."""

from __future__ import annotations

import importlib.util
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "gen_api_reference.py"


def load_generator():
    spec = importlib.util.spec_from_file_location("gen_api_reference", SCRIPT)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_committed_reference_is_current():
    gen = load_generator()
    expected = gen.render(gen.build_spec())
    committed = gen.OUTPUT.read_text()
    assert committed == expected, "docs/api-reference.md is out of date: run python scripts/gen_api_reference.py"


def test_every_operation_is_rendered():
    gen = load_generator()
    spec = gen.build_spec()
    text = gen.render(spec)
    for path, ops in spec["paths"].items():
        for method in ops:
            if method in gen.METHODS:
                assert f"### `{method.upper()} {path}`" in text
    assert "Authentication: `X-API-Key` header" in text
    assert "`RequestCreate`" in text and "`DeclarationInput`" in text
    # the request examples /docs offers are in the page too
    assert "Example `secondary`: A secondary dataset" in text
    assert '"supplierProductId": "urn:pact:kansai-precursor.example:product:pcam-nmc811"' in text


def test_a_changed_spec_changes_the_page():
    gen = load_generator()
    spec = gen.build_spec()
    before = gen.render(spec)
    spec["paths"]["/api/v1/products"]["get"]["summary"] = "Something else"
    assert gen.render(spec) != before
