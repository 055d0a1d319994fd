"""``connector verify`` and ``connector certify``: the verifier's offline commands over connector.verification.

Register them on the main app with::

    app.command("verify")(verify_command)
    app.command("certify")(certify_command)
"""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from ..certification import DEFAULT_SCOPE, CertificationRefused, certify, decode_certification, to_pact_verification
from ..errors import ConnectorError
from ..identity.files import read_certificates, read_crl, read_private_key
from ..identity.keys import PrivateKey
from ..identity.trust import TrustStore
from ..strict_json import strict_json_loads
from ..verification import render_html, render_tree, verify_bundle
from .common import parse_at

console = Console()
err = Console(stderr=True)

TrustOpt = Annotated[
    list[Path], typer.Option("--trust", help="Trust anchor (root CA) PEM; repeatable.", exists=True, dir_okay=False)
]
KeyOpt = Annotated[
    Path | None,
    typer.Option("--key", help="The verifier's private key (PEM), to open evidence.", exists=True, dir_okay=False),
]
CertOpt = Annotated[
    Path | None,
    typer.Option(
        "--cert",
        help="The verifier's certificate or chain (PEM). Default: next to the key (NAME.chain.pem, NAME.pem).",
        exists=True,
        dir_okay=False,
    ),
]
CrlOpt = Annotated[
    list[Path] | None, typer.Option("--crl", help="A CRL file (PEM or DER); repeatable.", exists=True, dir_okay=False)
]
AtOpt = Annotated[str | None, typer.Option("--at", help="Verification time, ISO 8601 with offset (default: now).")]
RequireCrlOpt = Annotated[
    bool,
    typer.Option(
        "--require-crl",
        help="Fail a signature whose issuing CA has no CRL current at the signing time (from --crl or "
        "the bundle: one issued after it, or whose nextUpdate had not passed by then). Default: a missing or stale CRL "
        "means no revocation known.",
    ),
]


RequireAttestedOpt = Annotated[
    bool,
    typer.Option(
        "--require-attested",
        help="Fail any input entered without an attestation, anywhere in the tree (default: listed, and the verdict "
        "says how much is attested).",
    ),
]


def _fail(message: str) -> typer.Exit:
    err.print(f"[bold red]error:[/] {message}")
    return typer.Exit(2)


def sibling_certificate(key: Path) -> Path | None:
    """``NAME.key`` -> ``NAME.chain.pem``, ``NAME.pem``, ``NAME.crt`` (the first that exists), as ``ca issue`` writes."""
    for suffix in (".chain.pem", ".pem", ".crt", ".cert.pem"):
        candidate = key.with_suffix(suffix) if suffix != ".chain.pem" else key.with_name(key.stem + ".chain.pem")
        if candidate.is_file() and candidate != key:
            return candidate
    return None


def _trust(paths: list[Path], crl: list[Path] | None, require_crl: bool = False) -> TrustStore:
    anchors = [c for p in paths for c in read_certificates(p)]
    if not anchors:
        raise _fail("no certificate in the --trust file(s)")
    return TrustStore(anchors, [read_crl(p) for p in crl or []], require_crl=require_crl)


def _verifier(key: Path | None, cert: Path | None) -> tuple[PrivateKey | None, list | None]:
    if key is None:
        if cert is not None:
            raise _fail("--cert needs --key")
        return None, None
    cert = cert or sibling_certificate(key)
    if cert is None:
        raise _fail(f"no certificate for {key}: pass --cert (looked for {key.stem}.chain.pem and {key.stem}.pem)")
    chain = read_certificates(cert)
    if not chain:
        raise _fail(f"no certificate in {cert}")
    return read_private_key(key), chain


def verify_command(
    bundle: Annotated[Path, typer.Argument(help="The evidence bundle (JSON) to verify.", exists=True, dir_okay=False)],
    trust: TrustOpt,
    key: KeyOpt = None,
    cert: CertOpt = None,
    crl: CrlOpt = None,
    json_report: Annotated[Path | None, typer.Option("--json", help="Write the JSON report to this file.")] = None,
    at: AtOpt = None,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="List every passed check.")] = False,
    html_report: Annotated[Path | None, typer.Option("--html", help="Write the report as an HTML page.")] = None,
    require_crl: RequireCrlOpt = False,
    require_attested: RequireAttestedOpt = False,
) -> None:
    """Verify an evidence bundle offline: signatures, certificates, CRLs, audiences and, with --key, every sum."""
    when = parse_at(at)
    try:
        store = _trust(trust, crl, require_crl)
        verifier_key, chain = _verifier(key, cert)
        text = bundle.read_text(encoding="utf-8")
    except ConnectorError as exc:
        raise _fail(exc.detail) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise _fail(str(exc)) from None
    report = verify_bundle(
        text, store, at=when, verifier_key=verifier_key, verifier_cert=chain, require_attested=require_attested
    )
    console.print(render_tree(report, verbose=verbose))
    if json_report is not None:
        json_report.parent.mkdir(parents=True, exist_ok=True)
        json_report.write_text(report.to_json(), encoding="utf-8")
        console.print(f"[dim]report written to {json_report}[/]")
    if html_report is not None:
        html_report.parent.mkdir(parents=True, exist_ok=True)
        html_report.write_text(render_html(report, verbose=verbose), encoding="utf-8")
        console.print(f"[dim]HTML report written to {html_report}[/]")
    if report.valid and not report.evidence_opened:
        console.print("[yellow]evidence not opened: signatures, certificates and bindings only (give --key)[/]")
    for failure in report.failures:
        console.print(f"[red]✘[/] {failure.line()}", highlight=False)
    console.print(report.summary(), style="bold green" if report.valid else "bold red", highlight=False)
    if not report.valid:
        raise typer.Exit(1)


def certify_command(
    attestation: Annotated[
        Path, typer.Argument(help="File holding the attestation (SD-JWT <jwt>~).", exists=True, dir_okay=False)
    ],
    evidence: Annotated[
        Path,
        typer.Argument(
            help="Its evidence (JSON: {package, packages}, as the PACT extension carries it; the packages sealed to you).",
            exists=True,
            dir_okay=False,
        ),
    ],
    trust: TrustOpt,
    key: Annotated[Path, typer.Option("--key", help="The verifier's private key (PEM).", exists=True, dir_okay=False)],
    cert: CertOpt = None,
    crl: CrlOpt = None,
    scope: Annotated[str, typer.Option("--scope", help="What the certification covers.")] = DEFAULT_SCOPE,
    valid_days: Annotated[int, typer.Option("--valid-days", min=1, help="Validity of the certification.")] = 365,
    out: Annotated[Path | None, typer.Option("--out", help="Write the certification (compact JWS) here.")] = None,
    at: AtOpt = None,
    require_crl: RequireCrlOpt = False,
) -> None:
    """Open one attestation's evidence, verify its whole subtree and, if valid, sign a certification for it."""
    when = parse_at(at)
    try:
        store = _trust(trust, crl, require_crl)
        verifier_key, chain = _verifier(key, cert)
        assert verifier_key is not None and chain is not None
        sd_jwt = attestation.read_text(encoding="utf-8").strip()
        package = strict_json_loads(evidence.read_bytes())  # sealed evidence: read strictly, as the node does
        token = certify(
            sd_jwt, package, verifier_key, chain, store, scope=scope, at=when, valid_for=timedelta(days=valid_days)
        )
    except CertificationRefused as exc:
        console.print(render_tree(exc.report))
        for failure in exc.report.failures:
            console.print(f"[red]✘[/] {failure.line()}", highlight=False)
        console.print(
            f"INVALID: {len(exc.report.failures)} failure(s): not certified", style="bold red", highlight=False
        )
        raise typer.Exit(1) from None
    except ConnectorError as exc:
        raise _fail(getattr(exc, "reason", None) or exc.detail) from None
    except (OSError, ValueError) as exc:
        raise _fail(str(exc)) from None
    check = decode_certification(token, store, at=when)
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(token + "\n", encoding="utf-8")
        console.print(
            f"certification of {check.certified_company} (attestation digest {check.digest}) written to "
            f"{out}, valid until {check.expires_at.isoformat()}",
            highlight=False,
        )
        console.print(json.dumps(to_pact_verification(check.payload), indent=2), highlight=False)
    else:
        typer.echo(token)


verify_app = typer.Typer(help="Verify evidence bundles and certify attestations (offline).", no_args_is_help=True)
verify_app.command("verify")(verify_command)
verify_app.command("certify")(certify_command)
