"""An API's contract as an OpenAPI 3.1 document, built from its pydantic models and its catalogue of error codes,
in the caller's language, served as JSON and as a self-contained HTML page (no script, no stylesheet from
elsewhere). The terminal API (api/openapi.py) and the member API (membersite/api/openapi.py) are each one
`Contract`; their texts are English in the source and Japanese through the translations."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import translation
from django.utils.cache import get_conditional_response, patch_cache_control, patch_vary_headers
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import pgettext_lazy
from django.views.decorators.http import require_safe
from pydantic import BaseModel

from api.schemas import ErrorResponse

REF = "#/components/schemas/{model}"
ERROR_REF = {"$ref": REF.format(model="ErrorResponse")}
CACHE_SECONDS = 3600
RETRY_AFTER = {"Retry-After": {"description": "Seconds to wait before retrying.", "schema": {"type": "integer"}}}
# The page's "In" column, in the reader's language (the document keeps OpenAPI's own words).
PARAMETER_LOCATIONS = {
    "path": pgettext_lazy("where an API parameter is sent", "path"),
    "query": pgettext_lazy("where an API parameter is sent", "query"),
    "header": pgettext_lazy("where an API parameter is sent", "header"),
}
STATUS_TEXT = {
    200: "OK",
    201: "Created",
    400: "Bad request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not found",
    409: "Conflict",
    413: "Content too large",
    422: "Unprocessable content",
    429: "Too many requests",
    503: "Service unavailable",
}


@dataclass(frozen=True)
class Operation:
    """One operation. `answer` None: a success without a JSON body (e.g. 204), or, with `file` (its media type,
    e.g. application/pdf), a file. `public`: no bearer secret."""

    method: str
    path: str
    operation_id: str
    summary: str
    description: str
    answer: type[BaseModel] | None
    errors: tuple[str, ...]
    success: dict[int, str] = field(default_factory=lambda: {200: "The answer."})
    request: type[BaseModel] | None = None
    parameters: tuple[dict, ...] = ()
    example: dict | None = None
    public: bool = False
    file: str | None = None

    @property
    def write(self) -> bool:
        return self.request is not None


@dataclass(frozen=True)
class Contract:
    """An API: its operations, its error codes (code → status, meaning) and the texts around them, English."""

    title: str  # the document's title
    page_title: str  # the page's heading
    server: str
    operations: tuple[Operation, ...]
    errors: dict[str, tuple[int, str]]
    overview: Callable[[], str]  # the document's description, in the active language
    bearer: str  # what the bearer secret is
    language_header: str  # what Accept-Language changes
    every_request: tuple[str, ...] = ()  # the codes of every operation that needs the bearer secret
    every_write: tuple[str, ...] = ()  # the codes of every operation with a request body
    write_headers: tuple[dict, ...] = ()  # header parameters of every operation with a request body
    retry_after: tuple[int, ...] = (409, 429, 503)  # statuses answered with Retry-After

    @property
    def request_models(self) -> list[type[BaseModel]]:
        return [op.request for op in self.operations if op.request is not None]

    @property
    def answer_models(self) -> list[type[BaseModel]]:
        return [op.answer for op in self.operations if op.answer is not None] + [ErrorResponse]

    # --- the document ---------------------------------------------------------------

    def document(self) -> dict:
        """The document in the active language (Japanese unless the request asks for English)."""
        paths: dict = {}
        for op in self.operations:
            paths.setdefault(op.path, {})[op.method] = self._operation(op)
        return translated(
            {
                "openapi": "3.1.0",
                "info": {"title": _(self.title), "version": "1", "description": self.overview()},
                "servers": [{"url": self.server}],
                "security": [{"bearer": []}],
                "paths": paths,
                "components": {
                    "schemas": self._components(),
                    "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer", "description": self.bearer}},
                },
            }
        )

    def error_codes(self, op: Operation) -> dict[int, list[str]]:
        codes = [*(() if op.public else self.every_request), *(self.every_write if op.write else ()), *op.errors]
        by_status: dict[int, list[str]] = {}
        for code in sorted(set(codes), key=codes.index):
            by_status.setdefault(self.errors[code][0], []).append(code)
        return dict(sorted(by_status.items()))

    def _components(self) -> dict:
        components: dict = {}
        for models, mode in ((self.request_models, "validation"), (self.answer_models, "serialization")):
            for model in models:
                schema = model.model_json_schema(ref_template=REF, mode=mode)
                components.update(schema.pop("$defs", {}))
                components[model.__name__] = schema
        return components

    def _parameters(self, op: Operation) -> list[dict]:
        parameters = [*op.parameters, *(self.write_headers if op.write else ())]
        parameters.append(
            header_parameter(
                "Accept-Language", self.language_header, {"type": "string", "default": "ja", "examples": ["ja", "en"]}
            )
        )
        return parameters

    def _error_response(self, status: int, codes: list[str]) -> dict:
        lines = "\n".join(f"- `{code}`: {_(self.errors[code][1])}" for code in codes)
        response: dict = {
            "description": _("%(status)s. `error.code` is one of:") % {"status": _(STATUS_TEXT[status])} + f"\n{lines}",
            "content": {
                "application/json": {
                    "schema": ERROR_REF,
                    "examples": {
                        code: {"value": {"error": {"code": code, "message": _(self.errors[code][1])}}} for code in codes
                    },
                }
            },
            "x-error-codes": codes,
        }
        if status == 401:
            response["headers"] = {"WWW-Authenticate": {"schema": {"type": "string", "const": "Bearer"}}}
        if status in self.retry_after:
            response["headers"] = RETRY_AFTER
        return response

    def _operation(self, op: Operation) -> dict:
        responses: dict = {}
        for status, text in op.success.items():
            responses[str(status)] = {"description": text}
            if op.answer is not None:
                answer = {"schema": {"$ref": REF.format(model=op.answer.__name__)}}
                responses[str(status)]["content"] = {"application/json": answer}
            elif op.file is not None:
                responses[str(status)]["content"] = {op.file: {"schema": {"type": "string", "format": "binary"}}}
        for status, codes in self.error_codes(op).items():
            responses[str(status)] = self._error_response(status, codes)
        operation = {
            "operationId": op.operation_id,
            "summary": op.summary,
            "description": op.description,
            "security": [] if op.public else [{"bearer": []}],
            "parameters": self._parameters(op),
            "responses": responses,
        }
        if op.request is not None:
            operation["requestBody"] = {
                "required": True,
                "content": {
                    "application/json": {
                        "schema": {"$ref": REF.format(model=op.request.__name__)},
                        "example": op.example,
                    }
                },
            }
        return operation

    # --- the two pages --------------------------------------------------------------

    def views(self) -> tuple[Callable, Callable]:
        """The document's view (openapi.json) and its page's (docs), for the API's URLs."""

        @require_safe
        def openapi_json(request: HttpRequest) -> HttpResponse:
            with translation.override(_language(request)):
                body = json.dumps(self.document(), ensure_ascii=False, indent=1).encode()
                return _cacheable(request, HttpResponse(body, content_type="application/json"))

        @require_safe
        def docs(request: HttpRequest) -> HttpResponse:
            with translation.override(_language(request)):
                return _cacheable(request, render(request, "api/docs.html", self._docs_context()))

        return openapi_json, docs

    def _docs_context(self) -> dict:
        document = self.document()
        components = document["components"]["schemas"]
        return {
            "title": _(self.page_title),
            "info": document["info"],
            "overview": _prose(document["info"]["description"]),
            "server": document["servers"][0]["url"],
            "operations": self._page_operations(document),
            "schemas": [
                {
                    "name": name,
                    "rows": _rows(schema, components),
                    "json": json.dumps(schema, ensure_ascii=False, indent=2),
                }
                for name, schema in sorted(components.items())
            ],
            "errors": [(code, status, _prose(_(text))) for code, (status, text) in self.errors.items()],
            "language": translation.get_language(),
        }

    def _page_operations(self, document: dict) -> list[dict]:
        components = document["components"]["schemas"]
        pages = []
        for path, methods in document["paths"].items():
            for method, op in methods.items():
                responses = []
                for status, response in op["responses"].items():
                    content = response.get("content", {})
                    schema = content.get("application/json", {}).get("schema", {}).get("$ref")
                    codes = [(code, _prose(_(self.errors[code][1]))) for code in response.get("x-error-codes", ())]
                    responses.append(
                        {
                            "status": status,
                            "text": _prose(response["description"] if not codes else _(STATUS_TEXT[int(status)])),
                            "schema": schema.rsplit("/", 1)[-1] if schema else None,
                            "file": next((media for media in content if media != "application/json"), None),
                            "codes": codes,
                            "headers": sorted(response.get("headers", {})),
                        }
                    )
                body = op.get("requestBody", {}).get("content", {}).get("application/json", {})
                request_name = body["schema"]["$ref"].rsplit("/", 1)[-1] if body else None
                pages.append(
                    {
                        "id": op["operationId"],
                        "method": method.upper(),
                        "path": document["servers"][0]["url"] + path,
                        "summary": op["summary"],
                        "description": _prose(op["description"]),
                        "public": not op["security"],
                        "parameters": [
                            {
                                **parameter,
                                "description": _prose(parameter.get("description", "")),
                                "location": PARAMETER_LOCATIONS[parameter["in"]],
                                "type": _type(parameter["schema"]),
                                "constraints": _constraints(parameter["schema"]),
                            }
                            for parameter in op["parameters"]
                        ],
                        "request": request_name,
                        "request_rows": _rows(components[request_name], components) if request_name else [],
                        "example": json.dumps(body["example"], ensure_ascii=False, indent=2) if body else "",
                        "responses": responses,
                    }
                )
        return pages


def header_parameter(name: str, description: str, schema: dict, *, required: bool = False) -> dict:
    return {"name": name, "in": "header", "required": required, "description": description, "schema": schema}


def translated(node, *, keys=("description", "summary")):
    """The document with its descriptions and summaries in the active language: each paragraph is looked up
    in the translations by its English text; one not translated stays English, and each API's test of its
    document (test_every_text_of_the_document_has_its_japanese) fails. `makemessages` does not find the
    operations' and the schemas' texts (they are not in gettext calls): add them with bin/po-add, and keep
    their entries in locale/ja/LC_MESSAGES/django.po when it marks them obsolete."""
    if isinstance(node, dict):
        return {
            key: (
                "\n\n".join(_(paragraph) for paragraph in value.split("\n\n"))
                if key in keys and isinstance(value, str)
                else translated(value, keys=keys)
            )
            for key, value in node.items()
        }
    if isinstance(node, list):
        return [translated(value, keys=keys) for value in node]
    return node


def _cacheable(request: HttpRequest, response: HttpResponse) -> HttpResponse:
    """Called inside the page's language: LocaleMiddleware would label a `?lang=en` page as the browser's."""
    response["Content-Language"] = translation.get_language()
    etag = f'"{hashlib.sha256(response.content).hexdigest()[:32]}"'
    response["ETag"] = etag
    patch_cache_control(response, public=True, max_age=CACHE_SECONDS)
    # The document and the page are in the request's language.
    patch_vary_headers(response, ["Accept-Language"])
    return get_conditional_response(request, etag=etag, response=response) or response


def _language(request: HttpRequest) -> str:
    """`?lang=ja` or `?lang=en` (the page's language links), else the browser's language (Japanese by default)."""
    asked = request.GET.get("lang", "")
    return asked if asked in dict(settings.LANGUAGES) else translation.get_language()


def _prose(text: str) -> list[SafeString]:
    """Paragraphs of a description, with `code spans` marked up and everything else escaped."""
    return [
        # Safe: the paragraph is escaped before the <code> tags go in.
        mark_safe(re.sub(r"`([^`]+)`", r"<code>\1</code>", str(escape(paragraph))))
        for paragraph in text.split("\n\n")
    ]


def _type(schema: dict) -> str:
    for union in ("anyOf", "oneOf"):
        if union in schema:
            return " | ".join(_type(option) for option in schema[union])
    if "$ref" in schema:
        return schema["$ref"].rsplit("/", 1)[-1]
    if "enum" in schema:
        return " | ".join(json.dumps(value) for value in schema["enum"])
    if "const" in schema:
        return json.dumps(schema["const"], ensure_ascii=False)
    name = schema.get("type", "any")
    if name == "array":
        return _("array of %(type)s") % {"type": _type(schema.get("items", {}))}
    return f"{name} ({schema['format']})" if "format" in schema else name


def _constraints(schema: dict) -> str:
    names = {
        "minimum": "≥ %(value)s",
        "maximum": "≤ %(value)s",
        "minLength": _("length ≥ %(value)s"),
        "maxLength": _("length ≤ %(value)s"),
        "maxItems": _("at most %(value)s items"),
        "pattern": _("pattern %(value)s"),
        "default": _("default %(value)s"),
    }
    found = [
        text % {"value": json.dumps(schema[key], ensure_ascii=False)} for key, text in names.items() if key in schema
    ]
    found += [_constraints(option) for option in schema.get("anyOf", ())]
    return ", ".join(text for text in found if text)


def _rows(schema: dict, components: dict, prefix: str = "") -> list[dict]:
    """One row per field of an object schema, nested objects flattened as `card.type`, `items[].code`."""
    rows = []
    required = set(schema.get("required", ()))
    for name, prop in schema.get("properties", {}).items():
        rows.append(
            {
                "name": prefix + name,
                "type": _type(prop),
                "required": name in required,
                "constraints": _constraints(prop),
                "description": prop.get("description", ""),
            }
        )
        target, suffix = prop, "."
        if target.get("type") == "array":
            target, suffix = target.get("items", {}), "[]."
        if "$ref" in target:
            nested = components[target["$ref"].rsplit("/", 1)[-1]]
            rows += _rows(nested, components, prefix + name + suffix)
    return rows
