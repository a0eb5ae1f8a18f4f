"""Applying a batch's items, CHUNK at a time: each with its answer stored, as a single request would leave it."""

from __future__ import annotations

from django.db import IntegrityError, OperationalError, transaction
from django.http import HttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _

from api import schemas, views
from api.batch.items import (
    Item,
    counts_of,
    in_progress,
    key_reused,
    outcome_of,
    read_item,
    rejected_outcome,
    settled_outcome,
)
from api.errors import ApiError
from api.models import IdempotencyRecord
from api.pipeline import answer_of
from points.models import Entry
from stores.models import Terminal
from till.errors import TransactionNotFound
from till.services import till_purchase, till_request

CHUNK = 100  # items per transaction: a few hundred milliseconds of locks, and few commits


class Upload:
    """One batch being applied: its terminal and how its items' ledger keys are made."""

    def __init__(self, terminal: Terminal):
        self.terminal = terminal

    def ledger_key(self, key: str) -> str:
        return f"api:{self.terminal.pk}:{key}"


def _earn(upload: Upload, data: schemas.BatchEarn):
    return views.earn_answer(upload.terminal, data, upload.ledger_key(data.key))


def _spend(upload: Upload, data: schemas.BatchSpend):
    return views.spend_answer(upload.terminal, data, upload.ledger_key(data.key))


def _void(upload: Upload, data: schemas.BatchVoid):
    if data.transaction_id is not None:
        original = till_purchase(terminal=upload.terminal, transaction_id=data.transaction_id)
    else:
        try:
            original = till_purchase(terminal=upload.terminal, idempotency_key=upload.ledger_key(data.void_key))
        except TransactionNotFound:
            raise ApiError(
                404, "transaction_not_found", _("No purchase of this terminal was made with this void_key.")
            ) from None
    return views.void_answer(
        upload.terminal,
        original,
        occurred_at=data.occurred_at,
        refund_amount_yen=data.refund_amount_yen,
        ledger_key=upload.ledger_key(data.key),
    )


APPLY = {"earn": _earn, "spend": _spend, "void": _void}


def _response(upload: Upload, item: Item) -> HttpResponse:
    """Apply the item; its answer is what it would have got alone, a refusal included.

    A refused item leaves nothing behind: the till refuses before it writes
    anything (till_request), but for a card seen for the first time, which
    stays, as it would for a single request.
    """
    if item.invalid is not None:
        return item.invalid.response()
    return answer_of(lambda: APPLY[item.op](upload, item.data))


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
    with transaction.atomic(), till_request():
        responses = [_response(upload, item) for item in chunk]
        IdempotencyRecord.objects.bulk_create(
            [_record(upload, item, response) for item, response in zip(chunk, responses, strict=True)]
        )
    return [outcome_of(item, r.status_code, r.content) for item, r in zip(chunk, responses, strict=True)]


def _apply_alone(upload: Upload, item: Item) -> schemas.BatchItemResult:
    try:
        with transaction.atomic(), till_request():
            response = _response(upload, item)
            _record(upload, item, response).save(force_insert=True)
    except IntegrityError:
        # The key was taken meanwhile (a single request, or another upload of this item): its answer stands.
        record = IdempotencyRecord.objects.filter(terminal=upload.terminal, key=item.key).first()
        if record is None:
            raise
        entry = Entry.objects.filter(idempotency_key=upload.ledger_key(item.key)).first()
        return settled_outcome(item, record, entry) or in_progress(item)
    return outcome_of(item, response.status_code, response.content)


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
            outcomes = [_apply_alone(upload, item) for item in chunk]
        for item, outcome in zip(chunk, outcomes, strict=True):
            item.outcome = outcome
        keep_claim()


def _screen(items: list[Item], batch_key: str) -> None:
    """Refuse, before anything is applied, what no single request could have been."""
    seen: set[str] = set()
    for item in items:
        if item.key == batch_key:
            item.outcome = key_reused(item)
        elif item.key in seen:
            duplicate = ApiError(422, "duplicate_key", _("Another item of this batch has the same key."))
            item.outcome = rejected_outcome(item, duplicate)
        elif item.key is None or item.op is None:
            # Nothing to store the answer under, or no request it stands for: refused (the schema
            # says why), not remembered.
            item.outcome = rejected_outcome(item, item.invalid)
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
            item.outcome = settled_outcome(item, records[item.key], by_key.get(upload.ledger_key(item.key)))


def read_items(raws: list, batch_key: str) -> list[Item]:
    items = [read_item(position, raw) for position, raw in enumerate(raws)]
    _screen(items, batch_key)
    return items


def apply_items(upload: Upload, items: list[Item], keep_alive) -> None:
    """Give every item without an outcome yet its answer: the one stored before, or by applying it."""
    _recall(upload, [item for item in items if item.outcome is None])
    _apply_in_chunks(upload, sorted((item for item in items if item.outcome is None), key=_in_time), keep_alive)


def run_inline(terminal: Terminal, raws: list, batch_key: str, keep_claim) -> tuple[int, schemas.BatchResponse]:
    items = read_items(raws, batch_key)
    apply_items(Upload(terminal), items, keep_claim)
    return 200, schemas.BatchResponse(
        results=[item.outcome for item in items], counts=counts_of(item.outcome.status for item in items)
    )
