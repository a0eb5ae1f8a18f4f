"""What every terminal request goes through: authentication, size limits,
strict parsing, and for writes the idempotency record that makes a retry
return the first answer byte for byte."""

from __future__ import annotations

import contextlib
import datetime
import functools
import hashlib
import re
from collections.abc import Callable

from django.conf import settings
from django.db import IntegrityError, transaction
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from pydantic import BaseModel, ValidationError

from api.errors import ApiError, json_response, unauthorized
from api.models import IdempotencyRecord
from api.ratelimit import terminal_rate_check
from points import errors as ledger_errors
from stores.models import Store, Terminal
from stores.selectors import terminal_authenticate
from stores.services import terminal_touch

KEY_RE = re.compile(r"^[A-Za-z0-9._:-]{1,100}$")
# A request still marked running after this long died with its worker; a retry may take it over.
STALE_AFTER = datetime.timedelta(seconds=30)

Handler = Callable[..., tuple[int, BaseModel]]


def authenticate(request: HttpRequest) -> Terminal:
    header = request.META.get("HTTP_AUTHORIZATION", "")
    scheme, _sep, secret = header.partition(" ")
    terminal = terminal_authenticate(secret=secret.strip()) if scheme.lower() == "bearer" else None
    if terminal is None:
        raise unauthorized()
    if terminal.store.status != Store.Status.ACTIVE:
        raise ApiError(403, "store_suspended", _("The store of this terminal is not active in the programme."))
    terminal_touch(terminal=terminal)
    return terminal


def read_body(request: HttpRequest, limit: int) -> bytes:
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        declared = 0
    if declared > limit:
        raise ApiError(413, "body_too_large", _("The request body is larger than %(limit)s bytes.") % {"limit": limit})
    body = request.read(limit + 1)
    if len(body) > limit:
        raise ApiError(413, "body_too_large", _("The request body is larger than %(limit)s bytes.") % {"limit": limit})
    if len(body) < declared:
        # A connection cut mid-body: refuse it before the Idempotency-Key is
        # claimed, so that the till's retry with the whole body is served.
        raise ApiError(400, "body_incomplete", _("The request body ended before its Content-Length."))
    return body


def _problem(error: dict) -> dict:
    field = ".".join(str(part) for part in error.get("loc", ())) or "(body)"
    kind = error.get("type", "")
    messages = {
        "missing": _("This field is required."),
        "extra_forbidden": _("This field is not part of the request."),
        "int_type": _("Enter a whole number."),
        "int_from_float": _("Enter a whole number."),
        "greater_than_equal": _("The value is too small."),
        "greater_than": _("The value is too small."),
        "less_than_equal": _("The value is too large."),
        "string_type": _("Enter text."),
        "string_pattern_mismatch": _("The value has characters that are not allowed."),
        "string_too_short": _("The value is too short."),
        "string_too_long": _("The value is too long."),
        "literal_error": _("The value is not one of the allowed choices."),
        "timezone_aware": _("Give the time with its offset, e.g. 2026-11-24T10:15:00+09:00."),
        "json_invalid": _("The body is not valid JSON."),
    }
    return {"field": field, "problem": kind, "message": messages.get(kind, _("The value is not valid."))}


def parse(model: type[BaseModel], body: bytes) -> BaseModel:
    try:
        return model.model_validate_json(body or b"")
    except ValidationError as exc:
        raise ApiError(
            400, "invalid_request", _("The request is not valid."), details=[_problem(e) for e in exc.errors()]
        ) from None


def _answer(run: Callable[[], tuple[int, BaseModel]]) -> HttpResponse:
    try:
        status, result = run()
    except ApiError as error:
        return error.response()
    except ledger_errors.LedgerError as error:
        return ApiError.from_ledger(error).response()
    return json_response(result.model_dump(mode="json"), status=status)


def _claim(terminal: Terminal, key: str, request_hash: str) -> IdempotencyRecord:
    """The record for this key, new or taken over; raises with the stored answer's fate otherwise."""
    now = timezone.now()
    # Outside a transaction (as requests run) the INSERT is one statement; a
    # refused duplicate breaks nothing. Inside one (tests), a savepoint guards it.
    guard = transaction.atomic() if transaction.get_connection().in_atomic_block else contextlib.nullcontext()
    try:
        with guard:
            return IdempotencyRecord.objects.create(
                terminal=terminal, key=key, request_hash=request_hash, started_at=now
            )
    except IntegrityError:
        record = IdempotencyRecord.objects.get(terminal=terminal, key=key)
    if record.request_hash != request_hash:
        raise ApiError(
            422, "idempotency_key_reused", _("This Idempotency-Key was already used for a different request.")
        )
    if record.state == IdempotencyRecord.State.DONE:
        return record
    in_progress = ApiError(
        409,
        "idempotency_in_progress",
        _("The first request with this key is still running; retry shortly."),
        headers={"Retry-After": "1"},
    )
    if now - record.started_at < STALE_AFTER:
        raise in_progress
    took_over = IdempotencyRecord.objects.filter(
        pk=record.pk, state=IdempotencyRecord.State.RUNNING, started_at=record.started_at
    ).update(started_at=now)
    if not took_over:
        raise in_progress
    record.started_at = now
    return record


def _idempotent(request: HttpRequest, terminal: Terminal, body: bytes, run) -> HttpResponse:
    key = request.META.get("HTTP_IDEMPOTENCY_KEY", "")
    if not KEY_RE.match(key):
        raise ApiError(
            400,
            "idempotency_key_missing",
            _("Every write needs an Idempotency-Key header of 1 to 100 letters, digits or . _ : -"),
        )
    request_hash = hashlib.sha256(request.method.encode() + b" " + request.path.encode() + b"\n" + body).hexdigest()
    record = _claim(terminal, key, request_hash)
    if record.state == IdempotencyRecord.State.DONE:
        return HttpResponse(bytes(record.body), status=record.status_code, content_type="application/json")
    try:
        with transaction.atomic():
            response = _answer(lambda: run(ledger_key=f"api:{terminal.pk}:{key}"))
            IdempotencyRecord.objects.filter(pk=record.pk).update(
                state=IdempotencyRecord.State.DONE,
                status_code=response.status_code,
                body=response.content,
                completed_at=timezone.now(),
            )
        return response
    except BaseException:
        # A crash is not an answer: forget the claim so that the retry runs again.
        IdempotencyRecord.objects.filter(pk=record.pk, state=IdempotencyRecord.State.RUNNING).delete()
        raise


def endpoint(*, method: str, write: bool = False, model: type[BaseModel] | None = None, limit: int | None = None):
    """Turn `handler(request, terminal, data, **kw) -> (status, model)` into a terminal API view."""

    def decorate(handler):
        @csrf_exempt
        @functools.wraps(handler)
        def view(request: HttpRequest, **kwargs) -> HttpResponse:
            try:
                if request.method != method:
                    raise ApiError(405, "method_not_allowed", _("Use %(method)s.") % {"method": method})
                terminal = authenticate(request)
                terminal_rate_check(terminal=terminal)
                body = read_body(request, limit or settings.TERMINAL_API_MAX_BODY) if write else b""

                def run(**extra):
                    data = parse(model, body) if model is not None else None
                    return handler(request, terminal, data, **kwargs, **extra)

                if write:
                    return _idempotent(request, terminal, body, run)
                return _answer(run)
            except ApiError as error:
                return error.response()

        view.api_method, view.api_write, view.api_model = method, write, model
        return view

    return decorate
