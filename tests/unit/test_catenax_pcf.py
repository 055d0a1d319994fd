"""The io.catenax.pcf 9.0.0 payload we send: the model's constraints, encoded here, and the official schema when its
path is given (``CATENAX_PCF_SCHEMA``: io.catenax.pcf/9.0.0/gen/Pcf-schema.json from eclipse-tractusx/
sldt-semantic-models)."""

from __future__ import annotations

import importlib.util
import json
import os
import re
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from connector.protocols.catenax import pcf_model
from connector.protocols.catenax.reading import CatenaxFootprint

ROOT = Path(__file__).resolve().parents[2]
SCHEMA_ENV = "CATENAX_PCF_SCHEMA"


def _script(name: str) -> Any:
    spec = importlib.util.spec_from_file_location(name.replace("-", "_"), ROOT / "scripts" / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def _sample() -> tuple[bytes, dict[str, Any]]:
    raw = _script("validate-catenax-pcf").sample_payload()
    return raw, json.loads(raw)


def _schema() -> dict[str, Any]:
    path = os.environ.get(SCHEMA_ENV)
    if not path:
        pytest.skip(f"{SCHEMA_ENV} is not set (path to io.catenax.pcf/9.0.0/gen/Pcf-schema.json)")
    return json.loads(Path(path).read_text(encoding="utf-8-sig"))


TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$")


def test_the_payload_keeps_the_models_constraints() -> None:
    _, doc = _sample()
    for group in (
        "scopeOfPcfForm",
        "companyAndProductInformation",
        "pcfAssessmentAndMethodology",
        "general",
        "carbonContent",
        "productLifeCycleStagesAndEmissions",
    ):
        assert isinstance(doc[group], list) and len(doc[group]) == 1, group
    assert doc["scopeOfPcfForm"][0] == {
        "specVersion": "urn:io.catenax.pcf:datamodel:version:9.0.0",
        "partialFullPcf": "Cradle-to-gate",
    }
    product = doc["companyAndProductInformation"][0]["productInformation"][0]
    assert product["declaredUnitOfMeasurement"] in pcf_model.DECLARED_UNITS
    assert product["declaredUnitAmount"] > 0 and product["productMassPerDeclaredUnit"] >= 0
    assert all(p.startswith("urn:") for p in product["productIds"])
    info = doc["pcfAssessmentAndMethodology"][0]["pcfAssessmentInformation"][0]
    ident = info["idAndVersion"][0]
    assert re.match(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", ident["id"])
    assert ident["status"] in ("Active", "Deprecated") and ident["version"] >= 0
    assert all(TIMESTAMP.match(v) for v in info["time"][0].values())
    assert re.fullmatch(r"[A-Z]{2}-[A-Z0-9]{1,3}", info["geography"][0]["geographyCountrySubdivision"])
    assert 0 <= info["boundarySpecifications"][0]["exemptedEmissionsPercent"] <= 10
    quality = doc["pcfAssessmentAndMethodology"][0]["dataSourcesAndQuality"][0]
    assert all(1 <= quality[k] <= 5 for k in ("technologicalDQR", "geographicalDQR", "temporalDQR"))
    life = doc["productLifeCycleStagesAndEmissions"][0]
    assert life["productionStage"][0]["pcfExcludingBiogenicUptake"] >= 0
    assert life["packagingStage"][0] == {"packagingEmissionsIncluded": False}
    entry = doc["attestationOfConformance"][0]
    for member in ("attestationType", "standardName", "attestationStandard", "attestationOfConformanceId"):
        assert isinstance(entry[member], str) and entry[member]


def test_numbers_go_out_digit_for_digit_and_come_back_exact() -> None:
    raw, _ = _sample()
    assert b'"pcfExcludingBiogenicUptake":73.623456789012' in raw  # 61.123456789012 + 12.5, no float on the way
    doc = pcf_model.loads(raw)
    assert doc["productLifeCycleStagesAndEmissions"][0]["productionStage"][0]["pcfExcludingBiogenicUptake"] == (
        "73.623456789012"
    )
    assert pcf_model.dumps(doc) == raw
    assert pcf_model.dumps({"fossilGhgEmissions": "0.1000000000000000000001"}) == (
        b'{"fossilGhgEmissions":0.1000000000000000000001}'
    )
    with pytest.raises(ValueError):
        pcf_model.dumps({"fossilGhgEmissions": "NaN"})
    with pytest.raises(ValueError):
        pcf_model.loads(b'{"a":1,"a":2}')
    with pytest.raises(ValueError):
        pcf_model.loads(b'{"a":NaN}')


def test_a_received_pcf_reads_back_with_our_attestation_and_four_stages() -> None:
    raw, _ = _sample()
    got = CatenaxFootprint(pcf_model.loads(raw))
    assert got.attestation == "eyJhbGciOiJFUzI1NiJ9.e30.sig~"
    assert got.id == "5b2a8c4e-2f1d-4c4b-9a53-0e7f3b1d9c11"
    assert "urn:pact:kyushu-pack.example:company:kyushu-pack" in got.company_ids
    assert got.total() == Decimal("61.123456789012") + Decimal("12.5") + Decimal("0.75") + Decimal("-1.25")
    assert got.declared_unit() == "kilowatt hour"


def test_a_pcf_without_our_entry_has_no_attestation_and_its_cradle_to_gate_value() -> None:
    _, doc = _sample()
    del doc["attestationOfConformance"]
    got = CatenaxFootprint(pcf_model.loads(json.dumps(doc).encode()))
    assert got.attestation is None and got.evidence is None
    assert got.total() == Decimal("73.623456789012") + Decimal("0.75")


def test_a_forged_entry_is_refused_where_it_is_read() -> None:
    _, doc = _sample()
    doc["attestationOfConformance"][0]["attestationOfConformanceId"] = '{"stages":{"x":"1"},"rounding":"r"}'
    with pytest.raises(ValueError):
        CatenaxFootprint(doc).attestation  # noqa: B018


def test_what_9_0_0_cannot_carry_is_refused() -> None:
    module = _script("validate-catenax-pcf")
    assert module.sample_payload()
    from types import SimpleNamespace

    product = SimpleNamespace(declared_unit="megabit second")
    with pytest.raises(pcf_model.NotExpressible):
        pcf_model.to_pcf(SimpleNamespace(), product, None, company_name="x", company_id="urn:x", bpnl=None)
    with pytest.raises(pcf_model.NotExpressible):
        pcf_model.to_pcf(
            SimpleNamespace(), product, None, company_name="x", company_id="urn:x", bpnl=None, version="10.0.0"
        )


def test_the_payload_validates_against_the_official_schema() -> None:
    schema = _schema()
    _, doc = _sample()
    result = _script("validate-passports").validate(schema, doc, fragment=False)
    assert result.errors == []


def test_our_numeric_members_are_the_schemas() -> None:
    schema = _schema()
    defs = schema["components"]["schemas"]
    numbers: set[str] = set()

    def walk(node: dict[str, Any]) -> None:
        if "$ref" in node:
            node = defs[node["$ref"].split("/")[-1]]
        for name, sub in node.get("properties", {}).items():
            target = defs[sub["$ref"].split("/")[-1]] if "$ref" in sub else sub
            if target.get("type") == "number":
                numbers.add(name)
            walk(sub)
        if "items" in node:
            walk(node["items"])

    walk(schema)
    assert numbers == pcf_model.NUMERIC


def test_a_pcf_naming_only_the_senders_bpnl_names_the_sender() -> None:
    from connector.protocols.catenax.reading import sent_by

    _, doc = _sample()
    doc["companyAndProductInformation"][0]["companyInformation"][0]["companyIds"] = ["urn:BPNL0000000PACK1"]
    got = CatenaxFootprint(doc)
    assert got.company_ids == ["urn:BPNL0000000PACK1"]  # read outside a receipt: as written
    with sent_by("BPNL0000000PACK1", "urn:pact:kyushu-pack.example:company:kyushu-pack"):
        assert got.company_ids == ["urn:BPNL0000000PACK1", "urn:pact:kyushu-pack.example:company:kyushu-pack"]
    with sent_by("BPNL0000000OTHR", "urn:pact:other.example:company:other"):
        assert got.company_ids == ["urn:BPNL0000000PACK1"]  # another sender's BPNL names nobody else


def test_what_we_send_is_what_the_file_import_reads() -> None:
    from connector.protocols.catenax import pcf

    raw, _ = _sample()
    doc = pcf_model.loads(raw)
    assert pcf.is_catenax_pcf(doc)
    values = pcf.read_pcf(doc)
    assert values.product_ids == ["urn:pact:kyushu-pack.example:product:pack-75kwh"]
    assert values.declared_unit == "kilowatt hour" and values.declared_amount == 1
    assert values.dqr == {"technological": "1.5", "geographical": "2", "temporal": "1"}
    assert values.primary_data_share == Decimal("42.5")
