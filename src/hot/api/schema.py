"""Pydantic wiring for Litestar: models serialise by alias, and closed models say so.

Litestar's schema generator leaves out ``additionalProperties: false`` for models that
forbid unknown fields; without it the OpenAPI document would promise to accept bodies
that the API refuses. This plugin adds it, and a model's ``openapi_extra`` keywords
(``schema_if``/``then``: what depends on another field's value).
"""

from __future__ import annotations

from typing import Any

from litestar._openapi.schema_generation import SchemaCreator
from litestar.openapi.spec import Schema
from litestar.plugins import PluginProtocol
from litestar.plugins.pydantic import PydanticDIPlugin, PydanticInitPlugin, PydanticSchemaPlugin
from litestar.typing import FieldDefinition


class ClosedModelsSchemaPlugin(PydanticSchemaPlugin):
    """The pydantic schema plugin, plus ``additionalProperties: false`` for closed models."""

    @classmethod
    def for_pydantic_model(
        cls, field_definition: FieldDefinition, schema_creator: SchemaCreator
    ) -> Schema:
        schema = super().for_pydantic_model(field_definition, schema_creator)
        config: dict[str, Any] = getattr(field_definition.annotation, "model_config", {})
        if config.get("extra") == "forbid":
            schema.additional_properties = False
        # What a model's fields cannot say (a field needed when another has some value).
        extra: dict[str, Schema] = getattr(field_definition.annotation, "openapi_extra", {})
        for keyword, subschema in extra.items():
            setattr(schema, keyword, subschema)
        return schema


def pydantic_plugins() -> list[PluginProtocol]:
    return [
        PydanticInitPlugin(prefer_alias=True),
        ClosedModelsSchemaPlugin(prefer_alias=True),
        PydanticDIPlugin(),
    ]
