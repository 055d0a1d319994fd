"""Strict JSON parsing for everything signed or sealed, and every request body: duplicate member names, NaN/Infinity
and numbers too large for a double (``1e999999``, which the standard library reads as infinity) are refused.

Two parsers read JSON with duplicate member names differently (first wins, last wins, error): a signer could show one
value to our verifier and another to someone else's. So every signed or sealed document is parsed strictly.

The fast path, for small documents (:data:`FAST_PATH_MAX`), parses with orjson (C) and accepts the result when serializing it back compactly gives the input with
only whitespace bytes removed (``\\n`` + indentation, and the space after ``,`` and ``:``, which is how ``json.dumps``
formats by default, e.g. SD-JWT disclosures). That proves the input had no duplicate member: deleting whitespace bytes
never changes how many JSON tokens a text has (inside a string it only changes the string), and a text with a
repeated member has more tokens than the serialization of what it parses to. Anything else (other formatting, numbers
orjson does not take, lone surrogates, errors) goes to the standard library parser with hooks, which decides exactly
as before: the fast path only ever accepts what the strict parser accepts, with the same value.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

import orjson

_INDENT = re.compile(rb"\n *")


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out = dict(pairs)
    if len(out) != len(pairs):  # a member name was repeated: name the first one
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise ValueError(f"duplicate member {key!r}")
            seen.add(key)
    return out


def _reject_constant(name: str) -> Any:
    raise ValueError(f"non-standard JSON constant {name}")


def _finite(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"number {text[:40]} is out of range")
    return value


def _without_whitespace(raw: bytes) -> bytes:
    if b"\n" in raw:
        raw = _INDENT.sub(b"", raw)
    return raw.replace(b", ", b",").replace(b": ", b":")


FAST_PATH_MAX = 4096
"""Documents up to this many bytes (characters for ``str``) try the fast path: JWS headers and payloads, disclosures,
JWE headers. Larger ones (evidence plaintexts, bundles) are mostly long base64 strings, which the standard library
scans faster than orjson parses, re-serializes and compares them (decision 0008 has the figures)."""


def strict_json_loads(data: bytes | str) -> Any:
    """``json.loads`` that refuses duplicate member names, NaN/Infinity and out-of-range numbers (ValueError, a
    ``json.JSONDecodeError`` for malformed text); bytes must be UTF-8."""
    if len(data) <= FAST_PATH_MAX:
        raw = data.encode("utf-8") if isinstance(data, str) else data
        try:
            value = orjson.loads(raw)
        except orjson.JSONDecodeError:
            pass
        else:
            if orjson.dumps(value) == _without_whitespace(raw):
                return value
    text = data.decode("utf-8") if isinstance(data, bytes | bytearray) else data
    return json.loads(text, object_pairs_hook=_no_duplicates, parse_constant=_reject_constant, parse_float=_finite)


def canonical_json(obj: Any) -> bytes:
    """Compact UTF-8 JSON used for every header and payload we sign (any JSON is fine to verify)."""
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode("utf-8")
