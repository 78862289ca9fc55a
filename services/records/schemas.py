"""Request and response bodies of the records service."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, model_validator

from services.common.fields import Id, text

Name = Annotated[str, text(200)]
Title = Annotated[str, text(300)]
Description = Annotated[str, text(5_000, blank=True)]
# kept in JSON columns, where NUL is stored escaped: no pattern needed
Variables = dict[
    Annotated[str, Field(min_length=1, max_length=100)], Annotated[str, Field(max_length=5_000)]
]


class Section(BaseModel):
    title: Title
    content: Annotated[str, text(100_000, blank=True)] = ""
    level: int = Field(default=1, ge=1, le=9)


Sections = Annotated[list[Section], Field(max_length=500)]


class TemplateIn(BaseModel):
    name: Name
    description: Description = ""
    sections: Sections = Field(default_factory=list)
    variables: Variables = Field(default_factory=dict)


class TemplateUpdate(BaseModel):
    """Only the fields given change; none of them may be null."""

    name: Name = Field(default=None)
    description: Description = Field(default=None)
    sections: Sections = Field(default=None)
    variables: Variables = Field(default=None)


class TemplateOut(TemplateIn):
    model_config = ConfigDict(from_attributes=True)

    id: int
    created_at: datetime
    updated_at: datetime


class CaseIn(BaseModel):
    case_name: Annotated[str, text(300)]
    cause_number: Annotated[str, text(100)]
    court_name: Annotated[str, text(300)]
    template_id: Id | None = None
    variables: Variables = Field(default_factory=dict)


class CaseOut(CaseIn):
    model_config = ConfigDict(from_attributes=True)

    id: int
    status: str
    created_at: datetime


class DraftIn(BaseModel):
    case_id: Id
    title: Title
    sections: Sections = Field(default_factory=list)


class DraftFromCase(BaseModel):
    """A draft started from the case's template; its title defaults to the template's name."""

    title: Title | None = None


class DraftUpdate(BaseModel):
    """A new version of a draft: its title, its sections or both."""

    model_config = ConfigDict(
        json_schema_extra={"anyOf": [{"required": ["title"]}, {"required": ["sections"]}]}
    )

    version: Id = Field(description="The version this change was made from.")
    title: Title = Field(default=None)
    sections: Sections = Field(default=None)

    @model_validator(mode="after")
    def _changes_something(self) -> DraftUpdate:
        if self.title is None and self.sections is None:
            raise ValueError("nothing to save: give title or sections")
        return self


class DraftOut(DraftIn):
    model_config = ConfigDict(from_attributes=True)

    id: int
    version: int
    updated_at: datetime


class DraftVersionOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    version: int
    title: str
    sections: list[Section]
    saved_at: datetime


class EvidenceIn(BaseModel):
    case_id: Id
    description: Annotated[str, text(5_000)]
    kind: Annotated[str, text(50)] = "document"


class EvidenceOut(EvidenceIn):
    model_config = ConfigDict(from_attributes=True)

    id: int
    created_at: datetime


MAX_BATCH = 1_000


class EvidenceBatch(BaseModel):
    items: Annotated[list[EvidenceIn], Field(min_length=1, max_length=MAX_BATCH)]
