"""The member API's contract: its OpenAPI document (membersite/api/openapi.py) describes every route the API
serves, in Japanese and English, and docs/member-api.md shows real requests and answers of it."""

import json
import re
from pathlib import Path

import pytest
import schemathesis
from django.conf import settings
from django.utils import translation

from api.schemas import ErrorResponse
from api.tests.contract_checks import (
    documented,
    exchanges,
    invalid_examples,
    label,
    operation_of,
    parses_as,
    ref_name,
    schema_differences,
    served,
    untranslated,
)
from donations import errors as donation_errors
from membersite import services
from membersite.api import urls
from membersite.api.errors import ERRORS
from membersite.api.openapi import MEMBER, OPERATIONS, openapi_document
from points import errors

GUIDE = Path(settings.BASE_DIR) / "docs" / "member-api.md"
API = Path(urls.__file__).parent


def test_the_document_is_valid_openapi_3_1():
    document = openapi_document()

    assert document["openapi"].startswith("3.1.") and document["servers"] == [{"url": "/api/member/v1"}]
    schemathesis.openapi.from_dict(document).validate()


def test_every_route_is_documented_with_its_method_request_model_and_whether_it_needs_a_session():
    operations = documented(MEMBER)
    routes = served(urls.urlpatterns)

    for (path, method), endpoint in routes.items():
        op = operations.get((path, method))
        assert op is not None, f"{method} {path} is served but not documented"
        body = ref_name(op.get("requestBody", {}).get("content", {}))
        assert body == (endpoint.api_model.__name__ if endpoint.api_model else None), path
        assert endpoint.api_signed_in == (op["security"] == [{"bearer": []}]), path
    assert set(routes) == set(operations), "documented operations that no route serves"


def test_every_error_answer_has_the_error_shape_and_its_stable_codes():
    for (path, method), op in documented(MEMBER).items():
        signed_in = op["security"] == [{"bearer": []}]
        for status, response in op["responses"].items():
            if int(status) < 400:
                continue
            assert ref_name(response["content"]) == "ErrorResponse"
            codes = response["x-error-codes"]
            assert codes and all(ERRORS[code][0] == int(status) for code in codes), (path, status)
            assert set(response["content"]["application/json"]["examples"]) == set(codes)
        assert ("401" in op["responses"]) == signed_in, (method, path)
        if "429" in op["responses"]:
            assert "Retry-After" in op["responses"]["429"]["headers"]
        if "requestBody" in op:
            assert "invalid_request" in op["responses"]["400"]["x-error-codes"], (method, path)
        headers = {p["name"]: p for p in op["parameters"] if p["in"] == "header"}
        assert set(headers) == {"Accept-Language"} and headers["Accept-Language"]["schema"]["default"] == "ja"


def test_every_operation_but_the_policys_and_signing_out_is_refused_until_a_new_policy_is_agreed():
    refused = {op.operation_id for op in OPERATIONS if "policy_not_agreed" in sum(MEMBER.error_codes(op).values(), [])}
    signed_in = {op.operation_id for op in OPERATIONS if not op.public}

    assert signed_in - refused == {"policy", "policy_agree", "session_end"}


def _codes_answered() -> dict[str, int | None]:
    """Every code the API's code can answer: its ApiErrors with their status, the member site's refusals."""
    raised: dict[str, int | None] = {}
    for source in API.glob("*.py"):
        for status, code in re.findall(r'ApiError\(\s*(\d{3}),\s*"(\w+)"', source.read_text()):
            raised[code] = int(status)
    for code in re.findall(r'code="(\w+)"', Path(services.__file__).read_text()):
        raised.setdefault(code, None)
    raised[services.Throttled.code] = 429
    # The ledger's and the donations' refusals, passed on by the services with their codes.
    raised[errors.InvalidOperation.code] = 409
    raised[errors.InsufficientPoints.code] = 409
    raised[errors.MemberNotUsable.code] = 403
    raised[donation_errors.InvalidRequest.code] = 400
    raised[donation_errors.KeyUsedForAnother.code] = 422
    raised.pop("method_not_allowed")  # a method the document does not list for a path
    return raised


def test_every_error_code_the_api_can_answer_is_in_the_catalogue():
    raised = _codes_answered()

    assert set(raised) <= set(ERRORS), set(raised) - set(ERRORS)
    assert all(ERRORS[code][0] == status for code, status in raised.items() if status), raised
    assert set(ERRORS) - set(raised) <= {"invalid_request", "body_incomplete", "body_too_large", "unauthorized"}


def test_the_component_schemas_are_what_the_models_generate_and_the_examples_are_valid():
    assert not schema_differences(MEMBER)
    assert not invalid_examples(MEMBER)


def test_the_document_and_its_page_are_served_to_anyone_in_the_callers_language(client):
    japanese = client.get("/api/member/v1/openapi.json")
    english = client.get("/api/member/v1/openapi.json", HTTP_ACCEPT_LANGUAGE="en")
    again = client.get("/api/member/v1/openapi.json", headers={"If-None-Match": japanese["ETag"]})

    assert japanese.status_code == 200 and japanese.json() == openapi_document()
    assert japanese.json()["info"]["title"] == "ポイントプログラム 会員 API"
    assert english.json()["paths"]["/me"]["get"]["summary"] == "The member's points"
    assert japanese.json()["paths"]["/me"]["get"]["summary"] == "会員のポイント"
    assert again.status_code == 304


def test_the_page_shows_every_operation_and_code_in_japanese_and_loads_nothing_from_elsewhere(client):
    html = client.get("/api/member/v1/docs").content.decode()

    assert "<h1>会員 API</h1>" in html
    for op in OPERATIONS:
        assert f"<code>/api/member/v1{op.path}</code>" in html and f'id="{op.operation_id}"' in html
    for code in ERRORS:
        assert f"<code>{code}</code>" in html
    assert "認証: 不要" in html  # the operations a member calls before signing in
    assert not re.search(r"<script|<link|<img|<iframe|@import|url\(", html)
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", html)


def test_every_text_of_the_document_has_its_japanese():
    assert not untranslated(MEMBER)
    with translation.override("ja"):
        assert not [text for _status, text in ERRORS.values() if translation.gettext(text) == text]


# --- the position guard: no operation takes a member's position --------------------------------------------

# A field named like one of these, whole (lat, lng) or inside a longer name (homeLatitude, geo_hash).
POSITION_WORDS = {"lat", "lng", "lon", "coords", "gps"}
POSITION_PARTS = ("latitude", "longitude", "geo", "position", "location", "coord")


def _named_like_a_position(name: str) -> bool:
    words = {word.lower() for word in re.findall(r"[A-Z]?[a-z]+|[A-Z]+(?![a-z])|[0-9]+", name)}
    return bool(words & POSITION_WORDS) or any(part in name.lower() for part in POSITION_PARTS)


def _property_names(schema, components: dict, seen: frozenset = frozenset()):
    """Every property name of a schema and of the schemas it holds or refers to."""
    if isinstance(schema, list):
        for item in schema:
            yield from _property_names(item, components, seen)
        return
    if not isinstance(schema, dict):
        return
    ref = schema.get("$ref", "")
    if ref:
        name = ref.rsplit("/", 1)[-1]
        if name not in seen:
            yield from _property_names(components[name], components, seen | {name})
    for name, value in schema.get("properties", {}).items():
        yield name
        yield from _property_names(value, components, seen)
    for key in ("items", "additionalProperties", "anyOf", "oneOf", "allOf", "prefixItems", "not"):
        yield from _property_names(schema.get(key), components, seen)


def positions_taken(document: dict) -> list[str]:
    """`METHOD path: name` of each request body property and parameter named like a position."""
    components = document["components"]["schemas"]
    found = []
    for path, methods in document["paths"].items():
        for method, op in methods.items():
            names = [parameter["name"] for parameter in op.get("parameters", ())]
            for content in op.get("requestBody", {}).get("content", {}).values():
                names += list(_property_names(content.get("schema", {}), components))
            found += [f"{method.upper()} {path}: {name}" for name in names if _named_like_a_position(name)]
    return found


def test_no_operation_takes_a_members_position():
    """No endpoint takes or stores a member's position (docs/member-api.md): an app that shows nearby offers
    decides on the phone."""
    assert positions_taken(openapi_document()) == []


@pytest.mark.parametrize(
    "name", ["lat", "lng", "lon", "Latitude", "homeLongitude", "geo_hash", "userLocation", "coords", "store_lat"]
)
def test_the_position_guard_finds_a_position_anywhere_in_a_request(name):
    document = {
        "paths": {
            "/me/offers": {
                "post": {
                    "parameters": [{"name": "Accept-Language", "in": "header"}],
                    "requestBody": {"content": {"application/json": {"schema": {"$ref": "#/x/Near"}}}},
                }
            },
            "/me/stores": {"get": {"parameters": [{"name": name, "in": "query"}]}},
        },
        "components": {
            "schemas": {
                "Near": {"properties": {"where": {"anyOf": [{"$ref": "#/x/Where"}, {"type": "null"}]}}},
                "Where": {"properties": {"points": {"type": "integer"}, name: {"type": "number"}}},
            }
        },
    }

    assert positions_taken(document) == [f"POST /me/offers: {name}", f"GET /me/stores: {name}"]


@pytest.mark.parametrize("name", ["template", "relation", "along_with", "points", "organisation_id", "balance"])
def test_the_position_guard_lets_other_names_pass(name):
    assert not _named_like_a_position(name)


# --- docs/member-api.md: its examples are real requests and answers of this contract ------------------------


def test_the_guide_shows_a_request_for_every_operation():
    shown = {operation_of(MEMBER, r["method"], r["path"]).operation_id for r, _ in exchanges(GUIDE) if r}

    assert shown == {op.operation_id for op in OPERATIONS}


@pytest.mark.parametrize("request_, answer", [pytest.param(*p, id=label(p)) for p in exchanges(GUIDE) if p[0]])
def test_every_example_request_in_the_guide_is_valid(request_, answer):
    op = operation_of(MEMBER, request_["method"], request_["path"])
    error = json.loads(answer["body"]).get("error", {}) if answer and answer["body"] else {}
    meant_invalid = error.get("code") == "invalid_request"

    assert request_["headers"].get("Authorization", "").startswith("Bearer ") == (not op.public)
    if op.request is None:
        assert not request_["body"]
    elif meant_invalid and not parses_as(op.request, request_["body"]):
        pass  # refused by the schema, as the answer shows
    else:
        op.request.model_validate_json(request_["body"])


@pytest.mark.parametrize("request_, answer", [pytest.param(*p, id=label(p)) for p in exchanges(GUIDE) if p[1]])
def test_every_example_answer_in_the_guide_is_what_the_contract_says(request_, answer):
    assert request_ is not None, "an answer without its request"
    op = operation_of(MEMBER, request_["method"], request_["path"])
    documented_answer = openapi_document()["paths"][op.path][op.method]["responses"][str(answer["status"])]
    if answer["status"] >= 400:
        code = ErrorResponse.model_validate_json(answer["body"]).error.code
        assert code in documented_answer["x-error-codes"]
    elif op.answer is None:
        assert not answer["body"]
    else:
        op.answer.model_validate_json(answer["body"])
