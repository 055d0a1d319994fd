"""Compute, version and read footprints; record upstream footprints by hand."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy.exc import IntegrityError

from ..aggregation import DataQualityRatings, OwnLine, UpstreamInput, compute_footprint
from ..decimals import RoundingRule, format_decimal
from ..errors import Conflict, MissingUpstream, NotFound
from ..periods import period_for
from ..stages import STAGES, Stage, stage_total
from ..storage import repositories as repo
from ..storage.tables import Footprint, Product, UpstreamFootprint
from . import models as m
from .catalog import get_product
from .context import NodeContext

ZERO_SHARE = Decimal(0)


def _dqr(raw: dict[str, str] | None) -> DataQualityRatings | None:
    if not raw:
        return None
    return DataQualityRatings(Decimal(raw["technological"]), Decimal(raw["geographical"]), Decimal(raw["temporal"]))


def _stages_out(values: dict[Stage, Decimal]) -> dict[str, str]:
    return {st.value: format_decimal(values[st]) for st in STAGES}


def _stages_in(raw: dict[str, str]) -> dict[Stage, Decimal]:
    return {st: Decimal(raw.get(st.value, "0")) for st in STAGES}


class UpstreamSource:
    """Where an input's values came from: a supplier's footprint we hold, or one of our own products."""

    def __init__(
        self,
        footprint_id: str,
        unit: str,
        stages: dict[Stage, Decimal],
        share: Decimal | None,
        dqr: DataQualityRatings | None,
        attestation: str | None,
    ) -> None:
        self.footprint_id, self.unit, self.stages = footprint_id, unit, stages
        self.share, self.dqr, self.attestation = share, dqr, attestation


def _upstream_for(
    ctx: NodeContext, company_id: str, product_urn: str, held: dict[tuple[str, str], Any]
) -> UpstreamSource | None:
    """Where a line's input comes from; ``held`` is :func:`repo.latest_upstreams` of the product's lines."""
    if company_id == ctx.company_id:
        own = repo.product_by_urn(ctx.session, product_urn)
        fp = repo.active_footprint(ctx.session, own.id) if own else None
        if fp is None or own is None:
            return None
        return UpstreamSource(
            fp.id, own.declared_unit, _stages_in(fp.stages), fp.primary_data_share, _dqr(fp.dqr), None
        )
    up = held.get((company_id, product_urn.lower()))
    if up is None:
        return None
    return UpstreamSource(
        up.footprint_id, up.declared_unit, _stages_in(up.stages), up.primary_data_share, _dqr(up.dqr), up.attestation
    )


LOOK_UP: Any = object()
"""The default of an argument the callee reads itself when the caller does not know it."""


def compute(ctx: NodeContext, product_id: str, *, active: Footprint | None = LOOK_UP) -> tuple[Footprint, bool]:
    """Compute the product's footprint from its lines and the latest upstream values this node holds.

    Returns the active footprint and whether it is new. A footprint whose values and inputs equal the active one
    is not re-issued, so a recomputation that changes nothing sends nothing downstream. ``active``: the product's
    active footprint (or None), when the caller has just read it in this transaction.
    """
    product = get_product(ctx, product_id)
    if repo.lock_product(ctx.session, product.id):
        active = LOOK_UP  # read before the lock: another compute may have issued a version since
    own_share = product.primary_data_share if product.primary_data_share is not None else Decimal(100)
    own_dqr = _dqr(product.dqr)
    secondary: list[OwnLine] = []
    inputs: list[UpstreamInput] = []
    snapshot: list[dict] = []
    missing: list[str] = []
    lines = repo.bom_line_rows(ctx.session, product.id)
    held = repo.latest_upstreams(
        ctx.session,
        [
            (line.supplier_company_id or "", line.supplier_product_id or "")
            for line in lines
            if line.kind != "secondary" and line.supplier_company_id != ctx.company_id
        ],
    )
    for line in lines:
        if line.kind == "secondary":
            secondary.append(
                OwnLine(
                    Stage(line.stage),
                    line.quantity,
                    line.factor,
                    ZERO_SHARE,
                    None,
                    line.dataset or "secondary",
                )
            )
            continue
        src = _upstream_for(ctx, line.supplier_company_id or "", line.supplier_product_id or "", held)
        if src is None:
            missing.append(f"{line.supplier_product_id} from {line.supplier_company_id}")
            continue
        item = UpstreamInput(
            line.quantity, line.unit, src.unit, src.stages, src.share, src.dqr, line.supplier_product_id or ""
        )
        inputs.append(item)
        snapshot.append(
            {
                "lineId": line.id,
                "supplierCompanyId": line.supplier_company_id,
                "productId": line.supplier_product_id,
                "footprintId": src.footprint_id,
                "quantity": format_decimal(line.quantity),
                "unit": line.unit,
                "upstreamUnit": src.unit,
                "convertedQuantity": format_decimal(item.converted_quantity),
                "upstreamStages": _stages_out(src.stages),
                "hasAttestation": src.attestation is not None,
            }
        )
    if missing:
        raise MissingUpstream(
            "no upstream footprint held yet for: %(missing)s",
            code="footprint.upstream-missing",
            params={"missing": "; ".join(missing)},
            errors=[{"field": "bom", "message": m} for m in missing],
        )
    # own emissions only now: most recomputations a supplier's answer starts stop above, an input still missing
    own_lines: list[OwnLine] = []
    for e in repo.own_emission_rows(ctx.session, product.id):
        amount, factor = (e.value, Decimal(1)) if e.kind == "direct" else (e.amount, e.factor)
        share = own_share if e.primary else ZERO_SHARE
        own_lines.append(OwnLine(Stage(e.stage), amount, factor, share, own_dqr, e.source or f"own:{e.stage}"))
    own_lines.extend(secondary)  # in the order they always had: own emissions, then the secondary lines

    rounding = RoundingRule(ctx.settings.rounding_places)
    result = compute_footprint(own_lines, inputs, rounding)
    stages = _stages_out(result.stages)
    own_stages = _stages_out({st: rounding.apply(v) for st, v in result.own.items()})
    dqr = (
        {k: format_decimal(getattr(result.dqr, k)) for k in ("technological", "geographical", "temporal")}
        if result.dqr
        else None
    )
    if active is LOOK_UP:
        active = repo.active_footprint(ctx.session, product.id)
    # share and DQR count too: a changed data quality with equal values must not leave the old one issued
    if (
        active is not None
        and active.stages == stages
        and active.inputs == snapshot
        and active.own_stages == own_stages
        and active.primary_data_share == result.primary_data_share
        and active.dqr == dqr
    ):
        return active, False

    now = ctx.now()
    _, end = period_for(product, now)
    fp = Footprint(
        product_id=product.id,
        version=(active.version + 1) if active else 1,
        preceding_ids=([active.id, *active.preceding_ids] if active else []),
        stages=stages,
        own_stages=own_stages,
        total=result.total,
        rounding=str(rounding),
        primary_data_share=result.primary_data_share,
        dqr=dqr,
        inputs=snapshot,
        created_at=now,
        validity_start=now,
        validity_end=end + timedelta(days=3 * 365),
    )
    try:
        if active is not None:
            active.status = "Deprecated"
            ctx.session.add(active)
            ctx.session.flush()  # before the insert: one Active version per product (uq_footprint_active)
        ctx.session.add(fp)
        ctx.session.flush()
    except IntegrityError as exc:  # only without the product lock: a concurrent compute issued this version first
        raise Conflict(
            "another version of product %(product)s's footprint was issued at the same moment; compute again",
            code="footprint.concurrent",
            params={"product": product.id},
        ) from exc
    return fp, True


def get_footprint(ctx: NodeContext, footprint_id: str) -> Footprint:
    fp = ctx.session.get(Footprint, footprint_id)
    if fp is None:
        raise NotFound(
            "footprint %(footprint)s not found", code="footprint.not-found", params={"footprint": footprint_id}
        )
    return fp


def footprint_read(fp: Footprint, product: Product) -> m.FootprintRead:
    return m.FootprintRead(
        id=fp.id,
        product_id=product.id,
        product_ids=product.product_ids,
        version=fp.version,
        status=fp.status,
        preceding_pf_ids=fp.preceding_ids,
        declared_unit=product.declared_unit,
        stages=fp.stages,
        total=fp.total,
        rounding=fp.rounding,
        primary_data_share=fp.primary_data_share,
        dqr=fp.dqr,
        created_at=fp.created_at,
    )


class AlreadyHeld(Conflict):
    """The upstream footprint id is held already (a footprint id names one immutable footprint)."""


@dataclass(frozen=True)
class Provenance:
    """Where an entered upstream value came from (issue 17): the kind of source (one of ``m.SOURCE_KINDS``), who
    entered it (``api-key:<name>``, ``user:<login>`` or ``partner:<company id>``), and the source document, whose
    SHA-256 is stored and sealed with the document into the evidence for verifiers. ``digest`` stands for the
    document when only its digest is known (a value typed from a document that was not uploaded)."""

    source_kind: str
    entered_by: str
    document: bytes | None = None
    media_type: str | None = None
    digest: str | None = None

    def sha256(self) -> str | None:
        if self.document is not None:
            return hashlib.sha256(self.document).hexdigest()
        return self.digest.lower() if self.digest else None


def record_upstream(
    ctx: NodeContext,
    data: m.UpstreamFootprintCreate,
    *,
    source: str = "manual",
    attestation: str | None = None,
    evidence: dict | None = None,
    pact: dict | None = None,
    certifications: list | None = None,
    not_held: bool = False,
    provenance: Provenance | None = None,
) -> UpstreamFootprint:
    """Store a supplier's footprint; an older active one for the same product becomes Deprecated.

    Its basis is "attested" when it carries an attestation (verified by the caller), else "entered", with
    ``provenance`` saying where it came from. ``not_held=True``: the caller has just found its (lower-case) footprint
    id not held, in this transaction.
    """
    if repo.lock_key(ctx.session, f"upstream|{data.supplier_company_id}|{data.product_id.lower()}"):
        not_held = False  # one Active per supplier product: answers arriving together take turns, and look again
    previous = repo.latest_upstream_ids(ctx.session, data.supplier_company_id, data.product_id)
    row = UpstreamFootprint(
        footprint_id=(data.footprint_id or "").lower(),  # none given: the row's own id, below
        supplier_company_id=data.supplier_company_id,
        product_id=data.product_id,
        declared_unit=data.declared_unit,
        stages={st.value: format_decimal(data.stages.get(st, Decimal(0))) for st in STAGES},
        primary_data_share=data.primary_data_share,
        dqr=data.dqr.model_dump(mode="json") if data.dqr else None,
        source=source,
        attestation=attestation,
        evidence=evidence,
        pact=pact,
        certifications=certifications or [],
        received_at=ctx.now(),
        basis="attested" if attestation else "entered",
    )
    if attestation is None and provenance is not None:
        row.source_kind = provenance.source_kind
        row.entered_by = provenance.entered_by
        row.document = provenance.document
        row.document_media_type = provenance.media_type
        row.document_sha256 = provenance.sha256()
    if not data.footprint_id:
        row.footprint_id = row.id
    if not not_held and repo.upstream_held(ctx.session, row.footprint_id):
        # the unique constraint would make this a 500; a footprint id names one immutable footprint
        raise AlreadyHeld(
            "upstream footprint %(footprint)s is already held",
            code="upstream.already-held",
            params={"footprint": row.footprint_id},
            errors=[{"field": "footprintId", "message": "duplicate"}],
        )
    if previous is not None and previous[1] != row.footprint_id:
        repo.deprecate_upstream(ctx.session, previous[0])
    repo.insert_new(ctx.session, row)  # returned outside the session
    return row


def upstream_read(row: UpstreamFootprint) -> m.UpstreamFootprintRead:
    return m.UpstreamFootprintRead(
        id=row.id,
        footprint_id=row.footprint_id,
        supplier_company_id=row.supplier_company_id,
        product_id=row.product_id,
        declared_unit=row.declared_unit,
        stages=row.stages,
        total=stage_total(_stages_in(row.stages)),
        primary_data_share=row.primary_data_share,
        dqr=row.dqr,
        status=row.status,
        source=row.source,
        verified=row.attestation is not None,
        certifications=row.certifications,
        received_at=row.received_at,
        basis=row.basis,
        source_kind=row.source_kind,
        document_sha256=row.document_sha256,
        entered_by=row.entered_by,
    )


def record_entered(ctx: NodeContext, data: m.EnteredUpstreamCreate, entered_by: str) -> UpstreamFootprint:
    """Record a supplier's footprint entered by hand (``entered_by``: ``api-key:<name>``...) with its provenance."""
    provenance = Provenance(
        source_kind=data.source_kind,
        entered_by=entered_by,
        document=data.document_bytes() if data.document is not None else None,
        media_type=data.media_type,
        digest=data.document_sha256,
    )
    base = m.UpstreamFootprintCreate.model_validate(
        data.model_dump(include=set(m.UpstreamFootprintCreate.model_fields))
    )
    return record_upstream(ctx, base, provenance=provenance)
