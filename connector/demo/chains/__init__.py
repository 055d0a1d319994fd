"""Example supply chains shipped with the package (the demo's default is the 8-company NMC811 chain).

The repository's ``examples/`` folder links to the same files, so a clone and a ``pip install`` see one copy.
"""

from __future__ import annotations

from pathlib import Path

HERE = Path(__file__).resolve().parent
DEFAULT_CHAIN = HERE / "nmc811-chain.json"
