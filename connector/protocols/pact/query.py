"""The parameters of a PACT ListFootprints request, checked, and PACT's filter semantics."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from starlette.datastructures import QueryParams

from ...errors import ConnectorError
from ...periods import validity_period
from ...storage.tables import Footprint, Product
from . import rendering


class BadRequest(ConnectorError):
    status = 400
    pact_code = "BadRequest"


def _date(value: str | None, name: str) -> datetime | None:
    if value is None:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise BadRequest(f"{name} must be an ISO 8601 date-time") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _lower(values: list[str] | None) -> frozenset[str]:
    """The values lower-cased; an empty value is no value (``?classification=`` filters nothing, as if absent)."""
    return frozenset(v.lower() for v in values or [] if v)


def _given(value: str | None) -> str | None:
    """A single-valued parameter: an empty value is the parameter absent."""
    return value or None


def matches(
    fp: Footprint,
    product: Product,
    company_id: str,
    *,
    product_ids: frozenset[str],
    company_ids: frozenset[str],
    geographies: frozenset[str],
    classifications: frozenset[str],
    statuses: frozenset[str],
    valid_on: datetime | None,
    valid_after: datetime | None,
    valid_before: datetime | None,
) -> bool:
    """PACT 3.0.1 filter semantics: OR within a repeated parameter, AND across parameters, case-insensitive."""
    if product_ids and not product_ids & _lower(product.product_ids):
        return False
    if company_ids and company_id.lower() not in company_ids:
        return False
    if geographies:
        where = rendering.geography(product)  # the one field the footprint carries, matched exactly (case aside)
        if where is None or where[1].lower() not in geographies:
            return False
    if classifications and not classifications & _lower(product.classifications):
        return False
    if statuses and fp.status.lower() not in statuses:
        return False
    start, end = validity_period(product, fp)  # the dates the footprint states
    if valid_on and not (start <= valid_on <= end):
        return False
    if valid_after and not start > valid_after:
        return False
    return not (valid_before and not end < valid_before)


@dataclass(frozen=True)
class ListQuery:
    """The parameters of a ListFootprints request, checked: page ``size`` (before the node's maximum) and ``start``,
    and the PACT filters (lower-cased sets, aware datetimes), as :func:`matches` takes them."""

    size: int
    start: int
    filters: dict[str, Any]

    @classmethod
    def parse(
        cls,
        product_id: list[str] | None,
        company_id: list[str] | None,
        geography: list[str] | None,
        classification: list[str] | None,
        status: list[str] | None,
        valid_on: str | None,
        valid_after: str | None,
        valid_before: str | None,
        limit: str | None,
        offset: str | None,
    ) -> ListQuery:
        """BadRequest (PACT's error body) for a malformed limit, offset or date. An empty value counts as absent."""
        valid_on, valid_after, valid_before, limit, offset = map(
            _given, (valid_on, valid_after, valid_before, limit, offset)
        )
        try:
            size = int(limit) if limit is not None else 100
            start = int(offset) if offset is not None else 0
        except ValueError:
            raise BadRequest("limit and offset must be integers") from None
        if size < 1 or start < 0:
            raise BadRequest("limit must be at least 1 and offset not negative")
        return cls(
            size,
            start,
            {
                "product_ids": _lower(product_id),
                "company_ids": _lower(company_id),
                "geographies": _lower(geography),
                "classifications": _lower(classification),
                "statuses": _lower(status),
                "valid_on": _date(valid_on, "validOn"),
                "valid_after": _date(valid_after, "validAfter"),
                "valid_before": _date(valid_before, "validBefore"),
            },
        )

    def key(self) -> tuple[Any, ...]:
        """What the answer depends on besides the caller and the page size (hashable)."""
        return (self.start, *(tuple(sorted(v)) if isinstance(v, frozenset) else v for v in self.filters.values()))


@functools.lru_cache(maxsize=1024)
def parsed_query(query_string: bytes) -> ListQuery:
    """:meth:`ListQuery.parse` of a raw query string, read as FastAPI reads it; remembered per distinct string (a
    client paging through the same list sends the same few). A malformed one raises every time (never cached)."""
    q = QueryParams(query_string)  # as Request.query_params reads it
    return ListQuery.parse(
        q.getlist("productId") or None,
        q.getlist("companyId") or None,
        q.getlist("geography") or None,
        q.getlist("classification") or None,
        q.getlist("status") or None,
        q.get("validOn"),
        q.get("validAfter"),
        q.get("validBefore"),
        q.get("limit"),
        q.get("offset"),
    )
