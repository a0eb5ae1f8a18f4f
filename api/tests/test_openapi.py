import json
import re
from html import unescape
from pathlib import Path

import pytest
import schemathesis
from django.conf import settings
from django.utils import translation

from api import schemas, urls
from api.contract import STATUS_TEXT
from api.errors import LEDGER_STATUS
from api.openapi import ANSWER_MODELS, ERRORS, OPERATIONS, TERMINAL, openapi_document
from api.pipeline import KEY_RE
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

GUIDE = Path(settings.BASE_DIR) / "docs" / "terminal-api.md"


def _documented():
    return documented(TERMINAL)


def test_the_document_is_valid_openapi_3_1():
    document = openapi_document()

    assert document["openapi"].startswith("3.1.")
    schemathesis.openapi.from_dict(document).validate()  # against the OpenAPI 3.1 meta-schema; raises if not


def test_every_route_of_the_api_is_documented_with_its_method_and_request_model():
    documented = _documented()
    served_routes = served(urls.urlpatterns)

    for (path, method), view in served_routes.items():
        op = documented.get((path, method))
        assert op is not None, f"{method} {path} is served but not documented"
        body = ref_name(op.get("requestBody", {}).get("content", {}))
        assert body == (view.api_model.__name__ if view.api_model else None), path
        assert view.api_write == ("requestBody" in op), path

    assert set(served_routes) == set(documented), "documented operations that no route serves"


def test_every_operation_needs_the_bearer_secret_and_every_write_an_idempotency_key():
    with translation.override("en"):
        document = openapi_document()

    assert document["components"]["securitySchemes"]["bearer"] == {
        "type": "http",
        "scheme": "bearer",
        "description": "The terminal's secret, issued by the secretariat.",
    }
    for (path, method), op in _documented().items():
        headers = {p["name"]: p for p in op["parameters"] if p["in"] == "header"}
        assert op["security"] == [{"bearer": []}], path
        assert headers["Accept-Language"]["schema"]["default"] == "ja"
        if method == "post":
            key = headers["Idempotency-Key"]
            assert key["required"] and key["schema"]["pattern"] == KEY_RE.pattern == r"^[A-Za-z0-9._:-]{1,100}$"
        else:
            assert "Idempotency-Key" not in headers


def test_every_error_answer_has_the_error_shape_and_its_stable_codes():
    for (path, _method), op in _documented().items():
        for status, response in op["responses"].items():
            if int(status) < 400:
                assert ref_name(response["content"]) == op_answer(path).__name__
                continue
            assert ref_name(response["content"]) == "ErrorResponse"
            codes = response["x-error-codes"]
            assert codes and all(ERRORS[code][0] == int(status) for code in codes), (path, status)
            assert set(response["content"]["application/json"]["examples"]) == set(codes)
            if status in ("409", "429"):
                assert "Retry-After" in response["headers"]
            if status == "401":
                assert "WWW-Authenticate" in response["headers"]
        assert {"401", "403", "429"} <= set(op["responses"]), path


def op_answer(path):
    return next(op.answer for op in OPERATIONS if op.path == path)


def test_the_codes_of_the_brief_are_documented_under_their_status():
    by_status = {}
    for code, (status, _text) in ERRORS.items():
        by_status.setdefault(status, set()).add(code)

    assert {"invalid_request", "invalid_card", "idempotency_key_missing"} <= by_status[400]
    assert by_status[401] == {"unauthorized"}
    assert {
        "store_suspended",
        "card_blocked",
        "member_suspended",
        "store_not_in_programme",
        "spend_not_accepted",
    } <= by_status[403]
    assert by_status[404] == {"card_not_found", "transaction_not_found", "coupon_not_found", "batch_not_found"}
    assert {"insufficient_points", "nothing_to_void", "idempotency_in_progress"} <= by_status[409]
    assert by_status[413] == {"body_too_large"}
    assert {"idempotency_key_reused", "occurred_at_in_future", "occurred_at_too_old", "invalid_amount"} <= by_status[
        422
    ]
    assert by_status[429] == {"rate_limited"}


def test_every_error_code_the_api_can_answer_is_in_the_catalogue():
    raised = {}
    for source in Path(urls.__file__).parent.glob("*.py"):
        for status, code in re.findall(r'ApiError\(\s*(\d{3}),\s*"(\w+)"', source.read_text()):
            raised[code] = int(status)
    for error, status in LEDGER_STATUS.items():
        raised[error.code] = status
    raised.pop("method_not_allowed")  # a method the document does not list for a path

    assert {code: ERRORS.get(code, (None,))[0] for code in raised} == raised


def test_the_component_schemas_are_what_the_models_generate():
    # In English, the models' own text; in Japanese the same schemas with their descriptions translated.
    assert not schema_differences(TERMINAL)


def test_the_documents_request_examples_are_valid_requests():
    assert not invalid_examples(TERMINAL)


def test_the_document_is_served_to_anyone_and_is_cacheable(client):
    response = client.get("/api/v1/openapi.json")
    again = client.get("/api/v1/openapi.json", headers={"If-None-Match": response["ETag"]})

    assert response.status_code == 200 and response["Content-Type"] == "application/json"
    assert response.json() == openapi_document()
    assert "public" in response["Cache-Control"] and "max-age=3600" in response["Cache-Control"]
    assert again.status_code == 304


def test_the_docs_page_shows_every_operation_and_code_and_loads_nothing_from_elsewhere(client):
    response = client.get("/api/v1/docs")
    html = response.content.decode()

    assert response.status_code == 200
    for op in OPERATIONS:
        assert f"<code>/api/v1{op.path}</code>" in html
        assert f'id="schema-{op.answer.__name__}"' in html
    for code in ERRORS:
        assert f"<code>{code}</code>" in html
    assert "Idempotency-Key" in html and "Retry-After" in html
    assert not re.search(r"<script|<link|<img|<iframe|@import|url\(", html)
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", html)


def test_a_japanese_vendor_reads_the_docs_in_japanese_with_a_table_of_contents(client):
    # when a browser asking for Japanese opens the page
    html = client.get("/api/v1/docs", HTTP_ACCEPT_LANGUAGE="ja").content.decode()
    # then the headings, the operations and their descriptions are Japanese
    assert '<html lang="ja">' in html
    assert '<h2 id="overview">概要</h2>' in html
    assert "購入でポイントを付与する" in html and "加盟店の付与率でポイントを計算し" in html
    assert "残高が使用ポイントより少ないです。" in html  # an error code's meaning
    assert "購入金額（円、税込）" in html  # a schema field
    # and a table of contents links to every operation, the error codes and every schema
    toc = html.split('<nav id="toc"')[1].split("</nav>")[0]
    document = openapi_document()
    for methods in document["paths"].values():
        for op in methods.values():
            assert f'href="#{op["operationId"]}"' in toc
            assert f'id="{op["operationId"]}"' in html
    assert 'href="#errors"' in toc
    assert all(f'href="#schema-{name}"' in toc for name in document["components"]["schemas"])


def test_an_english_browser_gets_the_docs_and_the_document_in_english(client):
    html = client.get("/api/v1/docs", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert '<html lang="en">' in html
    assert "Earn points on a purchase" in html and "購入でポイントを付与する" not in html
    document = client.get("/api/v1/openapi.json", HTTP_ACCEPT_LANGUAGE="en").json()
    assert document["paths"]["/earn"]["post"]["summary"] == "Earn points on a purchase"
    japanese = client.get("/api/v1/openapi.json", HTTP_ACCEPT_LANGUAGE="ja").json()
    assert japanese["paths"]["/earn"]["post"]["summary"] == "購入でポイントを付与する"
    # the page's language links choose either whatever the browser says
    assert "概要" in client.get("/api/v1/docs?lang=ja", HTTP_ACCEPT_LANGUAGE="en").content.decode()


def test_the_document_and_the_page_say_which_language_they_are_in(client):
    # when a Japanese browser follows the page's link to English, or asks for the document in English
    page = client.get("/api/v1/docs?lang=en", HTTP_ACCEPT_LANGUAGE="ja")
    english = client.get("/api/v1/openapi.json?lang=en", HTTP_ACCEPT_LANGUAGE="ja")
    japanese = client.get("/api/v1/openapi.json", HTTP_ACCEPT_LANGUAGE="ja")

    # then the answers are labelled English (a tool or a cache reading Content-Language is not misled)
    assert page["Content-Language"] == "en" and english["Content-Language"] == "en"
    assert japanese["Content-Language"] == "ja"
    # and the document's title is in its language too, as an OpenAPI viewer shows it
    assert english.json()["info"]["title"] == "Point programme terminal API"
    assert japanese.json()["info"]["title"] == "ポイントプログラム 端末 API"


def _visible_text(html: str) -> str:
    """The page's prose as a reader sees it: without the JSON examples and schemas, tags and entities."""
    html = re.sub(r"<(pre|style)>.*?</\1>", "", html, flags=re.S)
    return unescape(re.sub(r"<[^>]+>", "", html))


def _shown(text: str) -> str:
    """A text of the document as the page shows it (`code` is marked up, not quoted)."""
    return text.replace("`", "")


def _section(html: str, operation_id: str) -> str:
    return html.split(f'<section class="operation" id="{operation_id}">')[1].split("</section>")[0]


def test_each_operations_answers_and_fields_are_in_japanese_for_a_japanese_browser(client):
    # when a browser asking for Japanese opens the page
    html = client.get("/api/v1/docs", HTTP_ACCEPT_LANGUAGE="ja").content.decode()
    text = _visible_text(html)
    # then every operation's error answers say what they mean in Japanese, under a Japanese status
    with translation.override("ja"):
        for op in OPERATIONS:
            section = _visible_text(_section(html, op.operation_id))
            for status, codes in TERMINAL.error_codes(op).items():
                assert translation.gettext(STATUS_TEXT[status]) in section, (op.operation_id, status)
                for code in codes:
                    assert _shown(translation.gettext(ERRORS[code][1])) in section, (op.operation_id, code)
                    assert _shown(ERRORS[code][1]) not in section, (op.operation_id, code)
    # and no English is left in the page's own words: statuses, the version line, locations, constraints
    for english in [*STATUS_TEXT.values(), "Version", "Base URL", "length ≥", "length ≤", "at most", "array of"]:
        assert english not in text, english
    assert "8 文字以上, 64 文字以下" in text  # the card number's constraints
    assert "ヘッダー" in _section(html, "earn")  # where the Idempotency-Key is sent
    # and a success's text marks its field names as code, not with raw backquotes
    assert "`" not in _visible_text(_section(html, "spend"))


def test_an_english_browser_reads_each_operations_answers_in_english(client):
    html = client.get("/api/v1/docs", HTTP_ACCEPT_LANGUAGE="en").content.decode()

    section = _visible_text(_section(html, "spend"))
    assert "Conflict" in section and ERRORS["insufficient_points"][1] in section
    assert "length ≥ 8, length ≤ 64" in section and "header" in section


def test_the_schemas_are_folded_and_each_link_to_one_lands_inside_its_fold(client):
    html = client.get("/api/v1/docs", HTTP_ACCEPT_LANGUAGE="ja").content.decode()
    schemas = html.split('<h2 id="schemas">')[1]
    folds = re.findall(r'<details class="schema">(.*?)</table>', schemas, re.S)

    assert len(folds) == len(openapi_document()["components"]["schemas"])
    for fold in folds:
        # the anchor is inside the fold, so following a link opens it (a browser opens a closed <details>
        # around the target of a link); an anchor on the summary would leave the fields hidden
        assert re.search(r'</summary>\s*<div class="anchor" id="schema-\w+"></div>', fold)


# --- docs/terminal-api.md: its examples are real requests and answers of this contract -----------


def _operation(method: str, path: str):
    return operation_of(TERMINAL, method, path)


def _exchanges():
    return exchanges(GUIDE)


def test_the_guide_shows_a_request_for_every_operation():
    shown = {_operation(request["method"], request["path"]).operation_id for request, _ in _exchanges() if request}

    assert shown == {op.operation_id for op in OPERATIONS}


@pytest.mark.parametrize("request_, answer", [pytest.param(*p, id=label(p)) for p in _exchanges() if p[0]])
def test_every_example_request_in_the_guide_is_valid(request_, answer):
    op = _operation(request_["method"], request_["path"])
    meant_invalid = answer is not None and json.loads(answer["body"]).get("error", {}).get("code") == "invalid_request"

    assert request_["headers"]["Authorization"].startswith("Bearer ")
    if op.request is None:
        assert not request_["body"]
        return
    assert KEY_RE.match(request_["headers"]["Idempotency-Key"])
    if meant_invalid:
        with pytest.raises(ValueError):
            op.request.model_validate_json(request_["body"])
    else:
        op.request.model_validate_json(request_["body"])


@pytest.mark.parametrize("request_, answer", [pytest.param(*p, id=label(p)) for p in _exchanges() if p[1]])
def test_every_example_answer_in_the_guide_is_what_the_contract_says(request_, answer):
    if answer["status"] >= 400:
        code = schemas.ErrorResponse.model_validate_json(answer["body"]).error.code
        assert ERRORS[code][0] == answer["status"]
    if request_ is None:
        if answer["status"] < 400:
            assert any(parses_as(model, answer["body"]) for model in ANSWER_MODELS)
        return
    op = _operation(request_["method"], request_["path"])
    documented = openapi_document()["paths"][op.path][op.method]["responses"][str(answer["status"])]
    if answer["status"] < 400:
        op.answer.model_validate_json(answer["body"])
    else:
        assert code in documented["x-error-codes"]


def test_every_text_of_the_document_has_its_japanese():
    # The document's texts are looked up in the translations by their English text (api/openapi.py,
    # api/schemas.py): a text changed or added without its Japanese would show English to a Japanese vendor.
    assert not untranslated(TERMINAL)
