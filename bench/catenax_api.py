"""6. Catena-X GET /catenax/submodel/{productId}: requests/s and p50/p99 latency, against a bare endpoint.

The connector node against a bare FastAPI app answering the same path with the very bytes the node returned
(bench/api_case.py: both on uvicorn, one worker, loaded in alternating rounds, SQLite and PostgreSQL, a database
``bench_catenax``). The node is seeded as for the PACT benchmark (N products, each footprint granted to one customer),
the customer registered as a Catena-X partner with a BPNL; each PCF is fetched once first so the attestation exists.
Requests carry what a Tractus-X data plane adds: ``Edc-Bpn`` and the asset's proxy secret (``X-Api-Key``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from . import api_case
from .api_case import Kind
from .common import Row
from .pact_api import CUSTOMER, seed

NAME = "catenax_api"
BPNL = "BPNL0000000CUST1"
SECRET = "bench-proxy-secret"
HEADERS = {"Edc-Bpn": BPNL, "X-Api-Key": SECRET}


def _prepare(data_dir: Path, database_url: str | None, n: int) -> tuple[dict[str, Any], api_case.Client]:
    from connector.services import catalog

    config, _, _ = seed(data_dir, database_url, n)
    config["catenax"] = {"bpnl": "BPNL00000000BNCH", "api_key": SECRET}
    with api_case.node_session(config) as ctx:
        partner = catalog.ensure_partner(ctx, CUSTOMER, "Customer", customer=True)
        partner.bpnl, partner.protocol = BPNL, "catenax"
        ctx.session.add(partner)
    paths = [f"/catenax/submodel/urn:pact:bench-node.example:product:p{i}" for i in range(n)]
    kind = Kind("get", "GET /catenax/submodel/{productId}", paths, ("one.json", "list.json", "cx.json"))
    return config, lambda base: (HEADERS, [kind])


def run(
    quick: bool = False,
    n: int | None = None,
    seconds: float | None = None,
    backends: tuple[str, ...] = ("sqlite", "postgresql"),
) -> list[Row]:
    n, seconds = api_case.sizes(quick, n, seconds)
    return api_case.rows(
        NAME, api_case.measure(NAME, "bench_catenax", _prepare, n, seconds, backends), {"footprints": n}
    )


def show(rows: list[Row]) -> None:
    api_case.show("6. Catena-X PCF submodel GET: node vs bare FastAPI endpoint (same bytes, same uvicorn)", rows)
