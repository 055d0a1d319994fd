"""Suppliers without a node in the demo (issue 17): which companies run none, and what their customers enter instead.

``connector demo --without-node sulawesi-nickel,inner-graphite`` runs no node for those companies. Each of their
customers holds the supplier's value as an entered one, from the files in ``NAME-without-node/`` beside the chain
``NAME-chain.json``, one set per company (named by the last part of its id):

- ``<company>.pact.json``: the supplier's footprint file (PACT v3, or a Catena-X PCF), imported as
  ``connector import-footprint FILE`` and ``POST /upstream-footprints/import`` do;
- ``<company>.value.json`` and ``<company>.document.<ext>``: a value typed from the supplier's document, recorded
  with the document as ``connector record-upstream VALUE --document DOCUMENT`` and ``POST /upstream-footprints`` do.
"""

from __future__ import annotations

import base64
import json
import mimetypes
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from .chain import customers_of, names_of, pack_maker_of

IMPORT_PATH = "/upstream-footprints/import"
RECORD_PATH = "/upstream-footprints"


class WithoutNodeError(Exception):
    """A company that cannot go without a node, or has no files to enter in its place, said in a sentence."""


@dataclass(frozen=True)
class EnteredSupplier:
    """A company of the chain that runs no node, and the files its customers enter its value from."""

    company_id: str
    name: str
    customers: tuple[str, ...]
    """The companies that buy from it, each entering the value on its own node."""
    source_kind: str
    """``pact-file`` (a footprint file imported) or, for a typed value, its ``sourceKind`` (``document``)."""
    file: Path
    """The footprint file, or the typed value (the body of ``POST /upstream-footprints``)."""
    document: Path | None = None
    """The document the value was typed from (``document`` only)."""

    @property
    def slug(self) -> str:
        return self.company_id.rsplit(":", 1)[-1]

    def command(self) -> str:
        """The CLI command its customer's operator would run for the same entry."""
        if self.document is None:
            return f"connector import-footprint {self.file.name}"
        return f"connector record-upstream {self.file.name} --document {self.document.name}"

    def request(self) -> tuple[str, bytes]:
        """The operator API call its customer's node gets: (path, JSON body), posted as ``application/json``."""
        if self.document is None:
            return IMPORT_PATH, self.file.read_bytes()
        body = json.loads(self.file.read_text())
        body["document"] = base64.b64encode(self.document.read_bytes()).decode()
        body.setdefault("mediaType", media_type_of(self.document))
        return RECORD_PATH, json.dumps(body).encode()


async def enter(client: httpx.AsyncClient, supplier: EnteredSupplier, customer: str) -> None:
    """Enter ``supplier``'s value on its ``customer``'s node (``client``: that node's operator API)."""
    path, body = supplier.request()
    r = await client.post(path, content=body, headers={"content-type": "application/json"})
    if r.is_error:
        raise WithoutNodeError(
            f"{customer} refused {supplier.name}'s value ({supplier.command()}): {r.status_code} {r.text[:500]}"
        )


def media_type_of(document: Path) -> str:
    """A document's media type from its name, as ``connector record-upstream`` guesses it."""
    return mimetypes.guess_type(document.name)[0] or "application/octet-stream"


def without_node_folder_of(chain: Path) -> Path:
    """``NAME-without-node/`` beside the chain ``NAME-chain.json``."""
    stem = chain.name.removesuffix(".json").removesuffix("-chain")
    return chain.with_name(f"{stem}-without-node")


def _company_id(document: dict[str, Any], name: str) -> str:
    ids = [c["companyId"] for c in document["companies"]]
    found = [cid for cid in ids if name in (cid, cid.rsplit(":", 1)[-1])]
    if not found:
        slugs = ", ".join(cid.rsplit(":", 1)[-1] for cid in ids)
        raise WithoutNodeError(f"--without-node: no company {name!r} in the chain (its companies: {slugs})")
    return found[0]


def entered_suppliers(chain: Path, document: dict[str, Any], names: Sequence[str]) -> list[EnteredSupplier]:
    """The companies named (ids or their last part) as suppliers without a node, with their files; a company that
    must run a node (the automaker, the pack maker: the declaration needs the pack's attestation) or has no files
    is a :class:`WithoutNodeError`."""
    folder = without_node_folder_of(chain)
    company_names = names_of(document)
    customers = customers_of(document)
    must_run = {document["declaration"]["issuerCompanyId"]: "it declares", pack_maker_of(document): "it makes the pack"}
    found: list[EnteredSupplier] = []
    chosen = {_company_id(document, n.strip()) for n in names if n.strip()}
    buyers: dict[str, tuple[str, ...]] = {}
    for cid in sorted(chosen):  # first what no file can mend
        name = company_names[cid]
        if cid in must_run:
            raise WithoutNodeError(
                f"--without-node: {name} must run a node ({must_run[cid]}: the declaration rests on the pack's "
                "attestation)"
            )
        buyers[cid] = tuple(sorted(c for c in customers.get(cid, ()) if c not in chosen))
        if not buyers[cid]:
            raise WithoutNodeError(f"--without-node: no customer of {name} runs a node to enter its value")
    for cid in sorted(chosen):
        name = company_names[cid]
        slug = cid.rsplit(":", 1)[-1]
        pact, value = folder / f"{slug}.pact.json", folder / f"{slug}.value.json"
        documents = sorted(folder.glob(f"{slug}.document.*"))
        if pact.is_file():
            found.append(EnteredSupplier(cid, name, buyers[cid], "pact-file", pact))
        elif value.is_file() and len(documents) == 1:
            kind = json.loads(value.read_text()).get("sourceKind", "document")
            found.append(EnteredSupplier(cid, name, buyers[cid], kind, value, documents[0]))
        else:
            raise WithoutNodeError(
                f"--without-node: no value to enter for {name}: put {slug}.pact.json (a PACT or Catena-X file), or "
                f"{slug}.value.json with one {slug}.document.<ext>, in {folder}"
            )
    return found


__all__ = [
    "EnteredSupplier",
    "WithoutNodeError",
    "enter",
    "entered_suppliers",
    "media_type_of",
    "without_node_folder_of",
]
