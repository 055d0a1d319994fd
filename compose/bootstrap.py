#!/usr/bin/env python3
"""Load the supply-chain fixture into the running compose dataspace (standard library only; run on the host).

    docker compose -f compose/docker-compose.yml up -d --build
    python3 compose/bootstrap.py                 # init, import, partners, the OEM's battery product
    python3 compose/bootstrap.py --flow          # ... then request, wait for the pack, declare, verify

For every node: ``connector init`` inside its container (the admin API key goes to compose/.bootstrap/api-keys.json,
mode 0600), ``connector import`` of its company from /fixtures/nmc811-chain.json, then through the operator API:
the node URLs of its suppliers, its customers (autoFulfil) and, on the automaker's node, the battery product whose
bill of materials is the pack. Running it again is harmless: nodes already initialised keep their key, products
already imported are skipped, partners are updated in place.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import ssl
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
COMPOSE_FILE = HERE / "docker-compose.yml"
STATE = HERE / ".bootstrap"
FIXTURE_IN_CONTAINER = "/fixtures/nmc811-chain.json"

# service name -> host port (docker-compose.yml maps 127.0.0.1:<port> to the node's 8443); a test keeps them in step
NODES: dict[str, int] = {
    "andes-lithium": 8441,
    "sulawesi-nickel": 8442,
    "kansai-precursor": 8443,
    "hokuriku-cathode": 8444,
    "inner-graphite": 8445,
    "setouchi-cell": 8446,
    "kyushu-pack": 8447,
    "nippon-motors": 8448,
    "notified-body-0042": 8449,
}
INTERNAL_PORT = 8443


def slug(company_id: str) -> str:
    return company_id.rsplit(":", 1)[-1]


def internal_url(service: str) -> str:
    """The URL the nodes reach each other at, inside the compose network (= that node's CONNECTOR_PUBLIC_URL)."""
    return f"https://{service}:{INTERNAL_PORT}"


def compose(*args: str, check: bool = True) -> str:
    cmd = ["docker", "compose", "-f", str(COMPOSE_FILE), *args]
    done = subprocess.run(cmd, capture_output=True, text=True, env={**os.environ, "COLUMNS": "200"})  # noqa: S603
    if check and done.returncode != 0:
        sys.exit(f"{' '.join(cmd)} failed:\n{done.stdout}{done.stderr}")
    return done.stdout


def connector(service: str, *args: str) -> str:
    """Run a ``connector`` command inside a node's container (its CONNECTOR_* environment applies)."""
    return compose("exec", "-T", service, "connector", *args)


def relations(document: dict[str, Any]) -> tuple[dict[str, set[str]], dict[str, set[str]]]:
    """(suppliers of, customers of) each company id, from the bills of materials and the declaration."""
    suppliers: dict[str, set[str]] = {}
    customers: dict[str, set[str]] = {}
    for company in document["companies"]:
        for product in company["products"]:
            for line in product["bom"]:
                if "supplierCompanyId" in line:
                    suppliers.setdefault(company["companyId"], set()).add(line["supplierCompanyId"])
                    customers.setdefault(line["supplierCompanyId"], set()).add(company["companyId"])
    decl = document["declaration"]
    pack_maker = pack_maker_of(document)
    suppliers.setdefault(decl["issuerCompanyId"], set()).add(pack_maker)
    customers.setdefault(pack_maker, set()).add(decl["issuerCompanyId"])
    return suppliers, customers


def pack_maker_of(document: dict[str, Any]) -> str:
    pack = document["declaration"]["packProductId"]
    return next(c["companyId"] for c in document["companies"] if any(p["productId"] == pack for p in c["products"]))


class Api:
    """The operator API of one node, from the host (https://localhost:<port>/api/v1, X-API-Key)."""

    def __init__(self, port: int, key: str, context: ssl.SSLContext) -> None:
        self.base, self.key, self.context = f"https://localhost:{port}/api/v1", key, context

    def call(self, method: str, path: str, body: Any = None, accept: str = "application/json") -> Any:
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(  # noqa: S310 - https only
            self.base + path,
            data=data,
            method=method,
            headers={"X-API-Key": self.key, "Content-Type": "application/json", "Accept": accept},
        )
        try:
            with urllib.request.urlopen(req, context=self.context, timeout=60) as resp:  # noqa: S310
                raw = resp.read()
        except urllib.error.HTTPError as exc:
            sys.exit(f"{method} {self.base}{path}: {exc.code} {exc.read().decode(errors='replace')}")
        if not raw or not accept.endswith("json"):
            return raw.decode()
        return json.loads(raw)

    def partners(self) -> dict[str, dict[str, Any]]:
        return {p["companyId"]: p for p in self.call("GET", "/partners?limit=500")["items"]}

    def ensure_partner(self, company_id: str, name: str, *, supplier: bool = False, customer: bool = False) -> None:
        """Add the partner with its node URL, or update the one ``connector import`` created from a BOM line."""
        known = self.partners().get(company_id)
        url = internal_url(slug(company_id))
        if known is None:
            self.call(
                "POST",
                "/partners",
                {
                    "companyId": company_id,
                    "name": name,
                    "nodeUrl": url,
                    "isSupplier": supplier,
                    "isCustomer": customer,
                    "autoFulfil": customer,
                },
            )
            return
        change: dict[str, Any] = {"nodeUrl": url}
        if supplier:
            change["isSupplier"] = True
        if customer:
            change.update(isCustomer=True, autoFulfil=True)
        self.call("PATCH", f"/partners/{known['id']}", change)


def init_node(service: str, keys: dict[str, str]) -> str:
    out = compose(
        "exec",
        "-T",
        service,
        "sh",
        "-c",
        'connector init --data-dir /data --company-id "$CONNECTOR_COMPANY_ID" '
        '--company-name "$CONNECTOR_COMPANY_NAME" --public-url "$CONNECTOR_PUBLIC_URL"',
    )
    found = re.search(r"ck_[A-Za-z0-9_-]+", out)
    if found:
        keys[service] = found.group(0)
    if service not in keys:
        sys.exit(
            f"{service} was initialised before and its key is not in {STATE / 'api-keys.json'}; make one with "
            f"`docker compose exec {service} connector ...` or POST /api/v1/api-keys with another admin key"
        )
    return keys[service]


def save_keys(keys: dict[str, str]) -> Path:
    STATE.mkdir(exist_ok=True)
    path = STATE / "api-keys.json"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        json.dump({s: {"url": f"https://localhost:{NODES[s]}", "apiKey": k} for s, k in keys.items()}, fh, indent=2)
    return path


def load_keys() -> dict[str, str]:
    path = STATE / "api-keys.json"
    if not path.exists():
        return {}
    return {s: v["apiKey"] for s, v in json.loads(path.read_text()).items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--fixture",
        type=Path,
        default=Path(os.environ.get("FIXTURES_DIR", HERE / ".." / "connector" / "demo" / "chains"))
        / "nmc811-chain.json",
        help="the fixture on the host (the same file the nodes see in /fixtures)",
    )
    parser.add_argument("--flow", action="store_true", help="then request the pack, declare and verify")
    args = parser.parse_args()
    document = json.loads(args.fixture.read_text())
    names = {c["companyId"]: c["name"] for c in document["companies"]}
    names[document["verifier"]["companyId"]] = document["verifier"]["name"]
    suppliers, customers = relations(document)

    STATE.mkdir(exist_ok=True)
    root = STATE / "root.pem"
    root.write_text(compose("exec", "-T", "andes-lithium", "cat", "/pki/trust/root.pem"))
    context = ssl.create_default_context(cafile=str(root))

    keys = load_keys()
    for service in NODES:
        init_node(service, keys)
        save_keys(keys)
    print(f"admin API keys in {STATE / 'api-keys.json'}; dataspace root certificate in {root}")

    for company in document["companies"]:
        service = slug(company["companyId"])
        if company["products"]:
            print(service, connector(service, "import", FIXTURE_IN_CONTAINER, "--data-dir", "/data").strip())
        api = Api(NODES[service], keys[service], context)
        for supplier in sorted(suppliers.get(company["companyId"], ())):
            api.ensure_partner(supplier, names[supplier], supplier=True)
        for customer in sorted(customers.get(company["companyId"], ())):
            api.ensure_partner(customer, names[customer], customer=True)

    decl = document["declaration"]
    oem = Api(NODES[slug(decl["issuerCompanyId"])], keys[slug(decl["issuerCompanyId"])], context)
    battery_urn = f"urn:pact:{slug(decl['issuerCompanyId'])}.example:product:{decl['batteryModel'].lower()}"
    products = oem.call("GET", "/products?limit=500")["items"]
    battery = next((p for p in products if battery_urn in p["productIds"]), None)
    if battery is None:
        plant = {k: v for k, v in decl["plant"].items() if k in ("name", "country", "subdivision")}
        battery = oem.call(
            "POST",
            "/products",
            {
                "productIds": [battery_urn],
                "name": f"Battery system {decl['batteryModel']}",
                "declaredUnit": "piece",
                "plant": plant,
            },
        )
        oem.call(
            "POST",
            f"/products/{battery['id']}/bom",
            {
                "kind": "supplier",
                "supplierCompanyId": pack_maker_of(document),
                "supplierProductId": decl["packProductId"],
                "quantity": "1",
                "unit": "piece",
            },
        )
    print(f"automaker: product {battery['id']} ({battery_urn}), bill of materials = the pack")
    if args.flow:
        flow(
            document,
            oem,
            battery["id"],
            Api(NODES[slug(document["verifier"]["companyId"])], keys[slug(document["verifier"]["companyId"])], context),
        )


def flow(document: dict[str, Any], oem: Api, battery_id: str, verifier: Api) -> None:
    """The demo's flow: request with the notified body's certificate, answers come down, declare, verify."""
    verifier_service = slug(document["verifier"]["companyId"])
    verifier_pem = compose("exec", "-T", verifier_service, "cat", f"/pki/{verifier_service}/company.chain.pem")
    line = oem.call("GET", f"/products/{battery_id}/bom")[0]
    request = oem.call(
        "POST",
        "/requests",
        {"bomLineId": line["id"], "message": "EU Battery Regulation Art. 7", "verifierCertificates": [verifier_pem]},
    )
    print(f"request {request['id']} sent to the pack maker; waiting for the attested answers to come down")
    pack = document["declaration"]["packProductId"]
    deadline = time.monotonic() + 300
    while True:
        held = [
            u
            for u in oem.call("GET", "/upstream-footprints?limit=500")["items"]
            if u["productId"] == pack and u["status"] == "Active"
        ]
        if held:
            break
        if time.monotonic() > deadline:
            sys.exit("the pack footprint did not arrive in 5 minutes; see GET /api/v1/outbox on each node")
        time.sleep(2)
    print(f"pack footprint held: total {held[0]['total']} kg CO2e per piece")
    declared = oem.call("POST", "/declarations", document["declaration"])
    bundle = oem.call("GET", f"/declarations/{declared['id']}/bundle")
    report = verifier.call("POST", "/verify", bundle)
    out = STATE / "results"
    out.mkdir(exist_ok=True)
    (out / "declaration.json").write_text(json.dumps(declared["document"], indent=2) + "\n")
    (out / "bundle.json").write_text(json.dumps(bundle, indent=2) + "\n")
    (out / "verification-report.json").write_text(json.dumps(report, indent=2) + "\n")
    (out / "declaration.html").write_text(oem.call("GET", f"/declarations/{declared['id']}/html", accept="text/html"))
    print(f"declaration {declared['id']} issued and verified by the notified body; files in {out}")


if __name__ == "__main__":
    main()
