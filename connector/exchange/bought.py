"""Whether a footprint a supplier sent outside any request of ours is for a part we buy from it (decision 0019).

A footprint answering our request was asked for. One sent on the supplier's own initiative (announced, then fetched;
or pushed) is taken only when one of our supplier BOM lines buys one of its product ids from that supplier: otherwise
any supplier could fill our store with footprints for products nobody here buys. The check is the core's, for every
protocol (``receipt.receive_fetched``, ``receipt.on_published``); the supplier learns of the refusal as its protocol
can say it (the ``refused`` intent, or the protocol's own answer to the push).
"""

from __future__ import annotations

from typing import Any, NamedTuple

from .. import protocols
from ..errors import ValidationFailed
from ..services.context import NodeContext
from ..storage import supplier_data

NOT_BOUGHT = "no bill of materials line of ours buys this product from you"
BUYS_NOTHING = "no bill of materials line of ours buys anything from you"


def buys(ctx: NodeContext, supplier: str, product_ids: list[str]) -> bool:
    """Whether one of our supplier BOM lines buys one of ``product_ids`` (compared without case) from ``supplier``."""
    lines = supplier_data.supplier_lines_for(ctx.session, product_ids)
    return any(line.supplier_company_id == supplier for line in lines)


def buys_from(ctx: NodeContext, supplier: str) -> bool:
    """Whether one of our supplier BOM lines buys anything from ``supplier`` (else no footprint of it can be for us)."""
    return supplier_data.buys_from(ctx.session, supplier)


class Named(NamedTuple):
    """What a footprint document says of itself that the check needs."""

    footprint_id: str | None
    """Its id (None when it has none that can be read: named as the document gives it, or "(no id)")."""
    product_ids: list[str]


def named(document: Any, protocol: str) -> Named | None:
    """The id and product ids of a footprint document, as its protocol's adapter reads them; None when the product ids
    cannot be read (the receipt then refuses the document, naming why, as any unreadable footprint)."""
    if not isinstance(document, dict):
        return None
    try:
        got = protocols.adapter(protocol).read_footprint(document)
        product_ids = [str(p) for p in got.product_ids]
    except (ValidationFailed, KeyError, TypeError, ValueError):
        return None
    try:
        footprint_id: str | None = str(got.id)
    except (ValidationFailed, KeyError, TypeError, ValueError):
        footprint_id = None
    return Named(footprint_id, product_ids)
