"""A footprint's reference and validity periods: protocol-neutral, read by the services and by every renderer."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any


def validity_period(product: Any, footprint: Any) -> tuple[datetime, datetime]:
    """The validity period a footprint states: the footprint's own, else from its creation to three years after the
    reference period's end. The validity filters read these same dates."""
    _, ref_end = reference_period(product, footprint)
    return (
        footprint.validity_start or footprint.created_at,
        footprint.validity_end or ref_end + timedelta(days=3 * 365),
    )


def reference_period(product: Any, footprint: Any) -> tuple[datetime, datetime]:
    return period_for(product, footprint.created_at)


def period_for(product: Any, at: datetime) -> tuple[datetime, datetime]:
    """The product's reference period, or by default the last completed calendar year before ``at``.

    A completed period keeps PACT's rule that validity starts no earlier than the reference period's end.
    """
    if product.reference_period_start and product.reference_period_end:
        return product.reference_period_start, product.reference_period_end
    return datetime(at.year - 1, 1, 1, tzinfo=UTC), datetime(at.year, 1, 1, tzinfo=UTC)
