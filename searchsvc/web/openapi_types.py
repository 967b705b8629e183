"""The building blocks of the OpenAPI schemas: JSON Schema types and the helpers that describe,
require and reference them."""

from __future__ import annotations

STR = {"type": "string"}
INT = {"type": "integer"}
BOOL = {"type": "boolean"}
NUM = {"type": "number"}
DATE = {"type": "string", "format": "date"}
DATE_TIME = {"type": "string", "format": "date-time"}
STRINGS = {"type": "array", "items": STR}
# an article id: its URL, or for an article without one its file's path in its source folder
ID = {"type": "string", "minLength": 1, "pattern": r"\S"}


def ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def obj(properties: dict, optional: tuple[str, ...] = ()) -> dict:
    return {
        "type": "object",
        "properties": properties,
        "required": [name for name in properties if name not in optional],
        "additionalProperties": False,
    }


def nullable(schema: dict) -> dict:
    return {**schema, "nullable": True}


def said(schema: dict, description: str) -> dict:
    """``schema`` with its description."""
    return {**schema, "description": description}


def ok(value: bool) -> dict:
    return said({"type": "boolean", "enum": [value]}, f"Always {str(value).lower()} in this answer.")
