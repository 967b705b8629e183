"""The page /api/docs: the OpenAPI description rendered as HTML on the server (no script, no CDN).

build_docs() turns the spec into plain data (operations, their parameters and responses, and the
schemas they refer to); templates/api_docs.html only renders it."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field

from flask import render_template
from markupsafe import Markup, escape

from searchsvc.web import openapi
from searchsvc.web.state import settings

REF = "#/components/schemas/"


@dataclass
class Field:
    """A property of a schema; ``children`` for an inline object, ``link`` for a named schema."""

    name: str
    type: str
    required: bool
    description: str
    values: list[str] = field(default_factory=list)
    link: str | None = None
    children: list[Field] = field(default_factory=list)


@dataclass
class Parameter:
    name: str
    location: str
    type: str
    required: bool
    default: str
    description: str
    values: list[str] = field(default_factory=list)


@dataclass
class Response:
    status: str
    description: str
    schema: str | None  # the named schema of the body, if any
    fields: list[Field]  # the body's fields, when they are not the error shape
    headers: list[tuple[str, str]]


@dataclass
class Operation:
    method: str
    path: str
    anchor: str
    summary: str
    description: str
    security: list[str]
    parameters: list[Parameter]
    body: list[Field]
    responses: list[Response]


@dataclass
class Schema:
    name: str
    anchor: str
    fields: list[Field]


@dataclass
class ApiDocs:
    title: str
    version: str
    description: str
    operations: list[Operation]
    schemas: list[Schema]  # those the responses refer to but do not list, and the error shape


def schema_anchor(name: str) -> str:
    return f"schema-{name}"


def _ref_name(schema: dict) -> str | None:
    target = schema.get("$ref", "")
    return target[len(REF) :] if target.startswith(REF) else None


def type_label(schema: dict) -> str:
    """A schema's type as the page shows it: 'array of Hit', 'integer, 1 to 50', 'string or null'."""
    name = _ref_name(schema)
    if name:
        label = name
    elif schema.get("type") == "array":
        label = f"array of {type_label(schema.get('items', {}))}"
    elif schema.get("type") == "object" and isinstance(schema.get("additionalProperties"), dict):
        label = f"object of {type_label(schema['additionalProperties'])}"
    else:
        label = schema.get("type", "any")
        if "format" in schema:
            label += f" ({schema['format']})"
    limits = [
        f"{schema['minimum']} to {schema['maximum']}" if "minimum" in schema and "maximum" in schema else "",
        f"at most {schema['maxLength']} characters" if "maxLength" in schema else "",
        f"at most {schema['maxItems']} items" if "maxItems" in schema else "",
    ]
    label = ", ".join([label, *(limit for limit in limits if limit)])
    return label + " or null" if schema.get("nullable") else label


def _values(schema: dict) -> list[str]:
    return [_literal(value) for value in schema.get("enum", [])]


def _literal(value: object) -> str:
    return value if isinstance(value, str) else json.dumps(value)


def _inner(schema: dict) -> dict:
    """What a field holds: the items of an array, the values of a map, else the schema itself."""
    if schema.get("type") == "array":
        return _inner(schema.get("items", {}))
    if schema.get("type") == "object" and isinstance(schema.get("additionalProperties"), dict):
        return _inner(schema["additionalProperties"])
    return schema


def fields_of(schema: dict) -> list[Field]:
    """The properties of an object schema, inline objects nested, named schemas linked."""
    required = set(schema.get("required", []))
    found = []
    for name, prop in schema.get("properties", {}).items():
        inner = _inner(prop)
        found.append(
            Field(
                name=name,
                type=type_label(prop),
                required=name in required,
                description=prop.get("description", ""),
                values=_values(prop),
                link=_ref_name(inner),
                children=fields_of(inner) if "properties" in inner else [],
            )
        )
    return found


def _parameter(param: dict) -> Parameter:
    schema = param.get("schema", {})
    default = _literal(schema["default"]) if "default" in schema else ""
    values = _values(schema) or _values(schema.get("items", {}))
    required = param.get("required", False)
    return Parameter(param["name"], param["in"], type_label(schema), required, default, param["description"], values)


def _response(status: str, response: dict, schemas: dict) -> Response:
    body = response.get("content", {}).get("application/json", {}).get("schema", {})
    name = _ref_name(body)
    shown = [] if name == "Error" else fields_of(schemas.get(name, body))
    headers = [(header, about.get("description", "")) for header, about in response.get("headers", {}).items()]
    return Response(status, response.get("description", ""), name, shown, headers)


def _security(operation: dict, schemes: dict) -> list[str]:
    ways = []
    for requirement in operation.get("security", []):
        for name in requirement:
            scheme = schemes.get(name, {})
            if scheme.get("type") == "http":
                ways.append(f"Authorization: {scheme.get('scheme', '').title()} <token>")
            elif scheme.get("type") == "apiKey":
                ways.append(f"{scheme.get('name')}: <token>")
    return ways


def anchor_for(method: str, path: str) -> str:
    return method + "-" + "-".join(re.findall(r"[a-z0-9]+", path.lower()))


def build_docs(spec: dict) -> ApiDocs:
    schemas = spec["components"]["schemas"]
    schemes = spec["components"].get("securitySchemes", {})
    operations, listed = [], set()
    for path, methods in spec["paths"].items():
        for method, operation in methods.items():
            body = operation.get("requestBody", {}).get("content", {}).get("application/json", {}).get("schema", {})
            responses = [_response(status, r, schemas) for status, r in operation["responses"].items()]
            listed |= {r.schema for r in responses if r.fields}
            operations.append(
                Operation(
                    method=method.upper(),
                    path=path,
                    anchor=anchor_for(method, path),
                    summary=operation.get("summary", ""),
                    description=operation.get("description", ""),
                    security=_security(operation, schemes),
                    parameters=[_parameter(p) for p in operation.get("parameters", [])],
                    body=fields_of(body),
                    responses=responses,
                )
            )
    others = [name for name in schemas if name not in listed and name != "Error"]
    return ApiDocs(
        title=spec["info"]["title"],
        version=spec["info"]["version"],
        description=spec["info"].get("description", ""),
        operations=operations,
        schemas=[Schema(name, schema_anchor(name), fields_of(schemas[name])) for name in [*others, "Error"]],
    )


def prose(text: str) -> Markup:
    """A description as HTML: escaped, its `backticked` words as code."""
    parts = str(escape(text)).split("`")
    return Markup("".join(f"<code>{part}</code>" if i % 2 else part for i, part in enumerate(parts)))


def api_docs():
    """GET /api/docs (registered on the API blueprint in api.py)."""
    return render_template("api_docs.html", docs=build_docs(openapi.spec(settings())), prose=prose)
