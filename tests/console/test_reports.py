"""The console's verification reports are kept in the database (decision 0031): made on one worker, listed and handed
out by another; newest first, paged; only to roles that may verify; dropped as ``console_reports_kept`` says."""

from __future__ import annotations

import hashlib
import itertools
import json
import re
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest
import pytest_asyncio
from pydantic import ValidationError
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from connector.api.app import create_app
from connector.config import Settings
from connector.identity.keys import certificates_to_pem
from connector.services import accounts, audit
from connector.services.context import NodeContext
from connector.storage import console_reports
from connector.storage.console_reports import ConsoleReport
from connector.storage.tables import AuditEntry
from tests.api.conftest import make_settings
from tests.pki import T0
from tests.unit.test_bundle import load_fixture, make_parties, make_world

pytestmark = pytest.mark.asyncio
PASSWORD = "a long enough password"
SECRET = "a token secret both workers share, 32+ characters"
AT = T0 + timedelta(days=1)  # when the fixture chain's attestations and certificates are all valid


@dataclass(frozen=True)
class Bundles:
    good: bytes
    tampered: bytes
    anchors: bytes


@pytest.fixture(scope="module")
def bundles() -> Bundles:
    fixture = load_fixture()
    parties = make_parties(fixture)
    world = make_world(parties, fixture)
    good = world.bundle.model_dump(mode="json", by_alias=True, exclude_none=True)
    head, payload, signature = good["declaration"].split(".")
    flipped = ("A" if signature[10] != "A" else "B").join((signature[:10], signature[11:]))
    tampered = {**good, "declaration": f"{head}.{payload}.{flipped}"}
    anchors = certificates_to_pem([parties.pki.root.certificate])
    return Bundles(json.dumps(good).encode(), json.dumps(tampered).encode(), anchors)


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[], datetime]]:
    """The node's clock at the fixture chain's time, a millisecond later at every reading (so reports made one after
    the other are in order)."""
    ticks = itertools.count()

    def now() -> datetime:
        return AT + timedelta(milliseconds=next(ticks))

    monkeypatch.setattr(NodeContext, "now", staticmethod(now))
    yield now


@dataclass
class Workers:
    """Two app instances on one database: two workers of one node (or one node before and after a restart)."""

    apps: tuple[Any, Any]
    engine: Engine
    settings: Settings

    def client(self, worker: int) -> httpx.AsyncClient:
        return httpx.AsyncClient(transport=httpx.ASGITransport(app=self.apps[worker]), base_url="https://node.test")


@pytest_asyncio.fixture
async def make_workers(
    tmp_path: Any, make_db: Callable[[], Engine], clock: Callable[[], datetime]
) -> AsyncIterator[Callable[..., Any]]:
    opened: list[Any] = []

    async def make(**overrides: Any) -> Workers:
        settings = make_settings(tmp_path, token_secret=SECRET, **overrides)
        engine = make_db()
        apps = (create_app(settings, engine=engine), create_app(settings, engine=engine))
        with Session(engine) as session:
            ctx = NodeContext(session, settings, apps[0].state.identity)
            for role in ("viewer", "editor", "verifier", "admin"):
                accounts.create_user(ctx, role, PASSWORD, role)
            session.commit()
        for app in apps:
            lifespan = app.router.lifespan_context(app)
            await lifespan.__aenter__()
            opened.append(lifespan)
        return Workers(apps, engine, settings)

    yield make
    for lifespan in reversed(opened):
        await lifespan.__aexit__(None, None, None)


def _csrf(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found, "no CSRF field on the page"
    return found.group(1)


async def _log_in(client: httpx.AsyncClient, login: str) -> None:
    page = await client.get("/console/login")
    r = await client.post(
        "/console/login", data={"login": login, "password": PASSWORD, "csrf": _csrf(page.text), "next": "/console/"}
    )
    assert r.status_code == 303, r.text


async def _verify(client: httpx.AsyncClient, bundle: bytes, anchors: bytes | None = None) -> tuple[str, str]:
    """Upload a bundle: the page and the id of the report it kept."""
    page = await client.get("/console/verify")
    files = {"bundle": ("bundle.json", bundle, "application/json")}
    if anchors is not None:
        files["anchors"] = ("root.pem", anchors, "application/x-pem-file")
    r = await client.post("/console/verify", data={"csrf": _csrf(page.text)}, files=files)
    assert r.status_code == 200, r.text
    found = re.search(r'<p class="muted" data-report="([^"]+)"', r.text)
    assert found, "the page names no kept report"
    return r.text, found.group(1)


def _listed(html: str) -> list[str]:
    return re.findall(r'<tr data-report="([^"]+)"', html)


def _rows(workers: Workers) -> list[ConsoleReport]:
    with Session(workers.engine) as session:
        return list(session.exec(select(ConsoleReport).order_by(ConsoleReport.created_at)))  # type: ignore[arg-type]


def _audit(workers: Workers, action: str) -> list[AuditEntry]:
    with Session(workers.engine) as session:
        return list(session.exec(select(AuditEntry).where(AuditEntry.action == action)))


def _seed(workers: Workers, *ages: timedelta) -> list[str]:
    """Reports made ``age`` before the clock's start, straight into the table (oldest last in ``ages`` or not)."""
    ids = []
    with Session(workers.engine) as session:
        for n, age in enumerate(ages):
            row = ConsoleReport(
                created_at=AT - age, made_by="user:verifier", bundle_sha256=f"{n:064x}", valid=True, report="{}"
            )
            ids.append(console_reports.add(session, row).id)
        session.commit()
    return ids


async def test_a_report_made_on_one_worker_is_listed_and_downloaded_on_another(
    make_workers: Callable[..., Any], bundles: Bundles
) -> None:
    workers = await make_workers()
    async with workers.client(0) as first:
        await _log_in(first, "verifier")
        page, report_id = await _verify(first, bundles.good, bundles.anchors)
        assert 'data-verdict="valid"' in page and _listed(page) == [report_id]
        downloaded = await first.get(f"/console/verify/reports/{report_id}")
    assert downloaded.status_code == 200 and json.loads(downloaded.content)["valid"] is True

    async with workers.client(1) as second:  # another worker: nothing of the first's memory
        await _log_in(second, "editor")  # another user whose role may verify
        page_text = (await second.get("/console/verify")).text
        assert _listed(page_text) == [report_id] and "user:verifier" in page_text
        r = await second.get(f"/console/verify/reports/{report_id}")
        assert r.status_code == 200 and r.content == downloaded.content
        assert r.headers["content-type"] == "application/json"
        assert "attachment" in r.headers["content-disposition"]
        html = await second.get(f"/console/verify/reports/{report_id}/html")
        assert html.status_code == 200 and html.headers["content-type"].startswith("text/html")
        assert "valid, fully attested" in html.text and html.headers["content-disposition"].endswith('.html"')
        shown = await second.get("/console/verify", params={"report": report_id})
        assert 'data-verdict="valid"' in shown.text and 'class="report-tree"' in shown.text
        assert hashlib.sha256(bundles.good).hexdigest() in shown.text

    [row] = _rows(workers)
    assert row.id == report_id and row.made_by == "user:verifier" and row.valid and row.failures == 0
    assert row.bundle_sha256 == hashlib.sha256(bundles.good).hexdigest()
    assert row.anchors_sha256 == hashlib.sha256(bundles.anchors).hexdigest()
    assert row.subject == "Nippon Motors Corporation" and not row.certified
    [kept] = _audit(workers, "console.report.kept")
    assert (kept.actor, kept.subject) == ("user:verifier", report_id)
    assert kept.details == {"bundle_sha256": row.bundle_sha256, "valid": True, "failures": 0, "certified": False}


async def test_a_failed_verification_is_kept_with_its_verdict(
    make_workers: Callable[..., Any], bundles: Bundles
) -> None:
    workers = await make_workers()
    async with workers.client(0) as client:
        await _log_in(client, "verifier")
        page, report_id = await _verify(client, bundles.tampered, bundles.anchors)
        assert 'data-verdict="invalid"' in page
        report = json.loads((await client.get(f"/console/verify/reports/{report_id}")).content)
    [row] = _rows(workers)
    assert not row.valid and row.failures == len(report["failures"]) > 0
    assert row.bundle_sha256 == hashlib.sha256(bundles.tampered).hexdigest()


def _without_codes(value: Any) -> Any:
    """A report's JSON as a version before decision 0033 wrote it: no ``code`` nor ``params`` on checks and failures."""
    if isinstance(value, dict):
        return {k: _without_codes(v) for k, v in value.items() if k not in ("code", "params")}
    if isinstance(value, list):
        return [_without_codes(v) for v in value]
    return value


async def test_a_failed_check_reads_in_japanese_on_japanese_pages(
    make_workers: Callable[..., Any], bundles: Bundles
) -> None:
    """Decision 0033: the report keeps each check's English ``detail`` and adds its ``code`` and ``params``; the
    console's Japanese pages say the sentence again from them, English pages (and the JSON) keep the English."""
    workers = await make_workers()
    japanese = {"accept-language": "ja"}
    async with workers.client(0) as client:
        await _log_in(client, "verifier")
        _, report_id = await _verify(client, bundles.tampered, bundles.anchors)
        report = json.loads((await client.get(f"/console/verify/reports/{report_id}")).content)
        [failure] = [f for f in report["failures"] if f["check"] == "signature"]
        assert (
            failure["detail"] == "signature does not verify" and failure["code"] == "verify.signature.does-not-verify"
        )
        english = (await client.get("/console/verify", params={"report": report_id})).text
        ja = (await client.get("/console/verify", params={"report": report_id}, headers=japanese)).text
        assert "signature does not verify" in english and "署名が一致しません" not in english
        assert "署名が一致しません" in ja and "signature does not verify" not in ja
        assert 'data-code="verify.signature.does-not-verify"' in ja
        passed = next(c for c in report["root"]["checks"] if c["name"] == "certificate chain")
        assert passed["code"] == "verify.chain.ok" and "まで検証済み" in ja  # a passed check too, its params kept
        assert passed["params"]["iat"] in ja

        with Session(workers.engine) as session:  # a report kept before the codes: English on every page
            old = console_reports.add(
                session,
                ConsoleReport(
                    created_at=AT, made_by="user:verifier", bundle_sha256="0" * 64, valid=False,
                    report=json.dumps(_without_codes(report)),
                ),
            )  # fmt: skip
            session.commit()
            old_id = old.id
        ja_old = (await client.get("/console/verify", params={"report": old_id}, headers=japanese)).text
        assert 'class="report-tree"' in ja_old and "signature does not verify" in ja_old
        assert "署名が一致しません" not in ja_old and "data-code=" not in ja_old


async def test_a_refused_certification_keeps_the_verifications_audit(
    make_workers: Callable[..., Any], bundles: Bundles
) -> None:
    """Certifying runs after the verification, in the same request: its refusal (this node holds no verifier-role
    certificate) used to roll back the request's transaction, the verification's ``bundle.verified`` with it, while
    the kept report's ``console.report.kept`` (written after) still landed."""
    workers = await make_workers()
    async with workers.client(0) as client:
        await _log_in(client, "verifier")
        form = await client.get("/console/verify")
        files = {
            "bundle": ("bundle.json", bundles.good, "application/json"),
            "anchors": ("root.pem", bundles.anchors, "application/x-pem-file"),
        }
        r = await client.post("/console/verify", data={"csrf": _csrf(form.text), "certify": "on"}, files=files)
    assert r.status_code == 422 and 'data-verdict="valid"' in r.text  # the report, and the refusal above it
    assert "verifier-role certificate" in r.text
    [row] = _rows(workers)
    assert row.valid and not row.certified
    [verified] = _audit(workers, "bundle.verified")
    assert verified.actor == "user:verifier" and verified.details == {"valid": True, "failures": 0}
    assert len(_audit(workers, "console.bundle.uploaded")) == 1
    [failed] = _audit(workers, "console.attestation.certify.failed")
    assert failed.actor == "user:verifier"
    assert failed.details["code"] == "not-configured" and "verifier-role certificate" in failed.details["reason"]
    assert _audit(workers, "console.attestation.certify") == _audit(workers, "attestation.certified") == []
    [kept] = _audit(workers, "console.report.kept")
    assert kept.details["certified"] is False and kept.subject == row.id
    assert verified.seq < failed.seq < kept.seq  # in the order they happened, in one chain
    with Session(workers.engine) as session:
        assert audit.check_chain(session).valid


async def test_an_unknown_report_is_no_longer_kept(make_workers: Callable[..., Any]) -> None:
    workers = await make_workers()
    async with workers.client(0) as client:
        await _log_in(client, "verifier")
        for path, params in (("/console/verify/reports/nope", {}), ("/console/verify", {"report": "nope"})):
            r = await client.get(path, params=params)
            assert r.status_code == 404 and "no longer kept" in r.text


async def test_a_role_that_may_not_verify_sees_no_report(make_workers: Callable[..., Any]) -> None:
    workers = await make_workers()
    [report_id] = _seed(workers, timedelta(hours=1))
    async with workers.client(0) as client:
        await _log_in(client, "viewer")
        page = await client.get("/console/verify")
        assert page.status_code == 200 and report_id not in page.text and "Reports kept" not in page.text
        for path, params in (
            (f"/console/verify/reports/{report_id}", {}),
            (f"/console/verify/reports/{report_id}/html", {}),
            ("/console/verify", {"report": report_id}),
        ):
            r = await client.get(path, params=params)
            assert r.status_code == 403 and "does not allow reading verification reports" in r.text
            assert "data-report" not in r.text and "report-tree" not in r.text
    for role in ("verifier", "editor", "admin"):
        async with workers.client(1) as client:
            await _log_in(client, role)
            assert _listed((await client.get("/console/verify")).text) == [report_id], role


async def test_reports_are_listed_newest_first_in_pages(make_workers: Callable[..., Any]) -> None:
    workers = await make_workers()
    ids = _seed(workers, *(timedelta(minutes=n) for n in range(45)))  # ids[0] is the newest
    async with workers.client(0) as client:
        await _log_in(client, "verifier")
        first = await client.get("/console/verify")
        assert _listed(first.text) == ids[:20]
        assert "Page 1 of 3" in first.text and 'href="?page=2" rel="next"' in first.text
        third = await client.get("/console/verify", params={"page": "3"})
        assert _listed(third.text) == ids[40:] and 'rel="next"' not in third.text
        assert _listed((await client.get("/console/verify", params={"page": "4"})).text) == []
        assert (await client.get("/console/verify", params={"page": "0"})).status_code == 422
        japanese = await client.get("/console/verify", headers={"accept-language": "ja"})
        assert "保持している検証レポート" in japanese.text and _listed(japanese.text) == ids[:20]


async def test_only_the_newest_reports_are_kept_when_so_set(make_workers: Callable[..., Any], bundles: Bundles) -> None:
    workers = await make_workers(console_reports_kept="3")
    oldest, *rest = _seed(workers, timedelta(days=3), timedelta(days=2), timedelta(days=1))
    async with workers.client(0) as client:
        await _log_in(client, "verifier")
        page, report_id = await _verify(client, bundles.tampered, bundles.anchors)
        assert _listed(page) == [report_id, *reversed(rest)]
        r = await client.get(f"/console/verify/reports/{oldest}")
        assert r.status_code == 404 and "no longer kept" in r.text
    assert [row.id for row in _rows(workers)] == [*rest, report_id]
    [forgotten] = _audit(workers, "console.reports.forgotten")
    assert forgotten.actor == "node" and forgotten.details == {"count": 1, "kept": "3"}


async def test_reports_older_than_the_days_kept_are_gone(make_workers: Callable[..., Any], bundles: Bundles) -> None:
    workers = await make_workers(console_reports_kept="30d")
    old, recent = _seed(workers, timedelta(days=31), timedelta(days=29))
    async with workers.client(0) as client:
        await _log_in(client, "verifier")
        assert _listed((await client.get("/console/verify")).text) == [recent]  # past its days before it is dropped
        assert (await client.get(f"/console/verify/reports/{old}")).status_code == 404
        _, report_id = await _verify(client, bundles.good, bundles.anchors)
    assert [row.id for row in _rows(workers)] == [recent, report_id]
    [forgotten] = _audit(workers, "console.reports.forgotten")
    assert forgotten.details == {"count": 1, "kept": "30d"}


async def test_all_reports_are_kept_by_default(make_workers: Callable[..., Any], bundles: Bundles) -> None:
    workers = await make_workers()
    assert workers.settings.console_reports_kept == "all"
    seeded = _seed(workers, timedelta(days=4000), *(timedelta(minutes=n) for n in range(1, 30)))
    async with workers.client(0) as client:
        await _log_in(client, "verifier")
        await _verify(client, bundles.good, bundles.anchors)
    assert len(_rows(workers)) == len(seeded) + 1 and _audit(workers, "console.reports.forgotten") == []


@pytest.mark.parametrize("kept", ["0", "-1", "3w", "d", "1.5", "all days", "07d"])
async def test_a_retention_setting_that_means_nothing_is_refused(kept: str) -> None:
    with pytest.raises(ValidationError):
        Settings(console_reports_kept=kept)


async def test_the_retention_setting_reads_as_newest_n_or_days() -> None:
    from connector.console.routes_verify import retention

    assert retention(Settings()) == (None, None)
    assert retention(Settings(console_reports_kept="500")) == (500, None)
    assert retention(Settings(console_reports_kept="3650d")) == (None, timedelta(days=3650))
