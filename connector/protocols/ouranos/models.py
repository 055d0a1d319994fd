"""The DTS wire models, with the limits of the official contract (docs/openapi.yaml, API 3.0.0, of
ouranos-ecosystem-idi/data-transaction-system): field lengths, enums, number ranges and the 5-decimal rule.

Numbers arrive as JSON numbers and are read as ``Decimal`` (``wire.loads``); a string, a boolean or a float where a
number belongs is refused, as DTS refuses an unmarshal type error. Unknown members are ignored, as DTS does.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StrictBool, StrictStr

MAX_NUMBER = Decimal("99999.99999")
PLACES = 5
UNITS = (
    "liter",
    "kilogram",
    "cubic-meter",
    "kilowatt-hour",
    "megajoule",
    "ton-kilometer",
    "square-meter",
    "unit",
)
DECLARED_UNITS = tuple(f"kgCO2e/{u}" for u in UNITS)
BASE_CFP_TYPES = ("preProduction", "mainProduction", "preComponent", "mainComponent")
CFP_TYPES = (
    *BASE_CFP_TYPES,
    "preProductionTotal",
    "mainProductionTotal",
    "preComponentTotal",
    "mainComponentTotal",
    "preProductionResponse",
    "mainProductionResponse",
)
DQR_OF = {
    "preProduction": "preProcessing",
    "preComponent": "preProcessing",
    "mainProduction": "mainProcessing",
    "mainComponent": "mainProcessing",
    "preProductionTotal": "preProcessingTotal",
    "preComponentTotal": "preProcessingTotal",
    "mainProductionTotal": "mainProcessingTotal",
    "mainComponentTotal": "mainProcessingTotal",
    "preProductionResponse": "preProcessingResponse",
    "mainProductionResponse": "mainProcessingResponse",
}
"""The dqrType each cfpType goes with (the spec's #14 and #15)."""
MAX_CHILDREN = 50
MAX_TRACE_IDS = 50
MAX_OPERATOR_IDS = 100
MAX_LIMIT = 100
UUID_PATTERN = r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"


def _number(v: Any) -> Any:
    if v is None:
        return None
    if isinstance(v, bool) or not isinstance(v, (int, Decimal)):
        raise ValueError(f"Unmarshal type error: expected=number, got={type(v).__name__}")
    value = Decimal(v)
    if not value.is_finite():
        raise ValueError("must be a finite number")
    if value.as_tuple().exponent < -PLACES and value != value.quantize(Decimal(1).scaleb(-PLACES)):  # type: ignore[operator]
        raise ValueError(f"must be a value up to the {PLACES}th decimal place")
    return value


Number = Annotated[Decimal, BeforeValidator(_number), Field(ge=0, le=MAX_NUMBER)]
Uuid = Annotated[StrictStr, Field(pattern=UUID_PATTERN, max_length=36)]


class Wire(BaseModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True)


class OperatorAttribute(Wire):
    global_operator_id: StrictStr | None = Field(None, alias="globalOperatorId", max_length=256)


class OperatorModel(Wire):
    operator_id: Uuid = Field(alias="operatorId")
    operator_name: StrictStr = Field(alias="operatorName", min_length=1, max_length=256)
    operator_address: StrictStr = Field(alias="operatorAddress", min_length=1, max_length=256)
    open_operator_id: StrictStr = Field(alias="openOperatorId", min_length=1, max_length=20)
    operator_attribute: OperatorAttribute = Field(alias="operatorAttribute")


class PlantAttribute(Wire):
    global_plant_id: StrictStr | None = Field(None, alias="globalPlantId", max_length=256)


class PlantModel(Wire):
    plant_id: Uuid | None = Field(alias="plantId")
    operator_id: Uuid = Field(alias="operatorId")
    plant_name: StrictStr = Field(alias="plantName", min_length=1, max_length=256)
    plant_address: StrictStr = Field(alias="plantAddress", min_length=1, max_length=256)
    open_plant_id: StrictStr = Field(alias="openPlantId", min_length=6, max_length=26, pattern=r"[0-9]{6}$")
    plant_attribute: PlantAttribute = Field(alias="plantAttribute")


class PartsModel(Wire):
    trace_id: Uuid | None = Field(alias="traceId")
    operator_id: Uuid = Field(alias="operatorId")
    plant_id: Uuid = Field(alias="plantId")
    parts_name: StrictStr = Field(alias="partsName", min_length=1, max_length=50)
    support_parts_name: StrictStr | None = Field(alias="supportPartsName", max_length=50)
    terminated_flag: StrictBool = Field(alias="terminatedFlag")
    amount_required: Number | None = Field(alias="amountRequired")
    amount_required_unit: Literal[UNITS] | None = Field(alias="amountRequiredUnit")  # type: ignore[valid-type]
    parts_label_name: StrictStr | None = Field(None, alias="partsLabelName", max_length=50)
    parts_add_info1: StrictStr | None = Field(None, alias="partsAddInfo1", max_length=50)
    parts_add_info2: StrictStr | None = Field(None, alias="partsAddInfo2", max_length=50)
    parts_add_info3: StrictStr | None = Field(None, alias="partsAddInfo3", max_length=50)


class PartsStructureModel(Wire):
    parent: PartsModel = Field(alias="parentPartsModel")
    children: list[PartsModel] = Field(alias="childrenPartsModel", max_length=MAX_CHILDREN)


class TradeModel(Wire):
    trade_id: Uuid | None = Field(alias="tradeId")
    downstream_operator_id: Uuid = Field(alias="downstreamOperatorId")
    upstream_operator_id: Uuid = Field(alias="upstreamOperatorId")
    downstream_trace_id: Uuid = Field(alias="downstreamTraceId")
    upstream_trace_id: Uuid | None = Field(alias="upstreamTraceId")


class RequestStatus(Wire):
    cfp_response_status: Literal["NOT_COMPLETED", "COMPLETED", "REJECT", "CANCEL"] | None = Field(
        None, alias="cfpResponseStatus"
    )
    trade_tree_status: Literal["TERMINATED", "UNTERMINATED"] | None = Field(None, alias="tradeTreeStatus")


class StatusModel(Wire):
    status_id: Uuid | None = Field(alias="statusId")
    trade_id: Uuid | None = Field(alias="tradeId")
    request_status: RequestStatus = Field(alias="requestStatus")
    message: StrictStr | None = Field(alias="message", max_length=1000)
    reply_message: StrictStr | None = Field(alias="replyMessage", max_length=1000)
    request_type: Literal["CFP"] = Field(alias="requestType")
    response_due_date: date | None = Field(alias="responseDueDate")


class TradeRequestModel(Wire):
    trade: TradeModel = Field(alias="tradeModel")
    status: StatusModel = Field(alias="statusModel")


class DqrValue(Wire):
    ter: Number | None = Field(alias="TeR")
    ger: Number | None = Field(alias="GeR")
    tir: Number | None = Field(alias="TiR")


class CfpModel(Wire):
    cfp_id: Uuid | None = Field(alias="cfpId")
    trace_id: Uuid = Field(alias="traceId")
    ghg_emission: Number | None = Field(alias="ghgEmission")
    ghg_declared_unit: Literal[DECLARED_UNITS] = Field(alias="ghgDeclaredUnit")  # type: ignore[valid-type]
    cfp_type: Literal[CFP_TYPES] = Field(alias="cfpType")  # type: ignore[valid-type]
    dqr_type: Literal[tuple(sorted(set(DQR_OF.values())))] = Field(alias="dqrType")  # type: ignore[valid-type]
    dqr_value: DqrValue = Field(alias="dqrValue")


class LoginInput(Wire):
    operator_account_id: StrictStr = Field(alias="operatorAccountId", min_length=1, max_length=256)
    account_password: StrictStr = Field(alias="accountPassword", min_length=1, max_length=256)


class RefreshInput(Wire):
    refresh_token: StrictStr = Field(alias="refreshToken", min_length=1, max_length=4096)


class ChangePasswordInput(Wire):
    new_password: StrictStr = Field(
        alias="newPassword", min_length=8, max_length=20, pattern=r"^[a-zA-Z0-9!@#$%^&*()]+$"
    )
