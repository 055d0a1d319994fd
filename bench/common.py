"""Shared helpers: timing (median of repetitions), result rows, rich tables, machine description."""

from __future__ import annotations

import os
import platform
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

from rich.console import Console
from rich.table import Table

console = Console(width=150)


@dataclass
class Row:
    """One measured figure, the floor it is compared with, and their ratio (>1 means faster than the floor for
    rates; for times the ratio is floor/measured so that it reads the same way: 1.0 = at the floor)."""

    benchmark: str
    case: str
    measured: float
    unit: str
    floor: float | None = None
    floor_label: str = ""
    ratio: float | None = None
    target: str = ""
    met: bool | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def timed(fn: Callable[[], Any], repeat: int = 5, warmup: int = 1) -> tuple[float, list[float]]:
    """Median wall time (s) of ``repeat`` calls after ``warmup`` calls, and all the samples."""
    for _ in range(warmup):
        fn()
    samples = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - t0)
    return statistics.median(samples), samples


def rate(fn: Callable[[], Any], n: int, repeat: int = 5, warmup: int = 1) -> float:
    """Operations per second when ``fn`` performs ``n`` operations (median of ``repeat``)."""
    median, _ = timed(fn, repeat, warmup)
    return n / median


def paired_rates(
    measured: Callable[[], Any], floor: Callable[[], Any], n: int, rounds: int = 7, warmup: int = 1
) -> tuple[float, float, float]:
    """(rate, floor rate, ratio) when each call performs ``n`` operations, the two timed in alternating rounds
    (measured, floor, measured, floor ...): the ratio is the median of the rounds' ratios, so a change of load on
    the box during the run weighs on both sides alike; the rates are the medians of their rounds."""
    for _ in range(warmup):
        measured()
        floor()
    ours, base = [], []
    for _ in range(rounds):
        for fn, samples in ((measured, ours), (floor, base)):
            t0 = time.perf_counter()
            fn()
            samples.append(time.perf_counter() - t0)
    ratio = statistics.median(b / o for o, b in zip(ours, base, strict=True))
    return n / statistics.median(ours), n / statistics.median(base), ratio


def fmt(value: float | None, unit: str = "") -> str:
    if value is None:
        return "-"
    if unit in ("s",) and value < 1:
        return f"{value * 1000:.1f} ms"
    if abs(value) >= 100:
        text = f"{value:,.0f}"
    elif abs(value) >= 1:
        text = f"{value:.2f}"
    else:
        text = f"{value:.3f}"
    return f"{text} {unit}".strip()


def print_table(title: str, rows: list[Row]) -> None:
    table = Table(title=title, title_justify="left")
    for col in ("case", "measured", "floor", "ratio", "target"):
        table.add_column(col, justify="left" if col in ("case", "target") else "right")
    for r in rows:
        floor = f"{fmt(r.floor, r.unit)} ({r.floor_label})" if r.floor is not None else r.floor_label or "-"
        target = r.target
        if r.met is not None:
            target = f"{target} [{'green' if r.met else 'red'}]{'met' if r.met else 'MISSED'}[/]"
        table.add_row(r.case, fmt(r.measured, r.unit), floor, f"{r.ratio:.2f}" if r.ratio is not None else "-", target)
    console.print(table)


def machine() -> dict[str, Any]:
    model = "?"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    mem = "?"
    try:
        with open("/proc/meminfo") as f:
            kb = int(f.readline().split()[1])
            mem = f"{kb / 1024 / 1024:.1f} GiB"
    except (OSError, ValueError, IndexError):
        pass
    return {
        "nproc": os.cpu_count(),
        "cpu": model,
        "memory": mem,
        "python": sys.version.split()[0],
        "platform": platform.platform(),
    }
