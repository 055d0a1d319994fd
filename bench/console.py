"""6. Console: the server time of the dashboard and the product pages of a node with 1,000 products and 10,000
requests (issue 19's target: each under 100 ms median on a 2-core machine).

The node's app is called in process over ASGI (no network, no browser: the server's time only), logged in as a
console user; each page is fetched ``repeat`` times after a warm-up and the median kept. The floor is ``/health``
through the same app and client (the framework's own cost per request), so the ratio reads floor / measured.
"""

from __future__ import annotations

import asyncio
import re
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from statistics import median
from typing import Any

import httpx
from sqlmodel import Session

from connector.api.app import create_app
from connector.config import Settings
from connector.services import accounts
from connector.services.context import NodeContext
from connector.storage.tables import BomLine, CfpRequest, Footprint, Partner, Product, UpstreamFootprint

from .common import Row, print_table

NAME = "console"
TARGET_S = 0.100
PASSWORD = "bench console password"
STAGES = {"raw_material_acquisition": "10.5", "main_production": "2.25", "distribution": "0.1", "end_of_life": "-0.3"}


def seed(settings: Settings, products: int, requests: int) -> tuple[Any, str]:
    """A node with ``products`` products (3 supplier lines each, two of them held), their footprints, and
    ``requests`` requests in and out in every state; returns the app and one product's id."""
    app = create_app(settings)
    now = datetime.now(UTC)
    suppliers = [f"urn:pact:s{i}.example:company:s{i}" for i in range(20)]
    with Session(app.state.engine) as session:
        accounts.create_user(NodeContext(session, settings, app.state.identity), "bench", PASSWORD, "editor")
        session.add_all(Partner(company_id=c, name=f"Supplier {i}", is_supplier=True) for i, c in enumerate(suppliers))
        first = ""
        rows: list[Any] = []
        made: list[Product] = []
        for p in range(products):
            pid = str(uuid.uuid4())
            first = first or pid
            made.append(
                Product(
                    id=pid,
                    product_ids=[f"urn:pact:bench.example:product:{p}"],
                    name=f"Product {p:05d}",
                    declared_unit="kilogram",
                    created_at=now - timedelta(seconds=p),
                )
            )
            rows.append(
                Footprint(
                    product_id=pid, stages=STAGES, own_stages=STAGES, total=Decimal("12.55"), rounding="x", inputs=[]
                )
            )
            for k in range(3):
                supplier = suppliers[(p + k) % len(suppliers)]
                urn = f"urn:pact:s.example:product:{p}-{k}"
                rows.append(
                    BomLine(
                        product_id=pid,
                        kind="supplier",
                        supplier_company_id=supplier,
                        supplier_product_id=urn,
                        quantity=Decimal(1),
                        unit="kilogram",
                    )
                )
                if k < 2:
                    rows.append(
                        UpstreamFootprint(
                            footprint_id=str(uuid.uuid4()),
                            supplier_company_id=supplier,
                            product_id=urn,
                            declared_unit="kilogram",
                            stages=STAGES,
                            basis="attested" if k == 0 else "entered",
                        )
                    )
        states = ["pending", "fulfilled", "rejected", "cancelled", "failed"]
        for r in range(requests):
            rows.append(
                CfpRequest(
                    direction="incoming" if r % 2 else "outgoing",
                    event_id=str(uuid.uuid4()),
                    company_id=suppliers[r % len(suppliers)],
                    product_ids=[f"urn:pact:s.example:product:{r}"],
                    state=states[r % len(states)],
                    created_at=now - timedelta(minutes=r),
                    updated_at=now,
                )
            )
        session.add_all(made)
        session.flush()  # the products before the rows that name them (no ORM relationships to order the inserts)
        session.add_all(rows)
        session.commit()
    return app, first


async def _measure(app: Any, paths: dict[str, str], repeat: int) -> dict[str, float]:
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="https://bench.test") as client:
            page = await client.get("/console/login")
            csrf = re.search(r'name="csrf" value="([^"]+)"', page.text)
            assert csrf is not None
            data = {"login": "bench", "password": PASSWORD, "csrf": csrf.group(1), "next": "/console/"}
            assert (await client.post("/console/login", data=data)).status_code == 303
            out = {}
            for name, path in paths.items():
                samples = []
                for i in range(repeat + 2):
                    t0 = time.perf_counter()
                    r = await client.get(path)
                    elapsed = time.perf_counter() - t0
                    assert r.status_code == 200, (path, r.status_code)
                    if i >= 2:  # two warm-ups: templates compiled, caches filled
                        samples.append(elapsed)
                out[name] = median(samples)
            return out


def run(quick: bool = False, products: int | None = None, requests: int | None = None) -> list[Row]:
    products = products or (200 if quick else 1000)
    requests = requests or (2000 if quick else 10000)
    repeat = 5 if quick else 15
    with tempfile.TemporaryDirectory() as folder:
        settings = Settings(data_dir=Path(folder), company_name="Bench", run_workers=False)
        t0 = time.perf_counter()
        app, product = seed(settings, products, requests)
        seeded = time.perf_counter() - t0
        paths = {
            "health": "/health",
            "dashboard": "/console/",
            "products list": "/console/products",
            "product page": f"/console/products/{product}",
            "requests (incoming)": "/console/requests?direction=incoming",
        }
        times = asyncio.run(_measure(app, paths, repeat))
        app.state.engine.dispose()
    floor = times.pop("health")
    size = f"{products:,} products, {requests:,} requests"
    return [
        Row(
            NAME,
            f"{page}, {size}",
            seconds,
            "s",
            floor=floor,
            floor_label="/health",
            ratio=floor / seconds,
            target="< 100 ms median",
            met=seconds < TARGET_S,
            extra={"seeded_s": seeded, "repeat": repeat},
        )
        for page, seconds in times.items()
    ]


def show(rows: list[Row]) -> None:
    print_table("6. Console: server time per page (median, in process)", rows)
