"""Every relative link in the repository's markdown files resolves: the file exists, and its #anchor is a heading.

Anchors follow GitHub's rendering (github-slugger): the heading's text lower-cased, every character but letters,
marks, digits, ``_``, ``-`` and spaces dropped, spaces turned into ``-``, a repeated slug suffixed ``-1``, ``-2``...
Japanese headings keep their characters, as on GitHub.
"""

from __future__ import annotations

import re
import subprocess
import unicodedata
from functools import cache
from pathlib import Path
from urllib.parse import unquote

import pytest

ROOT = Path(__file__).resolve().parents[2]

FENCE = re.compile(r"^\s*(```|~~~)")
HEADING = re.compile(r"^\s{0,3}(#{1,6})\s+(.*?)\s*#*\s*$")
# [text](target) and ![alt](target); the target ends at whitespace (a title may follow) or the closing parenthesis
INLINE_LINK = re.compile(r"!?\[(?:[^\[\]]|\[[^\]]*\])*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
REFERENCE_DEFINITION = re.compile(r"^\s{0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s+.*)?$")
HTML_ANCHOR = re.compile(r"<a\s+(?:[^>]*\s)?(?:id|name)=[\"']([^\"']+)[\"']", re.IGNORECASE)
INLINE_CODE = re.compile(r"(`+)(.+?)\1")


def _markdown_files() -> list[Path]:
    try:
        names = subprocess.run(
            ["git", "-C", str(ROOT), "ls-files", "-z", "*.md"], capture_output=True, check=True, timeout=60
        ).stdout
    except (OSError, subprocess.CalledProcessError):
        return sorted(p for p in ROOT.rglob("*.md") if ".venv" not in p.parts and "node_modules" not in p.parts)
    return sorted(ROOT / n for n in names.decode().split("\0") if n and (ROOT / n).is_file())


def _prose_lines(text: str) -> list[tuple[int, str]]:
    """The lines outside fenced code blocks, with their numbers."""
    lines, fenced = [], False
    for number, line in enumerate(text.splitlines(), 1):
        if FENCE.match(line):
            fenced = not fenced
            continue
        if not fenced:
            lines.append((number, line))
    return lines


def slug(heading: str) -> str:
    """GitHub's anchor for a heading's markdown text."""
    text = INLINE_CODE.sub(lambda m: m.group(2), heading)
    text = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", text)  # a link's text only
    text = re.sub(r"<[^>]+>", "", text)  # inline HTML
    text = re.sub(r"(?<!\w)_+|_+(?!\w)", "", text)  # _emphasis_ (a * is dropped below as punctuation)
    kept = []
    for char in text.lower():
        category = unicodedata.category(char)
        if char in {"-", "_", " "} or category[0] in {"L", "M", "N"}:
            kept.append(char)
    return "".join(kept).replace(" ", "-")


@cache
def anchors(path: Path) -> frozenset[str]:
    found: set[str] = set()
    seen: dict[str, int] = {}
    for _, line in _prose_lines(path.read_text(encoding="utf-8")):
        found.update(HTML_ANCHOR.findall(line))
        heading = HEADING.match(line)
        if heading is None:
            continue
        base = slug(heading.group(2))
        count = seen.get(base, 0)
        seen[base] = count + 1
        found.add(base if count == 0 else f"{base}-{count}")
    return frozenset(found)


def _links(path: Path) -> list[tuple[int, str]]:
    links = []
    for number, line in _prose_lines(path.read_text(encoding="utf-8")):
        prose = INLINE_CODE.sub("", line)  # `[x](y)` in inline code is an example, not a link
        links += [(number, target) for target in INLINE_LINK.findall(prose)]
        definition = REFERENCE_DEFINITION.match(prose)
        if definition:
            links.append((number, definition.group(1)))
    return links


def broken_links(path: Path, root: Path = ROOT) -> list[str]:
    broken = []
    for number, target in _links(path):
        if re.match(r"^[a-z][a-z0-9+.-]*:", target, re.IGNORECASE) or target.startswith("//"):
            continue  # https:, mailto:, ...: not a file of the repository
        file_part, _, anchor = target.partition("#")
        where = f"{path.relative_to(root)}:{number}: {target}"
        linked = (path.parent / unquote(file_part)).resolve() if file_part else path
        if not linked.exists():
            broken.append(f"{where} (no such file)")
            continue
        if not linked.is_relative_to(root.resolve()):
            broken.append(f"{where} (outside the repository)")
            continue
        if anchor and linked.suffix == ".md" and unquote(anchor) not in anchors(linked):
            broken.append(f"{where} (no such heading)")
    return broken


MARKDOWN = _markdown_files()


def test_the_repository_has_markdown_to_check() -> None:
    names = {p.relative_to(ROOT).as_posix() for p in MARKDOWN}
    assert {"README.md", "docs/quickstart.md", "docs/operator-guide.md"} <= names


@pytest.mark.parametrize("path", MARKDOWN, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_every_relative_link_resolves(path: Path) -> None:
    assert broken_links(path) == []


@pytest.mark.parametrize(
    ("heading", "anchor"),
    [
        ("1. Join a dataspace", "1-join-a-dataspace"),
        ("The `connector verify` command", "the-connector-verify-command"),
        ("Reading coverage (Art. 7)", "reading-coverage-art-7"),
        ("Keys, rotation & revocation", "keys-rotation--revocation"),
        ("[The demo](x.md)", "the-demo"),
        ("クイックスタート（日本語）", "クイックスタート日本語"),
    ],
)
def test_slug_follows_github(heading: str, anchor: str) -> None:
    assert slug(heading) == anchor


def test_a_broken_link_and_a_missing_heading_are_reported(tmp_path: Path) -> None:
    root = tmp_path.resolve()
    (root / "b.md").write_text("# Here\n\n## Twice\n\n## Twice\n", encoding="utf-8")
    page = root / "a.md"
    page.write_text(
        "[ok](b.md#here) [second](b.md#twice-1) [gone](c.md) [nowhere](b.md#there) [up](../x.md)\n"
        "```\n[in a code block](d.md)\n```\n`[inline code](e.md)` [web](https://example.org/x.md)\n",
        encoding="utf-8",
    )
    (tmp_path.parent / "x.md").touch()
    assert broken_links(page, root) == [
        "a.md:1: c.md (no such file)",
        "a.md:1: b.md#there (no such heading)",
        "a.md:1: ../x.md (outside the repository)",
    ]
