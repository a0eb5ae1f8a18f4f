"""What every API contract (api.contract.Contract) is held to, for the tests of each API (the terminal API's
api/tests/test_openapi.py, the member API's membersite/tests/test_api_openapi.py): its routes documented, its
texts translated, and its guide's ```http examples real requests and answers of it."""

from __future__ import annotations

import json
import re
from pathlib import Path

from django.utils import translation

from api.contract import REF, Contract, Operation

NOT_OPERATIONS = {"openapi", "docs"}  # the document and its page describe an API; they are not part of it


def documented(contract: Contract) -> dict[tuple[str, str], dict]:
    document = contract.document()
    return {(path, method): op for path, methods in document["paths"].items() for method, op in methods.items()}


def ref_name(content: dict) -> str | None:
    ref = content.get("application/json", {}).get("schema", {}).get("$ref")
    return ref.rsplit("/", 1)[-1] if ref else None


def served(urlpatterns) -> dict[tuple[str, str], object]:
    """(path as the document writes it, method) → the endpoint serving it, of every route of an API's URLs.
    A terminal API view serves one method (`api_method`); a member API view one endpoint per method
    (`api_handlers`). Each endpoint says its request model (`api_model`)."""
    found = {}
    for pattern in urlpatterns:
        if pattern.name in NOT_OPERATIONS:
            continue
        view = pattern.callback
        path = "/" + re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", str(pattern.pattern))
        handlers = getattr(view, "api_handlers", None) or {view.api_method.lower(): view}
        for method, handler in handlers.items():
            found[(path, method)] = handler
    return found


def schema_differences(contract: Contract) -> list[str]:
    """The component schemas (in English, the models' own texts) that are not what their models generate, as
    when two models define one name differently."""
    with translation.override("en"):
        components = contract.document()["components"]["schemas"]
    differ = []
    for models, mode in ((contract.request_models, "validation"), (contract.answer_models, "serialization")):
        for model in models:
            schema = model.model_json_schema(ref_template=REF, mode=mode)
            for name, definition in {**schema.pop("$defs", {}), model.__name__: schema}.items():
                if components[name] != definition:
                    differ.append(name)
    return differ


def invalid_examples(contract: Contract) -> list[str]:
    """The operations whose documented request example their request model refuses."""
    return [
        op.operation_id
        for op in contract.operations
        if op.request is not None and not parses_as(op.request, json.dumps(op.example))
    ]


def untranslated(contract: Contract) -> list[str]:
    """The document's descriptions and summaries that read the same in Japanese as in English: looked up in
    the translations by their English text, one changed or added without its Japanese shows English."""

    def texts(node):
        if isinstance(node, dict):
            for key, value in node.items():
                if key in ("description", "summary") and isinstance(value, str):
                    yield from value.split("\n\n")
                else:
                    yield from texts(value)
        elif isinstance(node, list):
            for value in node:
                yield from texts(value)

    with translation.override("en"):
        english = set(texts(contract.document()))
    with translation.override("ja"):
        japanese = set(texts(contract.document()))
    return sorted(text for text in english & japanese if re.search("[a-z]{3}", text))


# --- a guide's examples ---------------------------------------------------------------------------------


def _blocks(guide: Path) -> list[dict]:
    """Each ```http block of the guide: a request (method, path, headers, body) or an answer (status, ...)."""
    blocks = []
    for text in re.findall(r"```http\n(.*?)\n```", guide.read_text(), re.S):
        head, _sep, body = text.partition("\n\n")
        first, *header_lines = head.splitlines()
        headers = dict(line.split(": ", 1) for line in header_lines)
        if first.startswith("HTTP/1.1 "):
            blocks.append({"status": int(first.split()[1]), "headers": headers, "body": body})
        else:
            method, path = first.split(" ", 1)
            blocks.append({"method": method, "path": path, "headers": headers, "body": body})
    return blocks


def exchanges(guide: Path) -> list[tuple[dict | None, dict | None]]:
    """(request, answer) pairs as the guide shows them; a request or an answer may stand alone."""
    blocks, pairs = _blocks(guide), []
    for i, block in enumerate(blocks):
        follows = blocks[i + 1] if i + 1 < len(blocks) else None
        if "method" in block:
            pairs.append((block, follows if follows and "status" in follows else None))
        elif i == 0 or "method" not in blocks[i - 1]:
            pairs.append((None, block))
    return pairs


def label(pair) -> str:
    request, answer = pair
    parts = [f"{request['method']} {request['path']}"] if request else []
    return " ".join(parts + ([str(answer["status"])] if answer else []))


def operation_of(contract: Contract, method: str, path: str) -> Operation:
    """The operation a guide's request line (`POST /api/v1/earn`) calls."""
    for op in contract.operations:
        pattern = "^" + re.escape(contract.server) + re.sub(r"\\{\w+\\}", "[^/?]+", re.escape(op.path)) + r"(\?.*)?$"
        if op.method.upper() == method and re.match(pattern, path):
            return op
    raise AssertionError(f"{method} {path} is no documented operation")


def parses_as(model, body: str) -> bool:
    try:
        model.model_validate_json(body)
    except ValueError:
        return False
    return True
