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
- a refused item leaves nothing behind: the till refuses before it writes
  anything (till_request), but for a card seen for the first time, which
  stays, as it would for a single request; so one bad item never affects
  the others;
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

The package reads top down: items (reading an item, and the outcome it
gets), applying (Upload, the chunks, _screen, _recall, run_inline), queued (a large
batch stored, split by member, applied by the workers; its status and
revival), views (the two views). Each imports only those before it.
"""

from api.batch.queued import batch_part_apply
from api.batch.views import batch, batch_status, inline_max

__all__ = ["batch", "batch_part_apply", "batch_status", "inline_max"]
