"""The three users' journeys in Chromium, against a live in-process dataspace (one node per company of the chain).

The raw-material supplier at the top of the chain (Andes Lithium) answers by hand: its customer's request waits in
its console until a person accepts it. Each test brings the dataspace to the state it needs, so they run in any order.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import Session, select

from connector.identity.keys import certificates_to_pem
from connector.storage import upstream_footprints
from connector.storage.tables import DeclarationRecord, UpstreamFootprint

from .conftest import log_in, screenshot
from .live import LiveDataspace

pytestmark = pytest.mark.e2e
expect = pytest.importorskip("playwright.sync_api", reason="playwright is not installed: browser tests skipped").expect

ANDES = "urn:pact:andes-lithium.example:company:andes-lithium"
HOKURIKU = "urn:pact:hokuriku-cathode.example:company:hokuriku-cathode"
OEM = "urn:pact:nippon-motors.example:company:nippon-motors"
NB = "urn:pact:nb.example:company:notified-body-0042"
PACK = "urn:pact:kyushu-pack.example:product:pack-75kwh"


@pytest.fixture(scope="module")
def dataspace(chain: dict, module_db: Any, browser: Any) -> Iterator[LiveDataspace]:
    space = LiveDataspace(chain, module_db, manual=frozenset({ANDES})).start()
    try:
        yield space
    finally:
        space.stop()


def _db(space: LiveDataspace, company_id: str) -> Session:
    assert space.net is not None
    return Session(space.net[company_id].engine)


def _api(space: LiveDataspace, company_id: str, method: str, path: str, **kw: Any) -> Any:
    assert space.net is not None
    response = space.run(space.net[company_id].api(method, path, **kw))
    assert response.status_code < 400, response.text
    return response.json() if response.content else None


def _held_from(space: LiveDataspace, company_id: str, supplier: str) -> bool:
    with _db(space, company_id) as session:
        stmt = select(UpstreamFootprint).where(UpstreamFootprint.supplier_company_id == supplier)
        return session.exec(stmt).first() is not None


def _accept_waiting(space: LiveDataspace) -> None:
    """What Andes' operator would do: accept what waits (the supplier journey does it in the browser)."""
    for r in _api(space, ANDES, "GET", "/requests?direction=incoming&state=pending")["items"]:
        _api(space, ANDES, "POST", f"/requests/{r['id']}/accept")


def _pack_held(space: LiveDataspace) -> None:
    if not _held_from(space, OEM, "urn:pact:kyushu-pack.example:company:kyushu-pack"):
        product = _api(space, OEM, "GET", "/products")["items"][0]
        line = _api(space, OEM, "GET", f"/products/{product['id']}/bom")[0]
        assert space.net is not None
        body = {"bomLineId": line["id"], "verifierCertificates": [space.net.verifier_pem]}
        _api(space, OEM, "POST", "/requests", json=body)

        def arrived() -> bool:
            _accept_waiting(space)
            with _db(space, OEM) as session:
                held = upstream_footprints.newest_active(session, PACK)
                return held is not None and bool(held.attestation)

        space.wait(arrived, timeout=90, what="the pack footprint at the automaker")


def test_supplier_answers_a_request_from_the_form(dataspace: LiveDataspace, new_page: Any) -> None:
    """Andes' editor sees its customer's request on the dashboard, accepts it in the list, and the customer's node
    receives the footprint; the product page shows the BOM, the charts and the own-emissions form's validation."""
    product = _api(dataspace, HOKURIKU, "GET", "/products")["items"][0]
    line = next(ln for ln in _api(dataspace, HOKURIKU, "GET", f"/products/{product['id']}/bom") if
                ln.get("supplierCompanyId") == ANDES)  # fmt: skip
    assert dataspace.net is not None
    body = {
        "bomLineId": line["id"],
        "message": "CFP for Q3 please",
        "verifierCertificates": [dataspace.net.verifier_pem],
    }
    _api(dataspace, HOKURIKU, "POST", "/requests", json=body)

    page = new_page()
    log_in(page, dataspace, ANDES)
    page.reload()
    assert int(page.locator("[data-figure='incoming-waiting']").inner_text()) >= 1
    screenshot(page, "dashboard-supplier")

    page.get_by_role("link", name="Requests", exact=True).click()
    row = page.locator("tr", has_text="CFP for Q3 please")
    assert row.locator(".state").inner_text() == "pending"
    screenshot(page, "requests-incoming")
    row.get_by_role("button", name="Accept").click()
    expect(page.locator(".notice.ok")).to_have_text("Request accepted.")
    expect(page.locator("tr", has_text="CFP for Q3 please").locator(".state")).to_have_text("fulfilled")
    dataspace.wait(lambda: _held_from(dataspace, HOKURIKU, ANDES), what="Andes' footprint at Hokuriku")

    page.get_by_role("link", name="Products", exact=True).click()
    page.locator("table a").first.click()
    expect(page.locator("#chart-coverage")).to_be_visible()
    page.locator("#f-value").fill("12,5")  # a decimal comma: refused with a message next to the field
    page.get_by_role("button", name="Add", exact=True).click()
    expect(page.locator("#e-value")).to_be_visible()
    expect(page.locator("#f-value")).to_have_attribute("aria-invalid", "true")
    page.locator("#f-value").fill("1.25")
    page.get_by_role("button", name="Add", exact=True).click()
    expect(page.locator(".notice.ok")).to_have_text("Saved.")
    page.get_by_role("button", name="Compute and re-issue").click()
    expect(page.locator(".notice.ok")).to_have_text("A new footprint version was issued.")
    expect(page.locator("#chart-stages")).to_be_visible()
    screenshot(page, "product-supplier")


def test_automaker_issues_a_declaration_from_the_form_and_downloads_it(
    dataspace: LiveDataspace, new_page: Any, tmp_path: Path
) -> None:
    page = new_page()
    log_in(page, dataspace, OEM, path="/declarations")
    assert dataspace.net is not None
    with _db(dataspace, OEM) as session:
        held = upstream_footprints.newest_active(session, PACK)
    if held is None:
        page.locator("#f-verifierCertificate").fill(dataspace.net.verifier_pem)
        page.get_by_role("button", name="Request the pack footprint").click()
        expect(page.locator(".notice.ok")).to_have_text("Requests sent to the suppliers.")
        expect(page.locator("[data-tier='1']")).to_be_visible()
    _pack_held(dataspace)
    page.goto(dataspace.url(OEM, "/declarations"))
    assert "verified" in page.locator("[data-tier='1']").inner_text()
    assert int(page.locator("[data-sealed]").get_attribute("data-sealed") or 0) >= 6  # the tiers above the pack
    screenshot(page, "declarations-ripple")

    page.get_by_role("link", name="Issue a declaration").click()
    page.get_by_label("Battery model").fill("NM-EV75-NMC811")
    page.get_by_label("Service life (years)").fill("8")
    page.get_by_label("Full equivalent cycles per year (override)").fill("70")
    page.get_by_label("Manufacturer address").fill("1-1 Example-cho, Toyota, Aichi, Japan")
    page.get_by_label("EU declaration of conformity ID").fill("NM-DoC-2026-0001")
    page.get_by_label("Public link to the supporting study").fill("https://nippon-motors.example/study.pdf")
    page.get_by_role("button", name="Sign and issue").click()  # no usable energy, no override reason: refused
    expect(page.locator("#f-usableEnergyKwh")).to_have_attribute("aria-invalid", "true")
    page.get_by_label("Usable energy at beginning of life (kWh)").fill("75")
    page.get_by_label("Reason for the cycles override").fill("fleet use: measured 70 cycles a year")
    page.get_by_role("button", name="Sign and issue").click()
    expect(page.locator(".notice.ok")).to_have_text("Declaration issued.")
    assert page.locator("[data-figure='footprint']").inner_text().endswith("kg CO2e/kWh")
    screenshot(page, "declaration")

    got = {}
    for name in ("Declaration (JSON)", "Verifiable credential (JWT)", "Printable page (HTML)",
                 "Evidence bundle for the notified body", "Battery Pass export", "Catena-X battery passport export"):  # fmt: skip
        with page.expect_download() as download:
            page.get_by_role("link", name=name).click()
        got[name] = Path(download.value.path()).read_text()
    document = json.loads(got["Declaration (JSON)"])
    assert document["batteryModel"]["modelId"] == "NM-EV75-NMC811"
    assert document["functionalUnit"]["cyclesPerYear"] == "70"
    assert got["Verifiable credential (JWT)"].count(".") == 2
    assert "<html" in got["Printable page (HTML)"]
    assert "packages" in json.loads(got["Evidence bundle for the notified body"])
    with _db(dataspace, OEM) as session:
        row = session.exec(select(DeclarationRecord).order_by(DeclarationRecord.created_at.desc())).first()  # type: ignore[attr-defined]
    assert row is not None and row.document == document

    page.locator("[id='f-notifiedBody.name']").fill("Example Notified Body 0042")
    page.get_by_label("Notified body number").fill("0042")
    page.get_by_label("What the notified body did").fill("verified the carbon footprint declaration")
    page.get_by_label("Certificate issued").fill("CFP-0042-2026-17")
    page.get_by_label("Place of issue").fill("Toyota")
    page.get_by_label("Date of issue").fill("2026-12-07")
    page.get_by_label("Name of the signatory").fill("Hanako Yamada")
    page.get_by_label("Function of the signatory").fill("Head of Compliance")
    with page.expect_download() as download:
        page.get_by_role("button", name="Download the declaration of conformity").click()
    assert "2023/1542" in Path(download.value.path()).read_text()


def _latest_bundle(space: LiveDataspace) -> dict[str, Any]:
    _pack_held(space)
    declarations = _api(space, OEM, "GET", "/declarations")["items"]
    if not declarations:
        body = json.loads(json.dumps(space.chain["declaration"]))
        declarations = [_api(space, OEM, "POST", "/declarations", json=body)]
    return _api(space, OEM, "GET", f"/declarations/{declarations[0]['id']}/bundle")


def test_verifier_sees_the_failing_check_of_a_tampered_bundle(
    dataspace: LiveDataspace, new_page: Any, tmp_path: Path
) -> None:
    bundle = _latest_bundle(dataspace)
    assert dataspace.net is not None
    anchors = tmp_path / "root.pem"
    anchors.write_bytes(certificates_to_pem([dataspace.net.pki.root.certificate]))
    good = tmp_path / "bundle.json"
    good.write_text(json.dumps(bundle))
    head, payload, signature = bundle["declaration"].split(".")
    flipped = ("A" if signature[10] != "A" else "B").join((signature[:10], signature[11:]))
    tampered = tmp_path / "tampered.json"
    tampered.write_text(json.dumps({**bundle, "declaration": f"{head}.{payload}.{flipped}"}))

    page = new_page()
    log_in(page, dataspace, NB, role="verifier", path="/verify")
    page.get_by_label("Evidence bundle (JSON)").set_input_files(str(tampered))
    page.get_by_label("Trust anchors (PEM), if not this node's").set_input_files(str(anchors))
    page.get_by_role("button", name="Verify", exact=True).click()
    expect(page.locator("[data-verdict]")).to_have_attribute("data-verdict", "invalid")
    failing = page.locator(".report-tree li.check.fail").first
    expect(failing).to_be_visible()
    assert "signature" in failing.inner_text().lower()
    expect(page.locator(".report-tree li.node[data-valid='false']").first).to_be_visible()
    screenshot(page, "verify-tampered")

    page.get_by_label("Evidence bundle (JSON)").set_input_files(str(good))
    page.get_by_label("Certify the pack attestation if the bundle is valid").check()
    page.get_by_role("button", name="Verify", exact=True).click()
    expect(page.locator("[data-verdict]")).to_have_attribute("data-verdict", "valid")
    expect(page.locator("table.figures.opened").first).to_be_visible()
    assert page.get_by_label("Certification credential").input_value().count(".") == 2
    with page.expect_download() as download:
        page.get_by_role("link", name="Download the report (JSON)").click()
    report = json.loads(Path(download.value.path()).read_text())
    assert report["valid"] is True and report["evidenceOpened"] is True
    screenshot(page, "verify-valid")

    kept = page.locator("section.reports tbody tr")  # both reports kept, the newest first (decision 0031)
    expect(kept).to_have_count(2)
    expect(kept.first.locator(".state")).to_have_text("valid")
    expect(kept.nth(1).locator(".state")).to_have_text("failed")
    kept.nth(1).get_by_role("link").first.click()  # the tampered bundle's report, as a tree again
    expect(page.locator("[data-verdict]")).to_have_attribute("data-verdict", "invalid")


UNLABELLED = """() => Array.from(document.querySelectorAll('input:not([type=hidden]), select, textarea, button'))
  .filter(el => {
    if (el.tagName === 'BUTTON') return !el.innerText.trim() && !el.getAttribute('aria-label');
    const label = el.id && document.querySelector('label[for="' + CSS.escape(el.id) + '"]');
    return !(label && label.innerText.trim()) && !el.getAttribute('aria-label') && !el.closest('label');
  }).map(el => el.outerHTML)"""


def _main_pages(space: LiveDataspace, company_id: str) -> list[str]:
    products = _api(space, company_id, "GET", "/products")["items"]
    pages = ["/", "/products", "/requests?direction=incoming", "/requests?direction=outgoing", "/partners",
             "/declarations", "/declarations/new", "/verify"]  # fmt: skip
    declarations = _api(space, company_id, "GET", "/declarations")["items"]
    return (
        pages + [f"/products/{p['id']}" for p in products[:1]] + [f"/declarations/{d['id']}" for d in declarations[:1]]
    )


def test_every_field_has_a_label_and_every_page_a_title_and_one_heading(
    dataspace: LiveDataspace, new_page: Any
) -> None:
    _latest_bundle(dataspace)  # the automaker has a declaration page to check too
    for company_id, role in ((HOKURIKU, "editor"), (OEM, "editor"), (NB, "verifier")):
        page = new_page()
        page.goto(dataspace.url(company_id, "/login"))
        assert page.evaluate(UNLABELLED) == []
        log_in(page, dataspace, company_id, role)
        for path in _main_pages(dataspace, company_id):
            page.goto(dataspace.url(company_id, path))
            assert page.evaluate(UNLABELLED) == [], path
            assert page.locator("h1").count() == 1, path
            assert page.title(), path
            for chart in page.locator("svg").all():
                assert chart.get_attribute("role") == "img" and chart.get_attribute("aria-labelledby"), path
        if company_id == HOKURIKU:
            product = _api(dataspace, company_id, "GET", "/products")["items"][0]["id"]
            page.goto(dataspace.url(company_id, f"/products/{product}"))
            assert page.locator("ul.tree [data-state]").count() >= 2
            page.set_viewport_size({"width": 1280, "height": 760})
            screenshot(page, "product-bom", full_page=False)  # docs/images/console-product.png is one of these


def test_the_main_flows_work_from_the_keyboard(dataspace: LiveDataspace, new_page: Any) -> None:
    """Log in, go to a product and enter an own emission with Tab, typing and Enter only."""
    page = new_page()
    page.goto(dataspace.url(ANDES, "/login"))

    def tab_to(predicate: str, limit: int = 120) -> None:
        for _ in range(limit):
            if page.evaluate(predicate):
                return
            page.keyboard.press("Tab")
        raise AssertionError(f"the keyboard never reached: {predicate}")

    login, password = dataspace.login(ANDES)
    tab_to("document.activeElement.id === 'f-login'")
    page.keyboard.type(login)
    page.keyboard.press("Tab")
    page.keyboard.type(password)
    page.keyboard.press("Enter")
    page.wait_for_url(lambda url: "/login" not in url)
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Skip to content"
    tab_to("document.activeElement.textContent === 'Products'")
    page.keyboard.press("Enter")
    page.wait_for_url(lambda url: url.endswith("/products"))
    tab_to("document.activeElement.closest('table') !== null && document.activeElement.tagName === 'A'")
    page.keyboard.press("Enter")
    page.wait_for_url(lambda url: "/products/" in url)
    before = page.locator("#h-own + table tbody tr").count()
    tab_to("document.activeElement.id === 'f-value'")
    page.keyboard.type("0.5")
    page.keyboard.press("Enter")
    page.wait_for_url(lambda url: "done=saved" in url)
    expect(page.locator(".notice.ok")).to_have_text("Saved.")
    assert page.locator("#h-own + table tbody tr").count() == before + 1


def test_japanese_from_the_browser_and_english_from_the_switch(dataspace: LiveDataspace, new_page: Any) -> None:
    page = new_page(locale="ja-JP")
    page.goto(dataspace.url(HOKURIKU, "/login"))
    assert page.locator("html").get_attribute("lang") == "ja"
    expect(page.locator("h1")).to_have_text("ログイン")
    log_in(page, dataspace, HOKURIKU)
    expect(page.locator("h1")).to_have_text("ダッシュボード")
    screenshot(page, "dashboard-ja")
    product = _api(dataspace, HOKURIKU, "GET", "/products")["items"][0]["id"]
    page.goto(dataspace.url(HOKURIKU, f"/products/{product}"))
    assert "原材料の調達及び前処理" in page.locator("#emission-form").inner_text()
    page.locator("#f-value").fill("12,5")  # the core's refusal, in Japanese next to the field and in the alert
    page.locator("#emission-form button[type=submit]").click()
    expect(page.locator("#e-value")).to_have_text(
        "小数点（.）を使った10進数で入力してください（例：12.5、指数表記は不可）。"
    )
    expect(page.locator(".notice.bad")).to_contain_text("排出量（宣言単位あたり kg CO2e）")
    screenshot(page, "product-ja")
    page.get_by_role("link", name="English").click()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    assert page.url.endswith(f"/products/{product}")
    assert "Raw material acquisition and pre-processing" in page.locator("#emission-form").inner_text()
