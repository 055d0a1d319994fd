"""The console's catalogs: every string the pages and routes show has its Japanese, numbers and dates per locale."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from connector.console import i18n
from connector.stages import Stage

CONSOLE = Path(i18n.__file__).parent


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
    with (CONSOLE / "i18n" / "ja.po").open("rb") as handle:
        po = read_po(handle, locale="ja")
    translated = {str(m.id): str(m.string) for m in po if m.id}
    used = extracted()
    assert len(used) > 200  # the extraction reads the templates (a broken method map finds nothing)
    assert sorted(used - translated.keys()) == [], "add these to connector/console/i18n/ja.po"
    assert sorted(k for k, v in translated.items() if not v.strip()) == []
    assert sorted(translated.keys() - used) == [], "no longer used: remove them from ja.po"


def test_placeholders_survive_translation() -> None:
    for msgid, text in i18n.catalog("ja").items():
        for name in ("%(n)s", "%(unit)s", "%(page)s", "%(pages)s", "%(who)s"):
            assert (name in msgid) == (name in text), msgid


def test_the_four_life_cycle_stages_in_both_languages() -> None:
    en, ja = i18n.Translator("en"), i18n.Translator("ja")
    assert [ja.stage(s) for s in Stage] == [
        "原材料の取得及び前処理",
        "主要製品の生産",
        "流通",
        "使用済み及びリサイクル",
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
