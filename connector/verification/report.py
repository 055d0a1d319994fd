"""The verification report: a tree of nodes (the declaration, then one node per attestation), each with its checks.

``valid`` is true only when no check anywhere failed. Every failure is also listed flat in ``failures`` with the
company, the attestation (id and digest) and the check, so a machine or a person can act on it without walking the
tree. JSON on the wire is camelCase (``report.to_json()``); ``schemas/verification-report.schema.json`` is generated
from these models.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from decimal import Decimal
from enum import StrEnum
from typing import Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

from ..prevalidated import instance
from .messages import Said


class ReportModel(BaseModel):
    model_config = ConfigDict(
        alias_generator=to_camel, validate_by_name=True, validate_by_alias=True, serialize_by_alias=True, extra="forbid"
    )


class EvidenceStatus(StrEnum):
    OPENED = "opened"
    NOT_OPENED = "not opened"
    """No verifier key was given (e.g. the OEM checking its own bundle)."""
    CERTIFIED_NOT_OPENED = "certified, not opened"
    """A valid certification covers this attestation and its evidence was not (or could not be) opened."""
    MISSING = "missing"
    SEALED_FOR_ANOTHER_VERIFIER = "sealed for another verifier"
    FAILED = "failed"
    NOT_APPLICABLE = "not applicable"


CODE = "stable code of detail's sentence (decision 0033); absent: detail is English only"
PARAMS = "the values in detail, by name: strings, or lists of {code, params} phrases"


class Check(ReportModel):
    name: str
    ok: bool
    detail: str = ""
    code: str | None = Field(default=None, description=CODE)
    params: dict[str, Any] | None = Field(default=None, description=PARAMS)


def _check(name: str, ok: bool, detail: str | Said) -> Check:
    if isinstance(detail, Said):
        values = {"name": name, "ok": ok, "detail": detail.text, "code": detail.code, "params": detail.params}
    else:
        values = {"name": name, "ok": ok, "detail": detail, "code": None, "params": None}
    return instance(Check, values)


class InputSummary(ReportModel):
    """One disclosed input of an opened attestation (verifier's eyes only): attested (its upstream attestation's
    digest and company) or entered (issue 17: who entered it, when, the claimed supplier, the source document)."""

    attestation_digest: str | None = None
    quantity: str
    unit: str
    declared_unit: str
    company: str | None = None
    basis: Literal["attested", "entered"] = "attested"
    source_kind: str | None = None
    entered_by: str | None = None
    entered_at: str | None = None
    supplier: str | None = Field(default=None, description="entered: the supplier the value is claimed to come from")
    document_digest: str | None = Field(default=None, description="entered: SHA-256 hex of the source document")
    document_media_type: str | None = None
    document_size: int | None = Field(default=None, description="entered: bytes of the document opened from evidence")
    document_check: Literal["pass", "fail", "not sealed", "no document"] | None = Field(
        default=None,
        description="entered: the document opened from the evidence hashes to the digest (pass/fail); 'not sealed': "
        "only its digest is known; 'no document': none was recorded",
    )
    share_percent: str | None = Field(
        default=None, description="share of this attestation's absolute mass (all stages) the input carries, percent"
    )


class VerificationNode(ReportModel):
    """One signed object in the tree: the declaration (root), one attestation, or one certification credential.

    For a certification node, ``company`` is the verifier that signed it, ``digest`` the attestation digest it
    certifies (``sub``) and ``audience`` the certified company.
    """

    kind: Literal["bundle", "declaration", "attestation", "certification"]
    company: str | None = Field(default=None, description="company id of the signer (from its certificate if valid)")
    company_name: str | None = None
    attestation_id: str | None = Field(default=None, description="jti of the attestation or declaration credential")
    digest: str | None = Field(default=None, description="attestation_digest (or SHA-256 of the declaration JWS)")
    footprint_id: str | None = None
    product_ids: list[str] = Field(default_factory=list)
    audience: str | None = None
    declared_unit: str | None = None
    stages: dict[str, str] | None = Field(default=None, description="clear per-stage values per declared unit")
    total: str | None = None
    evidence: EvidenceStatus = EvidenceStatus.NOT_APPLICABLE
    certified: bool = False
    certified_by: list[str] = Field(default_factory=list)
    own_emissions: dict[str, str] | None = Field(default=None, description="hidden; only when evidence was opened")
    inputs: list[InputSummary] | None = Field(default=None, description="hidden; only when evidence was opened")
    package: str | None = Field(default=None, description="id of its evidence package in the bundle, if it has one")
    attested_coverage: dict[str, str] | None = Field(
        default=None, description="clear claim: percent resting on attested values, per stage and 'total'"
    )
    entered_inputs: int | None = Field(default=None, description="clear claim: entered inputs in the tree below")
    checks: list[Check] = Field(default_factory=list)
    children: list[VerificationNode] = Field(default_factory=list)

    # -- building ----------------------------------------------------------------------------------------------------
    # A bundle builds tens of thousands of nodes and hundreds of thousands of checks from values the engine made
    # itself: fields are stored without pydantic's generic assignment path, checks built without validation.

    def __setattr__(self, name: str, value: Any) -> None:
        if name in _PLAIN_FIELDS:  # no validate_assignment, not frozen: pydantic would only store it
            self.__dict__[name] = value
            self.__pydantic_fields_set__.add(name)
        else:
            super().__setattr__(name, value)

    def ok(self, name: str, detail: str | Said = "") -> None:
        """A passed check; ``detail`` a coded sentence (:func:`~.messages.said`) or plain English."""
        self.checks.append(_check(name, True, detail))

    def fail(self, name: str, detail: str | Said) -> None:
        self.checks.append(_check(name, False, detail))

    # -- reading -----------------------------------------------------------------------------------------------------

    @property
    def node_ok(self) -> bool:
        return all(c.ok for c in self.checks)

    @property
    def valid(self) -> bool:
        return self.node_ok and all(c.valid for c in self.children)

    def walk(self) -> Iterator[VerificationNode]:
        yield self
        for child in self.children:
            yield from child.walk()

    def failed(self, name: str | None = None) -> list[Check]:
        return [c for c in self.checks if not c.ok and (name is None or c.name == name)]

    def find(self, *, company: str | None = None, digest: str | None = None) -> list[VerificationNode]:
        return [
            n
            for n in self.walk()
            if (company is None or n.company == company) and (digest is None or n.digest == digest)
        ]

    def label(self) -> str:
        who = self.company_name or self.company or "unknown company"
        what = self.attestation_id or self.digest or "?"
        return f"{who} ({self.company or '?'}), {self.kind} {what}"


class Failure(ReportModel):
    company: str | None
    company_name: str | None = None
    kind: str
    attestation_id: str | None
    digest: str | None
    check: str
    detail: str
    code: str | None = Field(default=None, description=CODE)
    params: dict[str, Any] | None = Field(default=None, description=PARAMS)

    def line(self) -> str:
        who = self.company_name or self.company or "unknown company"
        ref = self.attestation_id or self.digest or "?"
        return f"{who} [{self.company}] {self.kind} {ref}: {self.check}: {self.detail}"


CertificationStatus = Literal["valid", "invalid", "unbound"]


class CertificationResult(ReportModel):
    index: int
    status: CertificationStatus
    """``unbound``: valid signature but its attestation was not visible (evidence not opened): not a failure."""
    verifier: str | None = None
    verifier_name: str | None = None
    certified_company: str | None = None
    attestation_digest: str | None = None
    footprint_id: str | None = None
    scope: str | None = None
    issued_at: AwareDatetime | None = None
    expires_at: AwareDatetime | None = None
    detail: str = ""


def full_percent(text: str | None) -> bool:
    """Whether a coverage figure of a report ("100.00", or "100" in a report made before two places were kept) is
    100 %."""
    try:
        return text is not None and Decimal(text) == 100
    except ArithmeticError:
        return False


class VerificationReport(ReportModel):
    """What :func:`connector.verification.verify_bundle` returns: never a bare bool."""

    valid: bool
    verified_at: AwareDatetime
    verifier: str | None = Field(default=None, description="company id of the verifier whose key opened evidence")
    evidence_opened: bool = Field(description="whether any evidence package was opened")
    complete: bool = Field(description="every attestation was either opened or covered by a valid certification")
    root: VerificationNode
    certifications: list[CertificationResult] = Field(default_factory=list)
    failures: list[Failure] = Field(default_factory=list)
    attested_coverage: dict[str, str] | None = Field(
        default=None,
        description="the top attestation's attested coverage (percent per stage and 'total'), as it claims it "
        "(recomputed and checked when its evidence was opened); absent when it cannot be read",
    )
    entered_inputs: int = Field(
        default=0, description="entered inputs in the whole tree, as the top attestation claims"
    )
    fully_attested: bool = Field(
        default=True, description="the top attestation claims 100 % coverage on every stage and no entered input"
    )
    require_attested: bool = Field(default=False, description="entered inputs were failures in this verification")

    @classmethod
    def from_tree(
        cls,
        root: VerificationNode,
        *,
        at: Any,
        verifier: str | None,
        certifications: list[CertificationResult],
        require_attested: bool = False,
    ) -> VerificationReport:
        failures = [
            Failure(
                company=n.company,
                company_name=n.company_name,
                kind=n.kind,
                attestation_id=n.attestation_id,
                digest=n.digest,
                check=c.name,
                detail=c.detail,
                code=c.code,
                params=c.params,
            )
            for n in root.walk()
            for c in n.checks
            if not c.ok
        ]
        nodes = [n for n in root.walk() if n.kind == "attestation"]
        top = nodes[0] if nodes else None
        coverage = top.attested_coverage if top is not None else None
        entered = (top.entered_inputs or 0) if top is not None else 0
        return cls(
            attested_coverage=coverage,
            entered_inputs=entered,
            fully_attested=entered == 0 and (coverage is None or all(full_percent(v) for v in coverage.values())),
            require_attested=require_attested,
            valid=not failures,
            verified_at=at,
            verifier=verifier,
            evidence_opened=any(n.evidence is EvidenceStatus.OPENED for n in nodes),
            complete=bool(nodes)
            and all(n.evidence in (EvidenceStatus.OPENED, EvidenceStatus.CERTIFIED_NOT_OPENED) for n in nodes),
            root=root,
            certifications=certifications,
            failures=failures,
        )

    def summary(self) -> str:
        """``valid, fully attested``, ``valid, 87.5 % attested (2 entered inputs)`` or ``INVALID: n failure(s)``: the
        CLI's last line."""
        if not self.valid:
            return f"INVALID: {len(self.failures)} failure(s)"
        if self.fully_attested:
            return "valid, fully attested"
        total = (self.attested_coverage or {}).get("total", "?")
        return (
            f"valid, {total} % attested ({self.entered_inputs} entered input{'' if self.entered_inputs == 1 else 's'})"
        )

    def nodes(self) -> list[VerificationNode]:
        return list(self.root.walk())

    def find(self, *, company: str | None = None, digest: str | None = None) -> list[VerificationNode]:
        return self.root.find(company=company, digest=digest)

    def failures_of(self, company: str | None = None, check: str | None = None) -> list[Failure]:
        return [
            f
            for f in self.failures
            if (company is None or f.company == company) and (check is None or f.check == check)
        ]

    def to_json_dict(self) -> dict[str, Any]:
        return self.model_dump(mode="json")

    def to_json(self, *, indent: int | None = 2) -> str:
        return json.dumps(self.to_json_dict(), indent=indent, ensure_ascii=False) + "\n"


VerificationNode.model_rebuild()
_PLAIN_FIELDS = frozenset(VerificationNode.model_fields)


# --- compact transfer between processes -----------------------------------------------------------------------------
# verify_bundle verifies subtrees in forked workers; pickling thousands of pydantic models node by node is slow, so a
# node travels as plain tuples and is rebuilt here without validation (it was built from validated values).

_NODE_FIELDS = tuple(f for f in VerificationNode.model_fields if f not in ("evidence", "inputs", "checks", "children"))


def pack_node(node: VerificationNode) -> tuple[Any, ...]:
    """``node`` and its subtree as nested tuples of plain values (cheap to pickle); :func:`unpack_node` inverts it."""
    d = node.__dict__
    return (
        tuple(d[f] for f in _NODE_FIELDS),
        d["evidence"].value,
        None if node.inputs is None else [tuple(i.__dict__.values()) for i in node.inputs],
        [(c.name, c.ok, c.detail, c.code, c.params) for c in node.checks],
        [pack_node(c) for c in node.children],
    )


_INPUT_FIELDS = tuple(InputSummary.model_fields)
_INPUT_DEFAULTS = {name: f.default for name, f in InputSummary.model_fields.items()}


def input_summary(**values: Any) -> InputSummary:
    """An :class:`InputSummary` of values the walk validated (every field, defaults for the ones not given)."""
    return instance(InputSummary, {f: values[f] if f in values else _INPUT_DEFAULTS[f] for f in _INPUT_FIELDS})


_ALL_FIELDS = tuple(VerificationNode.model_fields)
_EVIDENCE = {e.value: e for e in EvidenceStatus}


def unpack_node(packed: tuple[Any, ...]) -> VerificationNode:
    """The node :func:`pack_node` packed, equal to the original."""
    values, evidence, inputs, checks, children = packed
    d = dict(zip(_NODE_FIELDS, values, strict=True))
    d["evidence"] = _EVIDENCE[evidence]
    d["inputs"] = (
        None if inputs is None else [instance(InputSummary, dict(zip(_INPUT_FIELDS, i, strict=True))) for i in inputs]
    )
    d["checks"] = [
        instance(Check, {"name": n, "ok": ok, "detail": detail, "code": code, "params": params})
        for n, ok, detail, code, params in checks
    ]
    d["children"] = [unpack_node(c) for c in children]
    return instance(VerificationNode, {f: d[f] for f in _ALL_FIELDS})  # in declaration order, as validated
