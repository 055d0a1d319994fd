"""What ``connector serve`` checks before it starts, and the TLS it serves.

A node without a signing identity cannot answer a request (nothing to sign with) and one without TLS sends bearer
tokens and API keys in clear, yet both start and answer /health; so ``serve`` refuses them unless the operator says
``--insecure-dev``, and then says so on start-up and in /health.
"""

from __future__ import annotations

import logging
import os
import secrets
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from ..config import Settings
from .common import die

if TYPE_CHECKING:
    from fastapi import FastAPI

log = logging.getLogger("connector.serve")

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


def uvicorn_options(settings: Settings) -> dict[str, Any]:
    """What every ``connector serve`` hands uvicorn, one process or several: where to listen, TLS, and no trust in
    ``X-Forwarded-For`` (uvicorn's default trusts it from loopback; the node's own middleware honours it only from
    ``settings.trusted_proxies``, api/app.py)."""
    return {
        "host": settings.listen_host,
        "port": settings.listen_port,
        "log_level": "info",
        "timeout_graceful_shutdown": 3,
        "proxy_headers": False,
        **tls_options(settings),
    }


def check_tls(settings: Settings) -> None:
    """Refuse TLS files that do not load (missing, unreadable, a key that is not the certificate's) with one line.
    uvicorn loads them in each worker of ``serve --workers N`` before the app: every worker would die at start-up
    with a traceback, not uvicorn's start-up failure status, and its supervisor would restart them forever."""
    import ssl

    options = tls_options(settings)
    if not options:
        return
    try:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(options["ssl_certfile"], options["ssl_keyfile"])
        context.set_ciphers(options["ssl_ciphers"])
    except OSError as exc:  # ssl.SSLError is an OSError
        die(f"cannot load the TLS files ({settings.tls_cert_file}, {settings.tls_key_file}): {exc}")


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

    Plain HTTP on a non-loopback address also needs CONNECTOR_ALLOW_INSECURE_HTTP, as before; TLS files that do
    not load are refused (:func:`check_tls`).
    """
    check_tls(settings)
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


WORKER_DATA_DIR = "CONNECTOR_SERVE_WORKER_DATA_DIR"
WORKER_INSECURE_DEV = "CONNECTOR_SERVE_WORKER_INSECURE_DEV"
"""How ``connector serve --workers N`` tells its worker processes which node they serve (they are started by
uvicorn, which calls :func:`worker_app` in each): the data dir, and whether --insecure-dev was given (the flag only:
the parent always sets it)."""


WORKER_START_SECONDS = 30
"""How long the supervisor waits for a worker to answer its health check (uvicorn's 5 s killed workers that were
merely slow to start on a loaded two-core machine, and started them again)."""


def serve_workers(settings: Settings, workers: int, insecure_dev: bool) -> None:
    """Run ``workers`` processes of the node on one listening socket (uvicorn's supervisor: it restarts a worker
    that dies, and on SIGINT/SIGTERM stops them all gracefully). Without a configured token secret, one random
    secret is made here and handed to every worker: a PACT access token or a console cookie issued by one worker
    holds on the others.

    uvicorn's supervisor also stops every worker, and ends, when one fails to start (exit status
    ``STARTUP_FAILURE``: a broken app would fail the same way on each restart), yet ``uvicorn.run`` then returns
    as after a clean stop and the process exits 0. So the supervisor is run here as ``uvicorn.run`` runs it, and
    its workers' exit statuses are read once it ends: a worker that failed to start ends ``serve`` with that
    status (3, as uvicorn's own single-process start-up failure) and a line on stderr, so that a service manager
    sees a failed node, not one that stopped cleanly."""
    from uvicorn import Config
    from uvicorn.config import STARTUP_FAILURE
    from uvicorn.supervisors import Multiprocess

    from ..storage.db import create_schema, make_engine
    from .node import node_identity

    node_identity(settings)  # what would stop every worker stops here, once: the identity files, the database
    engine = make_engine(str(settings.database_url))
    create_schema(engine)  # migrated once, before the workers start
    engine.dispose()
    os.environ[WORKER_DATA_DIR] = str(settings.data_dir.resolve())
    os.environ[WORKER_INSECURE_DEV] = "1" if insecure_dev else "0"
    if settings.token_secret is None:
        os.environ["CONNECTOR_TOKEN_SECRET"] = secrets.token_urlsafe(32)
    config = Config(
        f"{__name__}:worker_app",
        factory=True,
        workers=workers,
        timeout_worker_healthcheck=WORKER_START_SECONDS,
        **uvicorn_options(settings),
    )
    supervisor = Multiprocess(config, sockets=[config.bind_socket()])
    supervisor.run()
    failed = [p.pid for p in supervisor.processes if p.exitcode == STARTUP_FAILURE]
    if failed:
        typer.echo(
            f"error: worker process{'es' if len(failed) > 1 else ''} {', '.join(map(str, failed))} failed to start "
            "(the reason is logged above); every worker was stopped and the node is not serving",
            err=True,
        )
        raise typer.Exit(STARTUP_FAILURE)


def worker_app() -> FastAPI:
    """The app of one worker process of ``connector serve --workers N``: the node of the data dir in
    ``CONNECTOR_SERVE_WORKER_DATA_DIR``, claimed as ``serve`` claims it (a worker slot: its own outbox lease holder
    id; the one on slot 0 polls the Ouranos platforms)."""
    from uvicorn.config import STARTUP_FAILURE

    try:
        return _worker_app()
    except SystemExit:  # a refusal, already said on stderr
        sys.exit(STARTUP_FAILURE)  # uvicorn's supervisor then stops, instead of restarting the worker forever
    except Exception:
        log.exception("worker of connector serve failed to start")
        sys.exit(STARTUP_FAILURE)


def _worker_app() -> FastAPI:
    from .. import runtime
    from ..api.app import create_app
    from ..storage.private import secure_folder
    from .node import node_identity, node_settings

    if WORKER_DATA_DIR not in os.environ:
        die(f"{WORKER_DATA_DIR} is unset: worker_app is started by `connector serve --workers N`")
    settings = node_settings(Path(os.environ[WORKER_DATA_DIR]))
    settings = settings.model_copy(update={"insecure_dev": os.environ.get(WORKER_INSECURE_DEV) == "1"})
    holder = runtime.claim_process(settings)
    secure_folder(settings.data_dir)
    return create_app(settings, identity=node_identity(settings), lease_holder=holder, freeze_heap=True)
