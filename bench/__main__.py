"""``python -m bench [--quick] [--only NAME] [--json out.json]``: run the benchmarks, print tables, save JSON.

Names: attestation, verification, propagation, pact_api, catenax_api, ouranos_api, calculation, console. Never
part of the test suite's timing; tests/unit/test_bench_smoke.py only runs each once at its smallest size.
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # tests.pki and tests.integration.network are imported from the repository
    sys.path.insert(0, str(ROOT))

from .common import console, machine  # noqa: E402

NAMES = [
    "attestation",
    "verification",
    "propagation",
    "pact_api",
    "catenax_api",
    "ouranos_api",
    "calculation",
    "console",
]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="smaller sizes and fewer repetitions")
    parser.add_argument("--only", action="append", choices=NAMES, help="run only this benchmark (repeatable)")
    parser.add_argument("--json", type=Path, help="write every row (and the machine) to this file")
    args = parser.parse_args(argv)
    info = machine()
    console.print(f"[bold]machine[/]: {info['nproc']} CPU ({info['cpu']}), {info['memory']}, Python {info['python']}")
    out: dict[str, object] = {"machine": info, "quick": args.quick, "results": {}}
    for name in args.only or NAMES:
        module = importlib.import_module(f"bench.{name}")
        t0 = time.perf_counter()
        rows = module.run(quick=args.quick)
        module.show(rows)
        console.print(f"[dim]{name}: {time.perf_counter() - t0:.1f} s[/]")
        out["results"][name] = [r.as_dict() for r in rows]  # type: ignore[index]
    if args.json:
        args.json.write_text(json.dumps(out, indent=2, default=str))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
