"""``connector demo --without-node``: which companies may go without a node, the files their customers enter, and the
sentence (not a traceback) for a choice that cannot work."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from connector.cli.main import app
from connector.demo.dataspace import DemoDataspace
from connector.demo.entered import RECORD_PATH, WithoutNodeError, entered_suppliers, without_node_folder_of
from tests.conftest import FIXTURE_FILE

NICKEL = "urn:pact:sulawesi-nickel.example:company:sulawesi-nickel"
GRAPHITE = "urn:pact:inner-graphite.example:company:inner-graphite"


@pytest.fixture
def chain() -> dict:
    return json.loads(FIXTURE_FILE.read_text())


def test_the_shipped_files_are_found_beside_the_chain_by_company(chain: dict) -> None:
    found = entered_suppliers(FIXTURE_FILE, chain, [" sulawesi-nickel", GRAPHITE, ""])
    assert [(s.slug, s.source_kind, s.file.name) for s in found] == [
        ("inner-graphite", "document", "inner-graphite.value.json"),
        ("sulawesi-nickel", "pact-file", "sulawesi-nickel.pact.json"),
    ]
    assert all(s.file.parent == without_node_folder_of(FIXTURE_FILE) for s in found)
    graphite = found[0]
    assert (
        graphite.command()
        == "connector record-upstream inner-graphite.value.json --document inner-graphite.document.txt"
    )
    path, body = graphite.request()
    sent = json.loads(body)
    assert path == RECORD_PATH and sent["mediaType"] == "text/plain"
    assert base64.b64decode(sent["document"]) == graphite.document.read_bytes()  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("name", "said"),
    [
        ("nippon-motors", "must run a node (it declares"),
        ("kyushu-pack", "must run a node (it makes the pack"),
        ("nobody", "no company 'nobody' in the chain"),
        ("andes-lithium", "no value to enter for Andes Lithium Refining S.A.: put andes-lithium.pact.json"),
    ],
)
def test_a_company_that_cannot_go_without_a_node_is_said_in_a_sentence(chain: dict, name: str, said: str) -> None:
    with pytest.raises(WithoutNodeError) as caught:
        entered_suppliers(FIXTURE_FILE, chain, [name])
    assert said in str(caught.value)


def test_a_company_whose_every_customer_runs_no_node_is_refused(chain: dict) -> None:
    with pytest.raises(WithoutNodeError, match="no customer of Sulawesi Nickel Chemicals PT runs a node"):
        entered_suppliers(FIXTURE_FILE, chain, ["sulawesi-nickel", "kansai-precursor"])


def test_the_demo_command_stops_with_the_sentence_before_starting_anything(tmp_path: Path) -> None:
    out = tmp_path / "demo"
    result = CliRunner(env={"COLUMNS": "300"}).invoke(app, ["demo", "--out", str(out), "--without-node", "kyushu-pack"])
    assert result.exit_code == 1, result.output
    assert "demo stopped: --without-node: Kyushu Battery Systems Corp. must run a node" in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert not out.exists()


def test_no_node_folder_or_partner_url_for_a_company_without_a_node(chain: dict, tmp_path: Path) -> None:
    space = DemoDataspace(FIXTURE_FILE, tmp_path / "demo")
    space.without_node = entered_suppliers(FIXTURE_FILE, chain, ["sulawesi-nickel", "inner-graphite"])
    space.prepare()
    assert NICKEL not in space.nodes and GRAPHITE not in space.nodes and len(space.nodes) == 7
    assert not (tmp_path / "demo" / "nodes" / "sulawesi-nickel").exists()
    keys = json.loads((tmp_path / "demo" / "nodes" / "api-keys.json").read_text())
    assert NICKEL not in keys and GRAPHITE not in keys
