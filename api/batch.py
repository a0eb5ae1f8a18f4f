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

A batch of more than TERMINAL_API_BATCH_INLINE_MAX items would outlast what a
proxy waits for. It is stored instead (BatchUpload), with the 202 that names
its status URL as its key's answer, in one transaction; once that commits,
its parts (BatchPart) are queued to the django-q2 workers (api.tasks), which
apply them with the same chunks. A part holds whole members (every card of
theirs, and the voids of their purchases), so each member's items are applied
in order of time by one worker while the workers share the batch; the last
part to finish stores the answer, the one the batch would have had at once.
A part whose worker died shows no progress: the next status read queues it
again (STALLED_AFTER), and its rerun recalls what was applied (_recall), so
nothing is applied twice; after MAX_ATTEMPTS runs the batch is failed.
"""

from __future__ import annotations

import datetime
import functools
import hashlib
import json
import uuid
import zlib
from collections import Counter
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import IntegrityError, OperationalError, transaction
from django.db.models import F, OuterRef, Q, Subquery, Sum
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django_q.tasks import async_task
from pydantic import Field, TypeAdapter, ValidationError

from api import schemas, views
from api.errors import ApiError, json_response
from api.models import BatchPart, BatchUpload, IdempotencyRecord
from api.pipeline import KEY_RE, STALE_AFTER, _answer, _problem, authenticate, claim_committed, parse, read_body
from api.ratelimit import terminal_rate_check
from members.models import Card
from members.services import CardNumberError, card_number_index, card_number_normalise
from points.models import Entry
from stores.models import Terminal
from till.errors import TransactionNotFound
from till.services import till_purchase, till_request

CHUNK = 100  # items per transaction: a few hundred milliseconds of locks, and few commits
ITEM = TypeAdapter(schemas.BatchItem)
OPS = ("earn", "spend", "void")
# A part that has shown no progress for this long lost its worker (a chunk takes well under a second).
STALLED_AFTER = datetime.timedelta(seconds=60)
MAX_ATTEMPTS = 3  # runs of one part before its batch is failed: a part that kills its worker every time


def body_limit() -> int:
    return settings.TERMINAL_API_MAX_BATCH_BODY


def inline_max() -> int:
    """The most items a batch may have to be applied within its request; larger ones are queued."""
    return settings.TERMINAL_API_BATCH_INLINE_MAX


def parts_wanted() -> int:
    """One part per worker of the cluster."""
    return max(1, int(settings.Q_CLUSTER.get("workers") or 1))


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


def _card_index(data: schemas.BatchEarn | schemas.BatchSpend) -> str | None:
    try:
        return card_number_index(card_number_normalise(number=data.card.number, card_type=data.card.type))
    except CardNumberError:
        return None


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
    number_bidx = _card_index(data)
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
    with transaction.atomic(), till_request():
        responses = [_response(upload, item) for item in chunk]
        IdempotencyRecord.objects.bulk_create(
            [_record(upload, item, response) for item, response in zip(chunk, responses, strict=True)]
        )
    return [_outcome(item, r.status_code, r.content) for item, r in zip(chunk, responses, strict=True)]


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


def _read_all(raws: list, batch_key: str) -> list[Item]:
    items = [_read_item(position, raw) for position, raw in enumerate(raws)]
    _screen(items, batch_key)
    return items


def _apply(upload: Upload, items: list[Item], keep_alive) -> None:
    """Give every item without an outcome yet its answer: the one stored before, or by applying it."""
    _recall(upload, [item for item in items if item.outcome is None])
    _apply_in_chunks(upload, sorted((item for item in items if item.outcome is None), key=_in_time), keep_alive)


def _counts(statuses) -> schemas.BatchCounts:
    counts = Counter(statuses)
    return schemas.BatchCounts(**{status: counts[status] for status in schemas.BatchCounts.model_fields})


def _run(terminal: Terminal, raws: list, batch_key: str, keep_claim) -> tuple[int, schemas.BatchResponse]:
    items = _read_all(raws, batch_key)
    _apply(Upload(terminal), items, keep_claim)
    return 200, schemas.BatchResponse(
        results=[item.outcome for item in items], counts=_counts(item.outcome.status for item in items)
    )


# --- a large batch: stored, split by member, applied by the workers -------------------------


def _owners(upload: Upload, items: list[Item]) -> dict[int, str]:
    """Whose each item is, by position: the member of its card (a card no one has yet is its own owner),
    and for a void the owner of the purchase it voids."""
    indexes = {item.position: _card_index(item.data) for item in items if item.op in ("earn", "spend") and item.data}
    members = dict(
        Card.objects.filter(number_bidx__in={i for i in indexes.values() if i}).values_list("number_bidx", "member_id")
    )
    owners = {p: f"member:{members[i]}" if i in members else f"card:{i}" for p, i in indexes.items() if i}
    by_key: dict[str, str] = {}
    for item in items:
        if item.position in owners:
            by_key.setdefault(item.key, owners[item.position])
    voids = [item.data for item in items if item.op == "void" and item.data]
    originals = _original_members(upload, voids) if voids else {}
    for item in items:
        if item.op == "void" and item.data:
            reference = item.data.transaction_id or upload.ledger_key(item.data.void_key)
            member = originals.get(reference)
            owners[item.position] = by_key.get(item.data.void_key) or (f"member:{member}" if member else "")
    return owners


def _original_members(upload: Upload, voids: list[schemas.BatchVoid]) -> dict:
    """The member of each purchase named by a void, by transaction id and by ledger key (one query)."""
    operations = {void.transaction_id for void in voids if void.transaction_id}
    keys = {upload.ledger_key(void.void_key) for void in voids if void.void_key}
    rows = Entry.objects.filter(
        Q(operation__in=operations) | Q(idempotency_key__in=keys), store=upload.terminal.store
    ).values_list("operation", "idempotency_key", "account__member_id")
    found = {}
    for operation, key, member in rows:
        found[operation] = found[key] = member
    return found


def _plan(upload: Upload, items: list[Item], parts: int) -> list[list[int]]:
    """The positions each part applies. An owner's items stay in one part, so that they are applied in
    order of time as in a batch applied at once, and two workers never wait for each other's card."""
    if parts == 1:
        return [[item.position for item in items]]
    owners = _owners(upload, items)
    plan: list[list[int]] = [[] for _ in range(parts)]
    for item in items:
        plan[zlib.crc32(owners.get(item.position, "").encode()) % parts].append(item.position)
    return [positions for positions in plan if positions]


def _queue(upload: BatchUpload, parts: list[BatchPart]) -> None:
    """Hand the parts to the workers once what names them has committed (a worker would not find them before)."""
    ids = [(part.pk, part.number) for part in parts]

    def send():
        for part_id, number in ids:
            async_task("api.tasks.apply_batch_part", part_id, task_name=f"batch {upload.batch_id} part {number}")

    # Robust: a queue that refuses them fails no upload; the first status read a minute later queues them again.
    transaction.on_commit(send, robust=True)


def _located(response: HttpResponse) -> HttpResponse:
    response["Location"] = json.loads(response.content)["status_url"]
    return response


def _accept(terminal: Terminal, body: bytes, batch_key: str, raws: list) -> HttpResponse:
    """Store the batch split into parts, queue them, and answer 202 with the status URL. In the caller's
    transaction, which also stores this answer as the batch key's."""
    upload = BatchUpload.objects.create(terminal=terminal, key=batch_key, body=body, items=len(raws))
    plan = _plan(Upload(terminal), _read_all(raws, batch_key), parts_wanted())
    parts = BatchPart.objects.bulk_create(
        BatchPart(upload=upload, number=number, positions=positions) for number, positions in enumerate(plan)
    )
    _queue(upload, parts)
    accepted = schemas.BatchAccepted(
        batch_id=upload.batch_id,
        status="queued",
        status_url=reverse("api:batch_status", args=[upload.batch_id]),
        items=upload.items,
    )
    return _located(json_response(accepted.model_dump(mode="json"), status=202))


class Superseded(Exception):
    """The part was queued again while this run seemed dead: the new run carries on, this one stops."""


def _run_of(part: BatchPart):
    return BatchPart.objects.filter(pk=part.pk, status=BatchPart.Status.RUNNING, attempts=part.attempts)


def _part_start(part_id: int) -> BatchPart | None:
    """The part, now running as a new attempt; None when it is not queued (a second delivery, or done)."""
    started = BatchPart.objects.filter(pk=part_id, status=BatchPart.Status.QUEUED).update(
        status=BatchPart.Status.RUNNING, attempts=F("attempts") + 1, progressed_at=timezone.now()
    )
    if not started:
        return None
    part = BatchPart.objects.select_related("upload__terminal__store").get(pk=part_id)
    BatchUpload.objects.filter(pk=part.upload_id, status=BatchUpload.Status.QUEUED).update(
        status=BatchUpload.Status.RUNNING
    )
    return part


def _count_progress(upload_id: int) -> None:
    answered = BatchPart.objects.filter(upload=OuterRef("pk")).values("upload").annotate(n=Sum("applied_so_far"))
    BatchUpload.objects.filter(pk=upload_id).update(applied_so_far=Subquery(answered.values("n")))


def _progress(part: BatchPart, items: list[Item]) -> None:
    answered = sum(item.outcome is not None for item in items)
    if not _run_of(part).update(applied_so_far=answered, progressed_at=timezone.now()):
        raise Superseded
    _count_progress(part.upload_id)


def _assemble(upload: BatchUpload) -> bytes:
    """The answer the batch would have had at once, from its parts' results."""
    results: list = [None] * upload.items
    for positions, stored in upload.parts.values_list("positions", "results"):
        for position, result in zip(positions, json.loads(bytes(stored)), strict=True):
            results[position] = result
    counts = _counts(result["status"] for result in results)
    return json_response({"results": results, "counts": counts.model_dump(mode="json")}).content


def _part_finish(part: BatchPart, items: list[Item]) -> None:
    results = json.dumps([item.outcome.model_dump(mode="json") for item in items], ensure_ascii=False).encode()
    now = timezone.now()
    with transaction.atomic():
        # Under the upload's lock, exactly one part finds itself the last.
        upload = BatchUpload.objects.select_for_update().defer("body").get(pk=part.upload_id)
        done = _run_of(part).update(
            status=BatchPart.Status.DONE,
            results=results,
            applied_so_far=len(items),
            progressed_at=now,
            completed_at=now,
        )
        if not done:
            raise Superseded
        if upload.parts.exclude(status=BatchPart.Status.DONE).exists():
            _count_progress(upload.pk)
            return
        BatchUpload.objects.filter(pk=upload.pk).update(
            status=BatchUpload.Status.DONE, answer=_assemble(upload), applied_so_far=upload.items, completed_at=now
        )
        upload.parts.update(results=None)  # now in the answer


def batch_part_apply(*, part_id: int) -> str:
    """Apply one queued part of a stored batch (api.tasks); the last part to finish stores the answer."""
    part = _part_start(part_id)
    if part is None:
        return "not queued"
    upload = part.upload
    items = _read_all(parse(Envelope, bytes(upload.body)).items, upload.key)
    mine = [items[position] for position in part.positions]
    try:
        _apply(Upload(upload.terminal), mine, lambda: _progress(part, mine))
        _part_finish(part, mine)
    except Superseded:
        return "superseded by a later run"
    return f"{len(mine)} items"


# --- reading a stored batch -------------------------------------------------------------------


def _upload_of(terminal: Terminal, batch_id: str) -> BatchUpload:
    try:
        return BatchUpload.objects.defer("body").get(terminal=terminal, batch_id=uuid.UUID(batch_id))
    except (ValueError, BatchUpload.DoesNotExist):
        raise ApiError(404, "batch_not_found", _("This terminal has no offline batch with this batch_id.")) from None


def _give_up(upload: BatchUpload, part: BatchPart) -> None:
    with transaction.atomic():
        BatchPart.objects.filter(pk=part.pk).update(status=BatchPart.Status.FAILED)
        BatchUpload.objects.filter(pk=upload.pk).update(status=BatchUpload.Status.FAILED, completed_at=timezone.now())
    upload.status = BatchUpload.Status.FAILED


def _revive(upload: BatchUpload) -> None:
    """Queue again the parts whose worker died or whose task was lost; fail the batch after MAX_ATTEMPTS."""
    if upload.status not in (BatchUpload.Status.QUEUED, BatchUpload.Status.RUNNING):
        return
    now = timezone.now()
    waiting = (BatchPart.Status.QUEUED, BatchPart.Status.RUNNING)
    for part in upload.parts.filter(status__in=waiting, progressed_at__lt=now - STALLED_AFTER).defer("results"):
        if part.attempts >= MAX_ATTEMPTS:
            _give_up(upload, part)
            return
        # Conditional, so that two status reads at once queue it once; the stalled run finds itself replaced.
        taken = BatchPart.objects.filter(pk=part.pk, status=part.status, progressed_at=part.progressed_at).update(
            status=BatchPart.Status.QUEUED, progressed_at=now
        )
        if taken:
            _queue(upload, [part])


def _status(upload: BatchUpload) -> dict:
    answer = json.loads(bytes(upload.answer)) if upload.status == BatchUpload.Status.DONE else {}
    return {
        "batch_id": str(upload.batch_id),
        "status": upload.status,
        "items": upload.items,
        "applied_so_far": upload.applied_so_far,
        "counts": answer.get("counts"),
        "results": answer.get("results"),
    }


# --- the views -------------------------------------------------------------------------------


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

        return _store(claim, _answer(lambda: _run(terminal, raws, batch_key, renew_claim)))
    with transaction.atomic():
        return _store(claim, _accept(terminal, body, batch_key, raws))


def _replay(record: IdempotencyRecord) -> HttpResponse:
    response = HttpResponse(bytes(record.body), status=record.status_code, content_type="application/json")
    return _located(response) if record.status_code == 202 else response


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
        upload = _upload_of(terminal, batch_id)
        _revive(upload)
        return json_response(_status(upload))
    except ApiError as error:
        return error.response()


batch_status.api_method, batch_status.api_write, batch_status.api_model = "GET", False, None
