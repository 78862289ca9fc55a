"""Request and response bodies of the records service."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field


class Section(BaseModel):
    title: str = Field(min_length=1, max_length=300)
    content: str = Field(default="", max_length=100_000)
    level: int = Field(default=1, ge=1, le=9)


class TemplateIn(BaseModel):
    name: str = Field(min_length=1, max_length=200)
    description: str = Field(default="", max_length=5_000)
    sections: list[Section] = Field(default_factory=list, max_length=500)
    variables: dict[str, str] = Field(default_factory=dict)


class TemplateUpdate(BaseModel):
    name: str | None = Field(default=None, min_length=1, max_length=200)
    description: str | None = Field(default=None, max_length=5_000)
    sections: list[Section] | None = Field(default=None, max_length=500)
    variables: dict[str, str] | None = None


class TemplateOut(TemplateIn):
    model_config = ConfigDict(from_attributes=True)

    id: int
    created_at: datetime
    updated_at: datetime


class CaseIn(BaseModel):
    case_name: str = Field(min_length=1, max_length=300)
    cause_number: str = Field(min_length=1, max_length=100)
    court_name: str = Field(min_length=1, max_length=300)
    template_id: int | None = None
    variables: dict[str, str] = Field(default_factory=dict)


class CaseOut(CaseIn):
    model_config = ConfigDict(from_attributes=True)

    id: int
    status: str
    created_at: datetime


class DraftIn(BaseModel):
    case_id: int
    title: str = Field(min_length=1, max_length=300)
    sections: list[Section] = Field(default_factory=list, max_length=500)


class DraftUpdate(BaseModel):
    version: int = Field(ge=1, description="The version this change was made from.")
    title: str | None = Field(default=None, min_length=1, max_length=300)
    sections: list[Section] | None = Field(default=None, max_length=500)


class DraftOut(DraftIn):
    model_config = ConfigDict(from_attributes=True)

    id: int
    version: int
    updated_at: datetime


class EvidenceIn(BaseModel):
    case_id: int
    description: str = Field(min_length=1, max_length=5_000)
    kind: str = Field(default="document", min_length=1, max_length=50)


class EvidenceOut(EvidenceIn):
    model_config = ConfigDict(from_attributes=True)

    id: int
    created_at: datetime
