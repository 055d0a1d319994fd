"""Request examples for the operator API's interactive docs (``/docs``), taken from the NMC811 example chain
(connector/demo/chains/nmc811-chain.json): a cathode maker's node, its suppliers and customer, and the automaker's
declaration. tests/api/test_openapi_examples.py validates every one against its request model and replays the
product's set-up on a node, so an example cannot drift from what the API accepts.

Ids the node makes (a product's, a BOM line's) are shown as UUIDs: use the ``id`` the create call returned.
"""

from __future__ import annotations

import json
from typing import Any

from fastapi.openapi.models import Example

from ...demo.chains import HERE as CHAINS

CATHODE = "urn:pact:hokuriku-cathode.example:product:cam-nmc811"
PCAM_MAKER = "urn:pact:kansai-precursor.example:company:kansai-precursor"
PCAM = "urn:pact:kansai-precursor.example:product:pcam-nmc811"
LITHIUM_MAKER = "urn:pact:andes-lithium.example:company:andes-lithium"
LIOH = "urn:pact:andes-lithium.example:product:lioh-h2o-bg"
CELL_MAKER = "urn:pact:setouchi-cell.example:company:setouchi-cell"
PRODUCT_ID = "5b0d3f8e-2c47-4a91-8e6d-1f9a7c3b2e40"
BOM_LINE_ID = "9e4c2a17-6b3d-4f85-a0c9-7d1e5b8f3a62"


def _one(summary: str, value: Any, description: str | None = None) -> Example:
    example = Example(summary=summary, value=value)
    if description:
        example["description"] = description
    return example


PRODUCT_CREATE: dict[str, Example] = {
    "cathode": _one(
        "Cathode active material, per kilogram",
        {
            "productIds": [CATHODE],
            "name": "NMC811 cathode active material",
            "declaredUnit": "kilogram",
            "plant": {"name": "Toyama plant", "country": "JP", "subdivision": "JP-16"},
            "primaryDataShare": "100",
        },
    ),
    "pack": _one(
        "Battery pack, per piece",
        {
            "productIds": ["urn:pact:kyushu-pack.example:product:pack-75kwh"],
            "name": "Battery pack 75 kWh (204 cells)",
            "declaredUnit": "piece",
            "plant": {"name": "Kitakyushu pack plant", "country": "JP", "subdivision": "JP-40"},
            "primaryDataShare": "100",
        },
    ),
}

PRODUCT_UPDATE: dict[str, Example] = {
    "rename": _one(
        "Rename and describe",
        {
            "name": "NMC811 cathode active material",
            "description": "Single-crystal NMC811, calcined in Toyama",
        },
    ),
}

BOM_LINE: dict[str, Example] = {
    "supplier": _one(
        "A supplier's product",
        {
            "kind": "supplier",
            "supplierCompanyId": PCAM_MAKER,
            "supplierProductId": PCAM,
            "quantity": "0.95",
            "unit": "kilogram",
        },
        "0.95 kg of precursor per kilogram of cathode, in the supplier's declared unit.",
    ),
    "supplier-in-grams": _one(
        "A supplier's product in another unit",
        {
            "kind": "supplier",
            "supplierCompanyId": LITHIUM_MAKER,
            "supplierProductId": LIOH,
            "quantity": "440",
            "unit": "gram",
        },
        "440 g of lithium hydroxide per kilogram of cathode; converted to the supplier's declared unit (kilogram).",
    ),
    "secondary": _one(
        "A secondary dataset",
        {
            "kind": "secondary",
            "dataset": "cobalt sulfate heptahydrate, secondary dataset",
            "quantity": "0.31",
            "unit": "kilogram",
            "factor": "8.1",
            "stage": "raw_material_acquisition",
        },
        "0.31 kg x 8.1 kg CO2e/kg, booked to raw material acquisition.",
    ),
}

EMISSION: dict[str, Example] = {
    "direct": _one(
        "A direct value for one stage",
        {"stage": "main_production", "value": "3.05"},
        "kg CO2e per declared unit of the product.",
    ),
    "activity": _one(
        "An activity line (amount x factor)",
        {
            "stage": "main_production",
            "amount": "6.1",
            "unit": "kWh",
            "factor": "0.5",
            "source": "grid electricity, Hokuriku area, 2025",
        },
        "6.1 kWh per declared unit x 0.5 kg CO2e/kWh = 3.05 kg CO2e.",
    ),
    "credit": _one("A recycling credit (negative)", {"stage": "end_of_life", "value": "-225"}),
}

UPSTREAM_FOOTPRINT: dict[str, Example] = {
    "lithium": _one(
        "The lithium refiner's footprint, per kilogram",
        {
            "supplierCompanyId": LITHIUM_MAKER,
            "productId": LIOH,
            "declaredUnit": "kilogram",
            "stages": {
                "raw_material_acquisition": "15.2",
                "main_production": "0",
                "distribution": "0",
                "end_of_life": "0",
            },
            "primaryDataShare": "100",
        },
    ),
    "precursor": _one(
        "The precursor maker's footprint, per kilogram",
        {
            "supplierCompanyId": PCAM_MAKER,
            "productId": PCAM,
            "declaredUnit": "kilogram",
            "stages": {
                "raw_material_acquisition": "19.821",
                "main_production": "1.52",
                "distribution": "0",
                "end_of_life": "0",
            },
            "primaryDataShare": "100",
        },
    ),
    "typed-from-pdf": _one(
        "Typed from the supplier's PDF, with the document (sealed into the evidence for verifiers)",
        {
            "supplierCompanyId": LITHIUM_MAKER,
            "productId": LIOH,
            "declaredUnit": "kilogram",
            "stages": {
                "raw_material_acquisition": "15.2",
                "main_production": "0",
                "distribution": "0",
                "end_of_life": "0",
            },
            "sourceKind": "document",
            "document": "JVBERi0xLjcKJcK1wrYK",
            "mediaType": "application/pdf",
        },
    ),
}

PARTNER_CREATE: dict[str, Example] = {
    "supplier": _one(
        "A supplier with a node",
        {
            "companyId": PCAM_MAKER,
            "name": "Kansai Precursor Materials K.K.",
            "nodeUrl": "https://cfp.kansai-precursor.example",
            "isSupplier": True,
        },
    ),
    "customer": _one(
        "A customer answered automatically",
        {
            "companyId": CELL_MAKER,
            "name": "Setouchi Cell Manufacturing K.K.",
            "nodeUrl": "https://cfp.setouchi-cell.example",
            "isCustomer": True,
            "autoFulfil": True,
        },
    ),
}

PARTNER_UPDATE: dict[str, Example] = {
    "auto-fulfil": _one("Answer this customer's requests automatically", {"autoFulfil": True}),
}

GRANT: dict[str, Example] = {
    "customer": _one(
        "Let the cell maker read the cathode's footprints",
        {"productId": PRODUCT_ID, "companyId": CELL_MAKER},
        "productId is the node's id of the product (the id POST /products returned), not its URN.",
    ),
}

REQUEST_CREATE: dict[str, Example] = {
    "art7": _one(
        "Ask the supplier of a BOM line",
        {
            "bomLineId": BOM_LINE_ID,
            "message": "EU Battery Regulation Art. 7",
            "dueDate": "2026-03-31T00:00:00Z",
        },
        "bomLineId is the id of a supplier line of one of our products. Add verifierCertificates (PEM) to have the "
        "supplier seal its evidence to a notified body.",
    ),
}

REJECT: dict[str, Example] = {
    "not-ours": _one("Reject with a reason", {"reason": "We do not supply this product to your company."}),
}

LINK: dict[str, Example] = {
    "our-cell": _one(
        "Answer the request with one of our products", {"productId": "3f0c7e4a-1d2b-4c5e-9f60-7a8b9c0d1e2f"}
    ),
}

PART_LINK_UPDATE: dict[str, Example] = {
    "other-cell": _one(
        "Link the customer's part to another product of ours", {"productId": "3f0c7e4a-1d2b-4c5e-9f60-7a8b9c0d1e2f"}
    ),
    "no-verifiers": _one("Seal later answers to no named verifier", {"verifierCertificates": []}),
}

PACT_CLIENT: dict[str, Example] = {"customer": _one("A PACT client of the cell maker", {"companyId": CELL_MAKER})}

API_KEY: dict[str, Example] = {"erp": _one("A key for the ERP import", {"name": "ERP import", "role": "editor"})}

DECLARATION: dict[str, Example] = {
    "nmc811": _one(
        "An EV battery model (the example chain's declaration)",
        {
            "issuerCompanyId": "urn:pact:nippon-motors.example:company:nippon-motors",
            "manufacturer": {
                "name": "Nippon Motors Corporation",
                "address": "1-1 Example-cho, Toyota, Aichi, Japan",
                "companyId": "urn:pact:nippon-motors.example:company:nippon-motors",
            },
            "batteryModel": "NM-EV75-NMC811",
            "batteryCategory": "electric_vehicle",
            "vehicleCategory": "M1",
            "plant": {"name": "Kitakyushu pack plant", "country": "JP", "subdivision": "JP-40"},
            "packProductId": "urn:pact:kyushu-pack.example:product:pack-75kwh",
            "usableEnergyKwh": "75",
            "cyclesPerYear": "60",
            "serviceLifeYears": "8",
            "declarationOfConformityId": "NM-DoC-2026-0001",
            "studyUrl": "https://nippon-motors.example/cfp/NM-EV75-NMC811-study.pdf",
        },
        "packProductId is the product whose attested footprint this node holds (an upstream footprint).",
    ),
}

CONFORMITY: dict[str, Example] = {
    "module-d1": _one(
        "Module D1 with the example chain's notified body",
        {
            "objectDescription": "Electric vehicle battery NM-EV75-NMC811, 75 kWh NMC811 pack",
            "conformityModule": "D1",
            "notifiedBody": {
                "name": "Example Notified Body 0042",
                "number": "0042",
                "task": "Quality assurance of the production process (module D1)",
                "certificate": "NB0042-D1-2026-017",
            },
            "signedFor": "Nippon Motors Corporation",
            "placeOfIssue": "Toyota",
            "dateOfIssue": "2026-06-30",
            "signatoryName": "Hanako Yamada",
            "signatoryFunction": "Head of Battery Compliance",
        },
    ),
}

CERTIFY: dict[str, Example] = {
    "notified-body": _one(
        "Ask the notified body's node",
        {"verifierUrl": "https://cfp.nb-0042.example", "scope": "carbon footprint, Art. 7"},
    ),
}

CATENAX_PASSPORT: dict[str, Example] = {
    "nmc811": _one(
        "The automaker's Catena-X passport of one pack, without the carbon footprint (examples/)",
        json.loads((CHAINS / "nmc811-catenax-passport.json").read_text(encoding="utf-8")),
    ),
}

FOOTPRINT_FILE: dict[str, Example] = {
    "pact": _one(
        "A PACT v3 ProductFootprint from the lithium refiner's own PACT software",
        {
            "id": "7d1f0c2e-5a43-4b8e-9f61-2c8e4a7b3d90",
            "specVersion": "3.0.0",
            "created": "2026-01-15T00:00:00Z",
            "status": "Active",
            "companyName": "Andes Lithium",
            "companyIds": [LITHIUM_MAKER],
            "productDescription": "Lithium hydroxide monohydrate, battery grade",
            "productIds": [LIOH],
            "productNameCompany": "LiOH·H2O battery grade",
            "pcf": {
                "declaredUnitOfMeasurement": "kilogram",
                "declaredUnitAmount": "1",
                "productMassPerDeclaredUnit": "1",
                "referencePeriodStart": "2025-01-01T00:00:00Z",
                "referencePeriodEnd": "2026-01-01T00:00:00Z",
                "pcfExcludingBiogenicUptake": "15.2",
                "pcfIncludingBiogenicUptake": "15.2",
                "fossilGhgEmissions": "15.2",
                "primaryDataShare": "100",
            },
        },
        "Recorded as an entered value for the BOM line buying this product from this company; a PACT total with "
        "no per-stage extension is booked to raw material acquisition (decision 0019).",
    ),
    "catenax": _one(
        "A Catena-X PCF (io.catenax.pcf 9.0.0) from the precursor maker, per tonne",
        {
            "scopeOfPcfForm": [
                {"partialFullPcf": "Cradle-to-gate", "specVersion": "urn:io.catenax.pcf:datamodel:version:9.0.0"}
            ],
            "companyAndProductInformation": [
                {
                    "productInformation": [
                        {
                            "declaredUnitOfMeasurement": "ton",
                            "declaredUnitAmount": 1,
                            "productIds": [PCAM],
                            "productNameCompany": "NMC811 precursor",
                        }
                    ],
                    "companyInformation": [{"companyIds": [PCAM_MAKER], "companyName": "Kansai Precursor"}],
                }
            ],
            "productLifeCycleStagesAndEmissions": [
                {"productionStage": [{"pcfExcludingBiogenicUptake": 21341, "pcfIncludingBiogenicUptake": 21341}]}
            ],
            "pcfAssessmentAndMethodology": [
                {
                    "dataSourcesAndQuality": [{"primaryDataShare": 80}],
                    "pcfAssessmentInformation": [
                        {"idAndVersion": [{"id": "0b6e9a54-1f3c-4d27-8a5e-6c9d2b7f4e13", "version": 0}]}
                    ],
                }
            ],
        },
        "Per tonne in the file, recorded per kilogram (the BOM line's unit).",
    ),
}


LOGIN: dict[str, Example] = {
    "login": _one("Log in", {"login": "sustainability.lead", "password": "correct horse battery staple"}),
}

REFRESH: dict[str, Example] = {
    "refresh": _one(
        "Exchange a refresh token for a new pair",
        {"refreshToken": "cur_5pW0p1hQmS7m2Yk4Xn8dJq3vB6tZr9cLfE1aHgU0sKw"},
        "The refresh token of the last pair; it is spent by this call.",
    ),
}

USER_CREATE: dict[str, Example] = {
    "editor": _one(
        "A sustainability engineer who enters emissions",
        {
            "login": "sustainability.lead",
            "displayName": "Sustainability lead (Toyama plant)",
            "role": "editor",
            "password": "correct horse battery staple",
        },
    ),
    "verifier": _one(
        "A notified-body auditor who verifies evidence bundles",
        {"login": "auditor@notified-body.example", "role": "verifier", "password": "a long passphrase of words"},
    ),
}

USER_UPDATE: dict[str, Example] = {
    "promote": _one("Make a user an administrator", {"role": "admin"}),
    "disable": _one("Disable a user (its tokens are revoked)", {"disabled": True}),
    "reset": _one("Set a new password (its tokens are revoked)", {"password": "another long passphrase"}),
}
