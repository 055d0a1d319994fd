"""``connector ca``: the dataspace operator's CA tooling (root, issuing CA, company and TLS certificates, CRLs).

Demo and test material only: real deployments keep CA keys in an HSM/KMS and never on a node.
"""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from ..errors import ConnectorError
from ..identity import Role, TrustStore, build_crl, create_intermediate_ca, create_root_ca
from ..identity.ca import Revocation, issue_company_certificate, issue_tls_certificate
from ..identity.files import (
    CRL,
    ISSUED,
    load_authority,
    load_revocations,
    read_certificates,
    read_crl,
    save_authority,
    save_issued,
    save_revocations,
    write_crl,
)
from .common import parse_at

ca_app = typer.Typer(help="Dataspace certificate authority: init, issue, revoke, crl, check.", no_args_is_help=True)
console = Console()
err = Console(stderr=True)

ROOT_CRL = "root-crl.pem"
DEFAULT_DIR = Path("certs/demo")

CaDir = Annotated[Path, typer.Option("--dir", help="CA folder.")]
At = Annotated[str | None, typer.Option("--at", help="Time to use, ISO 8601 with offset (default: now).")]


def _fail(message: str) -> typer.Exit:
    err.print(f"[red]error:[/red] {message}")
    return typer.Exit(code=1)


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "-", text.rsplit(":", 1)[-1]).strip("-.") or "cert"


def _write_crls(folder: Path, at: datetime) -> tuple[Path, Path]:
    root, inter = load_authority(folder)
    crl = build_crl(inter, load_revocations(folder), at=at)
    root_crl = build_crl(root, [], at=at)
    return write_crl(folder / CRL, crl), write_crl(folder / ROOT_CRL, root_crl)


@ca_app.command("init")
def init(
    folder: CaDir = DEFAULT_DIR,
    name: Annotated[str, typer.Option(help="Dataspace name used in the CA subjects.")] = "Demo Dataspace",
    force: Annotated[bool, typer.Option("--force", help="Overwrite an existing CA in the folder.")] = False,
    at: At = None,
) -> None:
    """Create a root CA and an issuing (intermediate) CA, plus empty CRLs."""
    now = parse_at(at)
    if (folder / "root.key").exists() and not force:
        raise _fail(f"{folder} already holds a CA; use --force to replace it")
    root = create_root_ca(f"{name} Root CA", at=now)
    inter = create_intermediate_ca(root, f"{name} Issuing CA", at=now)
    save_authority(folder, root, inter)
    # Demo CA material must never end up in git, whatever the repository's own ignore rules say.
    (folder / ".gitignore").write_text("# throwaway CA material: never commit\n*\n")
    save_revocations(folder, [])
    _write_crls(folder, now)
    console.print(f"CA created in [bold]{folder}[/bold]: trust anchor {folder / 'root.pem'}")


@ca_app.command("issue")
def issue(
    folder: CaDir = DEFAULT_DIR,
    company_id: Annotated[str | None, typer.Option("--company-id", help="Company id URN.")] = None,
    name: Annotated[str | None, typer.Option("--name", help="Company name.")] = None,
    role: Annotated[Role | None, typer.Option("--role", help="Dataspace role.")] = None,
    tls_host: Annotated[
        list[str] | None,
        typer.Option("--tls-host", help="Issue a TLS server certificate for this DNS name or IP (repeatable) instead."),
    ] = None,
    out: Annotated[Path | None, typer.Option("--out", help="Output folder (default: <dir>/issued).")] = None,
    stem: Annotated[
        str | None, typer.Option("--stem", help="File name stem (default from company id or host).")
    ] = None,
    country: Annotated[str | None, typer.Option("--country", help="ISO 3166-1 alpha-2 country.")] = None,
    at: At = None,
) -> None:
    """Issue a company certificate (--company-id, --name, --role) or a TLS server certificate (--tls-host)."""
    now = parse_at(at)
    try:
        _, inter = load_authority(folder)
        if tls_host:
            if company_id or role:
                raise _fail("--tls-host cannot be combined with --company-id/--role")
            issued = issue_tls_certificate(inter, tls_host, at=now)
            stem = stem or f"tls-{_slug(tls_host[0])}"
        else:
            if not (company_id and name and role):
                raise _fail("a company certificate needs --company-id, --name and --role (or use --tls-host)")
            issued = issue_company_certificate(
                inter, company_id=company_id, name=name, role=role, at=now, country=country
            )
            stem = stem or _slug(company_id)
    except ConnectorError as exc:
        raise _fail(exc.detail) from None
    paths = save_issued(out or folder / ISSUED, stem, issued)
    console.print(f"serial {issued.certificate.serial_number:x}")
    for kind, path in paths.items():
        console.print(f"  {kind:5} {path}")


@ca_app.command("revoke")
def revoke(
    folder: CaDir = DEFAULT_DIR,
    serial: Annotated[str | None, typer.Option("--serial", help="Serial number in hex.")] = None,
    cert: Annotated[Path | None, typer.Option("--cert", help="PEM file of the certificate to revoke.")] = None,
    at: At = None,
) -> None:
    """Revoke a certificate issued by the issuing CA and rewrite the CRL."""
    now = parse_at(at)
    if (serial is None) == (cert is None):
        raise _fail("give exactly one of --serial or --cert")
    try:
        root, inter = load_authority(folder)
        if cert is not None:
            target = read_certificates(cert)[0]
            if target.issuer != inter.certificate.subject:
                raise _fail(f"{cert} was not issued by this CA")
            number = target.serial_number
        else:
            try:
                number = int(str(serial).removeprefix("0x").replace(":", ""), 16)
            except ValueError:
                raise _fail(f"not a hex serial number: {serial!r}") from None
    except ConnectorError as exc:
        raise _fail(exc.detail) from None
    revocations = load_revocations(folder)
    if any(r.serial == number for r in revocations):
        raise _fail(f"serial {number:x} is already revoked")
    save_revocations(folder, [*revocations, Revocation(serial=number, revoked_at=now)])
    crl_path, _ = _write_crls(folder, now)
    console.print(f"revoked serial {number:x} at {now.isoformat()}; CRL written to {crl_path}")


@ca_app.command("crl")
def crl(
    folder: CaDir = DEFAULT_DIR,
    out: Annotated[
        Path | None,
        typer.Option(
            "--out", help="Where to write the issuing CA's CRL (default: <dir>/crl.pem); root-crl.pem goes beside it."
        ),
    ] = None,
    at: At = None,
) -> None:
    """Write a fresh CRL of the issuing CA (and of the root, as root-crl.pem next to it)."""
    now = parse_at(at)
    try:
        crl_path, root_path = _write_crls(folder, now)
    except ConnectorError as exc:
        raise _fail(exc.detail) from None
    if out is not None and out.name == ROOT_CRL:
        raise _fail(f"--out names the root's CRL file ({ROOT_CRL}), which is written beside the issuing CA's")
    if out is not None and out.resolve() != crl_path.resolve():
        # both are published: a node needs the root's CRL too (it revokes issuing CAs)
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_bytes(crl_path.read_bytes())
        published_root = out.parent / ROOT_CRL
        if published_root.resolve() != root_path.resolve():
            published_root.write_bytes(root_path.read_bytes())
        crl_path, root_path = out, published_root
    console.print(f"CRL written to {crl_path} (root CRL: {root_path})")


@ca_app.command("check")
def check(
    chain: Annotated[Path, typer.Argument(help="PEM chain to check (leaf first).")],
    folder: CaDir = DEFAULT_DIR,
    role: Annotated[Role | None, typer.Option("--role", help="Required role.")] = None,
    at: At = None,
) -> None:
    """Validate a company certificate chain against this CA's root and CRLs."""
    now = parse_at(at)
    try:
        root, _ = load_authority(folder)
        crls = [read_crl(p) for p in (folder / CRL, folder / ROOT_CRL) if p.is_file()]
        who = TrustStore([root.certificate], crls).validate(read_certificates(chain), at=now, role=role)
    except ConnectorError as exc:
        raise _fail(getattr(exc, "reason", exc.detail)) from None
    console.print(f"valid: {who.company_id} ({who.name}), role {who.role.value}")
