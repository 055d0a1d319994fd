"""The EU declaration of conformity (Art. 18, Annex IX model structure) for the declared battery model.

The item wording follows the standard New Legislative Framework model that Annex IX uses (numbered 1-9); check it
against the EUR-Lex text of Regulation (EU) 2023/1542 before publishing.
"""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import Field, HttpUrl, model_validator

from ..decimals import format_decimal
from .models import CamelModel, Declaration

BATTERY_REGULATION = (
    "Regulation (EU) 2023/1542 of the European Parliament and of the Council of 12 July 2023 concerning batteries "
    "and waste batteries (OJ L 191, 28.7.2023, p. 1)"
)
SOLE_RESPONSIBILITY = "This declaration of conformity is issued under the sole responsibility of the manufacturer."
CONFORMITY_STATEMENT = (
    "The object of the declaration described above is in conformity with the relevant Union harmonisation legislation"
)


class Party(CamelModel):
    name: str = Field(min_length=1)
    address: str = Field(min_length=1)


class NotifiedBody(CamelModel):
    """Art. 17(2): Art. 7 conformity is assessed under module D1 or G, both with a notified body."""

    name: str = Field(min_length=1)
    number: str = Field(min_length=1, description="NANDO identification number")
    task: str = Field(min_length=1, description="what the notified body did")
    certificate: str = Field(min_length=1, description="certificate or approval issued")


class ConformityInput(CamelModel):
    """What the declaration of conformity needs beyond the carbon footprint declaration."""

    batch_or_serial: str | None = Field(default=None, description="batch or serial number, when applicable")
    object_description: str = Field(min_length=1, description="identification allowing traceability")
    object_image_url: HttpUrl | None = None
    authorised_representative: Party | None = None
    legislation: tuple[str, ...] = (BATTERY_REGULATION,)
    standards: tuple[str, ...] = Field(default=(), description="harmonised standards, common or other specifications")
    conformity_module: Literal["D1", "G"]
    notified_body: NotifiedBody
    additional_information: str | None = None
    signed_for: str = Field(min_length=1, description="signed for and on behalf of")
    place_of_issue: str = Field(min_length=1)
    date_of_issue: dt.date
    signatory_name: str = Field(min_length=1)
    signatory_function: str = Field(min_length=1)

    @model_validator(mode="after")
    def _battery_regulation_listed(self) -> ConformityInput:
        if not any("2023/1542" in ref for ref in self.legislation):
            raise ValueError("legislation must reference Regulation (EU) 2023/1542")
        return self


class AnnexIXItem(CamelModel):
    number: int
    title: str
    lines: tuple[str, ...]


class DeclarationOfConformity(CamelModel):
    """The Annex IX declaration as data; ``items`` is the numbered rendering of it, item 1 to 9."""

    type: Literal["EUDeclarationOfConformity"] = "EUDeclarationOfConformity"
    id: str
    battery_model: str
    battery_category: str
    batch_or_serial: str | None
    manufacturer: Party
    authorised_representative: Party | None
    sole_responsibility: str = SOLE_RESPONSIBILITY
    object_description: str
    object_image_url: HttpUrl | None
    legislation: tuple[str, ...]
    standards: tuple[str, ...]
    conformity_module: Literal["D1", "G"]
    notified_body: NotifiedBody
    additional_information: tuple[str, ...]
    signed_for: str
    place_of_issue: str
    date_of_issue: dt.date
    signatory_name: str
    signatory_function: str
    items: tuple[AnnexIXItem, ...]


def build_declaration_of_conformity(declaration: Declaration, conformity: ConformityInput) -> DeclarationOfConformity:
    """The Annex IX declaration of conformity for the battery model of ``declaration``.

    Its number is the declaration's ``declarationOfConformityId`` (the id Art. 7(1)(f) refers to).
    """
    manufacturer = Party(name=declaration.manufacturer.name, address=declaration.manufacturer.address)
    model = declaration.battery_model
    cfp = declaration.carbon_footprint
    additional = [
        f"Carbon footprint declaration {declaration.id} (Art. 7(1)): {format_decimal(cfp.value)} {cfp.unit}, "
        f"manufacturing plant {declaration.manufacturing_plant.name} ({declaration.manufacturing_plant.country}); "
        f"public study: {declaration.study_url}",
    ]
    if conformity.additional_information:
        additional.append(conformity.additional_information)
    nb = conformity.notified_body
    rep = conformity.authorised_representative
    items = (
        AnnexIXItem(
            number=1, title="EU declaration of conformity No", lines=(declaration.declaration_of_conformity_id,)
        ),
        AnnexIXItem(
            number=2,
            title="Battery model (product, category and batch or serial number)",
            lines=(
                f"Model: {model.model_id}",
                f"Category: {model.category.value.replace('_', ' ')}",
                f"Batch or serial number: {conformity.batch_or_serial or 'not applicable (model level)'}",
            ),
        ),
        AnnexIXItem(
            number=3,
            title="Name and address of the manufacturer and, where applicable, of the authorised representative",
            lines=(f"{manufacturer.name}, {manufacturer.address}",)
            + ((f"Authorised representative: {rep.name}, {rep.address}",) if rep else ()),
        ),
        AnnexIXItem(number=4, title="Responsibility", lines=(SOLE_RESPONSIBILITY,)),
        AnnexIXItem(
            number=5,
            title="Object of the declaration",
            lines=(conformity.object_description,)
            + ((f"Image: {conformity.object_image_url}",) if conformity.object_image_url else ()),
        ),
        AnnexIXItem(number=6, title=CONFORMITY_STATEMENT, lines=conformity.legislation),
        AnnexIXItem(
            number=7,
            title="References to the harmonised standards, common specifications or other technical specifications used",
            lines=conformity.standards or ("None applied.",),
        ),
        AnnexIXItem(
            number=8,
            title="Notified body",
            lines=(
                f"{nb.name}, number {nb.number}, conformity assessment module {conformity.conformity_module}",
                f"Performed: {nb.task}",
                f"Issued: {nb.certificate}",
            ),
        ),
        AnnexIXItem(
            number=9,
            title="Additional information",
            lines=(
                *additional,
                f"Signed for and on behalf of: {conformity.signed_for}",
                f"{conformity.place_of_issue}, {conformity.date_of_issue.isoformat()}",
                f"{conformity.signatory_name}, {conformity.signatory_function}",
            ),
        ),
    )
    return DeclarationOfConformity(
        id=declaration.declaration_of_conformity_id,
        battery_model=model.model_id,
        battery_category=model.category.value,
        batch_or_serial=conformity.batch_or_serial,
        manufacturer=manufacturer,
        authorised_representative=rep,
        object_description=conformity.object_description,
        object_image_url=conformity.object_image_url,
        legislation=conformity.legislation,
        standards=conformity.standards,
        conformity_module=conformity.conformity_module,
        notified_body=nb,
        additional_information=tuple(additional),
        signed_for=conformity.signed_for,
        place_of_issue=conformity.place_of_issue,
        date_of_issue=conformity.date_of_issue,
        signatory_name=conformity.signatory_name,
        signatory_function=conformity.signatory_function,
        items=items,
    )


def render_conformity_text(doc: DeclarationOfConformity) -> str:
    """Plain-text rendering, one numbered block per Annex IX item."""
    out = ["EU DECLARATION OF CONFORMITY", ""]
    for item in doc.items:
        out.append(f"{item.number}. {item.title}")
        out.extend(f"   {line}" for line in item.lines)
        out.append("")
    return "\n".join(out)
