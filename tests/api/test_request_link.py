"""``POST /requests/{id}/link``: the operator names the product of ours that answers a held incoming request (an
Ouranos trade names the customer's part, which no product of ours carries). Bad input is problem+json."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from cryptography.hazmat.primitives.serialization import Encoding
from sqlmodel import Session, select

from connector.identity import TrustStore
from connector.services.identity import NodeIdentity
from connector.storage.tables import CfpRequest, Grant
from tests.pki import VERIFIER_ID, Pki, make_pki

from .conftest import COMPANY, Api, assert_problem, make_settings, open_api
from .factories import create_product

pytestmark = pytest.mark.asyncio

CUSTOMER = "urn:pact:kyushu-pack.example:company:kyushu-pack"
ASKED = "urn:ouranos:part:0f6e2b1c-9d8a-4e3f-8a7b-6c5d4e3f2a1b"


def held_request(api: Api, state: str = "pending", direction: str = "incoming") -> str:
    with Session(api.engine, expire_on_commit=False) as session:
        row = CfpRequest(direction=direction, event_id="evt-1", company_id=CUSTOMER, product_ids=[ASKED], state=state)
        session.add(row)
        session.commit()
        return row.id


async def node_with_certificate(engine, tmp_path, pki_name: str) -> AsyncIterator[tuple[Api, Pki]]:
    """The operator API of a node holding a certificate of a fresh dataspace PKI, and that PKI."""
    now = datetime.now(UTC)
    pki = make_pki(pki_name, at=now - timedelta(days=1))
    issued = pki.company(COMPANY, "supplier", at=now - timedelta(hours=1))
    identity = NodeIdentity(
        key=issued.key,
        chain=list(issued.chain),
        trust=TrustStore([pki.root.certificate], intermediates=[pki.inter.certificate]),
    )
    async for api in open_api(engine, make_settings(tmp_path), identity):
        yield api, pki


async def test_linking_a_held_request_names_our_product_and_grants_it(api: Api) -> None:
    product = await create_product(api)
    request_id = held_request(api)
    resp = await api.post(f"/api/v1/requests/{request_id}/link", {"productId": product["id"]})
    assert resp.status_code == 200, resp.text
    assert resp.json()["productId"] == product["id"]
    assert resp.json()["state"] == "pending"  # no footprint yet: answered once one is computed
    got = (await api.get(f"/api/v1/products/{product['id']}")).json()
    assert ASKED in got["productIds"]  # the customer's id now names our product
    with Session(api.engine) as session:
        assert session.get(CfpRequest, request_id).product_id == product["id"]
        grants = [g for g in session.exec(select(Grant)).all() if g.company_id == CUSTOMER]
        assert [g.product_id for g in grants] == [product["id"]]


async def test_link_errors_are_problems(api: Api) -> None:
    product = await create_product(api)
    pending = held_request(api)
    assert_problem(await api.post(f"/api/v1/requests/{pending}/link", {"productId": "no-such-product"}), 404)
    assert_problem(await api.post(f"/api/v1/requests/{pending}/link", {}), 422, "productId")
    assert_problem(await api.post(f"/api/v1/requests/{pending}/link", {"productId": product["id"], "x": 1}), 422)
    assert_problem(await api.post("/api/v1/requests/no-such-request/link", {"productId": product["id"]}), 404)
    for state, direction in (("fulfilled", "incoming"), ("pending", "outgoing")):
        other = held_request(api, state=state, direction=direction)
        wrong = await api.post(f"/api/v1/requests/{other}/link", {"productId": product["id"]})
        assert wrong.status_code == 422 and wrong.headers["content-type"].startswith("application/problem+json")
        assert "only a pending incoming request" in wrong.json()["detail"]
    viewer = await api.client.post(
        f"/api/v1/requests/{pending}/link", json={"productId": product["id"]}, headers=api.as_("viewer")
    )
    assert_problem(viewer, 403)


async def test_link_can_name_the_verifiers_a_trade_could_not_carry(engine, tmp_path) -> None:
    def pem(cert) -> str:
        return cert.certificate.public_bytes(Encoding.PEM).decode()

    async for api, pki in node_with_certificate(engine, tmp_path, "Link"):
        an_hour_ago = datetime.now(UTC) - timedelta(hours=1)
        verifier = pki.company(VERIFIER_ID, "verifier", at=an_hour_ago)
        not_verifier = pki.company("urn:pact:other.example:company:other", "supplier", at=an_hour_ago)
        product = await create_product(api)
        request_id = held_request(api)
        bad = await api.post(
            f"/api/v1/requests/{request_id}/link",
            {"productId": product["id"], "verifierCertificates": [pem(not_verifier)]},
        )
        assert_problem(bad, 422, "verifierCertificates")
        good = await api.post(
            f"/api/v1/requests/{request_id}/link", {"productId": product["id"], "verifierCertificates": [pem(verifier)]}
        )
        assert good.status_code == 200, good.text
        assert good.json()["verifierCount"] == 1
    with Session(engine) as session:
        assert session.get(CfpRequest, request_id).verifier_certs == [pem(verifier)]


async def test_a_requester_waiting_gets_the_answer_not_also_the_announcement(engine, tmp_path) -> None:
    """The supplier computes the footprint a linked request waits for: the requester gets the answer and no
    'new version' announcement of the same footprint besides. The two used to race at the customer (the session
    test's KeyError 'preProductionResponse' when the announcement's fetch overtook the answer)."""
    async for api, _ in node_with_certificate(engine, tmp_path, "Answer"):
        partner = {
            "companyId": CUSTOMER,
            "name": "Kyushu Pack",
            "nodeUrl": "https://kyushu-pack.test",
            "isCustomer": True,
        }
        assert (await api.post("/api/v1/partners", partner)).status_code == 201
        product = await create_product(api)
        request_id = held_request(api)
        assert (await api.post(f"/api/v1/requests/{request_id}/link", {"productId": product["id"]})).status_code == 200
        emission = {"stage": "raw_material_acquisition", "value": "2.5"}
        assert (await api.post(f"/api/v1/products/{product['id']}/emissions", emission)).status_code == 201
        assert (await api.post(f"/api/v1/products/{product['id']}/footprints")).status_code == 201
        queued = (await api.get("/api/v1/outbox")).json()["items"]
        to_customer = sorted(m["kind"] for m in queued if m["companyId"] == CUSTOMER)
        assert to_customer == ["answer"], queued
        assert (await api.get(f"/api/v1/requests/{request_id}")).json()["state"] == "fulfilled"
