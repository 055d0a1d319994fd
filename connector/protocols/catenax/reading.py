"""A received io.catenax.pcf 9.0.0 payload, read for the core's receipt (``protocols.FootprintDocument``).

Each member is read from the document when asked for, so a malformed one fails where the receipt reads it and is
refused there. Without our ``attestationOfConformance`` entry (a Catena-X partner without a node of ours) the
attestation is None, and the receipt stores the value as entered, never as attested.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from decimal import Decimal
from typing import Any

from ...services.footprint_import import ForeignFootprint
from ...stages import STAGES, Stage
from . import pcf, pcf_model

_SENDER: ContextVar[tuple[str, str] | None] = ContextVar("catenax_sender", default=None)
_BPNL_IN = re.compile(r"(BPNL[0-9A-Z]{12})$")


@contextmanager
def sent_by(bpnl: str, company_id: str) -> Iterator[None]:
    """While a PCF received from the partner ``company_id`` (named ``bpnl`` by the data plane) is read: its
    ``companyIds`` naming that BPNL (``BPNL…``, ``urn:BPNL…``, ``urn:bpn:BPNL…``) name the partner too, so a Catena-X
    partner whose PCF lists only its BPNL is the sender the receipt checks for."""
    token = _SENDER.set((bpnl, company_id))
    try:
        yield
    finally:
        _SENDER.reset(token)


def _first(group: Any, name: str) -> dict[str, Any]:
    if not isinstance(group, list) or not group or not isinstance(group[0], dict):
        raise ValueError(f"{name} must be a non-empty list of objects")
    first: dict[str, Any] = group[0]
    return first


class CatenaxFootprint:
    """The members the receipt reads come from :func:`.pcf.read_pcf` (the model of a received PCF, shared with file
    imports); the status and our entry from the document."""

    __slots__ = ("_ext", "_read", "_values", "document")

    def __init__(self, document: dict[str, Any]) -> None:
        if not isinstance(document, dict):
            raise TypeError("a PCF must be a JSON object")
        self.document = document
        self._ext: dict[str, Any] | None = None
        self._read = False
        self._values: ForeignFootprint | None = None

    @property
    def extension(self) -> dict[str, Any] | None:
        if not self._read:
            self._ext = pcf_model.find_extension(self.document)
            self._read = True
        return self._ext

    def entered_values(self) -> ForeignFootprint:
        """The PCF's values (as an entered upstream value, for a PCF without our attestation): one reader of the
        model for received PCFs and imported files."""
        if self._values is None:
            self._values = pcf.read_pcf(self.document)
        return self._values

    def _id_and_version(self) -> dict[str, Any]:
        method = _first(self.document.get("pcfAssessmentAndMethodology"), "pcfAssessmentAndMethodology")
        info = _first(method.get("pcfAssessmentInformation"), "pcfAssessmentInformation")
        return _first(info.get("idAndVersion"), "idAndVersion")

    @property
    def id(self) -> str:
        found = self.entered_values().id
        if found is None:
            raise ValueError("the PCF has no id")
        return found.removeprefix("urn:uuid:")

    @property
    def company_ids(self) -> list[str]:
        ids = list(self.entered_values().company_ids)
        sender = _SENDER.get()
        if sender is not None and sender[1] not in ids:
            if any((m := _BPNL_IN.search(i.upper())) and m.group(1) == sender[0] for i in ids):
                ids.append(sender[1])
        return ids

    @property
    def product_ids(self) -> list[str]:
        return list(self.entered_values().product_ids)

    @property
    def status(self) -> str | None:
        value = self._id_and_version().get("status")
        return str(value) if value is not None else None

    @property
    def attestation(self) -> str | None:
        ext = self.extension
        return ext.get("attestation") if ext else None

    @property
    def evidence(self) -> Any:
        ext = self.extension
        return ext.get("evidence") if ext else None

    @property
    def certifications(self) -> list[Any]:
        ext = self.extension
        return (ext.get("certifications") or []) if ext else []

    def stages(self) -> dict[Stage, Decimal]:
        """The four Annex II stages per declared unit: ours from our entry; a PCF without it read as an entered value
        is (:func:`.pcf.read_pcf`, decision 0019: the cradle-to-gate value as raw material acquisition, an included
        distribution stage as distribution)."""
        ext = self.extension
        if ext:
            return {s: Decimal(ext["stages"][s.value]) for s in STAGES}
        per_unit: dict[Stage, Decimal] = self.entered_values().per_unit()
        return per_unit

    def total(self) -> Decimal:
        return sum(self.stages().values(), Decimal(0))

    def declared_unit(self) -> Any:
        return self.entered_values().declared_unit
