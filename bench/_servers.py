"""App factories that ``uvicorn --factory`` serves in a subprocess for bench/api_case.py.

``node_app``: the connector node, configured from the JSON file named by ``BENCH_NODE_CONFIG`` (Settings fields).
``bare_app``: a bare FastAPI app answering the same paths with bytes read from ``BENCH_BARE_DIR`` (one file per route).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Response


def node_app() -> Any:
    from connector.api.app import create_app
    from connector.config import Settings

    settings = Settings(**json.loads(Path(os.environ["BENCH_NODE_CONFIG"]).read_text()))
    return create_app(settings, freeze_heap=True)  # a process serving one node, as `connector serve` runs it


def bare_app() -> Any:
    root = Path(os.environ["BENCH_BARE_DIR"])
    one = (root / "one.json").read_bytes()
    many = (root / "list.json").read_bytes()
    app = FastAPI()

    @app.get("/3/footprints/{footprint_id}")
    def get_one(footprint_id: str) -> Response:
        return Response(content=one, media_type="application/json")

    @app.get("/3/footprints")
    def get_list() -> Response:
        return Response(content=many, media_type="application/json")

    cx = root / "cx.json"
    if cx.exists():  # bench/catenax_api.py
        pcf = cx.read_bytes()

        @app.get("/catenax/submodel/{product_id:path}")
        def get_pcf(product_id: str) -> Response:
            return Response(content=pcf, media_type="application/json")

    @app.get("/api/v1/datatransport")
    def ouranos_get() -> Response:  # bench/ouranos_api.py: GET cfp, the bytes the node answered
        return Response(content=one, media_type="application/json")

    @app.get("/health")
    def health() -> dict[str, str]:
        return {"status": "ok"}

    return app
