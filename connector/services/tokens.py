"""Peer authentication: OAuth2 client credentials with private_key_jwt (RFC 7523) or client_secret_basic.

Access tokens are short-lived HS256 JWTs bound to the company id, signed with the node's token secret.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from ..errors import Conflict, InvalidSignature, NotFound, Unauthenticated
from ..identity import TrustStore
from ..identity.keys import b64url, b64url_decode
from ..storage import peer_credentials, write_generation
from ..storage.tables import PeerClient, UsedAssertion
from .identity import NodeIdentity

ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
ASSERTION_TYP = "JWT"
MAX_ASSERTION_LIFETIME = timedelta(minutes=5)
_SCRYPT = {"n": 2**14, "r": 8, "p": 1}


@dataclass(frozen=True)
class Caller:
    """The authenticated peer company behind a request."""

    company_id: str
    method: str  # private_key_jwt | client_secret_basic
    certificates: tuple[tuple[str, int], ...] = ()
    """private_key_jwt: (issuer name, serial number) of each certificate of the chain it was validated with, below
    the anchor: what the revocation check on every use of its access token looks up (:func:`revoked`)."""
    client_id: str = ""
    generation: int = 0
    """client_secret_basic: the client credential and its generation when the token was issued; a rotation or the
    revocation raises the stored generation, and the token is refused on its next use (:class:`ClientStates`)."""


# client secrets ---------------------------------------------------------------------------------------------------


def hash_secret(secret: str, salt: bytes | None = None) -> str:
    salt = salt or secrets.token_bytes(16)
    digest = hashlib.scrypt(secret.encode(), salt=salt, dklen=32, **_SCRYPT)
    return f"scrypt${b64url(salt)}${b64url(digest)}"


def check_secret(secret: str, stored: str) -> bool:
    _, salt, digest = stored.split("$")
    return hmac.compare_digest(hash_secret(secret, b64url_decode(salt)).split("$")[2], digest)


def create_client(session: Session, company_id: str) -> tuple[str, str]:
    """Issue client_secret_basic credentials to a PACT partner; the secret is returned once, stored hashed."""
    client_id = "pact-" + secrets.token_hex(8)
    secret = secrets.token_urlsafe(32)
    session.add(PeerClient(client_id=client_id, company_id=company_id, secret_hash=hash_secret(secret)))
    session.flush()
    return client_id, secret


def _client(session: Session, client_id: str) -> PeerClient:
    client = session.get(PeerClient, client_id)
    if client is None:
        raise NotFound(f"PACT client {client_id!r} not found")
    return client


def rotate_client(session: Session, client_id: str, at: datetime) -> tuple[PeerClient, str]:
    """A new secret for a client (returned once, stored hashed); the old secret and every access token issued under
    it stop working at once (its generation is raised). Conflict for a revoked client."""
    client = _client(session, client_id)
    if client.revoked:
        raise Conflict(f"PACT client {client_id!r} is revoked: issue new credentials instead")
    secret = secrets.token_urlsafe(32)
    client.secret_hash, client.generation, client.rotated_at = hash_secret(secret), client.generation + 1, at
    session.add(client)
    session.flush()
    return client, secret


def revoke_client(session: Session, client_id: str) -> PeerClient:
    """Revoke a client for good: its secret and every access token issued under it are refused at once."""
    client = _client(session, client_id)
    if not client.revoked:
        client.revoked, client.generation = True, client.generation + 1
        session.add(client)
        session.flush()
    return client


_DUMMY_HASH = hash_secret("dummy")


def authenticate_basic(session: Session, client_id: str, secret: str) -> Caller:
    client = session.get(PeerClient, client_id)
    ok = check_secret(secret, client.secret_hash if client else _DUMMY_HASH)
    if not ok or client is None or client.revoked:
        raise Unauthenticated("invalid client credentials")
    return Caller(
        company_id=client.company_id,
        method="client_secret_basic",
        client_id=client.client_id,
        generation=client.generation,
    )


# private_key_jwt ----------------------------------------------------------------------------------------------------


def authenticate_assertion(
    session: Session, identity: NodeIdentity, assertion: str, token_endpoint: str, at: datetime
) -> Caller:
    """Check an RFC 7523 client assertion: company certificate chain, aud, short exp, jti never seen before."""
    from ..attestation.jws import verify_jws

    if identity.trust is None:
        raise InvalidSignature("this node has no dataspace trust anchors")
    verified = verify_jws(assertion, identity.trust, at=at)
    claims = verified.payload
    company = verified.issuer.company_id
    if claims.get("iss") != company or claims.get("sub") != company:
        raise InvalidSignature("iss and sub must be the certificate's company id")
    aud = claims.get("aud")
    if token_endpoint not in (aud if isinstance(aud, list) else [aud]):
        raise InvalidSignature(f"aud {aud!r} is not this token endpoint")
    exp, iat, jti = claims.get("exp"), claims.get("iat"), claims.get("jti")
    if not isinstance(exp, int) or not isinstance(jti, str) or not jti or len(jti) > 200:
        raise InvalidSignature("assertion needs exp and jti")
    if iat is None:  # never: verify_jws requires iat (this only tells the type checker)
        raise InvalidSignature("assertion needs iat")
    if exp - int(iat) > MAX_ASSERTION_LIFETIME.total_seconds():
        raise InvalidSignature("assertion lifetime too long")
    peer_credentials.forget_expired_assertions(session, at)
    session.add(UsedAssertion(jti=f"{company}|{jti}", expires_at=datetime.fromtimestamp(exp, at.tzinfo)))
    try:
        session.flush()
    except IntegrityError:
        session.rollback()
        raise InvalidSignature("assertion jti replayed") from None
    chain = verified.issuer.chain
    listed = tuple(
        (issuer.subject.rfc4514_string(), cert.serial_number) for cert, issuer in zip(chain, chain[1:], strict=False)
    )
    return Caller(company_id=company, method="private_key_jwt", certificates=listed)


def make_assertion(identity: NodeIdentity, company_id: str, token_endpoint: str, at: datetime) -> str:
    """Our own client assertion for a peer's token endpoint."""
    from ..attestation.jws import sign_jws_json

    if not identity.can_sign:
        raise InvalidSignature("this node has no signing key")
    now = int(at.timestamp())
    payload = {
        "iss": company_id,
        "sub": company_id,
        "aud": token_endpoint,
        "iat": now,
        "exp": now + 120,
        "jti": secrets.token_urlsafe(16),
    }
    return sign_jws_json(payload, identity.key, identity.chain, ASSERTION_TYP)  # type: ignore[arg-type]


# access tokens ------------------------------------------------------------------------------------------------------


def _sign(secret: bytes, data: bytes) -> bytes:
    return hmac.new(secret, data, hashlib.sha256).digest()


def issue_access_token(secret: bytes, caller: Caller, issuer: str, at: datetime, ttl: timedelta) -> str:
    header = b64url(json.dumps({"alg": "HS256", "typ": "at+jwt"}, separators=(",", ":")).encode())
    now = int(at.timestamp())
    claims = {
        "iss": issuer,
        "sub": caller.company_id,
        "aud": issuer,
        "iat": now,
        "exp": now + int(ttl.total_seconds()),
        "jti": secrets.token_urlsafe(12),
        "auth": caller.method,
        "scope": "footprint:list footprint:read",
    }
    if caller.certificates:
        claims["crt"] = [[issuer, format(serial, "x")] for issuer, serial in caller.certificates]
    if caller.client_id:
        claims["cid"], claims["gen"] = caller.client_id, caller.generation
    body = b64url(json.dumps(claims, separators=(",", ":")).encode())
    signing_input = f"{header}.{body}".encode()
    return f"{header}.{body}.{b64url(_sign(secret, signing_input))}"


class TokenExpired(Unauthenticated):
    pact_code = "TokenExpired"


def verify_access_token(secret: bytes, token: str, issuer: str, at: datetime) -> Caller:
    """The caller of a valid token; Unauthenticated (or TokenExpired) otherwise. Only our own HS256 is accepted."""
    caller, exp = _verify_access_token(secret, token, issuer)
    if exp <= int(at.timestamp()):
        raise TokenExpired("access token expired")
    return caller


def _verify_access_token(secret: bytes, token: str, issuer: str) -> tuple[Caller, int]:
    """The caller and expiry (POSIX seconds) of a token signed by ``secret`` for ``issuer``; expiry not checked."""
    try:
        header_b64, body_b64, sig_b64 = token.split(".")
        header = json.loads(b64url_decode(header_b64))
        signature = b64url_decode(sig_b64)
    except ValueError:
        raise Unauthenticated("invalid access token") from None
    expected = _sign(secret, f"{header_b64}.{body_b64}".encode())
    if header != {"alg": "HS256", "typ": "at+jwt"} or not hmac.compare_digest(expected, signature):
        raise Unauthenticated("invalid access token")
    try:
        claims = json.loads(b64url_decode(body_b64))
        if not isinstance(claims, dict) or not isinstance(claims.get("sub"), str):
            raise ValueError("no subject")
        exp = int(claims.get("exp", 0))
        certificates = tuple((str(name), int(serial, 16)) for name, serial in claims.get("crt", []))
        client_id, generation = str(claims.get("cid", "")), int(claims.get("gen", 0))
    except (ValueError, TypeError):
        raise Unauthenticated("invalid access token") from None
    if claims.get("iss") != issuer or claims.get("aud") != issuer:
        raise Unauthenticated("invalid access token")
    method = claims.get("auth", "unknown")
    caller = Caller(claims["sub"], method, certificates, client_id=client_id, generation=generation)
    return caller, exp


def revoked(trust: TrustStore | None, caller: Caller, at: datetime) -> str | None:
    """Why the certificate a token was issued on is revoked by now according to the node's current CRLs (None: not
    revoked, or a token not issued on a certificate). Checked on every use of a token, so a CRL the node reloads
    takes effect on the next call rather than when the token expires (docs/security-model.md)."""
    if trust is None:
        return None
    for issuer, serial in caller.certificates:
        reason = trust.listed_revocation(issuer, serial, at)
        if reason is not None:
            return reason
    return None


class AccessTokenCache:
    """:func:`verify_access_token` remembered per token until the token expires (one per node: secret, issuer).

    Keyed by the token's SHA-256 (a lookup can only reveal digests of tokens that were valid, never the secret or a
    signature to forge), its expiry checked on every use, so a remembered token stops working at the same second as
    an unremembered one. Only valid tokens are remembered; at most ``max_entries`` (then it starts afresh).
    """

    def __init__(self, secret: bytes, issuer: str, *, max_entries: int = 10_000) -> None:
        self._secret = secret
        self._issuer = issuer
        self._max = max_entries
        self._known: dict[bytes, tuple[Caller, int]] = {}

    def verify(self, token: str, at: datetime) -> Caller:
        digest = hashlib.sha256(token.encode()).digest()
        hit = self._known.get(digest)
        if hit is not None:
            caller, exp = hit
        else:
            caller, exp = _verify_access_token(self._secret, token, self._issuer)
            if len(self._known) >= self._max:
                self._known = {}
            self._known[digest] = (caller, exp)
        if exp <= int(at.timestamp()):
            self._known.pop(digest, None)
            raise TokenExpired("access token expired")
        return caller


class ClientStates:
    """Whether the client credential a ``client_secret_basic`` token was issued under still stands (same generation,
    not revoked), without a database read on each use.

    The state read for a client is remembered while no relevant write was committed in this process since it was
    read (:mod:`..storage.write_generation`: a rotation or revocation through this node's API is seen on the very
    next call) and for at most ``ttl`` seconds (``pact_read_cache_ttl``: the bound, as for the PACT answer cache, on
    how long a change made by another process can go unseen; 0 reads the state on every use). At most
    ``max_entries`` clients are remembered (then it starts afresh).
    """

    def __init__(self, ttl: float, *, max_entries: int = 10_000, clock: Callable[[], float] = time.monotonic) -> None:
        self.ttl = ttl
        self._max = max_entries
        self._clock = clock
        self._lock = threading.Lock()
        self._known: dict[str, tuple[int, float, tuple[int, bool] | None]] = {}

    def remembered(self, client_id: str) -> tuple[tuple[int, bool] | None] | None:
        """``((generation, revoked),)`` or ``(None,)`` (no such client) while remembered and fresh; None: read it."""
        hit = self._known.get(client_id)
        if hit is None:
            return None
        read_generation, at, state = hit
        if read_generation != write_generation.generation() or self._clock() - at >= self.ttl:
            return None
        return (state,)

    def read(self, session: Session, client_id: str) -> tuple[int, bool] | None:
        """The state from the database, remembered under the write generation taken before the read."""
        read_generation = write_generation.generation()
        state = peer_credentials.client_state(session, client_id)
        if self.ttl > 0:
            with self._lock:
                if len(self._known) >= self._max:
                    self._known = {}
                self._known[client_id] = (read_generation, self._clock(), state)
        return state

    @staticmethod
    def stands(caller: Caller, state: tuple[int, bool] | None) -> bool:
        """A token issued under the client's current generation of a client not revoked."""
        return state is not None and not state[1] and state[0] == caller.generation
