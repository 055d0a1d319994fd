"""A supplier's footprint file (PACT v3 ProductFootprint or Catena-X PCF), recognised and read by its protocol's
reader: shared by ``connector import-footprint`` and ``POST /api/v1/upstream-footprints/import``."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from ..errors import ValidationFailed
from ..protocols.catenax import pcf as catenax_pcf
from ..protocols.pact import footprint_file as pact_file
from ..services.footprint_import import ForeignFootprint
from ..strict_json import strict_json_loads

PACT_FILE = "pact-file"
CATENAX_FILE = "catenax-pcf-file"


def parse(raw: bytes) -> Any:
    """The file's JSON, checked with the strict parser (a duplicate member, NaN...), its numbers read as decimals (a
    Catena-X PCF has JSON numbers)."""
    try:
        strict_json_loads(raw)
        return json.loads(raw, parse_float=Decimal)
    except (ValueError, RecursionError) as exc:  # JSONDecodeError and UnicodeDecodeError are ValueErrors
        message = f"not valid JSON: {str(exc)[:300]}"
        raise ValidationFailed(f"file: {message}", errors=[{"field": "file", "message": message}]) from None


def read(document: Any) -> tuple[str, list[ForeignFootprint]]:
    """The kind of source (``pact-file`` or ``catenax-pcf-file``) and the footprints the file holds."""
    if catenax_pcf.is_catenax_pcf(document):
        return CATENAX_FILE, [catenax_pcf.read_pcf(document)]
    if pact_file.is_pact(document):
        return PACT_FILE, pact_file.read_file(document)
    message = 'neither a PACT ProductFootprint (nor a {"data": [...]} list of them) nor a Catena-X PCF'
    raise ValidationFailed(f"file: {message}", errors=[{"field": "file", "message": message}])
