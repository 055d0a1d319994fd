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
    __slots__ = ("_ext", "_read", "document")

    def __init__(self, document: dict[str, Any]) -> None:
        if not isinstance(document, dict):
            raise TypeError("a PCF must be a JSON object")
        self.document = document
        self._ext: dict[str, Any] | None = None
        self._read = False

    @property
    def extension(self) -> dict[str, Any] | None:
        if not self._read:
            self._ext = pcf_model.find_extension(self.document)
            self._read = True
        return self._ext

    def _assessment(self) -> dict[str, Any]:
        method = _first(self.document.get("pcfAssessmentAndMethodology"), "pcfAssessmentAndMethodology")
        return _first(method.get("pcfAssessmentInformation"), "pcfAssessmentInformation")

    def _id_and_version(self) -> dict[str, Any]:
        return _first(self._assessment().get("idAndVersion"), "idAndVersion")

    def _product(self) -> dict[str, Any]:
        info = _first(self.document.get("companyAndProductInformation"), "companyAndProductInformation")
        return _first(info.get("productInformation"), "productInformation")

    @property
    def id(self) -> str:
        value = self._id_and_version()["id"]
        if not isinstance(value, str):
            raise TypeError("idAndVersion.id must be a string")
        return value.removeprefix("urn:uuid:")

    @property
    def company_ids(self) -> list[str]:
        info = _first(self.document.get("companyAndProductInformation"), "companyAndProductInformation")
        company = _first(info.get("companyInformation"), "companyInformation")
        ids = [str(c) for c in company.get("companyIds") or []]
        sender = _SENDER.get()
        if sender is not None and sender[1] not in ids:
            if any((m := _BPNL_IN.search(i.upper())) and m.group(1) == sender[0] for i in ids):
                ids.append(sender[1])
        return ids

    @property
    def product_ids(self) -> list[str]:
        return [str(p) for p in self._product()["productIds"]]

    @property
    def product_name(self) -> str:
        return str(self._product().get("productNameCompany") or "")

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

    def entered_values(self) -> ForeignFootprint:
        """For a PCF without our attestation: its values as an entered upstream value (one reader of the model for
        received PCFs and imported files)."""
        return pcf.read_pcf(self.document)

    def total(self) -> Decimal:
        return sum(self.stages().values(), Decimal(0))

    def declared_unit(self) -> Any:
        return self._product()["declaredUnitOfMeasurement"]

    def declared_amount(self) -> Decimal:
        return Decimal(str(self._product()["declaredUnitAmount"]))
