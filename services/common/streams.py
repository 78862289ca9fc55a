"""A service's WebSocket streams described as an AsyncAPI 3.0 document, from its pydantic
message models, so the document it serves (`/asyncapi.json`) cannot drift from what it sends.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

SCHEMAS = "#/components/schemas/"


@dataclass(frozen=True)
class Channel:
    """One stream: its address (`{name}` parameters), what it is, and the messages it carries
    (each a model whose `type` field is a one-value `Literal`: the message's name)."""

    name: str
    address: str
    description: str
    parameters: dict[str, str]
    messages: tuple[type[BaseModel], ...]
    query: dict[str, Any] = field(default_factory=dict)


def message_name(model: type[BaseModel]) -> str:
    """The value of the model's `type` field (`draft.saved`), the message's name."""
    schema = model.model_json_schema()
    return str(schema["properties"]["type"]["const"])


def asyncapi_document(title: str, version: str, description: str, channels: list[Channel]) -> dict:
    """The AsyncAPI 3.0 document of `channels`: the service sends every message (`send`)."""
    models = [model for channel in channels for model in channel.messages]
    _, definitions = models_json_schema(
        [(model, "serialization") for model in models], ref_template=SCHEMAS + "{model}"
    )
    messages = {
        model.__name__: {
            "name": message_name(model),
            "title": model.__name__,
            "summary": (model.__doc__ or "").strip().splitlines()[0],
            "contentType": "application/json",
            "payload": {"$ref": SCHEMAS + model.__name__},
        }
        for model in models
    }
    document: dict[str, Any] = {
        "asyncapi": "3.0.0",
        "info": {"title": title, "version": version, "description": description},
        "defaultContentType": "application/json",
        "channels": {},
        "operations": {},
        "components": {"messages": messages, "schemas": definitions.get("$defs", {})},
    }
    for channel in channels:
        refs = {
            model.__name__: {"$ref": f"#/components/messages/{model.__name__}"}
            for model in channel.messages
        }
        entry: dict[str, Any] = {
            "address": channel.address,
            "description": channel.description,
            "parameters": {
                name: {"description": text} for name, text in channel.parameters.items()
            },
            "messages": refs,
        }
        if channel.query:
            entry["bindings"] = {"ws": {"query": channel.query}}
        document["channels"][channel.name] = entry
        document["operations"][f"send{channel.name[0].upper()}{channel.name[1:]}"] = {
            "action": "send",
            "channel": {"$ref": f"#/channels/{channel.name}"},
            "messages": [{"$ref": f"#/channels/{channel.name}/messages/{name}"} for name in refs],
        }
    return document
