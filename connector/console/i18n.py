"""The console's languages: English (the message ids) and Japanese (``i18n/ja.po``), numbers and dates per locale.

The catalogs are gettext ``.po`` files read with Babel when the console starts: no compile step, nothing to build
(decision 0025). English is the source text, so an untranslated id still reads as English; a test keeps the Japanese
catalog complete.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from datetime import UTC
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any

from babel import Locale, dates, numbers
from babel.core import negotiate_locale
from babel.messages.pofile import read_po

from ..stages import Stage

LANGUAGES = ("en", "ja")
DEFAULT = "en"
CATALOGS = Path(__file__).parent / "i18n"
LANG_COOKIE = "console_lang"


def N_(message: str) -> str:  # noqa: N802 - the gettext convention: marks a string for the catalog, unchanged
    return message


STAGE_NAMES: dict[Stage, str] = {
    Stage.RAW_MATERIAL_ACQUISITION: N_("Raw material acquisition and pre-processing"),
    Stage.MAIN_PRODUCTION: N_("Main product production"),
    Stage.DISTRIBUTION: N_("Distribution"),
    Stage.END_OF_LIFE: N_("End of life and recycling"),
}
"""Annex II point 4 of Regulation (EU) 2023/1542, in its English wording (the catalog holds the Japanese)."""

WORDS = (
    # request and footprint states, input states, roles
    N_("pending"), N_("fulfilled"), N_("rejected"), N_("cancelled"), N_("refused"), N_("failed"), N_("sent"),
    N_("Active"), N_("Deprecated"), N_("attested"), N_("entered"), N_("missing"), N_("secondary"), N_("internal"),
    N_("viewer"), N_("editor"), N_("admin"), N_("verifier"),
    # verification report: kinds of signed object, evidence states
    N_("bundle"), N_("declaration"), N_("attestation"), N_("certification"),
    N_("opened"), N_("not opened"), N_("certified, not opened"), N_("sealed for another verifier"),
    N_("not applicable"),
    # where an entered supplier value comes from (services.models.SOURCE_KINDS)
    N_("pact-file"), N_("catenax-pcf-file"), N_("battery-pass-file"), N_("pact-partner"), N_("ouranos-partner"),
    N_("catenax-partner"), N_("document"),
    # battery categories (Art. 7)
    N_("electric_vehicle"), N_("lmt"), N_("industrial"), N_("industrial_external_storage"),
)  # fmt: skip
"""Words the pages show from data (a state, a role...): listed here so that the catalog has them."""


@cache
def catalog(lang: str) -> dict[str, str]:
    """msgid -> translation of one language ({} for English, the source language)."""
    path = CATALOGS / f"{lang}.po"
    if lang == DEFAULT or not path.exists():
        return {}
    with path.open("rb") as handle:
        po = read_po(handle, locale=lang)
    return {str(m.id): str(m.string) for m in po if m.id and m.string and not m.fuzzy}


def choose(cookie: str | None, accept_language: str | None) -> str:
    """The language switch's cookie first, else the browser's Accept-Language, else English."""
    if cookie in LANGUAGES:
        return cookie
    wanted = []
    for part in (accept_language or "").split(","):
        tag, _, params = part.strip().partition(";")
        q = 1.0
        if params.strip().startswith("q="):
            try:
                q = float(params.strip()[2:])
            except ValueError:
                q = 0.0
        if tag and q > 0:
            wanted.append((q, tag.strip()))
    ordered = [tag for _, tag in sorted(wanted, key=lambda item: -item[0])]
    return (
        negotiate_locale(ordered, list(LANGUAGES), sep="-")
        or negotiate_locale([t.split("-")[0] for t in ordered], list(LANGUAGES))
        or DEFAULT
    )


@dataclass(frozen=True)
class Translator:
    """What the templates call: ``_``, number and date formatting in one language."""

    lang: str

    def gettext(self, message: str, **values: Any) -> str:
        text = catalog(self.lang).get(message, message)
        return text % values if values else text

    def number(self, value: Decimal | int | str | None, places: int | None = None) -> str:
        """A decimal in the locale's notation, every digit kept (or rounded to ``places`` for display)."""
        if value is None or value == "":
            return "—"
        amount = Decimal(value) if not isinstance(value, Decimal) else value
        if places is not None:
            amount = round(amount, places).normalize()  # at most ``places`` digits, no trailing zeros
            amount = amount if amount else Decimal(0)  # -0.00001 shown to 4 places is 0, not -0
        return numbers.format_decimal(amount, locale=self.lang, decimal_quantization=False)

    def percent(self, value: Decimal | None) -> str:
        if value is None:
            return "—"
        return numbers.format_percent(value, locale=self.lang, format="#,##0.#%")

    def datetime(self, value: dt.datetime | None) -> str:
        if value is None:
            return "—"
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return dates.format_datetime(value, "medium", tzinfo=UTC, locale=self.lang) + " UTC"

    def date(self, value: dt.datetime | None) -> str:
        return "—" if value is None else dates.format_date(value, "medium", locale=self.lang)

    def stage(self, stage: str | Stage) -> str:
        return self.gettext(STAGE_NAMES[Stage(stage)])

    @property
    def locale(self) -> Locale:
        return Locale.parse(self.lang)
