"""``/api/v1/authInfo``: the operator (our company; partners are other operators) and its plants.

The operator's name, address and corporate number are the node's settings, and its plants are its products' plant
names (plus the default plant, for products without one): PUT accepts them unchanged and refuses a change with the
setting to change instead. A plant is not created over Ouranos: it comes with the products made in it.
"""

from __future__ import annotations

from typing import Any

from fastapi.responses import Response

from ...storage import catalog_reads
from . import mapping
from .call import Call, id_list
from .models import MAX_OPERATOR_IDS, OperatorModel, PlantModel
from .wire import DtsError, bad_request, json_response


def _operators(call: Call) -> list[dict[str, Any]]:
    settings = call.ctx.settings
    out = [mapping.operator_model(settings, settings.company_id, settings.company_name)]
    for partner in catalog_reads.partners(call.ctx.session):
        if partner.company_id != settings.company_id:
            out.append(mapping.operator_model(settings, partner.company_id, partner.name))
    return out


def get_operator(call: Call) -> Response:
    open_id = call.query.get("openOperatorId")
    ids_raw = call.query.get("operatorIds")
    if open_id is not None and ids_raw is not None:
        raise bad_request(
            "Invalid request parameters, only one of operatorIds and openOperatorId can be set.", source="auth"
        )
    if ids_raw is not None:
        ids = set(id_list(ids_raw, "operatorIds", MAX_OPERATOR_IDS, required=True))
        return json_response([op for op in _operators(call) if op["operatorId"] in ids])
    if open_id is not None:
        found = [op for op in _operators(call) if op["openOperatorId"] == open_id]
        if not found:
            raise DtsError(404, f"no operator with openOperatorId {open_id[:40]}", source="auth")
        return json_response(found[0])
    return json_response(_operators(call)[0])


def put_operator(call: Call) -> Response:
    call.writes()
    body = call.model(OperatorModel)
    ours = _operators(call)[0]
    if body.operator_id.lower() != ours["operatorId"]:
        raise DtsError(403, "operatorId: must be the operator you are logged in as", source="auth")
    if body.open_operator_id != ours["openOperatorId"]:
        raise bad_request("openOperatorId: field is immutable.", source="auth")
    settings = {
        "operatorName": (body.operator_name, "CONNECTOR_COMPANY_NAME"),
        "operatorAddress": (body.operator_address, "CONNECTOR_COMPANY_ADDRESS"),
        "globalOperatorId": (body.operator_attribute.global_operator_id, "CONNECTOR_COMPANY_ID"),
    }
    for field, (value, setting) in settings.items():
        current = ours["operatorAttribute"]["globalOperatorId"] if field == "globalOperatorId" else ours[field]
        if value is not None and value != current:
            raise bad_request(f"{field}: set by the node's configuration ({setting}); change it there.", "auth")
    return json_response(ours, 201)


def _plants(call: Call) -> list[dict[str, Any]]:
    names = catalog_reads.plant_names(call.ctx.session)
    if None not in names:
        names = [None, *names]
    return [mapping.plant_model(call.ctx.settings, name) for name in names]


def get_plant(call: Call) -> Response:
    return json_response(_plants(call))


def put_plant(call: Call) -> Response:
    call.writes()
    body = call.model(PlantModel)
    if body.operator_id.lower() != mapping.operator_id(call.ctx.company_id):
        raise DtsError(403, "operatorId: must be the operator you are logged in as", source="auth")
    plants = _plants(call)
    if body.plant_id is None:
        found = [p for p in plants if p["plantName"] == body.plant_name]
        if not found:
            raise bad_request(
                "plantName: this node's plants are the plants of its products (operator API); a plant is not "
                "created over this API",
                "auth",
            )
    else:
        found = [p for p in plants if p["plantId"] == body.plant_id.lower()]
        if not found:
            raise bad_request(f"plantId: {body.plant_id} is not a plant of this operator.", "auth")
    plant = found[0]
    for field, value in (("plantName", body.plant_name), ("openPlantId", body.open_plant_id)):
        if value != plant[field]:
            raise bad_request(f"{field}: field is immutable.", "auth")
    return json_response(plant, 201)
