"""SD-JWT building blocks (RFC 9901): salts, disclosures, digests, decoys, the ``~`` serialization.

Only object-property disclosures ``[salt, name, value]`` and ``sha-256`` are used by the connector.

>>> d = encode_disclosure("_26bc4LT-ac6q2KI6cBW5es", "family_name", "Möbius")
>>> d
'WyJfMjZiYzRMVC1hYzZxMktJNmNCVzVlcyIsICJmYW1pbHlfbmFtZSIsICJNw7ZiaXVzIl0'
>>> disclosure_digest(d)
'X9yH0Ajrdm1Oij4tWso9UzzKJvPoDxwmuEcO3XAdRC0'
"""

from __future__ import annotations

import hashlib
import json
import secrets
from dataclasses import dataclass
from typing import Any, NamedTuple

from ..errors import InvalidSignature
from ..identity.keys import b64url, b64url_decode
from ..strict_json import strict_json_loads

SD_ALG = "sha-256"
SALT_BYTES = 16
"""128-bit salts (RFC 9901 section 9.3)."""
PAD_TO = 16
"""``_sd`` arrays are padded with decoys to a multiple of this (at least this many entries)."""


def new_salt() -> str:
    return b64url(secrets.token_bytes(SALT_BYTES))


def sha256_b64url(text: str) -> str:
    return b64url(hashlib.sha256(text.encode("ascii")).digest())


def encode_disclosure(salt: str, name: str, value: Any) -> str:
    """base64url of the JSON array ``[salt, name, value]`` (the RFC's own formatting: ``", "`` separators, UTF-8)."""
    return b64url(json.dumps([salt, name, value], ensure_ascii=False, allow_nan=False).encode("utf-8"))


def disclosure_digest(disclosure: str) -> str:
    """base64url SHA-256 over the ASCII disclosure string, as it appears in the SD-JWT."""
    return sha256_b64url(disclosure)


def decoy_digest() -> str:
    """A digest of random bytes: indistinguishable from a real one (RFC 9901 section 4.2.5)."""
    return b64url(hashlib.sha256(secrets.token_bytes(32)).digest())


def padded_count(real: int, pad_to: int = PAD_TO) -> int:
    """``real`` rounded up to a multiple of ``pad_to``, at least ``pad_to``."""
    return max(pad_to, -(-real // pad_to) * pad_to)


def with_decoys(digests: list[str], pad_to: int = PAD_TO) -> list[str]:
    """Pad with decoys to :func:`padded_count` and sort, so neither count nor order leaks anything."""
    out = list(digests) + [decoy_digest() for _ in range(padded_count(len(digests), pad_to) - len(digests))]
    return sorted(out)


class Disclosure(NamedTuple):
    """One decoded disclosure (a tuple: cheap to build, a verifier makes one per hidden claim)."""

    text: str
    salt: str
    name: str
    value: Any
    digest: str


def make_disclosure(name: str, value: Any, salt: str | None = None) -> Disclosure:
    salt = salt or new_salt()
    text = encode_disclosure(salt, name, value)
    return Disclosure(text=text, salt=salt, name=name, value=value, digest=disclosure_digest(text))


def parse_disclosure(text: str) -> Disclosure:
    """Decode an object-property disclosure; anything else is an InvalidSignature."""
    try:
        data = strict_json_loads(b64url_decode(text))
    except (ValueError, UnicodeDecodeError):
        raise InvalidSignature("disclosure is not base64url JSON") from None
    if not isinstance(data, list) or len(data) != 3:
        raise InvalidSignature("disclosure must be [salt, name, value]")
    salt, name, value = data
    if not isinstance(salt, str) or not isinstance(name, str):
        raise InvalidSignature("disclosure salt and name must be strings")
    if name in ("_sd", "...", "_sd_alg"):
        raise InvalidSignature(f"disclosure uses reserved name {name!r}")
    return Disclosure(text=text, salt=salt, name=name, value=value, digest=disclosure_digest(text))


def serialize(issuer_jwt: str, disclosures: list[str] | tuple[str, ...] = ()) -> str:
    """``<issuer-jwt>~<d1>~...~<dn>~`` (no key binding JWT)."""
    return "~".join([issuer_jwt, *disclosures]) + "~"


@dataclass(frozen=True)
class SdJwtParts:
    issuer_jwt: str
    disclosures: tuple[str, ...]
    key_binding: str | None


def split(sd_jwt: str) -> SdJwtParts:
    """Split an SD-JWT (or SD-JWT+KB) into the issuer JWT, disclosures and the optional key binding JWT."""
    if not isinstance(sd_jwt, str) or "~" not in sd_jwt:
        raise InvalidSignature("not an SD-JWT (no ~ separator)")
    parts = sd_jwt.split("~")
    issuer_jwt, *middle, last = parts
    if not issuer_jwt or any(not d for d in middle):
        raise InvalidSignature("empty SD-JWT component")
    return SdJwtParts(issuer_jwt=issuer_jwt, disclosures=tuple(middle), key_binding=last or None)
