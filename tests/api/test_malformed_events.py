"""A malformed or non-strict event from a peer is a 400 with PACT's error body, and leaves nothing behind.

Any dataspace member's token is enough to post an event, so each case here is what a hostile peer can send: a
RequestCreated with a date that is not one or an object for a comment, answers whose footprints or error are not
objects, envelopes without their attributes, and JSON that two parsers read differently (duplicate members) or that
is not JSON at all (NaN, a number beyond a double).
"""

from __future__ import annotations

import json
import logging
import uuid
from typing import Any

import pytest
from sqlmodel import Session, select

from connector.protocols.pact import events
from connector.storage.tables import AuditEntry, CfpRequest, InboxEvent, OutboxMessage

from .test_pact_conformance import LIOH, Pact, _event, node  # noqa: F401 - node is a fixture

pytestmark = pytest.mark.asyncio

PF_ID = "3a6c14a7-4deb-498a-b5ea-16ce2535b576"


def _with(event: dict[str, Any], **changes: Any) -> dict[str, Any]:
    out = {**event, **changes}
    return {k: v for k, v in out.items() if v is not _DROP}


_DROP = object()


def _pf(**changes: Any) -> dict[str, Any]:
    """A footprint's outline: what the receipt reads before it verifies the attestation."""
    return _with(
        {
            "id": PF_ID,
            "companyIds": ["urn:pact:conformance.example:company:suite"],
            "productIds": [LIOH],
            "status": "Active",
            "pcf": {"pcfExcludingBiogenicUptake": "1"},
        },
        **changes,
    )


_CREATED = _event(events.REQUEST_CREATED, {"productId": [LIOH]})

MALFORMED = {
    "due date not a date": _event(events.REQUEST_CREATED, {"productId": [LIOH], events.X_DUE: "not-a-date"}),
    "comment an object": _event(events.REQUEST_CREATED, {"productId": [LIOH], "comment": {"a": 1}}),
    "productId not a list": _event(events.REQUEST_CREATED, {"productId": LIOH}),
    "productId of numbers": _event(events.REQUEST_CREATED, {"productId": [1, 2]}),
    "verifiers not strings": _event(events.REQUEST_CREATED, {"productId": [LIOH], events.X_VERIFIERS: [{"pem": 1}]}),
    "validOn a number": _event(events.REQUEST_CREATED, {"productId": [LIOH], "validOn": 1700000000}),
    "pfs of numbers": _event(events.REQUEST_FULFILLED, {"requestEventId": str(uuid.uuid4()), "pfs": [1]}),
    "pfs not a list": _event(events.REQUEST_FULFILLED, {"requestEventId": str(uuid.uuid4()), "pfs": {"id": PF_ID}}),
    "pfs empty": _event(events.REQUEST_FULFILLED, {"requestEventId": str(uuid.uuid4()), "pfs": []}),
    "no requestEventId": _event(events.REQUEST_FULFILLED, {"pfs": [_pf()]}),
    "pf id a number": _event(events.REQUEST_FULFILLED, {"requestEventId": "e", "pfs": [_pf(id=5)]}),
    "pf id not a UUID": _event(events.REQUEST_FULFILLED, {"requestEventId": "e", "pfs": [_pf(id="x")]}),
    "pf productIds of numbers": _event(events.REQUEST_FULFILLED, {"requestEventId": "e", "pfs": [_pf(productIds=[1])]}),
    "pf companyIds a string": _event(
        events.REQUEST_FULFILLED, {"requestEventId": "e", "pfs": [_pf(companyIds="urn:pact:x")]}
    ),
    "pf without pcf": _event(events.REQUEST_FULFILLED, {"requestEventId": "e", "pfs": [_pf(pcf=_DROP)]}),
    "pf extensions not objects": _event(
        events.REQUEST_FULFILLED, {"requestEventId": "e", "pfs": [_pf(extensions=["x"])]}
    ),
    "error a string": _event(events.REQUEST_REJECTED, {"requestEventId": str(uuid.uuid4()), "error": "x"}),
    "error without message": _event(events.REQUEST_REJECTED, {"requestEventId": "e", "error": {"code": "NotFound"}}),
    "requestEventId a number": _event(
        events.REQUEST_REJECTED, {"requestEventId": 7, "error": {"code": "NotFound", "message": "no"}}
    ),
    "pfIds not UUIDs": _event(events.PUBLISHED, {"pfIds": ["not-a-uuid"]}),
    "pfIds empty": _event(events.PUBLISHED, {"pfIds": []}),
    "no specversion": _with(_CREATED, specversion=_DROP),
    "specversion 0.3": _with(_CREATED, specversion="0.3"),
    "wrong type": _with(_CREATED, type="org.wbcsd.pact.ProductFootprint.Bogus.3"),
    "type a number": _with(_CREATED, type=3),
    "id not a string": _with(_CREATED, id=12345),
    "id empty": _with(_CREATED, id=""),
    "id too long": _with(_CREATED, id="x" * 201),
    "no source": _with(_CREATED, source=_DROP),
    "time not a date": _with(_CREATED, time="yesterday"),
    "time a number": _with(_CREATED, time=1700000000),
    "data null": _with(_CREATED, data=None),
    "data a list": _with(_CREATED, data=[]),
}


def _raw(text: str) -> bytes:
    return text.encode()


_GOOD = json.dumps(_CREATED)
NOT_STRICT = {
    "duplicate member": _raw(_GOOD[:-1] + ', "id": "' + str(uuid.uuid4()) + '"}'),
    "duplicate member in data": _raw(_GOOD.replace('"productId"', '"productId": ["urn:pact:x"], "productId"')),
    "NaN": _raw(_GOOD.replace('"data": {', '"x-n": NaN, "data": {')),
    "Infinity": _raw(_GOOD.replace('"data": {', '"x-n": -Infinity, "data": {')),
    "number beyond a double": _raw(_GOOD.replace('"data": {', '"x-n": 1e999999, "data": {')),
    "not JSON": b"{'specversion': '1.0'}",
    "an array": b"[]",
    "not UTF-8": _GOOD.encode("utf-16"),
}


def _stored(at: Pact) -> dict[str, int]:
    with Session(at.api.engine) as session:
        return {
            "inbox": len(session.exec(select(InboxEvent)).all()),
            "requests": len(session.exec(select(CfpRequest)).all()),
            "outbox": len(session.exec(select(OutboxMessage)).all()),
            "received": len(session.exec(select(AuditEntry).where(AuditEntry.action == "event.received")).all()),
        }


def _assert_bad_request(r, case: str = "") -> str:
    assert r.status_code == 400, (case, r.status_code, r.text)
    body = r.json()
    assert set(body) == {"code", "message"} and body["code"] == "BadRequest", (case, body)
    assert body["message"], case
    return body["message"]


# one node for all the cases of a kind (the fixture issues footprints: the costly part), each case named on failure
async def test_a_malformed_event_is_a_400_and_stores_nothing(node: Pact, caplog) -> None:  # noqa: F811
    before = _stored(node)
    with caplog.at_level(logging.WARNING):
        for case, event in MALFORMED.items():
            _assert_bad_request(await node.event(event), case)
            assert _stored(node) == before, case
    assert not [rec for rec in caplog.records if rec.exc_info or rec.levelno >= logging.ERROR]  # no traceback


async def test_json_that_is_not_strict_is_a_400_and_stores_nothing(node: Pact, caplog) -> None:  # noqa: F811
    before = _stored(node)
    with caplog.at_level(logging.WARNING):
        for case, raw in NOT_STRICT.items():
            r = await node.api.client.post(
                "/3/events", content=raw, headers={**node.headers, "content-type": "application/cloudevents+json"}
            )
            _assert_bad_request(r, case)
            assert _stored(node) == before, case
    assert not [rec for rec in caplog.records if rec.exc_info or rec.levelno >= logging.ERROR]


async def test_the_message_says_what_is_wrong(node: Pact) -> None:  # noqa: F811
    message = _assert_bad_request(await node.event(MALFORMED["due date not a date"]))
    assert events.X_DUE in message and "date-time" in message
    assert "pfs.0" in _assert_bad_request(await node.event(MALFORMED["pfs of numbers"]))
    assert "specversion" in _assert_bad_request(await node.event(MALFORMED["no specversion"]))
    assert "duplicate member 'id'" in _assert_bad_request(
        await node.api.client.post("/3/events", content=NOT_STRICT["duplicate member"], headers=node.headers)
    )


async def test_the_well_formed_events_are_still_accepted(node: Pact) -> None:  # noqa: F811
    # PACT's own examples: a source that is a URI reference, vendor fields and CloudEvents extension attributes
    for event in (
        _with(_CREATED, source="//api.example.com/3/events", datacontenttype="application/json"),
        _event(
            events.REQUEST_CREATED,
            {
                "productId": [LIOH],
                "comment": "please",
                events.X_DUE: "2030-01-01T00:00:00Z",
                "x-other-field": {"any": ["thing"]},
            },
        ),
        _event(events.PUBLISHED, {"pfIds": [PF_ID]}),
    ):
        r = await node.event(event)
        assert r.status_code == 200, r.text


async def test_one_model_per_pact_event_type() -> None:
    assert tuple(m.model_fields["type"].annotation.__args__[0] for m in events.MODELS) == events.EVENT_TYPES
