"""What ``connector serve`` checks before it starts, and the TLS it serves.

A node without a signing identity cannot answer a request (nothing to sign with) and one without TLS sends bearer
tokens and API keys in clear, yet both start and answer /health; so ``serve`` refuses them unless the operator says
``--insecure-dev``, and then says so on start-up and in /health.
"""

from __future__ import annotations

from typing import Any

from ..config import Settings
from .common import die

TLS12_CIPHERS = "ECDHE+AESGCM:ECDHE+CHACHA20"
"""TLS 1.2 suites the node offers: forward secrecy (ECDHE) and AEAD only, so no CBC and no RSA key exchange.
OpenSSL keeps its TLS 1.3 suites (all AEAD) whatever this string says."""


def tls_options(settings: Settings) -> dict[str, Any]:
    """uvicorn's TLS arguments: the node's certificate and key, and the cipher list above; none without TLS files."""
    if not (settings.tls_cert_file and settings.tls_key_file):
        return {}
    return {
        "ssl_certfile": str(settings.tls_cert_file),
        "ssl_keyfile": str(settings.tls_key_file),
        "ssl_ciphers": TLS12_CIPHERS,
    }


def unsafe_reasons(settings: Settings) -> list[str]:
    """What makes this node unfit for a dataspace."""
    reasons = []
    if not (settings.key_file and settings.cert_file):
        reasons.append("no signing identity (key_file and cert_file unset)")
    if not tls_options(settings) and not settings.public_url.startswith("https://"):
        reasons.append("no TLS (tls_cert_file and tls_key_file unset, and public_url is not https:// behind a proxy)")
    return reasons


def check_serve(settings: Settings, insecure_dev: bool) -> list[str]:
    """Refuse to start an unsafe node unless ``insecure_dev``; return the warnings to show when it starts anyway.

    Plain HTTP on a non-loopback address also needs CONNECTOR_ALLOW_INSECURE_HTTP, as before.
    """
    reasons = unsafe_reasons(settings)
    if reasons and not insecure_dev:
        die(
            f"refusing to serve: {'; '.join(reasons)}. Configure them (see docs/deployment-guide.md) or pass "
            "--insecure-dev for a local development node"
        )
    if not tls_options(settings) and not settings.allow_insecure_http and not settings.listen_host.startswith("127."):
        die("refusing plain HTTP on a non-loopback address; set TLS files or CONNECTOR_ALLOW_INSECURE_HTTP")
    if not insecure_dev:
        return []
    return [
        f"INSECURE DEVELOPMENT MODE (--insecure-dev): {'; '.join(reasons) or 'flag given'}. "
        "Never use this node in a dataspace."
    ]
