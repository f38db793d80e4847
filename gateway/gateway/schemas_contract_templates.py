"""Request shapes of the contract template routes. Unknown fields → 422 naming them; the
service checks the template itself (every ``{{ placeholder }}`` declared as a field, field names
unique and well formed) and answers 422 naming the field too."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, StringConstraints

from .schemas import Language, Name, Strict

FieldType = Literal["text", "number", "date", "money"]
FieldName = Annotated[
    str,
    StringConstraints(min_length=1, max_length=64, pattern=r"^[A-Za-z_][A-Za-z0-9_]*$"),
    Field(examples=["site"], description="letters, digits and _, not starting with a digit"),
]
Body = Annotated[
    str,
    StringConstraints(min_length=1, max_length=200_000),
    Field(
        examples=["Article 1. The supplier maintains the devices at {{ site }} for {{ fee }} a visit."],
        description="fixed clauses with {{ field }} placeholders",
    ),
]


class TemplateField(Strict):
    name: FieldName
    type: FieldType
    required: bool = False
    label: Annotated[str, StringConstraints(strip_whitespace=True, max_length=200)] | None = None


class TemplateCreate(Strict):
    """A template of that name (compared case- and accent-insensitively) and language that
    exists already gets the next version; contracts keep the version they were filled from."""

    name: Name
    language: Language
    body: Body
    fields: list[TemplateField] = Field(default_factory=list, max_length=200)
    description: Annotated[str, StringConstraints(strip_whitespace=True, max_length=5000)] | None = None
