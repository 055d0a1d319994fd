"""``cfp`` and ``cfpCertification``: footprint stages read and own values written.

Ouranos has two stages, pre-processing (raw material acquisition) and main production, each split into the
company's own emissions (``*Production``) and its parts' (``*Component``); ours has four. Read: own = the active
footprint's own stage values, component = its total stage values minus own; distribution and end of life are not
shown (decision 0021). A part bought from a supplier also reads the supplier's values as ``*Response`` (the upstream
footprint held, as received). Write (PUT cfp): own values replace the part's own raw-material and main-production
lines, then the footprint is computed and published (an answer goes to requests waiting for it); component values
are the parts' and are computed from the bill of materials, so those sent are kept only for a part without one.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from fastapi.responses import Response

from ...errors import MissingUpstream
from ...exchange import propagation
from ...services import models as m
from ...stages import Stage
from ...storage import catalog_reads
from ...storage import repositories as repo
from ...storage.tables import Attestation, BomLine, OwnEmission, Product, UpstreamFootprint
from . import mapping
from .call import Call, id_list, parse
from .models import BASE_CFP_TYPES, DQR_OF, MAX_TRACE_IDS, CfpModel
from .wire import DtsError, bad_request, dumps, json_response, track

RAW, MAIN = Stage.RAW_MATERIAL_ACQUISITION.value, Stage.MAIN_PRODUCTION.value
MEDIA_TYPE = "application/vnd.cfp-connector.attestation+json"
"""The cfpCertification file that carries a footprint's signed attestation and sealed evidence (decision 0021)."""
ZERO = Decimal(0)


def _dqr(raw: dict[str, str] | None) -> dict[str, Decimal | None]:
    raw = raw or {}
    keys = (("TeR", "technological"), ("GeR", "geographical"), ("TiR", "temporal"))
    return {k: mapping.wire_number(Decimal(raw[ours])) if raw.get(ours) else None for k, ours in keys}


def _row(trace: str, cfp: str | None, value: Decimal | None, unit: str, kind: str, dqr: dict) -> dict[str, Any]:
    return {
        "cfpId": cfp,
        "traceId": trace,
        "ghgEmission": mapping.wire_number(value),
        "ghgDeclaredUnit": unit,
        "cfpType": kind,
        "dqrType": DQR_OF[kind],
        "dqrValue": dqr,
    }


def _own_values(call: Call, product: Product) -> tuple[dict[str, Decimal], dict[str, Decimal], bool]:
    """(own, total) per stage name, and whether they come from a footprint."""
    fp = repo.active_footprint(call.ctx.session, product.id)
    if fp is not None:
        own = {k: Decimal(v) for k, v in fp.own_stages.items()}
        total = {k: Decimal(v) for k, v in fp.stages.items()}
        return own, total, True
    own = {RAW: ZERO, MAIN: ZERO}
    for row in repo.own_emissions(call.ctx.session, product.id):
        value = row.value if row.kind == "direct" else (row.amount or ZERO) * (row.factor or ZERO)
        if row.stage in own and value is not None:
            own[row.stage] += value
    return own, dict(own), False


def _responses(call: Call, trace: str, line: BomLine) -> list[dict[str, Any]]:
    held = repo.latest_upstreams(call.ctx.session, [(line.supplier_company_id or "", line.supplier_product_id or "")])
    rows = []
    for up in held.values():
        unit = mapping.ouranos_unit(up.declared_unit)
        if unit is None:
            continue
        dqr = _dqr(up.dqr)
        for kind, stage in (("preProductionResponse", RAW), ("mainProductionResponse", MAIN)):
            rows.append(_row(trace, None, Decimal(up.stages.get(stage, "0")), f"kgCO2e/{unit}", kind, dqr))
    return rows


def product_rows(call: Call, product: Product) -> list[dict[str, Any]]:
    unit = mapping.ouranos_unit(product.declared_unit)
    if unit is None:
        return []
    declared = f"kgCO2e/{unit}"
    own, total, computed = _own_values(call, product)
    dqr = _dqr(product.dqr)
    cfp = mapping.cfp_id(product.id)
    values = {
        "preProduction": own.get(RAW, ZERO),
        "mainProduction": own.get(MAIN, ZERO),
        "preComponent": total.get(RAW, ZERO) - own.get(RAW, ZERO),
        "mainComponent": total.get(MAIN, ZERO) - own.get(MAIN, ZERO),
    }
    rows = [_row(product.id, cfp, values[k], declared, k, dqr) for k in BASE_CFP_TYPES]
    lines = catalog_reads.supplier_lines(call.ctx.session, product.id)
    if computed and lines:
        rows += [_row(product.id, cfp, values[k], declared, f"{k}Total", dqr) for k in BASE_CFP_TYPES]
    for line in lines:
        if line.supplier_product_id == mapping.PART_URN + product.id:
            rows += _responses(call, product.id, line)
    return rows


def get_cfp(call: Call) -> Response:
    traces = id_list(call.query.get("traceIds"), "traceIds", MAX_TRACE_IDS, required=True)
    session = call.ctx.session
    body: list[dict[str, Any]] = []
    for trace in traces:
        product = session.get(Product, trace)
        if product is not None:
            body += product_rows(call, product)
            continue
        line = session.get(BomLine, trace)
        if line is not None and line.kind == "supplier" and line.supplier_company_id != call.ctx.company_id:
            body += _responses(call, trace, line)
    return json_response(body)


def put_cfp(call: Call) -> Response:
    call.writes()
    data = call.body()
    if not isinstance(data, list):
        raise bad_request("Validation failed, cfp models must be an array")
    if len(data) != len(BASE_CFP_TYPES):
        raise bad_request("Validation failed, cfp models must be 4 elements")
    models = [parse(CfpModel, item) for item in data]
    by_type = {cfp.cfp_type: cfp for cfp in models}
    for kind in BASE_CFP_TYPES:
        if kind not in by_type:
            raise bad_request(f"Validation failed, cfpType {kind} is insufficient")
    if len({(c.cfp_id or "").lower() for c in models}) != 1:
        raise bad_request("Validation failed, ensure all objects have the same cfpId")
    if len({c.trace_id.lower() for c in models}) != 1 or len({c.ghg_declared_unit for c in models}) != 1:
        raise bad_request("Validation failed, ensure all objects have the same traceId and ghgDeclaredUnit")
    dqrs: dict[str, Any] = {}
    for i, cfp in enumerate(models):
        if DQR_OF[cfp.cfp_type] != cfp.dqr_type:
            raise bad_request(
                f"Validation failed, cfpModel[{i}]: (ensure the combination of cfpType and dqrType is correct.)."
            )
        if cfp.ghg_emission is None:
            raise bad_request(f"Validation failed, cfpModel[{i}]: (ghgEmission: cannot be blank.).")
        if dqrs.setdefault(cfp.dqr_type, cfp.dqr_value) != cfp.dqr_value:
            raise bad_request("Validation failed, different dqrValues are set for the same dqrType.")
    first = models[0]
    product = call.ctx.session.get(Product, first.trace_id.lower())
    if product is None:
        raise bad_request(f"Validation failed, traceId: part {first.trace_id} does not exist.", "traceability")
    cfp_id = mapping.cfp_id(product.id)
    if first.cfp_id is not None and first.cfp_id.lower() != cfp_id:
        raise bad_request(f"Validation failed, cfpId: {first.cfp_id} is not the CFP of this part.", "traceability")
    unit = mapping.ouranos_unit(product.declared_unit)
    if first.ghg_declared_unit != f"kgCO2e/{unit}":
        raise bad_request(
            f"Validation failed, ghgDeclaredUnit: the part is declared per {unit}; units are not converted."
        )
    _write_own(call, product, by_type)
    try:
        with call.ctx.session.begin_nested():
            propagation.compute_and_publish(call.ctx, product.id)
    except MissingUpstream:
        pass  # a supplier's value is still missing: the footprint is computed when it arrives
    call.ctx.session.flush()
    body = []
    for cfp in models:
        row = cfp.model_dump(by_alias=True, mode="python")
        row["cfpId"] = cfp_id
        row["traceId"] = product.id
        body.append(row)
    return json_response(body, 201)


def _write_own(call: Call, product: Product, by_type: dict[str, CfpModel]) -> None:
    session = call.ctx.session
    for row in repo.own_emissions(session, product.id):
        if row.stage in (RAW, MAIN):
            session.delete(row)
    values = [("preProduction", RAW, True), ("mainProduction", MAIN, True)]
    if not catalog_reads.supplier_lines(session, product.id):  # no parts to compute them from: kept as sent
        values += [("preComponent", RAW, False), ("mainComponent", MAIN, False)]
    for kind, stage, primary in values:
        value = by_type[kind].ghg_emission
        if value is None or (not primary and value == 0):
            continue
        session.add(
            OwnEmission(
                product_id=product.id,
                stage=stage,
                kind="direct",
                value=value,
                primary=primary,
                source=f"ouranos:{kind}",
            )
        )
    main = by_type["mainProduction"].dqr_value
    ratings = [main.ter, main.ger, main.tir]
    if all(r is not None and Decimal(1) <= r <= Decimal(5) for r in ratings):
        dqr = m.DataQualityIn.model_validate(
            {"technological": str(main.ter), "geographical": str(main.ger), "temporal": str(main.tir)}
        )
        product.dqr = dqr.model_dump(mode="json")
        session.add(product)
    session.flush()


def get_certifications(call: Call) -> Response:
    trace = mapping.require_uuid(call.query.get("traceId"), "traceId")
    session = call.ctx.session
    files: list[dict[str, Any]] = []
    product = session.get(Product, trace)
    lines: list[BomLine] = []
    if product is not None:
        fp = repo.active_footprint(session, product.id)
        if fp is not None:
            for att in catalog_reads.attestations_of(session, fp.id):
                files.append(_file(mapping.operator_id(call.ctx.company_id), att.id))
        lines = [
            line
            for line in catalog_reads.supplier_lines(session, product.id)
            if line.supplier_product_id == mapping.PART_URN + product.id
        ]
    else:
        line = session.get(BomLine, trace)
        if line is not None and line.kind == "supplier":
            lines = [line]
    for line in lines:
        held = repo.latest_upstreams(session, [(line.supplier_company_id or "", line.supplier_product_id or "")])
        for up in held.values():
            if up.attestation:
                files.append(_file(mapping.operator_id(up.supplier_company_id), up.id))
    if not files:
        return json_response([])
    return json_response(
        [
            {
                "cfpCertificationId": mapping.derived("certification", trace),
                "traceId": trace,
                "cfpCertificationDescription": f"signed attestation and sealed evidence ({MEDIA_TYPE})",
                "cfpCertificationFileInfo": files[:100],
            }
        ]
    )


def _file(operator: str, file_id: str) -> dict[str, Any]:
    return {"operatorId": operator, "fileId": file_id, "fileName": f"attestation-{file_id}.json"}


def certification_file(call: Call, file_id: str) -> Response:
    """A cfpCertification file (``fileId`` of ``GET cfpCertification``): the signed attestation, its sealed evidence
    and its certifications, as :data:`MEDIA_TYPE` ``{"sdJwt", "evidence", "certifications"}``. Ours are the
    attestations issued for our footprints; a bought part's is the supplier's, as received and verified."""
    session = call.ctx.session
    ours = session.get(Attestation, file_id)
    if ours is not None:
        body = {"sdJwt": ours.sd_jwt, "evidence": ours.evidence, "certifications": ours.certifications}
    else:
        theirs = session.get(UpstreamFootprint, file_id)
        if theirs is None or not theirs.attestation:
            raise DtsError(404, f"no cfpCertification file {file_id}", source="traceability")
        body = {"sdJwt": theirs.attestation, "evidence": theirs.evidence, "certifications": theirs.certifications}
    return Response(
        dumps(body),
        media_type=MEDIA_TYPE,
        headers={"x-track": track(), "Content-Disposition": f'attachment; filename="attestation-{file_id}.json"'},
    )
