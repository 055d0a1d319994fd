"""A node picks up a replaced CRL file without a restart: a revoked peer can no longer get a token."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from connector.api.app import create_app
from connector.attestation.jws import sign_jws_json
from connector.identity import Revocation, build_crl
from connector.identity.files import write_crl
from connector.services import tokens
from connector.services.identity import load_identity
from tests.pki import make_pki, write_node_files

from .conftest import make_settings

pytestmark = pytest.mark.asyncio

NODE = "urn:pact:node.example:company:node"
PEER = "urn:pact:peer.example:company:peer"


def _node(engine, tmp_path, pki, now: datetime):
    """A node of NODE with its CRL file (empty for now), the app and its identity (whose CRL files are reloaded by
    the tests' calls of ``reload_crls`` only)."""
    node = pki.company(NODE, "supplier", at=now - timedelta(hours=2))
    files = write_node_files(pki, node, tmp_path)
    crl_path = write_crl(tmp_path / "crl.pem", build_crl(pki.inter, [], at=now - timedelta(hours=1)))
    settings = make_settings(
        tmp_path,
        company_id=NODE,
        public_url="http://node.test",
        key_file=files["key_file"],
        cert_file=files["cert_file"],
        trust_anchor_files=[files["trust_anchor"]],
        crl_files=[crl_path],
    )
    identity = load_identity(settings)
    identity.clock = lambda: 0.0  # time stands still: the files are looked at on first use only, unless a test says
    return create_app(settings, engine=engine, identity=identity), identity, crl_path


def _assertion(company: str, issued) -> dict[str, str]:
    """The token request of ``company`` (its key and chain in ``issued``), with a fresh jti."""
    t = int(datetime.now(UTC).timestamp())
    claims = {
        "iss": company,
        "sub": company,
        "aud": "http://node.test/auth/token",
        "iat": t,
        "exp": t + 60,
        "jti": os.urandom(8).hex(),
    }
    token = sign_jws_json(claims, issued.key, list(issued.chain), "JWT")
    return {
        "grant_type": "client_credentials",
        "client_assertion_type": tokens.ASSERTION_TYPE,
        "client_assertion": token,
    }


async def test_a_replaced_crl_file_is_used_without_a_restart(engine, tmp_path) -> None:
    now = datetime.now(UTC)
    pki = make_pki("Reload", at=now - timedelta(days=1))
    peer = pki.company(PEER, "oem", at=now - timedelta(hours=2))
    app, identity, crl_path = _node(engine, tmp_path, pki, now)

    def assertion(_label: str) -> dict[str, str]:
        return _assertion(PEER, peer)

    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://node.test") as client:
        assert (await client.post("/auth/token", data=assertion("a"))).status_code == 200
        assert identity.reload_crls() is False  # nothing changed yet
        revoked = build_crl(pki.inter, [Revocation(peer.certificate.serial_number, now - timedelta(hours=1))], at=now)
        write_crl(crl_path, revoked)
        stamp = crl_path.stat().st_mtime + 5
        os.utime(crl_path, (stamp, stamp))  # a new mtime even on coarse file-system clocks
        assert identity.reload_crls() is True
        assert (await client.post("/auth/token", data=assertion("b"))).status_code == 401
        # an unreadable replacement keeps the CRLs already loaded
        crl_path.write_text("not a CRL")
        os.utime(crl_path, (stamp + 5, stamp + 5))
        assert identity.reload_crls() is False
        assert (await client.post("/auth/token", data=assertion("c"))).status_code == 401


OTHER = "urn:pact:other.example:company:other"


async def test_a_token_issued_before_a_revocation_is_refused_once_the_crl_is_reloaded(engine, tmp_path) -> None:
    """The access token outlives nothing: revoking the certificate it was issued on ends it at the next call after
    the node loads the new CRL, not when it expires (10 minutes). A token of another company keeps working."""
    now = datetime.now(UTC)
    pki = make_pki("Revoke", at=now - timedelta(days=1))
    peers = {
        PEER: pki.company(PEER, "oem", at=now - timedelta(hours=2)),
        OTHER: pki.company(OTHER, "oem", at=now - timedelta(hours=2)),
    }
    app, identity, crl_path = _node(engine, tmp_path, pki, now)

    def assertion(company: str) -> dict[str, str]:
        return _assertion(company, peers[company])

    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://node.test") as client:
        bearer = {}
        for company in peers:
            r = await client.post("/auth/token", data=assertion(company))
            assert r.status_code == 200, r.text
            bearer[company] = {"authorization": f"Bearer {r.json()['access_token']}"}
            assert (await client.get("/3/footprints", headers=bearer[company])).status_code == 200
        revoked = build_crl(
            pki.inter, [Revocation(peers[PEER].certificate.serial_number, now - timedelta(minutes=1))], at=now
        )
        write_crl(crl_path, revoked)
        stamp = crl_path.stat().st_mtime + 5
        os.utime(crl_path, (stamp, stamp))
        assert (await client.get("/3/footprints", headers=bearer[PEER])).status_code == 200  # the CRL is cached
        assert identity.reload_crls() is True  # what the outbox worker does on each pass
        r = await client.get("/3/footprints", headers=bearer[PEER])
        assert r.status_code == 401 and r.json() == {
            "code": "AccessDenied",
            "message": "the certificate this access token was issued on is revoked",
        }
        event = {
            "specversion": "1.0",
            "id": "e1",
            "source": "//peer",
            "time": now.isoformat(),
            "type": "org.wbcsd.pact.ProductFootprint.PublishedEvent.3",
            "data": {"pfIds": ["3a6c14a7-4deb-498a-b5ea-16ce2535b576"]},
        }
        assert (await client.post("/3/events", json=event, headers=bearer[PEER])).status_code == 401
        assert (await client.get("/3/footprints", headers=bearer[OTHER])).status_code == 200  # not revoked


async def test_a_node_without_its_workers_picks_up_a_replaced_crl_on_use(engine, tmp_path) -> None:
    """Before: only the outbox worker reloaded the CRL files, so a process run with ``run_workers=false`` kept
    accepting a revoked company until it restarted. Now reading the trust store looks at the files' modification
    times (at most every CRL_CHECK_INTERVAL seconds, on the identity's clock, here a hand-moved one)."""
    now = datetime.now(UTC)
    pki = make_pki("Workerless", at=now - timedelta(days=1))
    peer = pki.company(PEER, "oem", at=now - timedelta(hours=2))
    app, identity, crl_path = _node(engine, tmp_path, pki, now)
    assert app.state.settings.run_workers is False
    clock = [1000.0]
    identity.clock = lambda: clock[0]

    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://node.test") as client,
    ):
        assert app.state.worker is None
        r = await client.post("/auth/token", data=_assertion(PEER, peer))
        assert r.status_code == 200
        bearer = {"authorization": f"Bearer {r.json()['access_token']}"}
        write_crl(crl_path, build_crl(pki.inter, [Revocation(peer.certificate.serial_number, now)], at=now))
        stamp = crl_path.stat().st_mtime + 5
        os.utime(crl_path, (stamp, stamp))
        # within the interval the files are not looked at: the CRL loaded before still counts
        assert (await client.get("/3/footprints", headers=bearer)).status_code == 200
        clock[0] += 60  # past CRL_CHECK_INTERVAL
        r = await client.get("/3/footprints", headers=bearer)
        assert r.status_code == 401 and r.json()["code"] == "AccessDenied"
        assert (await client.post("/auth/token", data=_assertion(PEER, peer))).status_code == 401
        assert identity.trust is not None and identity.crls == list(identity.trust.crls)
        assert identity.reload_crls() is False  # already loaded: the worker's call finds nothing new
