"""The console's catalogs: every string the pages and routes show has its Japanese, numbers and dates per locale."""

from __future__ import annotations

import ast
import re
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from connector.console import i18n
from connector.stages import Stage
from connector.verification import MESSAGES

CONSOLE = Path(i18n.__file__).parent
CORE = CONSOLE.parent
PLACEHOLDER = re.compile(r"%\((\w+)\)[sr]")


def _po() -> Any:
    with (CONSOLE / "i18n" / "ja.po").open("rb") as handle:
        return read_po(handle, locale="ja")


def _literal(node: ast.expr) -> str | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        left, right = _literal(node.left), _literal(node.right)
        return None if left is None or right is None else left + right
    return None


def core_codes() -> dict[str, set[str]]:
    """code -> English templates of every coded message in the code base: ``ConnectorError(template, code=...)`` and
    ``InvalidValue(template, code=...)`` with a literal code (a code passed on from another error is not listed)."""
    found: dict[str, set[str]] = {}
    for path in CORE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call) or not node.args:
                continue
            code = next((k.value for k in node.keywords if k.arg == "code"), None)
            if isinstance(code, ast.Constant) and isinstance(code.value, str):
                template = _literal(node.args[0])
                assert template is not None, f"{path}:{node.lineno}: a coded message needs a literal template"
                found.setdefault(code.value, set()).add(template)
    for code, template in MESSAGES.items():  # the verifier's check details (decision 0033)
        found.setdefault(code, set()).add(template)
    return found


def said_calls() -> list[tuple[str, str, set[str]]]:
    """Every ``said("code", name=...)`` in the verifier: where, the code, the params it gives."""
    found = []
    for path in (CORE / "verification").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "said":
                where = f"{path.name}:{node.lineno}"
                assert node.args and isinstance(node.args[0], ast.Constant), f"{where}: said() needs a literal code"
                names = {k.arg for k in node.keywords if k.arg is not None}
                if any(k.arg is None for k in node.keywords):  # said(code, **where, ...): a dict of literal keys
                    names |= _spread_keys(path, node)
                found.append((where, str(node.args[0].value), names))
    return found


def _spread_keys(path: Path, call: ast.Call) -> set[str]:
    """The keys of the ``**name`` dicts a call spreads, read from the dict literal assigned to ``name`` in the file."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    spread = {k.value.id for k in call.keywords if k.arg is None and isinstance(k.value, ast.Name)}
    keys: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Dict):
            if any(isinstance(t, ast.Name) and t.id in spread for t in node.targets):
                keys |= {k.value for k in node.value.keys if isinstance(k, ast.Constant)}
    return keys


def check_names() -> set[str]:
    """The names the verifier gives its checks: ``node.ok("name", ...)`` / ``node.fail("name", ...)``."""
    names = set()
    for path in (CORE / "verification").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr in ("ok", "fail")
                and node.args
                and isinstance(node.args[0], ast.Constant)
            ):
                names.add(node.args[0].value)
    return names


def extracted() -> set[str]:
    """Every msgid of the console: ``_()`` in the templates, ``N_()`` and ``_()`` in its Python modules."""
    method_map = [("**/templates/**.j2", "jinja2"), ("**.py", "python")]
    found = set()
    for _file, _line, message, _comments, _context in extract_from_dir(
        str(CONSOLE), method_map, keywords={"_": None, "N_": None, "gettext": None}
    ):
        found.add(message[0] if isinstance(message, tuple) else message)
    return found


def test_every_string_has_its_japanese_and_none_is_stale() -> None:
    translated = {str(m.id): str(m.string) for m in _po() if m.id and not m.context}
    used = extracted()
    assert len(used) > 200  # the extraction reads the templates (a broken method map finds nothing)
    assert sorted(used - translated.keys()) == [], "add these to connector/console/i18n/ja.po"
    assert sorted(k for k, v in translated.items() if not v.strip()) == []
    assert sorted(translated.keys() - used) == [], "no longer used: remove them from ja.po"


def test_every_core_code_has_its_japanese_and_none_is_stale() -> None:
    """The core's coded messages: one catalog entry per code (msgctxt), whose msgid is the core's English template
    (a changed template shows here: its translation needs a look), using only the template's params."""
    entries = {str(m.context): m for m in _po() if m.id and m.context}
    raised = core_codes()
    assert len(raised) > 40  # the scan reads the sources
    assert sorted(raised.keys() - entries.keys()) == [], "add these codes to ja.po (msgctxt)"
    assert sorted(entries.keys() - raised.keys()) == [], "no longer raised: remove them from ja.po"
    for code, entry in entries.items():
        assert str(entry.id) in raised[code], f"{code}: the English changed to {raised[code]}"
        assert str(entry.string).strip(), code
        assert set(PLACEHOLDER.findall(str(entry.string))) <= set(PLACEHOLDER.findall(str(entry.id))), code


def test_every_check_detail_of_the_verifier_has_its_english_template_and_japanese() -> None:
    """Decision 0033: each ``said(code, ...)`` of the verifier names a code with an English template, gives exactly
    the template's params, and the code has its Japanese (the catalog test above checks the Japanese itself)."""
    calls = said_calls()
    assert len(calls) > 90  # the scan reads the call sites
    japanese = i18n.codes("ja")
    for where, code, names in calls:
        assert code in MESSAGES, f"{where}: {code} has no English template in verification/messages.py"
        assert names == set(PLACEHOLDER.findall(MESSAGES[code])), f"{where}: {code} params"
        assert code in japanese, f"{where}: {code} has no Japanese in ja.po"
    assert set(MESSAGES) == {code for _, code, _ in calls}, "templates no check uses: remove them"


def test_a_check_detail_is_said_again_in_japanese_and_falls_back_to_its_english() -> None:
    from connector.verification import Check, said

    def check(detail: Any) -> Check:
        values = {"name": "x", "ok": False, "detail": detail.text, "code": detail.code, "params": detail.params}
        return Check.model_validate(values)

    en, ja = i18n.Translator("en"), i18n.Translator("ja")
    sig = check(said("verify.chain.failed", iat="2026-12-07T06:05:00+00:00", reason="expired"))
    assert en.detail(sig) == sig.detail == "at the signing time 2026-12-07T06:05:00+00:00: expired"
    assert ja.detail(sig) == "署名時点 2026-12-07T06:05:00+00:00 で信頼の連鎖を確認できません：expired"
    stages = [said("verify.arithmetic.stage", stage=s, stated="1", recomputed="2") for s in ("a", "b")]
    arithmetic = check(said("verify.arithmetic.stages", rule="ROUND_HALF_EVEN", stages=stages))
    assert arithmetic.detail.endswith("a: stated 1, recomputed 2; b: stated 1, recomputed 2")
    assert ja.detail(arithmetic).endswith("a：記載値 1、再計算値 2；b：記載値 1、再計算値 2")
    plain = Check(name="x", ok=False, detail="an English sentence without a code")
    assert ja.detail(plain) == plain.detail
    unknown = Check(name="x", ok=False, detail="from a newer verifier", code="verify.not-yet-known", params={})
    assert ja.detail(unknown) == "from a newer verifier"
    nested = Check(
        name="x", ok=False, detail="English", code="verify.validity.failed",
        params={"problems": [{"code": "verify.not-yet-known", "params": {}}]},
    )  # fmt: skip
    assert ja.detail(nested) == "English"


def test_every_check_of_the_verifier_has_its_name_translated() -> None:
    assert check_names() - set(i18n.CHECK_NAMES) == set()
    assert len(check_names()) > 20


def test_placeholders_survive_translation() -> None:
    for msgid, text in i18n.catalog("ja").items():
        for name in ("%(n)s", "%(unit)s", "%(page)s", "%(pages)s", "%(who)s"):
            assert (name in msgid) == (name in text), msgid


def test_the_four_life_cycle_stages_in_both_languages() -> None:
    en, ja = i18n.Translator("en"), i18n.Translator("ja")
    assert [ja.stage(s) for s in Stage] == [
        "原材料の調達及び前処理",
        "主要製品の生産",
        "流通",
        "使用後処理及びリサイクル",
    ]
    assert en.stage(Stage.END_OF_LIFE) == "End of life and recycling"


def test_numbers_keep_every_digit_and_dates_follow_the_locale() -> None:
    en, ja = i18n.Translator("en"), i18n.Translator("ja")
    assert en.number(Decimal("12345.678901234")) == "12,345.678901234"
    assert en.number(Decimal("-0.0063")) == "-0.0063"
    assert en.number(Decimal("0.123456"), places=4) == "0.1235"
    assert en.number(Decimal("100"), places=4) == "100"
    assert en.number(Decimal("-0.00001"), places=4) == "0"
    at = datetime(2026, 12, 7, 6, 5, tzinfo=UTC)
    assert ja.datetime(at).startswith("2026/12/07")
    assert en.datetime(at).startswith("Dec 7, 2026")


def test_the_language_comes_from_the_switch_then_accept_language() -> None:
    assert i18n.choose(None, "ja-JP,ja;q=0.9,en;q=0.8") == "ja"
    assert i18n.choose(None, "fr-FR, en;q=0.5, ja;q=0.4") == "en"
    assert i18n.choose(None, "de, ja;q=0.1") == "ja"
    assert i18n.choose(None, "de") == "en"
    assert i18n.choose("en", "ja") == "en"
    assert i18n.choose("xx", "ja") == "ja"


def test_a_core_message_is_translated_by_its_code_and_falls_back_to_its_english() -> None:
    from connector.console.forms import core_message, pydantic_message
    from connector.errors import NotFound, ValidationFailed

    en, ja = i18n.Translator("en"), i18n.Translator("ja")
    found = NotFound("product %(product)s not found", code="product.not-found", params={"product": "p-1"})
    assert found.detail == "product p-1 not found" and found.params == {"product": "p-1"}
    assert ja.message(core_message(found)) == "製品 p-1 が見つかりません"
    assert en.message(core_message(found)) == "product p-1 not found"
    unknown = ValidationFailed("something new: %(x)s", code="not.in.the.catalog", params={"x": 1})
    assert ja.message(core_message(unknown)) == "something new: 1"  # a code it does not know: English, not blank
    plain = ValidationFailed("no code given")
    assert plain.code == "validation-error" and ja.message(core_message(plain)) == "no code given"
    # a translation naming a param the error did not give falls back too
    odd = NotFound("product not found", code="product.not-found")
    assert ja.message(core_message(odd)) == "product not found"
    # pydantic: by type, with its ctx; an unknown type in pydantic's English
    err = {"type": "string_too_long", "msg": "String should have at most 5 characters", "ctx": {"max_length": 5}}
    assert ja.message(pydantic_message(err)) == "5文字以内で入力してください。"
    assert en.message(pydantic_message(err)) == "String should have at most 5 characters"
    assert ja.message(pydantic_message({"type": "brand_new", "msg": "Brand new"})) == "Brand new"
    assert ja.label("stages.distribution") == "流通" and ja.label("nodeUrl") == "ノードURL"
