"""Batched look-ups for a page of PACT footprints: what ``exchange.rendered_json`` asks per footprint, per page.

Each function answers for many footprints (or products) in one query and reads only the columns the render key needs
(not an attestation's SD-JWT or sealed evidence).
"""

from __future__ import annotations

from typing import Any

from sqlmodel import Session, col, select

from .tables import Attestation, CfpRequest, UpstreamFootprint


def latest_verifiers(session: Session, audience: str, product_ids: list[str]) -> dict[str, list[str]]:
    """Per product: the verifier certificates of ``audience``'s latest incoming request (as
    ``exchange.latest_verifiers``); products without one are absent."""
    if not product_ids:
        return {}
    out: dict[str, list[str]] = {}
    rows = session.exec(
        select(CfpRequest.product_id, CfpRequest.verifier_certs)
        .where(CfpRequest.direction == "incoming", CfpRequest.company_id == audience,
               col(CfpRequest.product_id).in_(product_ids))
        .order_by(col(CfpRequest.created_at).desc()))
    for product_id, certs in rows:
        if product_id is not None and product_id not in out:
            out[product_id] = list(certs or [])
    return out


def attestation_keys(session: Session, audience: str,
                     footprint_ids: list[str]) -> dict[str, list[tuple[str, list[str], int]]]:
    """Per footprint: (attestation id, verifiers, number of certifications) of each attestation for ``audience``."""
    if not footprint_ids:
        return {}
    out: dict[str, list[tuple[str, list[str], int]]] = {}
    rows = session.exec(
        select(Attestation.footprint_id, Attestation.id, Attestation.verifiers, Attestation.certifications)
        .where(Attestation.audience == audience, col(Attestation.footprint_id).in_(footprint_ids)))
    for footprint_id, att_id, verifiers, certifications in rows:
        out.setdefault(footprint_id, []).append((att_id, list(verifiers or []), len(certifications or [])))
    return out


def upstream_certifications(session: Session, footprint_ids: list[str]) -> dict[str, list[Any]]:
    """Per upstream footprint id: the certifications held with it (as ``attesting.upstream_certifications``)."""
    if not footprint_ids:
        return {}
    held: dict[str, list[Any]] = {}
    for footprint_id, certifications in session.exec(
            select(UpstreamFootprint.footprint_id, UpstreamFootprint.certifications)
            .where(col(UpstreamFootprint.footprint_id).in_(footprint_ids))):
        held[footprint_id] = certifications or []
    return held
