"""connector.strict_json: the orjson fast path accepts exactly what the strict standard-library parser accepts."""

from __future__ import annotations

import json
import random

import pytest

from connector import strict_json
from connector.strict_json import canonical_json, strict_json_loads


def _reference(text: str) -> object:
    """The strict parser without the fast path."""
    return json.loads(text, object_pairs_hook=strict_json._no_duplicates, parse_constant=strict_json._reject_constant)


DUPLICATED = [
    '{"a":1,"a":2}',  # compact, as signed payloads are
    '{"a": 1, "a": 1}',  # same value twice, default json.dumps formatting (SD-JWT disclosures)
    '["salt", "name", {"x": "1", "y": {"z": 1, "z": 2}}]',  # nested, inside a disclosure
    '{\n  "a": [\n    1\n  ],\n  "a": [\n    1\n  ]\n}',  # indented, as bundles are written
    '{"k": "v, \\"k\\": ", "k": "v"}',  # a string that looks like a member
    '{"": 0, "": 0}',
]


@pytest.mark.parametrize("text", DUPLICATED)
@pytest.mark.parametrize("as_bytes", [False, True])
def test_duplicate_members_are_refused_in_every_formatting(text: str, as_bytes: bool) -> None:
    with pytest.raises(ValueError, match="duplicate member"):
        strict_json_loads(text.encode() if as_bytes else text)


@pytest.mark.parametrize("text", ['{"a": NaN}', "[Infinity]", "[-Infinity]", '{"a": 1,}', "", "{", "[1] x"])
def test_non_standard_or_malformed_json_is_refused(text: str) -> None:
    with pytest.raises(ValueError):
        strict_json_loads(text)


@pytest.mark.parametrize("text", ["1e999999", '{"a": -1e400}', "[1E+99999]", '{"a": 1e999999, "b": "x"}'])
def test_numbers_beyond_a_double_are_refused_not_read_as_infinity(text: str) -> None:
    with pytest.raises(ValueError, match="out of range"):
        strict_json_loads(text)
    assert strict_json_loads("[1e308, -2.5e-300]") == [1e308, -2.5e-300]  # large but finite: read as before


def test_bytes_must_be_utf8() -> None:
    with pytest.raises(ValueError):
        strict_json_loads('{"a": "b"}'.encode("utf-16"))


def _random_value(rng: random.Random, depth: int = 0) -> object:
    kind = rng.randrange(8 if depth < 4 else 5)
    if kind == 0:
        return rng.choice(
            [
                "",
                "x",
                "a, b",
                "k: v",
                'q"uote',
                "back\\slash",
                "ünï",
                "line\nbreak",
                "\u2028",
                "e\u0301",
                "tab\t",
                "\x00",
            ]
        )
    if kind == 1:
        return rng.randrange(-(10**18), 10**18)
    if kind == 2:
        return rng.choice([True, False, None])
    if kind == 3:
        return rng.choice([0.5, -1.25, 1e300, 3.0])
    if kind == 4:
        return str(rng.randrange(10**6)) + "." + str(rng.randrange(100))
    if kind in (5, 6):
        return {
            f"k{rng.randrange(20)}{rng.choice(['', ' ', ', ', ': '])}": _random_value(rng, depth + 1)
            for _ in range(rng.randrange(5))
        }
    return [_random_value(rng, depth + 1) for _ in range(rng.randrange(5))]


def test_same_result_as_the_strict_parser_in_every_formatting() -> None:
    rng = random.Random(7)
    for _ in range(400):
        value = _random_value(rng)
        for text in (
            json.dumps(value),
            json.dumps(value, ensure_ascii=False),
            json.dumps(value, indent=2),
            canonical_json(value).decode(),
            json.dumps(value, separators=(" ,", " : ")),
        ):
            assert strict_json_loads(text) == _reference(text) == value
            assert strict_json_loads(text.encode()) == value


def test_what_orjson_cannot_read_goes_to_the_strict_parser() -> None:
    assert strict_json_loads("[123456789012345678901234567890]") == [123456789012345678901234567890]
    assert strict_json_loads('["\\ud800"]') == ["\ud800"]  # a lone surrogate escape, as json.loads reads it


def test_canonical_json_is_compact_utf8() -> None:
    assert canonical_json({"a": [1, "ü"], "b": None}) == '{"a":[1,"ü"],"b":null}'.encode()
    with pytest.raises(ValueError):
        canonical_json({"a": float("nan")})


def test_large_documents_take_the_strict_parser_and_refuse_duplicates_too() -> None:
    big = {"packages": {f"p{i}": "x" * 100 for i in range(100)}}
    text = json.dumps(big, indent=2)
    assert len(text) > strict_json.FAST_PATH_MAX
    assert strict_json_loads(text) == strict_json_loads(text.encode()) == big
    with pytest.raises(ValueError, match="duplicate member"):
        strict_json_loads(text.replace('"p1":', '"p0":', 1))
