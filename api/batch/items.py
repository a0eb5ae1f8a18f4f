"""Reading a batch's items, and the outcome each gets: the line of the answer it stands for."""

from __future__ import annotations

import functools
import hashlib
import json
from collections import Counter
from dataclasses import dataclass
from typing import Any

from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from pydantic import Field, TypeAdapter, ValidationError

from api import schemas
from api.errors import ApiError
from api.models import IdempotencyRecord
from api.pipeline import KEY_RE, STALE_AFTER, problem_of
from members.services import CardNumberError, card_number_index, card_number_normalise
from points.models import Entry

ITEM = TypeAdapter(schemas.BatchItem)
OPS = ("earn", "spend", "void")


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


def read_item(position: int, raw) -> Item:
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
        details = [problem_of({**error, "loc": _field(error, op)}) for error in exc.errors()]
        invalid = ApiError(400, "invalid_request", _("The request is not valid."), details=details)
        return Item(position, key, op, None, invalid, request_hash)


def card_index_of(data: schemas.BatchEarn | schemas.BatchSpend) -> str | None:
    try:
        return card_number_index(card_number_normalise(number=data.card.number, card_type=data.card.type))
    except CardNumberError:
        return None


# --- outcomes -------------------------------------------------------------------------------


def outcome_of(item: Item, status_code: int, body: bytes, *, applied: str = "applied") -> schemas.BatchItemResult:
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


def rejected_outcome(item: Item, error: ApiError) -> schemas.BatchItemResult:
    response = error.response()
    return outcome_of(item, response.status_code, response.content)


def key_reused(item: Item) -> schemas.BatchItemResult:
    return rejected_outcome(
        item,
        ApiError(422, "idempotency_key_reused", _("This Idempotency-Key was already used for a different request.")),
    )


def in_progress(item: Item) -> schemas.BatchItemResult:
    return rejected_outcome(
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
    number_bidx = card_index_of(data)
    if number_bidx is None:
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


def settled_outcome(item: Item, record: IdempotencyRecord, entry: Entry | None) -> schemas.BatchItemResult | None:
    """The outcome of an item whose key already has a record; None when the record may be taken over."""
    if record.state != IdempotencyRecord.State.DONE:
        if timezone.now() - record.started_at < STALE_AFTER:
            return in_progress(item)
        # Its request died before writing anything (record and entries commit together).
        gone = IdempotencyRecord.objects.filter(
            pk=record.pk, state=IdempotencyRecord.State.RUNNING, started_at=record.started_at
        ).delete()[0]
        return None if gone else in_progress(item)
    if record.request_hash != item.request_hash and not (
        200 <= record.status_code < 300 and _same_transaction(item, entry)
    ):
        return key_reused(item)
    return outcome_of(item, record.status_code, bytes(record.body), applied="already_applied")


def counts_of(statuses) -> schemas.BatchCounts:
    counts = Counter(statuses)
    return schemas.BatchCounts(**{status: counts[status] for status in schemas.BatchCounts.model_fields})
