"""The demo dataspace's ports: every node its own, and a node never taken as healthy when another answers for it."""

from __future__ import annotations

import asyncio
import json
import ssl
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from connector.demo import dataspace
from connector.demo.dataspace import DemoDataspace, DemoError
from tests.conftest import FIXTURE_FILE


class _ReusingKernel:
    """A socket whose ``bind(port 0)`` picks the lowest port not bound at that moment: as a kernel may (Linux picks
    at random), it hands out again a port that was released."""

    bound: set[int] = set()

    def __init__(self) -> None:
        self.port = 0

    def bind(self, address: tuple[str, int]) -> None:
        port = 40001
        while port in self.bound:
            port += 2
        self.port = port
        self.bound.add(port)

    def getsockname(self) -> tuple[str, int]:
        return ("127.0.0.1", self.port)

    def close(self) -> None:
        self.bound.discard(self.port)

    def __enter__(self) -> _ReusingKernel:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


def test_every_node_gets_its_own_port_even_from_a_kernel_that_reuses_released_ones(
    tmp_path: Path, monkeypatch: Any
) -> None:
    monkeypatch.setattr(dataspace, "socket", SimpleNamespace(socket=_ReusingKernel))
    space = DemoDataspace(FIXTURE_FILE, tmp_path / "demo")
    space.prepare()
    ports = [node.port for node in space.nodes.values()]
    assert len(ports) > 2 and len(set(ports)) == len(ports)
    written = {json.loads((n.data_dir / "node.json").read_text())["listen_port"] for n in space.nodes.values()}
    assert written == set(ports)


@pytest.fixture
def space(tmp_path: Path) -> DemoDataspace:
    space = DemoDataspace(FIXTURE_FILE, tmp_path / "demo")
    space.prepare()
    return space


@contextmanager
def _serve_health(space: DemoDataspace, port: int, company_id: str) -> Iterator[None]:
    """An HTTPS /health on ``port`` that answers as ``company_id`` (the demo CA's TLS certificate)."""

    class Health(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - http.server's name
            body = json.dumps({"status": "ok", "companyId": company_id}).encode()
            self.send_response(200)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", port), Health)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(space.ca_dir / "tls.chain.pem", space.ca_dir / "tls.key")
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield
    finally:
        server.shutdown()
        server.server_close()


def test_a_port_answered_by_another_node_is_not_taken_for_a_healthy_node(space: DemoDataspace) -> None:
    first, second = list(space.nodes.values())[:2]
    with _serve_health(space, first.port, second.company_id), pytest.raises(DemoError, match="answered by"):
        asyncio.run(space.wait_healthy([first.company_id], timeout=10))


def test_the_node_answering_as_itself_is_healthy(space: DemoDataspace) -> None:
    node = next(iter(space.nodes.values()))
    with _serve_health(space, node.port, node.company_id):
        asyncio.run(space.wait_healthy([node.company_id], timeout=10))


def test_a_node_that_does_not_start_in_time_is_named_with_the_end_of_its_log(space: DemoDataspace) -> None:
    node = next(iter(space.nodes.values()))
    (node.data_dir / "node.log").write_text("starting\n" + "".join(f"line {i}\n" for i in range(40)) + "stuck here\n")
    with pytest.raises(DemoError) as caught:
        asyncio.run(space.wait_healthy([node.company_id], timeout=0.3))
    message = str(caught.value)
    assert node.name in message and "--timeout" in message
    assert "stuck here" in message and "line 39" in message and "starting" not in message  # the last lines only


def test_run_demo_reports_a_start_up_timeout_in_a_sentence_not_a_traceback(tmp_path: Path, monkeypatch) -> None:
    from io import StringIO

    from rich.console import Console

    from connector.demo import run

    monkeypatch.setattr(DemoDataspace, "start_all", lambda self: None)  # nothing answers /health
    out = StringIO()
    ok = run.run_demo(FIXTURE_FILE, tmp_path / "demo", Console(file=out, width=200), timeout=0.5)
    text = out.getvalue()
    assert ok is False
    assert "demo stopped" in text and "did not answer /health within 0.5 s" in text and "Traceback" not in text


def test_every_company_gets_a_console_login_that_works(space: DemoDataspace) -> None:
    """`connector demo --keep` prints each node's console URL and login: the login exists in that node's database."""
    from sqlmodel import Session

    from connector.config import Settings
    from connector.services import accounts
    from connector.services.context import NodeContext
    from connector.storage.db import make_engine

    listed = json.loads((space.out / "nodes" / "api-keys.json").read_text())
    for node in space.nodes.values():
        entry = listed[node.company_id]
        assert entry["console"] == f"{node.url}/console/" and entry["login"] == node.console_login
        settings = Settings(**json.loads((node.data_dir / "node.json").read_text()), data_dir=node.data_dir)
        engine = make_engine(str(settings.database_url))
        with Session(engine) as session:
            user = accounts.authenticate(NodeContext(session, settings), entry["login"], entry["password"])
            assert user.role == ("verifier" if node.role == "verifier" else "editor")
        engine.dispose()


def test_demo_keep_prints_whole_console_urls_and_logins_on_a_narrow_terminal(space: DemoDataspace) -> None:
    from rich.console import Console

    from connector.demo.run import _print_nodes

    narrow = Console(width=40, record=True)
    _print_nodes(space, narrow)
    text = narrow.export_text()
    for node in space.nodes.values():
        assert f"{node.url}/console/" in text
        assert node.console_login in text and node.console_password in text and node.api_key in text
