"""The console's languages: English (the message ids) and Japanese (``i18n/ja.po``), numbers and dates per locale.

The catalogs are gettext ``.po`` files read with Babel when the console starts: no compile step, nothing to build
(decision 0025). English is the source text, so an untranslated id still reads as English; a test keeps the Japanese
catalog complete.

Messages of the node's core (a service's refusal, a validator's) are translated by their stable code: the catalog's
entry whose ``msgctxt`` is the code (its ``msgid`` is the core's English template, for the translator), with the
error's params interpolated. A code the catalog does not know is shown in the core's English, never blank
(:class:`Message`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any

from babel import Locale, dates, lists, numbers
from babel.core import negotiate_locale
from babel.messages.pofile import read_po

from ..stages import Stage
from ..verification import english as verification_english

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


CHECK_NAMES = (
    N_("format"), N_("structure"), N_("alg/typ"), N_("signature"), N_("validity"), N_("certificate chain"),
    N_("role"), N_("revocation"), N_("crls"), N_("audience"), N_("binding"), N_("evidence"), N_("evidence binding"),
    N_("disclosures"), N_("total"), N_("arithmetic"), N_("coverage"), N_("declared coverage"), N_("document"),
    N_("documents"), N_("entered input"), N_("attested"), N_("depth"), N_("cycle"), N_("visits"), N_("packages"),
    N_("input binding"), N_("upstream binding"), N_("upstream values"), N_("pack binding"), N_("pack product"),
    N_("absolute stages"), N_("per-kWh recompute"), N_("declared certifications"), N_("certification"),
)  # fmt: skip
"""The names of the verifier's checks (``Check.name`` in a verification report): a test keeps this list complete."""

FIELD_LABELS: dict[str, str] = {
    # own emission, entered supplier value
    "stage": N_("Life-cycle stage"), "value": N_("Emissions (kg CO2e per declared unit)"),
    "amount": N_("Activity amount"), "unit": N_("Activity unit"),
    "factor": N_("Emission factor (kg CO2e per activity unit)"), "source": N_("Source of the factor"),
    "declaredUnit": N_("Declared unit of the supplier's value"), "sourceKind": N_("Where the value comes from"),
    "stages": N_("Life-cycle stage"),
    # partner
    "companyId": N_("Company ID (URN)"), "name": N_("Name"), "nodeUrl": N_("Node URL"),
    # declaration
    "batteryModel": N_("Battery model"), "batteryCategory": N_("Battery category"),
    "vehicleCategory": N_("Vehicle category"), "packProductId": N_("Pack footprint held"),
    "usableEnergyKwh": N_("Usable energy at beginning of life (kWh)"), "serviceLifeYears": N_("Service life (years)"),
    "cyclesPerYear": N_("Full equivalent cycles per year (override)"),
    "cyclesOverrideReason": N_("Reason for the cycles override"), "manufacturer": N_("Manufacturer and plant"),
    "manufacturer.name": N_("Manufacturer name"), "manufacturer.address": N_("Manufacturer address"),
    "plant": N_("Manufacturer and plant"), "plant.name": N_("Plant name"),
    "plant.country": N_("Plant country (ISO 3166-1, e.g. DE)"),
    "plant.subdivision": N_("Plant subdivision (ISO 3166-2, e.g. DE-BY)"),
    "declarationOfConformityId": N_("EU declaration of conformity ID"),
    "studyUrl": N_("Public link to the supporting study"),
    # EU declaration of conformity
    "objectDescription": N_("Object of the declaration"), "conformityModule": N_("Conformity assessment module"),
    "notifiedBody": N_("Notified body"), "notifiedBody.name": N_("Notified body"),
    "notifiedBody.number": N_("Notified body number"), "notifiedBody.task": N_("What the notified body did"),
    "notifiedBody.certificate": N_("Certificate issued"), "signedFor": N_("Signed for and on behalf of"),
    "placeOfIssue": N_("Place of issue"), "dateOfIssue": N_("Date of issue"),
    "signatoryName": N_("Name of the signatory"), "signatoryFunction": N_("Function of the signatory"),
    # verify
    "bundle": N_("Evidence bundle (JSON)"), "anchors": N_("Trust anchors (PEM), if not this node's"),
}  # fmt: skip
"""A form field's label by the name the model reports it under (the same words as the field's label on the page)."""


@dataclass(frozen=True)
class Message:
    """Something to tell the reader, translated when the page is rendered in the reader's language.

    - a console message: ``text`` is its msgid (``%(name)s`` filled from ``params``);
    - a core error: ``code`` names it (the catalog's ``msgctxt``), ``fallback`` is the core's English;
    - a pydantic error: ``text`` is the console's msgid for its ``type``, ``fallback`` pydantic's English.

    English pages show ``fallback`` when there is one (the core's and pydantic's own wording); another language shows
    the translation, else ``fallback``: never blank. ``parts`` makes it a list of ``label: message``, one per field.
    """

    text: str = ""
    params: Mapping[str, Any] = field(default_factory=dict)
    code: str | None = None
    fallback: str | None = None
    parts: tuple[tuple[str, Message | str], ...] = ()


class Labels(tuple[str, ...]):
    """A :class:`Message` param that is a list of fields: their labels, listed in the reader's language."""

    __slots__ = ()


def _read(lang: str) -> list[Any]:
    path = CATALOGS / f"{lang}.po"
    if lang == DEFAULT or not path.exists():
        return []
    with path.open("rb") as handle:
        return [m for m in read_po(handle, locale=lang) if m.id and m.string and not m.fuzzy]


@cache
def catalog(lang: str) -> dict[str, str]:
    """msgid -> translation of one language ({} for English, the source language): the console's own messages."""
    return {str(m.id): str(m.string) for m in _read(lang) if not m.context}


@cache
def codes(lang: str) -> dict[str, str]:
    """A core message's code (the entry's ``msgctxt``) -> its translation."""
    return {str(m.context): str(m.string) for m in _read(lang) if m.context}


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

    def message(self, message: Message | str | None) -> str:
        """A :class:`Message` (or a msgid) in this language; the English it carries when it cannot be translated."""
        if message is None:
            return ""
        if isinstance(message, str):
            return self.gettext(message)
        if message.parts:
            return "; ".join(
                self.gettext(N_("%(label)s: %(text)s"), label=self.label(name), text=self.message(part))
                if name != "_"
                else self.message(part)
                for name, part in message.parts
            )
        if message.fallback is not None and self.lang == DEFAULT:
            return message.fallback
        if message.code is not None:
            template = codes(self.lang).get(message.code)
        else:
            template = catalog(self.lang).get(message.text, message.text if message.fallback is None else None)
        english = message.fallback if message.fallback is not None else message.text
        if template is None:
            return english
        values = {k: self._value(v) for k, v in message.params.items()}
        try:
            return template % values
        except (KeyError, ValueError, TypeError):  # a translation naming a param this error did not give
            return english

    def detail(self, check: Any) -> str:
        """A verifier check's (or failure's) ``detail`` in this language: said again from its ``code`` and ``params``
        (decision 0033); its English ``detail`` on English pages, for a report made before codes, and for a code or
        phrase the catalog does not know."""
        if self.lang == DEFAULT or not getattr(check, "code", None):
            return str(check.detail)
        try:
            return self._said(check.code, check.params or {}, check.detail)
        except (KeyError, TypeError, AttributeError, ValueError):  # a phrase of a code this version does not know
            return str(check.detail)

    def _said(self, code: str, params: Mapping[str, Any], english: str | None = None) -> str:
        template = codes(self.lang).get(code)
        if english is None:
            english = verification_english(code, params)
        if template is None:
            return english
        values = {
            name: self.gettext(N_("; ")).join(self._said(p["code"], p.get("params") or {}) for p in value)
            if isinstance(value, list)
            else value
            for name, value in params.items()
        }
        try:
            return template % values
        except (KeyError, ValueError, TypeError):
            return english

    def _value(self, value: Any) -> Any:
        if isinstance(value, Message):
            return self.message(value)
        if isinstance(value, Labels):
            return self.labels(list(value))
        return value

    def label(self, name: str) -> str:
        """A field's label: ``stages.main_production`` is the stage's name, an unknown field its own name."""
        head, _, rest = name.partition(".")
        if head == "stages" and rest in {s.value for s in Stage}:
            return self.stage(rest)
        return self.gettext(FIELD_LABELS[name]) if name in FIELD_LABELS else name

    def labels(self, names: list[str]) -> str:
        return lists.format_list([self.label(n) for n in names], locale=self.lang)

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
