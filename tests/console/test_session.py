"""The console's session over HTTP (no browser): CSRF, idle expiry, logout, roles, lockout, languages, redirects."""

from __future__ import annotations

import re
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import httpx
import pytest
import pytest_asyncio
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from connector.api.app import create_app
from connector.console import session as console_session
from connector.services import accounts, catalog
from connector.services import models as m
from connector.services.context import NodeContext
from connector.services.login_throttle import LoginThrottle
from connector.storage.tables import AuditEntry, OwnEmission
from tests.api.conftest import make_settings

pytestmark = pytest.mark.asyncio
PASSWORD = "a long enough password"


@dataclass
class Console:
    app: Any
    engine: Engine
    product_id: str

    def client(self, **headers: str) -> httpx.AsyncClient:
        # https: the session cookie is Secure, and httpx (like a browser) sends it only over https
        return httpx.AsyncClient(
            transport=httpx.ASGITransport(app=self.app), base_url="https://node.test", headers=headers
        )


@pytest_asyncio.fixture
async def console(tmp_path: Any, make_db: Callable[[], Engine]) -> AsyncIterator[Console]:
    settings = make_settings(tmp_path, login_max_failures=3, user_access_token_ttl=timedelta(seconds=1))
    engine = make_db()
    app = create_app(settings, engine=engine)
    with Session(engine) as session:
        ctx = NodeContext(session, settings, app.state.identity)
        for role in ("viewer", "editor", "verifier"):
            accounts.create_user(ctx, role, PASSWORD, role)
        product = catalog.create_product(
            ctx,
            m.ProductCreate.model_validate(
                {"productIds": ["urn:pact:test.example:product:cell"], "name": "Cell", "declaredUnit": "piece"}
            ),
        )
        catalog.add_bom_line(
            ctx,
            product.id,
            m.SupplierLineCreate.model_validate(
                {
                    "supplierCompanyId": "urn:pact:paper.example:company:paper",
                    "supplierProductId": "urn:pact:paper.example:product:separator",
                    "quantity": "2",
                    "unit": "kilogram",
                }
            ),
        )
        session.commit()
        product_id = product.id
    async with app.router.lifespan_context(app):
        yield Console(app, engine, product_id)


def _csrf(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found, "no CSRF field on the page"
    return found.group(1)


async def _log_in(client: httpx.AsyncClient, login: str, password: str = PASSWORD) -> httpx.Response:
    page = await client.get("/console/login")
    return await client.post(
        "/console/login", data={"login": login, "password": password, "csrf": _csrf(page.text), "next": "/console/"}
    )


def _emissions(console: Console) -> list[OwnEmission]:
    with Session(console.engine) as session:
        return list(session.exec(select(OwnEmission)))


async def test_browsers_are_sent_to_the_console_and_pages_need_a_login(console: Console) -> None:
    async with console.client() as client:
        assert (await client.get("/", headers={"accept": "text/html"})).headers["location"] == "/console/"
        assert (await client.get("/", headers={"accept": "application/json"})).headers["location"] == "/docs"
        r = await client.get(f"/console/products/{console.product_id}")
        assert r.status_code == 303 and r.headers["location"].startswith("/console/login?next=")
        r = await client.get("/console/login")
        assert 'href="/docs"' in r.text
        cookie = r.headers["set-cookie"].lower()
        assert "httponly" in cookie and "secure" in cookie and "samesite=strict" in cookie


async def test_a_form_posted_without_its_csrf_token_is_refused(console: Console) -> None:
    async with console.client() as client:
        assert (await _log_in(client, "editor")).status_code == 303
        url = f"/console/products/{console.product_id}/emissions"
        for data in (
            {"stage": "main_production", "value": "1"},
            {"stage": "main_production", "value": "1", "csrf": "x"},
        ):
            r = await client.post(url, data=data)
            assert r.status_code == 403
            assert "did not come from this console" in r.text
        assert _emissions(console) == []
        page = await client.get(f"/console/products/{console.product_id}")
        r = await client.post(url, data={"stage": "main_production", "value": "1", "csrf": _csrf(page.text)})
        assert r.status_code == 303
        assert len(_emissions(console)) == 1
    with Session(console.engine) as session:
        actors = {(e.actor, e.action) for e in session.exec(select(AuditEntry))}
    assert ("user:editor", "user.login") in actors
    assert ("user:editor", "console.emission.added") in actors


async def test_the_login_form_needs_its_csrf_token_too(console: Console) -> None:
    async with console.client() as client:
        await client.get("/console/login")
        r = await client.post("/console/login", data={"login": "editor", "password": PASSWORD, "csrf": "forged"})
        assert r.status_code == 403


async def test_a_viewer_sees_no_editing_form_and_is_refused_if_it_posts(console: Console) -> None:
    async with console.client() as client:
        await _log_in(client, "viewer")
        for path in (f"/console/products/{console.product_id}", "/console/requests", "/console/partners"):
            page = await client.get(path)
            assert page.status_code == 200
            forms = re.findall(r'<form method="post" action="([^"]+)"', page.text)
            assert forms == ["/console/logout"], (path, forms)
        r = await client.post(
            f"/console/products/{console.product_id}/emissions",
            data={"stage": "main_production", "value": "1", "csrf": _csrf(page.text)},
        )
        assert r.status_code == 403 and "role does not allow" in r.text
        assert _emissions(console) == []


async def test_an_idle_session_ends_and_its_tokens_are_revoked(
    console: Console, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with console.client() as client:
        await _log_in(client, "editor")
        assert (await client.get("/console/")).status_code == 200
        later = time.time() + console.app.state.settings.console_idle_timeout.total_seconds() + 5

        class Clock:
            @staticmethod
            def time() -> float:
                return later

        monkeypatch.setattr(console_session, "time", Clock)
        r = await client.get("/console/")
        assert r.status_code == 303 and "expired=1" in r.headers["location"]
        assert "without activity" in (await client.get(r.headers["location"])).text
    with Session(console.engine) as session:
        assert session.exec(select(AuditEntry).where(AuditEntry.action == "user.logout")).first() is not None


async def test_logging_out_ends_the_session_on_the_server(console: Console) -> None:
    async with console.client() as client:
        await _log_in(client, "editor")
        stolen = client.cookies.get(console_session.COOKIE)
        page = await client.get("/console/")
        r = await client.post("/console/logout", data={"csrf": _csrf(page.text)})
        assert r.status_code == 303
    async with console.client() as thief:
        thief.cookies.set(console_session.COOKIE, stolen or "", domain="node.test", path="/console")
        assert (await thief.get("/console/")).status_code == 303


async def test_a_forged_cookie_is_no_session(console: Console) -> None:
    async with console.client() as client:
        await _log_in(client, "editor")
        value = client.cookies.get(console_session.COOKIE) or ""
        body, mac = value.split(".")
        client.cookies.set(console_session.COOKIE, f"{body}x.{mac}", domain="node.test", path="/console")
        assert (await client.get("/console/")).status_code == 303


async def test_wrong_passwords_lock_the_account(console: Console) -> None:
    async with console.client() as client:
        for _ in range(2):
            r = await _log_in(client, "editor", "wrong password!!")
            assert r.status_code == 401 and "wrong password" in r.text
        r = await _log_in(client, "editor", "wrong password!!")  # the third: locks it, said as a wrong password
        assert r.status_code == 401 and "wrong password" in r.text
        r = await _log_in(client, "editor")  # the right password, but locked
        assert r.status_code == 401 and "wrong password" in r.text and "locked" not in r.text
    with Session(console.engine) as session:
        actions = {(e.action, e.subject) for e in session.exec(select(AuditEntry))}
    assert ("user.locked", "editor") in actions and ("user.login_refused", "editor") in actions  # the operator sees it


def _form_page(html: str) -> str:
    """The login page without what differs from one visit to the next: the CSRF token and the login typed."""
    html = re.sub(r'name="csrf" value="[^"]+"', 'name="csrf" value=""', html)
    return re.sub(r'(name="login"[^>]*?) value="[^"]*"', r"\1", html)


async def test_unknown_login_wrong_password_and_locked_account_look_alike(console: Console) -> None:
    async with console.client() as client:
        for _ in range(3):  # login_max_failures: the editor is locked
            await _log_in(client, "editor", "wrong password!!")
        unknown = await _log_in(client, "nobody", "wrong password!!")
        wrong = await _log_in(client, "viewer", "wrong password!!")
        locked = await _log_in(client, "editor")
    assert unknown.status_code == wrong.status_code == locked.status_code == 401
    assert _form_page(unknown.text) == _form_page(wrong.text) == _form_page(locked.text)
    assert "retry-after" not in locked.headers


async def test_too_many_failed_logins_from_one_address_get_429(console: Console) -> None:
    console.app.state.login_throttle = LoginThrottle(per_address=2, per_login=10, window_seconds=600, max_entries=100)
    async with console.client() as client:
        for login in ("nobody", "somebody"):
            assert (await _log_in(client, login, "wrong password!!")).status_code == 401
        refused = await _log_in(client, "editor")  # the right password, not even checked
        assert refused.status_code == 429 and "try again later" in refused.text
        assert 0 < int(refused.headers["retry-after"]) <= 600
        assert client.cookies.get(console_session.COOKIE)  # still the anonymous session: the form can be sent again
    transport = httpx.ASGITransport(app=console.app, client=("192.0.2.8", 40000))
    async with httpx.AsyncClient(transport=transport, base_url="https://node.test") as elsewhere:
        assert (await _log_in(elsewhere, "editor")).status_code == 303


async def test_the_login_page_goes_back_only_to_the_console(console: Console) -> None:
    async with console.client() as client:
        page = await client.get("/console/login")
        r = await client.post(
            "/console/login",
            data={"login": "editor", "password": PASSWORD, "csrf": _csrf(page.text), "next": "https://evil.example/"},
        )
        assert r.headers["location"] == "/console/"


async def test_japanese_from_accept_language_and_english_from_the_switch(console: Console) -> None:
    async with console.client(**{"accept-language": "ja-JP,ja;q=0.9,en;q=0.5"}) as client:
        page = await client.get("/console/login")
        assert '<html lang="ja">' in page.text and "ログイン" in page.text
        await _log_in(client, "editor")
        page = await client.get(f"/console/products/{console.product_id}")
        assert "原材料の調達及び前処理" in page.text and "使用後処理及びリサイクル" in page.text
        r = await client.get("/console/lang/en", params={"next": f"/console/products/{console.product_id}"})
        assert r.status_code == 303
        page = await client.get(r.headers["location"])
        assert '<html lang="en">' in page.text and "Raw material acquisition and pre-processing" in page.text
    async with console.client(**{"accept-language": "de-DE,de;q=0.9"}) as client:
        assert '<html lang="en">' in (await client.get("/console/login")).text


async def test_the_operator_api_still_answers_problem_json(console: Console) -> None:
    async with console.client() as client:
        r = await client.get("/api/v1/products/nope", headers={"X-API-Key": "ck_nope"})
        assert r.headers["content-type"].startswith("application/problem+json")


async def test_an_active_session_outlives_its_access_token(console: Console) -> None:
    """The access token lives a second here: the console renews it with the refresh token, in a new cookie."""
    async with console.client() as client:
        await _log_in(client, "editor")
        first = client.cookies.get(console_session.COOKIE)
        time.sleep(1.2)
        r = await client.get("/console/")
        assert r.status_code == 200
        assert client.cookies.get(console_session.COOKIE) != first
        time.sleep(1.2)
        assert (await client.get("/console/products")).status_code == 200


async def test_only_a_role_that_may_verify_gets_the_upload_form(console: Console) -> None:
    async with console.client() as client:
        await _log_in(client, "viewer")
        page = await client.get("/console/verify")
        assert 'name="bundle"' not in page.text
        r = await client.post(
            "/console/verify", data={"csrf": _csrf(page.text)}, files={"bundle": ("b.json", b"{}", "application/json")}
        )
        assert r.status_code == 403
    async with console.client() as client:
        await _log_in(client, "verifier")
        page = await client.get("/console/verify")
        assert 'name="bundle"' in page.text
        r = await client.post(
            "/console/verify",
            data={"csrf": _csrf(page.text)},
            files={"bundle": ("b.json", b"not json", "application/json")},
        )
        assert r.status_code == 422 and "not an evidence bundle" in r.text


async def test_a_missing_supplier_value_is_entered_with_its_source(console: Console) -> None:
    """A supplier without a node sent a PDF: the editor types its values in; the line turns from missing to entered,
    naming the user and the kind of source, and the document is kept with the value."""
    from connector.storage.tables import UpstreamFootprint

    async with console.client() as client:
        await _log_in(client, "editor")
        page = await client.get(f"/console/products/{console.product_id}")
        assert 'data-state="missing"' in page.text
        line_id = re.search(r"/lines/([0-9a-f-]+)/enter", page.text)
        assert line_id is not None
        url = f"/console/products/{console.product_id}/lines/{line_id.group(1)}/enter"
        fields = {"csrf": _csrf(page.text), "declaredUnit": "kilogram", "sourceKind": "document"}
        r = await client.post(url, data={**fields, "raw_material_acquisition": "1,5"})
        assert r.status_code == 422 and "raw_material_acquisition" in r.text  # a decimal comma, refused by name
        pdf = ("sheet.pdf", b"%PDF-1.4 separator CFP 1.5 kg", "application/pdf")
        r = await client.post(url, data={**fields, "raw_material_acquisition": "1.5", "main_production": "0.25"},
                              files={"document": pdf})  # fmt: skip
        assert r.status_code == 303
        page = await client.get(f"/console/products/{console.product_id}")
        assert 'data-state="entered"' in page.text and "user:editor" in page.text
    with Session(console.engine) as session:
        held = session.exec(select(UpstreamFootprint)).one()
    assert held.basis == "entered" and held.entered_by == "user:editor" and held.source_kind == "document"
    assert held.stages["raw_material_acquisition"] == "1.5" and held.document == pdf[1]


async def test_the_product_list_searches_and_refuses_a_bad_page_number(console: Console) -> None:
    async with console.client() as client:
        await _log_in(client, "viewer")
        assert "Cell" in (await client.get("/console/products", params={"q": "cel"})).text
        assert "Cell</a>" not in (await client.get("/console/products", params={"q": "anode"})).text
        r = await client.get("/console/products", params={"page": "0"})
        assert r.status_code == 422 and "<html" in r.text


async def test_a_bundle_upload_may_exceed_the_operator_body_limit(console: Console) -> None:
    """A deep chain's bundle is megabytes: the console's upload takes the evidence routes' limit, not 1 MiB."""
    limit = console.app.state.settings.max_body_bytes
    async with console.client() as client:
        await _log_in(client, "verifier")
        page = await client.get("/console/verify")
        big = b'{"pad": "' + b"x" * (limit + 10) + b'"}'
        r = await client.post(
            "/console/verify", data={"csrf": _csrf(page.text)}, files={"bundle": ("b.json", big, "application/json")}
        )
        assert r.status_code == 422 and "not an evidence bundle" in r.text  # read whole, then refused for its content


async def test_the_dashboard_counts_and_names_a_stalled_request(console: Console) -> None:
    from datetime import UTC, datetime

    from connector.storage.tables import CfpRequest, Partner

    long_ago = datetime.now(UTC) - timedelta(days=5)
    with Session(console.engine) as session:
        session.add(Partner(company_id="urn:pact:slow.example:company:slow", name="Slow Supplier KK", is_supplier=True))
        session.add(
            CfpRequest(direction="outgoing", event_id="e-1", company_id="urn:pact:slow.example:company:slow",
                       product_ids=["urn:pact:slow.example:product:x"], created_at=long_ago, updated_at=long_ago)
        )  # fmt: skip
        session.add(
            CfpRequest(direction="incoming", event_id="e-2", company_id="urn:pact:slow.example:company:slow",
                       product_ids=["urn:pact:test.example:product:cell"])
        )  # fmt: skip
        session.commit()
    async with console.client() as client:
        await _log_in(client, "viewer")
        page = (await client.get("/console/")).text
    assert re.search(r'data-figure="outgoing-stalled">1<', page)
    assert re.search(r'data-figure="incoming-waiting">1<', page)
    assert "Slow Supplier KK" in page


async def test_requests_are_rejected_with_a_reason_cancelled_and_sent_again(console: Console) -> None:
    from connector.storage.tables import BomLine, CfpRequest, Partner

    with Session(console.engine) as session:
        line = session.exec(select(BomLine)).one()
        session.add(Partner(company_id=line.supplier_company_id or "", name="Paper Co", node_url="https://paper.example",
                            is_supplier=True))  # fmt: skip
        incoming = CfpRequest(direction="incoming", event_id="ask-1", company_id="urn:pact:oem.example:company:oem",
                              product_ids=["urn:pact:test.example:product:cell"], product_id=console.product_id)  # fmt: skip
        outgoing = CfpRequest(direction="outgoing", event_id="ask-2", company_id=line.supplier_company_id or "",
                              product_ids=[line.supplier_product_id or ""], bom_line_id=line.id)  # fmt: skip
        session.add_all([incoming, outgoing])
        session.commit()
        incoming_id, outgoing_id = incoming.id, outgoing.id

    def state(request_id: str) -> tuple[str, str | None]:
        with Session(console.engine) as session:
            row = session.get(CfpRequest, request_id)
            assert row is not None
            return row.state, row.reason

    async with console.client() as client:
        await _log_in(client, "editor")
        page = await client.get("/console/requests", params={"direction": "incoming"})
        csrf = _csrf(page.text)
        url = f"/console/requests/{incoming_id}/reject?direction=incoming"
        r = await client.post(url, data={"csrf": csrf, "reason": ""})
        assert r.status_code == 422 and "reason" in r.text and state(incoming_id)[0] == "pending"
        r = await client.post(url, data={"csrf": csrf, "reason": "we do not sell this cell to you"})
        assert r.status_code == 303 and state(incoming_id) == ("rejected", "we do not sell this cell to you")

        r = await client.post(f"/console/requests/{outgoing_id}/cancel?direction=outgoing", data={"csrf": csrf})
        assert r.status_code == 303 and state(outgoing_id)[0] == "cancelled"
        r = await client.post(f"/console/requests/{outgoing_id}/resend?direction=outgoing", data={"csrf": csrf})
        assert r.status_code == 303
        page = await client.get("/console/requests", params={"direction": "outgoing", "state": "pending"})
        assert page.text.count("data-request=") == 1 and "Paper Co" in page.text
    with Session(console.engine) as session:
        actions = [e.action for e in session.exec(select(AuditEntry).where(AuditEntry.actor == "user:editor"))]
    assert {"console.request.rejected", "console.request.cancelled", "console.request.resent"} <= set(actions)


async def test_partners_and_grants_from_the_forms(console: Console) -> None:
    from connector.storage.tables import Grant

    async with console.client() as client:
        await _log_in(client, "editor")
        csrf = _csrf((await client.get("/console/partners")).text)
        bad = {"csrf": csrf, "companyId": "not a urn", "name": "Auto Co", "isCustomer": "on"}
        r = await client.post("/console/partners", data=bad)
        assert r.status_code == 422 and 'id="e-companyId"' in r.text and 'value="Auto Co"' in r.text
        r = await client.post("/console/partners", data={**bad, "companyId": "urn:pact:auto.example:company:auto"})
        assert r.status_code == 303
        page = await client.get("/console/partners")
        assert "Auto Co" in page.text
        data = {"csrf": csrf, "productId": console.product_id, "grantCompanyId": "urn:pact:auto.example:company:auto"}
        assert (await client.post("/console/grants", data=data)).status_code == 303
        with Session(console.engine) as session:
            grant = session.exec(select(Grant)).one()
        assert (await client.post(f"/console/grants/{grant.id}/delete", data={"csrf": csrf})).status_code == 303
        with Session(console.engine) as session:
            assert session.exec(select(Grant)).first() is None


async def test_the_requests_page_shows_remembered_part_links_and_forgets_one(console: Console) -> None:
    """Decision 0028: the incoming requests page lists the platform parts whose trades link themselves; an editor
    forgets one (a viewer sees them without the button)."""
    from connector.storage.part_links import PartLink

    with Session(console.engine) as session:
        link = PartLink(platform_url="https://dts.platform.example", trace_id="0f6e2b1c-9d8a-4e3f-8a7b-6c5d4e3f2a1b",
                        company_id="urn:pact:oem.example:company:oem", parts_name="Cell A",
                        product_id=console.product_id)  # fmt: skip
        session.add(link)
        session.commit()
        link_id = link.id

    async with console.client() as client:
        await _log_in(client, "viewer")
        page = await client.get("/console/requests", params={"direction": "incoming"})
        assert (
            f'id="pl-{link_id}"' in page.text and "Cell A" in page.text and "https://dts.platform.example" in page.text
        )
        assert f"/part-links/{link_id}/delete" not in page.text
        assert "Cell A" not in (await client.get("/console/requests", params={"direction": "outgoing"})).text
    async with console.client() as client:
        await _log_in(client, "editor")
        csrf = _csrf((await client.get("/console/requests", params={"direction": "incoming"})).text)
        r = await client.post(f"/console/part-links/{link_id}/delete?direction=incoming", data={"csrf": csrf})
        assert r.status_code == 303
        r = await client.post(f"/console/part-links/{link_id}/delete?direction=incoming", data={"csrf": csrf})
        assert r.status_code == 422 and "not found" in r.text  # already gone: said on the page, not a 500
    with Session(console.engine) as session:
        assert session.get(PartLink, link_id) is None
        actions = [e.action for e in session.exec(select(AuditEntry).where(AuditEntry.actor == "user:editor"))]
    assert "console.part-link.removed" in actions


async def test_a_japanese_page_shows_the_cores_refusals_in_japanese(console: Console) -> None:
    """Refusals of the core (pydantic's, a validator's, a service's) come back in the page's language: translated by
    their code or pydantic type with their values filled in, the field named by its translated label."""
    async with console.client(**{"accept-language": "ja"}) as client:
        await _log_in(client, "editor")
        page = await client.get(f"/console/products/{console.product_id}")
        url = f"/console/products/{console.product_id}/emissions"
        r = await client.post(url, data={"csrf": _csrf(page.text), "stage": "main_production", "value": "12,5"})
        assert r.status_code == 422
        assert "入力内容を確認してください：排出量（宣言単位あたり kg CO2e）。" in r.text  # the label, translated
        assert 'id="e-value">小数点（.）を使った10進数で入力してください' in r.text  # pydantic's decimal_string
        assert "/console/lang/en?next=%2Fconsole%2F" + '"' in r.text  # no Referer: the switch goes to the dashboard
        came = {"referer": f"https://node.test/console/products/{console.product_id}"}
        r = await client.post(url, data={"csrf": _csrf(page.text), "value": "12,5"}, headers=came)
        assert f"/console/lang/en?next=%2Fconsole%2Fproducts%2F{console.product_id}" + '"' in r.text  # not the POST's
        activity = {"stage": "main_production", "amount": "3", "unit": "furlong", "factor": "0.5", "source": "x"}
        r = await client.post(url, data={"csrf": _csrf(page.text), **activity})
        assert r.status_code == 422 and 'id="e-unit">単位「furlong」は使用できません' in r.text  # unit.unknown
        r = await client.post(url, data={"csrf": _csrf(page.text), "stage": "main_production", "amount": "3"})
        assert r.status_code == 422  # a model validator's refusal goes to the form's own line
        assert "活動量による入力には、活動量・排出係数・係数の出典がすべて必要です" in r.text
        assert "Value error" not in r.text and "an activity line needs" not in r.text

        # a supplier's value per kWh for a line bought in kilograms: computing cannot convert the quantity
        line_id = re.search(r"/lines/([0-9a-f-]+)/enter", page.text)
        assert line_id is not None
        r = await client.post(
            f"/console/products/{console.product_id}/lines/{line_id.group(1)}/enter",
            data={"csrf": _csrf(page.text), "declaredUnit": "kilowatt hour", "main_production": "0.5"},
        )
        assert r.status_code == 303
        r = await client.post(f"/console/products/{console.product_id}/compute", data={"csrf": _csrf(page.text)})
        assert r.status_code == 422
        assert "「kilogram」を「kilowatt hour」に換算できません" in r.text and "cannot convert" not in r.text

        r = await client.get("/console/products/no-such-product")
        assert r.status_code == 404 and "製品 no-such-product が見つかりません" in r.text  # a service's NotFound
    async with console.client() as client:  # the same refusal on an English page: the core's own words
        await _log_in(client, "editor")
        page = await client.get(f"/console/products/{console.product_id}")
        r = await client.post(f"/console/products/{console.product_id}/compute", data={"csrf": _csrf(page.text)})
        assert r.status_code == 422 and "cannot convert &#39;kilogram&#39; to &#39;kilowatt hour&#39;" in r.text
