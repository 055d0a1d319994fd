"""A plain clone stands on its own: nothing it tracks points outside it, and the example chain ships inside it.

The clone is of the last commit, as CI and a user get it (work not yet committed is not looked at).
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from connector.demo.chains import DEFAULT_CHAIN

ROOT = Path(__file__).resolve().parents[2]

# A path into a sibling folder of the checkout (the developers' material folder, SIBLING below), or an absolute
# path of one machine. The names are put together here rather than written out, so this file does not contain
# what it looks for.
SIBLING = "sha" + "red"
MACHINE_ROOTS = ("work", "root", "home")
OUTSIDE = re.compile(
    rf"(?:\.\./)+{SIBLING}\b|\b{SIBLING}/(?:fixtures|reference|design)\b"
    + "".join(f"|/{root}/" for root in MACHINE_ROOTS)
    + rf"""|/\s*["']{SIBLING}["']\s*/"""  # the same path built with pathlib: ... / ".." / SIBLING / "fixtures"
)


@pytest.fixture(scope="module")
def clone(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if shutil.which("git") is None or not (ROOT / ".git").exists():
        pytest.skip("not a git checkout")
    target = tmp_path_factory.mktemp("empty") / "clone"
    subprocess.run(["git", "clone", "-q", "--no-hardlinks", str(ROOT), str(target)], check=True, timeout=120)
    return target


def _tracked(clone: Path) -> list[Path]:
    names = subprocess.run(["git", "-C", str(clone), "ls-files", "-z"], capture_output=True, check=True).stdout
    return [clone / n for n in names.decode().split("\0") if n]


def test_no_tracked_file_refers_to_a_path_outside_the_repository(clone: Path) -> None:
    found = []
    for path in _tracked(clone):
        if path.is_symlink() or path.suffix in {".png", ".jpg", ".ico", ".gz"}:
            continue
        try:
            text = path.read_text()
        except UnicodeDecodeError:
            continue
        for number, line in enumerate(text.splitlines(), 1):
            if OUTSIDE.search(line):
                found.append(f"{path.relative_to(clone)}:{number}: {line.strip()[:100]}")
    assert found == []


def test_every_tracked_link_resolves_inside_the_clone(clone: Path) -> None:
    links = [p for p in _tracked(clone) if p.is_symlink()]
    assert clone / "examples" / "nmc811-chain.json" in links
    for link in links:
        target = link.resolve()
        assert target.is_relative_to(clone.resolve()) and target.exists(), link


def test_the_demo_chain_ships_in_the_package_and_in_examples(clone: Path) -> None:
    shipped = clone / DEFAULT_CHAIN.relative_to(ROOT)
    assert shipped.is_file() and shipped.read_bytes() == (clone / "examples" / "nmc811-chain.json").read_bytes()
    pyproject = (clone / "pyproject.toml").read_text()
    assert '"demo/chains/*.json"' in pyproject  # package data: a pip install has the chain too
    # and the files its customers enter for the suppliers without a node (connector demo --without-node)
    assert '"demo/chains/*-without-node/*"' in pyproject
    folder = clone / "examples" / "nmc811-without-node"
    assert folder.is_symlink() and sorted(p.name for p in folder.iterdir()) == sorted(
        p.name for p in (shipped.parent / "nmc811-without-node").iterdir()
    )


def test_the_pattern_catches_what_it_is_for() -> None:
    for line in (
        f"connector import ../{SIBLING}/fixtures/nmc811-chain.json",
        f"see {SIBLING}/reference/pact.md",
        f"PATH=/{MACHINE_ROOTS[0]}/main/.venv",
        f"${{FIXTURES_DIR:-../../{SIBLING}/fixtures}}",
        f'FIXTURE = Path(__file__).parents[2] / ".." / "{SIBLING}" / "fixtures" / "x.json"',
    ):
        assert OUTSIDE.search(line), line
    for line in ("examples/nmc811-chain.json", "a shared box", "shared by two processes"):
        assert not OUTSIDE.search(line), line
