"""The two views: POST /api/v1/batch (a batch's answer stored as its key's) and GET /api/v1/batch/<id>."""

from __future__ import annotations

from django.conf import settings
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt

from api import schemas
from api.batch.applying import run_inline
from api.batch.items import Envelope
from api.batch.queued import accept_upload, revive_stalled, status_body, upload_of, with_location
from api.errors import ApiError, json_response
from api.models import IdempotencyRecord
from api.pipeline import (
    answer_of,
    authenticate,
    claim_committed,
    idempotency_key,
    parse,
    read_body,
    request_hash_of,
)
from api.ratelimit import terminal_rate_check
from stores.models import Terminal


def body_limit() -> int:
    return settings.TERMINAL_API_MAX_BATCH_BODY


def inline_max() -> int:
    """The most items a batch may have to be applied within its request; larger ones are queued."""
    return settings.TERMINAL_API_BATCH_INLINE_MAX


def _store(claim, response: HttpResponse) -> HttpResponse:
    claim.update(
        state=IdempotencyRecord.State.DONE,
        status_code=response.status_code,
        body=response.content,
        completed_at=timezone.now(),
    )
    return response


def _respond(terminal: Terminal, body: bytes, batch_key: str, claim) -> HttpResponse:
    """The batch's answer, stored as its key's: at once for a small batch, 202 and a status URL for a large one."""
    try:
        raws = parse(Envelope, body).items
    except ApiError as error:
        return _store(claim, error.response())
    if len(raws) <= inline_max():

        def renew_claim():  # so that the batch's own retry does not take it for dead
            claim.update(started_at=timezone.now())

        return _store(claim, answer_of(lambda: run_inline(terminal, raws, batch_key, renew_claim)))
    with transaction.atomic():
        return _store(claim, accept_upload(terminal, body, batch_key, raws))


def _replay(record: IdempotencyRecord) -> HttpResponse:
    response = HttpResponse(bytes(record.body), status=record.status_code, content_type="application/json")
    return with_location(response) if record.status_code == 202 else response


@csrf_exempt
def batch(request: HttpRequest) -> HttpResponse:
    try:
        if request.method != "POST":
            raise ApiError(405, "method_not_allowed", _("Use %(method)s.") % {"method": "POST"})
        terminal = authenticate(request)
        terminal_rate_check(terminal=terminal)
        body = read_body(request, body_limit())
        key = idempotency_key(request)
        request_hash = request_hash_of(request, body)
        record = claim_committed(terminal, key, request_hash)
        if record.state == IdempotencyRecord.State.DONE:
            return _replay(record)
        claim = IdempotencyRecord.objects.filter(pk=record.pk)
        try:
            return _respond(terminal, body, key, claim)
        except BaseException:
            # A crash is not an answer: the retry runs again, and finds the items already applied.
            claim.filter(state=IdempotencyRecord.State.RUNNING).delete()
            raise
    except ApiError as error:
        return error.response()


batch.api_method, batch.api_write, batch.api_model = "POST", True, schemas.BatchRequest


@csrf_exempt
def batch_status(request: HttpRequest, batch_id: str) -> HttpResponse:
    try:
        if request.method != "GET":
            raise ApiError(405, "method_not_allowed", _("Use %(method)s.") % {"method": "GET"})
        terminal = authenticate(request)
        terminal_rate_check(terminal=terminal)
        upload = upload_of(terminal, batch_id)
        revive_stalled(upload)
        return json_response(status_body(upload))
    except ApiError as error:
        return error.response()


batch_status.api_method, batch_status.api_write, batch_status.api_model = "GET", False, None
