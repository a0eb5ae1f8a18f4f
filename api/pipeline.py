"""What every terminal request goes through: authentication, size limits,
strict parsing, and for writes the idempotency record that makes a retry
return the first answer byte for byte.

A write claims its Idempotency-Key inside the transaction that writes its
entries and stores its answer (api/sql.py): one commit for all three. A retry
that arrives while the first request is still running waits for it and gets
its answer; past TERMINAL_API_LOCK_TIMEOUT_MS it is answered 409, as is a
retry of a batch still being applied (whose claim is committed on its own)."""

from __future__ import annotations

import contextlib
import datetime
import functools
import hashlib
import re
from collections.abc import Callable

from django.conf import settings
from django.db import IntegrityError, OperationalError, transaction
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from pydantic import BaseModel, ValidationError

from api import sql
from api.errors import ApiError, json_response, unauthorized
from api.models import IdempotencyRecord
from api.ratelimit import terminal_rate_check
from points import errors as ledger_errors
from stores.models import Store, Terminal
from stores.services import terminal_touch
from till.services import till_request, till_terminal

KEY_RE = re.compile(r"^[A-Za-z0-9._:-]{1,100}$")
# A request still marked running after this long died with its worker; a retry may take it over.
STALE_AFTER = datetime.timedelta(seconds=30)
# PostgreSQL's "lock_not_available": a wait ended by the transaction's lock timeout.
LOCK_NOT_AVAILABLE = "55P03"

Handler = Callable[..., tuple[int, BaseModel]]


def authenticate(request: HttpRequest) -> Terminal:
    header = request.META.get("HTTP_AUTHORIZATION", "")
    scheme, _sep, secret = header.partition(" ")
    terminal = till_terminal(secret=secret.strip()) if scheme.lower() == "bearer" else None
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


def problem_of(error: dict) -> dict:
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
            400, "invalid_request", _("The request is not valid."), details=[problem_of(e) for e in exc.errors()]
        ) from None


def answer_of(run: Callable[[], tuple[int, BaseModel]]) -> HttpResponse:
    try:
        status, result = run()
    except ApiError as error:
        return error.response()
    except ledger_errors.LedgerError as error:
        return ApiError.from_ledger(error).response()
    return json_response(result.model_dump(mode="json"), status=status)


def in_progress() -> ApiError:
    return ApiError(
        409,
        "idempotency_in_progress",
        _("The first request with this key is still running; retry shortly."),
        headers={"Retry-After": "1"},
    )


def key_reused() -> ApiError:
    return ApiError(422, "idempotency_key_reused", _("This Idempotency-Key was already used for a different request."))


def claim_committed(terminal: Terminal, key: str, request_hash: str) -> IdempotencyRecord:
    """A claim committed on its own, for a request too long for one transaction (the offline batch): the
    record for this key, new or taken over from a request that died; raises with the stored answer's fate
    otherwise."""
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
        raise key_reused()
    if record.state == IdempotencyRecord.State.DONE:
        return record
    if now - record.started_at < STALE_AFTER or not sql.take_over(record=record, now=now):
        raise in_progress()
    record.started_at = now
    return record


def request_hash_of(request: HttpRequest, body: bytes) -> str:
    """What a request is known by for its Idempotency-Key: method, path and body."""
    return hashlib.sha256(request.method.encode() + b" " + request.path.encode() + b"\n" + body).hexdigest()


def idempotency_key(request: HttpRequest) -> str:
    key = request.META.get("HTTP_IDEMPOTENCY_KEY", "")
    if not KEY_RE.match(key):
        raise ApiError(
            400,
            "idempotency_key_missing",
            _("Every write needs an Idempotency-Key header of 1 to 100 letters, digits or . _ : -"),
        )
    return key


def _stored(record: IdempotencyRecord, request_hash: str, now) -> HttpResponse | None:
    """The answer to a request whose key has a record: the first answer, or a refusal; None when the record
    was left running by a request that died long ago and is now ours."""
    if record.request_hash != request_hash:
        return key_reused().response()
    if record.state == IdempotencyRecord.State.DONE:
        return HttpResponse(bytes(record.body), status=record.status_code, content_type="application/json")
    if now - record.started_at < STALE_AFTER or not sql.take_over(record=record, now=now):
        return in_progress().response()
    return None


def _idempotent(request: HttpRequest, terminal: Terminal, body: bytes, run) -> HttpResponse:
    key = idempotency_key(request)
    request_hash = request_hash_of(request, body)
    now = timezone.now()
    claimed = False
    try:
        with transaction.atomic():
            record_id = sql.claim(
                terminal_id=terminal.pk,
                key=key,
                request_hash=request_hash,
                now=now,
                lock_timeout_ms=settings.TERMINAL_API_LOCK_TIMEOUT_MS,
            )
            if record_id is None:
                record = sql.record(terminal_id=terminal.pk, key=key)
                answer = _stored(record, request_hash, now)
                if answer is not None:
                    return answer
                record_id = record.pk
            claimed = True
            # A refusal is an answer, stored like any other; a crash rolls the claim back with the rest.
            with till_request():
                response = answer_of(lambda: run(ledger_key=f"api:{terminal.pk}:{key}"))
            sql.done(record_id=record_id, status_code=response.status_code, body=response.content, now=timezone.now())
        return response
    except OperationalError as error:
        if getattr(error.__cause__, "sqlstate", None) != LOCK_NOT_AVAILABLE:
            raise
        if not claimed:
            return in_progress().response()
        return ApiError(
            503, "till_busy", _("Another till is using this card; retry shortly."), headers={"Retry-After": "1"}
        ).response()


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
                return answer_of(run)
            except ApiError as error:
                return error.response()

        view.api_method, view.api_write, view.api_model = method, write, model
        return view

    return decorate
