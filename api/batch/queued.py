"""A large batch: stored, split by member into parts, applied by the workers; its status, and its revival."""

from __future__ import annotations

import datetime
import json
import uuid
import zlib

from django.conf import settings
from django.db import transaction
from django.db.models import F, OuterRef, Q, Subquery, Sum
from django.http import HttpResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django_q.tasks import async_task

from api import schemas
from api.batch.applying import Upload, apply_items, read_items
from api.batch.items import Envelope, Item, card_index_of, counts_of
from api.errors import ApiError, json_response
from api.models import BatchPart, BatchUpload
from api.pipeline import parse
from members.models import Card
from points.models import Entry
from stores.models import Terminal

# A part that has shown no progress for this long lost its worker (a chunk takes well under a second).
STALLED_AFTER = datetime.timedelta(seconds=settings.TERMINAL_BATCH_STALLED_SECONDS)
MAX_ATTEMPTS = 3  # runs of one part before its batch is failed: a part that kills its worker every time


def parts_wanted() -> int:
    """One part per worker of the cluster."""
    return max(1, int(settings.Q_CLUSTER.get("workers") or 1))


# --- storing and splitting ------------------------------------------------------------------


def _owners(upload: Upload, items: list[Item]) -> dict[int, str]:
    """Whose each item is, by position: the member of its card (a card no one has yet is its own owner),
    and for a void the owner of the purchase it voids."""
    indexes = {item.position: card_index_of(item.data) for item in items if item.op in ("earn", "spend") and item.data}
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


def with_location(response: HttpResponse) -> HttpResponse:
    response["Location"] = json.loads(response.content)["status_url"]
    return response


def accept_upload(terminal: Terminal, body: bytes, batch_key: str, raws: list) -> HttpResponse:
    """Store the batch split into parts, queue them, and answer 202 with the status URL. In the caller's
    transaction, which also stores this answer as the batch key's."""
    upload = BatchUpload.objects.create(terminal=terminal, key=batch_key, body=body, items=len(raws))
    plan = _plan(Upload(terminal), read_items(raws, batch_key), parts_wanted())
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
    return with_location(json_response(accepted.model_dump(mode="json"), status=202))


# --- a part, applied by a worker --------------------------------------------------------------


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
    counts = counts_of(result["status"] for result in results)
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
    items = read_items(parse(Envelope, bytes(upload.body)).items, upload.key)
    mine = [items[position] for position in part.positions]
    try:
        apply_items(Upload(upload.terminal), mine, lambda: _progress(part, mine))
        _part_finish(part, mine)
    except Superseded:
        return "superseded by a later run"
    return f"{len(mine)} items"


# --- reading a stored batch -------------------------------------------------------------------


def upload_of(terminal: Terminal, batch_id: str) -> BatchUpload:
    try:
        return BatchUpload.objects.defer("body").get(terminal=terminal, batch_id=uuid.UUID(batch_id))
    except (ValueError, BatchUpload.DoesNotExist):
        raise ApiError(404, "batch_not_found", _("This terminal has no offline batch with this batch_id.")) from None


def _give_up(upload: BatchUpload, part: BatchPart) -> None:
    with transaction.atomic():
        BatchPart.objects.filter(pk=part.pk).update(status=BatchPart.Status.FAILED)
        BatchUpload.objects.filter(pk=upload.pk).update(status=BatchUpload.Status.FAILED, completed_at=timezone.now())
    upload.status = BatchUpload.Status.FAILED


def revive_stalled(upload: BatchUpload) -> None:
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


def status_body(upload: BatchUpload) -> dict:
    answer = json.loads(bytes(upload.answer)) if upload.status == BatchUpload.Status.DONE else {}
    return {
        "batch_id": str(upload.batch_id),
        "status": upload.status,
        "items": upload.items,
        "applied_so_far": upload.applied_so_far,
        "counts": answer.get("counts"),
        "results": answer.get("results"),
    }
