"""Example supply chains shipped with the package (the demo's default is the 8-company NMC811 chain).

The repository's ``examples/`` folder links to the same files, so a clone and a ``pip install`` see one copy.
Beside a chain ``NAME-chain.json`` may lie ``NAME-catenax-passport.json``: the automaker's Catena-X battery passport
without the carbon footprint, which the demo completes with the declaration's (decision 0010).
"""

from __future__ import annotations

from pathlib import Path

HERE = Path(__file__).resolve().parent
DEFAULT_CHAIN = HERE / "nmc811-chain.json"


def catenax_passport_of(chain: Path) -> Path | None:
    """The automaker's Catena-X passport beside ``chain`` (``NAME-chain.json`` -> ``NAME-catenax-passport.json``)."""
    stem = chain.name.removesuffix(".json").removesuffix("-chain")
    passport = chain.with_name(f"{stem}-catenax-passport.json")
    return passport if passport.is_file() else None
