"""Offline upload: a terminal's stored transactions in one request, POST /api/v1/batch.

Each item is what the till would have sent alone (earn, spend or void) plus
`op` and its own key: the Idempotency-Key it had, or would have had, alone.
So its ledger key is `api:<terminal>:<key>` and its answer is stored as the
IdempotencyRecord a single request would leave: a single retry, a re-sent
batch, or a batch carrying an item that went through online all get the
first answer, and nothing is applied twice. Items are applied in order of
`occurred_at` (ties in the order sent) and answered in the order sent.

The view does not use `api.pipeline.endpoint`, whose one transaction per
write would, for 10,000 items, hold locks on every card and account of the
batch for its whole length (blocking those members at every other till) and
lose all the work to a crash near the end. It reuses the pipeline's pieces
(authentication, rate limit, body limit, parser, the batch's claim) and
commits CHUNK items at a time:

- an item's entries and its record are written in one transaction: after a
  crash each item is applied with its answer stored, or not at all, and the
  re-sent batch reports the applied ones as already applied;
- a refused item leaves nothing behind (the ledger services write inside
  their own savepoint), so one bad item never affects the others;
- a chunk that fails as a whole (a key taken meanwhile by a concurrent
  request, a deadlock with another upload locking the same accounts in
  another order) is rolled back and redone one item per transaction;
- the batch's claim is renewed after each chunk, so its own retry does not
  take a long batch for a dead one; its answer is stored at the end.
"""

from __future__ import annotations

import functools
import hashlib
import json
from collections import Counter
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import IntegrityError, OperationalError, transaction
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from pydantic import Field, TypeAdapter, ValidationError

from api import schemas, views
from api.errors import ApiError
from api.models import IdempotencyRecord
from api.pipeline import KEY_RE, STALE_AFTER, _answer, _claim, _problem, authenticate, parse, read_body
from api.ratelimit import terminal_rate_check
from members.services import card_number_index
from points.models import Entry, Programme
from points.services import programme_for_store
from stores.models import Terminal

CHUNK = 100  # items per transaction: a few hundred milliseconds of locks, and few commits
ITEM = TypeAdapter(schemas.BatchItem)
OPS = ("earn", "spend", "void")


def body_limit() -> int:
    return settings.TERMINAL_API_MAX_BATCH_BODY


class Envelope(schemas.Strict):
    """The batch before its items are read: each item is parsed on its own, so one bad item is one rejection."""

    items: list[Any] = Field(min_length=1, max_length=schemas.MAX_BATCH_ITEMS)


def canonical_json(value) -> bytes:
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()


@dataclass
class Item:
    position: int
    key: str | None  # None when the key itself is missing or malformed
    op: str | None
    data: schemas.BatchEarn | schemas.BatchSpend | schemas.BatchVoid | None
    invalid: ApiError | None
    request_hash: str | None  # what a single request with this content would be known by
    outcome: schemas.BatchItemResult | None = None


@functools.cache
def _path(op: str) -> bytes:
    return reverse(f"api:{op}").encode()


def _field(error: dict, op: str | None) -> tuple:
    """Where a problem is, named as a single request would name it: "amount_yen", not "earn.amount_yen"."""
    if error["type"].startswith("union_tag"):
        return ("op",)
    loc = error.get("loc", ())
    return loc[1:] if loc and loc[0] == op else loc


def _read_item(position: int, raw) -> Item:
    fields = raw if isinstance(raw, dict) else {}
    key = fields.get("key") if isinstance(fields.get("key"), str) and KEY_RE.match(fields["key"]) else None
    op = fields.get("op") if fields.get("op") in OPS else None
    request_hash = None
    if op is not None:
        content = {name: value for name, value in fields.items() if name not in ("key", "op")}
        request_hash = hashlib.sha256(b"POST " + _path(op) + b"\n" + canonical_json(content)).hexdigest()
    try:
        return Item(position, key, op, ITEM.validate_json(canonical_json(raw)), None, request_hash)
    except ValidationError as exc:
        details = [_problem({**error, "loc": _field(error, op)}) for error in exc.errors()]
        invalid = ApiError(400, "invalid_request", _("The request is not valid."), details=details)
        return Item(position, key, op, None, invalid, request_hash)


# --- outcomes -------------------------------------------------------------------------------


def _outcome(item: Item, status_code: int, body: bytes, *, applied: str = "applied") -> schemas.BatchItemResult:
    """An item's line of the answer, from the answer it has (or would have had) alone."""
    ok = 200 <= status_code < 300
    return schemas.BatchItemResult(
        key=item.key,
        op=item.op,
        status=applied if ok else "rejected",
        http_status=status_code,
        result=schemas.Receipt.model_validate_json(body) if ok else None,
        error=None if ok else schemas.ErrorBody.model_validate(json.loads(body)["error"]),
    )


def _rejected(item: Item, error: ApiError) -> schemas.BatchItemResult:
    response = error.response()
    return _outcome(item, response.status_code, response.content)


def _key_reused(item: Item) -> schemas.BatchItemResult:
    return _rejected(
        item,
        ApiError(422, "idempotency_key_reused", _("This Idempotency-Key was already used for a different request.")),
    )


def _in_progress(item: Item) -> schemas.BatchItemResult:
    return _rejected(
        item,
        ApiError(409, "idempotency_in_progress", _("The first request with this key is still running; retry shortly.")),
    )


def _same_transaction(item: Item, entry: Entry | None) -> bool:
    """Whether the entry written under the item's key records the item's transaction.

    A single request is known by the hash of the bytes it was sent as, which
    the till need not have reproduced in the batch; the ledger says whether
    it was the same purchase (card, amounts, receipt number and time).
    """
    data = item.data
    if entry is None or data is None or entry.occurred_at != data.occurred_at:
        return False
    if isinstance(data, schemas.BatchVoid):
        return (
            entry.kind == Entry.Kind.VOID
            and data.transaction_id is not None
            and entry.reverses.operation == data.transaction_id
            and data.refund_amount_yen in (None, entry.amount_yen)
        )
    try:
        number_bidx = card_number_index(views._normalised(data.card))
    except ApiError:
        return False
    if isinstance(data, schemas.BatchEarn):
        same = entry.kind == Entry.Kind.EARN and entry.amount_yen == data.amount_yen
    else:
        same = entry.kind == Entry.Kind.SPEND and entry.points == -data.points and entry.amount_yen == data.amount_yen
    return (
        same
        and entry.receipt_no == data.receipt_no
        and entry.card is not None
        and entry.card.number_bidx == number_bidx
    )


def _settled(item: Item, record: IdempotencyRecord, entry: Entry | None) -> schemas.BatchItemResult | None:
    """The outcome of an item whose key already has a record; None when the record may be taken over."""
    if record.state != IdempotencyRecord.State.DONE:
        if timezone.now() - record.started_at < STALE_AFTER:
            return _in_progress(item)
        # Its request died before writing anything (record and entries commit together).
        gone = IdempotencyRecord.objects.filter(
            pk=record.pk, state=IdempotencyRecord.State.RUNNING, started_at=record.started_at
        ).delete()[0]
        return None if gone else _in_progress(item)
    if record.request_hash != item.request_hash and not (
        200 <= record.status_code < 300 and _same_transaction(item, entry)
    ):
        return _key_reused(item)
    return _outcome(item, record.status_code, bytes(record.body), applied="already_applied")


# --- applying -------------------------------------------------------------------------------


class Upload:
    """One batch being applied: its terminal, and what its items share.

    The store's programme is resolved once; the cards found or created are
    kept by number (each item still locks and re-reads its card in the ledger).
    """

    def __init__(self, terminal: Terminal):
        self.terminal = terminal
        self.cards: dict[str, object] = {}
        self._programmes: dict[bool, Programme] = {}

    def programme(self, *, spending: bool = False) -> Programme:
        if spending not in self._programmes:
            self._programmes[spending] = programme_for_store(store=self.terminal.store, spending=spending)
        return self._programmes[spending]

    def ledger_key(self, key: str) -> str:
        return f"api:{self.terminal.pk}:{key}"


def _earn(upload: Upload, data: schemas.BatchEarn):
    return views.apply_earn(
        upload.terminal, data, upload.ledger_key(data.key), programme=upload.programme(), cards=upload.cards
    )


def _spend(upload: Upload, data: schemas.BatchSpend):
    return views.apply_spend(
        upload.terminal,
        data,
        upload.ledger_key(data.key),
        programme=upload.programme(spending=True),
        cards=upload.cards,
    )


def _void(upload: Upload, data: schemas.BatchVoid):
    if data.transaction_id is not None:
        original = views.purchase_of(upload.terminal, operation=data.transaction_id)
    else:
        try:
            original = views.purchase_of(upload.terminal, idempotency_key=upload.ledger_key(data.void_key))
        except ApiError:
            raise ApiError(
                404, "transaction_not_found", _("No purchase of this terminal was made with this void_key.")
            ) from None
    return views.apply_void(
        upload.terminal,
        original,
        occurred_at=data.occurred_at,
        refund_amount_yen=data.refund_amount_yen,
        ledger_key=upload.ledger_key(data.key),
        programme=upload.programme(),
    )


APPLY = {"earn": _earn, "spend": _spend, "void": _void}


def _response(upload: Upload, item: Item) -> HttpResponse:
    """Apply the item; its answer is what it would have got alone, a refusal included.

    A refused item leaves nothing behind: the ledger writes inside its own
    savepoint, and what comes before writes nothing but, as for a single
    request, a card seen for the first time.
    """
    if item.invalid is not None:
        return item.invalid.response()
    return _answer(lambda: APPLY[item.op](upload, item.data))


def _record(upload: Upload, item: Item, response: HttpResponse) -> IdempotencyRecord:
    now = timezone.now()
    return IdempotencyRecord(
        terminal=upload.terminal,
        key=item.key,
        request_hash=item.request_hash,
        state=IdempotencyRecord.State.DONE,
        status_code=response.status_code,
        body=response.content,
        started_at=now,
        completed_at=now,
    )


def _apply_chunk(upload: Upload, chunk: list[Item]) -> list[schemas.BatchItemResult]:
    """The chunk's items and their answers in one transaction: all of them, or none."""
    with transaction.atomic():
        responses = [_response(upload, item) for item in chunk]
        IdempotencyRecord.objects.bulk_create(
            [_record(upload, item, response) for item, response in zip(chunk, responses, strict=True)]
        )
    return [_outcome(item, r.status_code, r.content) for item, r in zip(chunk, responses, strict=True)]


def _apply_alone(upload: Upload, item: Item) -> schemas.BatchItemResult:
    try:
        with transaction.atomic():
            response = _response(upload, item)
            _record(upload, item, response).save(force_insert=True)
    except IntegrityError:
        upload.cards.clear()  # a card created by the rolled-back item is gone
        # The key was taken meanwhile (a single request, or another upload of this item): its answer stands.
        record = IdempotencyRecord.objects.filter(terminal=upload.terminal, key=item.key).first()
        if record is None:
            raise
        entry = Entry.objects.filter(idempotency_key=upload.ledger_key(item.key)).first()
        return _settled(item, record, entry) or _in_progress(item)
    return _outcome(item, response.status_code, response.content)


def _in_time(item: Item) -> tuple:
    # Invalid items have no time: they are refused first, which changes nothing for the others.
    return (0, item.position) if item.data is None else (1, item.data.occurred_at, item.position)


def _apply_in_chunks(upload: Upload, items: list[Item], keep_claim) -> None:
    for start in range(0, len(items), CHUNK):
        chunk = items[start : start + CHUNK]
        try:
            outcomes = _apply_chunk(upload, chunk)
        except (IntegrityError, OperationalError):
            # A key taken meanwhile by another request, or a deadlock with another upload that
            # locks the same accounts in another order: item by item, none waits holding another's locks.
            upload.cards.clear()
            outcomes = [_apply_alone(upload, item) for item in chunk]
        for item, outcome in zip(chunk, outcomes, strict=True):
            item.outcome = outcome
        keep_claim()


def _screen(items: list[Item], batch_key: str) -> None:
    """Refuse, before anything is applied, what no single request could have been."""
    seen: set[str] = set()
    for item in items:
        if item.key == batch_key:
            item.outcome = _key_reused(item)
        elif item.key in seen:
            duplicate = ApiError(422, "duplicate_key", _("Another item of this batch has the same key."))
            item.outcome = _rejected(item, duplicate)
        elif item.key is None or item.op is None:
            # Nothing to store the answer under, or no request it stands for: refused (the schema
            # says why), not remembered.
            item.outcome = _rejected(item, item.invalid)
        if item.key is not None:
            seen.add(item.key)


def _recall(upload: Upload, items: list[Item]) -> None:
    """Answer the items whose key was used before, from what was stored then (one query for all)."""
    records = {
        r.key: r for r in IdempotencyRecord.objects.filter(terminal=upload.terminal, key__in=[i.key for i in items])
    }
    if not records:
        return
    ledger_keys = [upload.ledger_key(key) for key in records]
    entries = Entry.objects.filter(idempotency_key__in=ledger_keys).select_related("card", "reverses")
    by_key = {entry.idempotency_key: entry for entry in entries}
    for item in items:
        if item.key in records:
            item.outcome = _settled(item, records[item.key], by_key.get(upload.ledger_key(item.key)))


def _run(terminal: Terminal, body: bytes, batch_key: str, keep_claim) -> tuple[int, schemas.BatchResponse]:
    items = [_read_item(position, raw) for position, raw in enumerate(parse(Envelope, body).items)]
    upload = Upload(terminal)
    _screen(items, batch_key)
    _recall(upload, [item for item in items if item.outcome is None])
    _apply_in_chunks(upload, sorted((item for item in items if item.outcome is None), key=_in_time), keep_claim)
    counts = Counter(item.outcome.status for item in items)
    return 200, schemas.BatchResponse(
        results=[item.outcome for item in items],
        counts=schemas.BatchCounts(**{status: counts[status] for status in schemas.BatchCounts.model_fields}),
    )


@csrf_exempt
def batch(request: HttpRequest) -> HttpResponse:
    try:
        if request.method != "POST":
            raise ApiError(405, "method_not_allowed", _("Use %(method)s.") % {"method": "POST"})
        terminal = authenticate(request)
        terminal_rate_check(terminal=terminal)
        body = read_body(request, body_limit())
        key = request.META.get("HTTP_IDEMPOTENCY_KEY", "")
        if not KEY_RE.match(key):
            raise ApiError(
                400,
                "idempotency_key_missing",
                _("Every write needs an Idempotency-Key header of 1 to 100 letters, digits or . _ : -"),
            )
        request_hash = hashlib.sha256(b"POST " + request.path.encode() + b"\n" + body).hexdigest()
        record = _claim(terminal, key, request_hash)
        if record.state == IdempotencyRecord.State.DONE:
            return HttpResponse(bytes(record.body), status=record.status_code, content_type="application/json")
        claim = IdempotencyRecord.objects.filter(pk=record.pk)
        try:
            response = _answer(lambda: _run(terminal, body, key, lambda: claim.update(started_at=timezone.now())))
            claim.update(
                state=IdempotencyRecord.State.DONE,
                status_code=response.status_code,
                body=response.content,
                completed_at=timezone.now(),
            )
            return response
        except BaseException:
            # A crash is not an answer: the retry runs again, and finds the items already applied.
            claim.filter(state=IdempotencyRecord.State.RUNNING).delete()
            raise
    except ApiError as error:
        return error.response()


batch.api_method, batch.api_write, batch.api_model = "POST", True, schemas.BatchRequest
