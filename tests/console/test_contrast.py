"""The console's palette meets WCAG 2.1 AA contrast (4.5:1 for text) on every pair the stylesheet uses."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import connector.console

CSS = Path(connector.console.__file__).parent / "static" / "console.css"

TEXT_PAIRS = [
    ("fg", "bg"), ("muted", "bg"), ("link", "bg"), ("fg", "panel"), ("muted", "panel"), ("link", "panel"),
    ("on-primary", "primary"), ("primary", "bg"), ("on-danger", "danger"), ("ok", "ok-bg"), ("warn", "warn-bg"),
    ("bad", "bad-bg"), ("bad", "bg"), ("muted", "panel"),
]  # fmt: skip
"""(text colour, background) as the stylesheet combines them: body text, hints, links, buttons, notices, states."""
GRAPHIC_PAIRS = [("stage-raw", "bg"), ("stage-main", "bg"), ("stage-dist", "bg"), ("stage-eol", "bg"), ("focus", "bg")]
"""Chart bars and the focus ring against the page: WCAG 1.4.11, 3:1 for graphical objects."""


def palette() -> dict[str, str]:
    return dict(re.findall(r"--([a-z-]+):\s*(#[0-9a-fA-F]{6})", CSS.read_text()))


def luminance(colour: str) -> float:
    def channel(c: int) -> float:
        s = c / 255
        return s / 12.92 if s <= 0.03928 else ((s + 0.055) / 1.055) ** 2.4

    r, g, b = (int(colour[i : i + 2], 16) for i in (1, 3, 5))
    return 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b)


def ratio(a: str, b: str) -> float:
    high, low = sorted((luminance(a), luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def test_the_formula() -> None:
    assert ratio("#000000", "#ffffff") == pytest.approx(21)
    assert ratio("#777777", "#ffffff") == pytest.approx(4.48, abs=0.01)  # the classic near miss


@pytest.mark.parametrize(("text", "background"), TEXT_PAIRS)
def test_text_contrast(text: str, background: str) -> None:
    colours = palette()
    assert ratio(colours[text], colours[background]) >= 4.5, (text, background)


@pytest.mark.parametrize(("shape", "background"), GRAPHIC_PAIRS)
def test_graphics_contrast(shape: str, background: str) -> None:
    colours = palette()
    assert ratio(colours[shape], colours[background]) >= 3, (shape, background)
