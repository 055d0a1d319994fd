"""One run of the example chain for every interop test: the declaration, its bundle as the automaker serves it, and
each evidence package opened by our own code, for independent libraries to check.

The chain runs once per session on SQLite (in-process nodes, as tests/integration), so these tests stay fast.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from jwcrypto import jwe, jwk
from sqlalchemy.engine import Engine

from connector.attestation import EvidenceContent, open_evidence
from connector.identity import Issued
from connector.storage.db import create_schema, make_engine
from tests.integration.network import build_network
from tests.integration.test_entered_inputs import _enter_lithium, _lithium_values
from tests.integration.test_supply_chain import OEM, PACK, PACK_CO, _held, _request_pack
from tests.pki import Pki

VERIFIER = "urn:pact:nb.example:company:notified-body-0042"


@dataclass(frozen=True)
class ChainRun:
    """What one run of the chain leaves for a verifier, exactly as served (JSON text parsed with ``json``)."""

    chain: dict[str, Any]
    pki: Pki
    verifier: Issued
    declaration_id: str
    bundle: dict[str, Any]
    """The bundle as ``GET /declarations/{id}/bundle`` serves it."""
    report: dict[str, Any]
    """The verifier node's report on that bundle (``POST /verify``)."""
    pact_footprint: dict[str, Any]
    """The pack footprint as the pack maker serves it to the automaker over PACT (``GET /3/footprints/{id}``)."""

    def opened(self) -> dict[str, EvidenceContent]:
        """Every package of the bundle opened by our own code (connector.attestation.open_evidence)."""
        return {
            pid: open_evidence(p, self.verifier.key, self.verifier.certificate)
            for pid, p in self.bundle["packages"].items()
        }

    def opened_by_jwcrypto(self) -> dict[str, dict[str, Any]]:
        """Every package of the bundle decrypted by jwcrypto with the verifier's key: pid -> (header, plaintext)."""
        key = jwk.JWK.from_pem(
            self.verifier.key.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            )
        )
        out = {}
        for pid, package in self.bundle["packages"].items():
            token = jwe.JWE()
            token.deserialize(json.dumps(package), key=key)
            out[pid] = {"header": token.jose_header, "plaintext": token.payload}
        return out

    def attestations(self) -> list[str]:
        """Every attestation of the chain (issuer JWT + ``~``): the pack's and each one inside the packages."""
        found = [self.bundle["pack"]["attestation"]]
        for content in self.opened().values():
            found += [content.attestation, *(u.attestation for u in content.upstream)]
        return list(dict.fromkeys(found))


async def _run(chain: dict[str, Any], make_db: Callable[[], Engine], *, entered: bool = False) -> ChainRun:
    net = await build_network(chain, make_db)
    async with net.stack:
        if entered:  # the cathode maker enters its lithium supplier's value with the source document (issue 17)
            await _enter_lithium(net, await _lithium_values(net))
        await _request_pack(net)
        held = await net.wait_for(lambda: _held(net[OEM], PACK), timeout=60, what="the pack footprint")
        r = await net[OEM].api("POST", "/declarations", json=dict(chain["declaration"]))
        assert r.status_code == 201, r.text
        declaration_id = r.json()["id"]
        served = await net[OEM].api("GET", f"/declarations/{declaration_id}/bundle")
        assert served.status_code == 200, served.text
        bundle = json.loads(served.content)
        report = (await net[VERIFIER].api("POST", "/verify", json=bundle)).json()
        pact = await net[OEM].app.state.peer_client.get_footprint(f"http://{net[PACK_CO].host}", held[0]["footprintId"])
        return ChainRun(
            chain=chain,
            pki=net.pki,
            verifier=net.verifier,
            declaration_id=declaration_id,
            bundle=bundle,
            report=report,
            pact_footprint=pact,
        )


@pytest.fixture(scope="session")
def run(chain: dict[str, Any], tmp_path_factory: pytest.TempPathFactory) -> ChainRun:
    """The example chain run once: 8 companies, each its own SQLite node, and the notified body's verifier node."""

    def make_db() -> Engine:
        engine = make_engine(f"sqlite:///{tmp_path_factory.mktemp('interop') / 'node.sqlite'}")
        create_schema(engine)
        return engine

    return asyncio.run(_run(chain, make_db))


@pytest.fixture(scope="session")
def run_entered(chain: dict[str, Any], tmp_path_factory: pytest.TempPathFactory) -> ChainRun:
    """The example chain run once with the lithium refiner's value entered by hand at the cathode maker."""

    def make_db() -> Engine:
        engine = make_engine(f"sqlite:///{tmp_path_factory.mktemp('interop-entered') / 'node.sqlite'}")
        create_schema(engine)
        return engine

    return asyncio.run(_run(chain, make_db, entered=True))
