"""Many tills at once against the real terminal API, over HTTP, with a shop's network in between
(`manage.py simulate_terminals`).

Each terminal is a thread that earns on new and known cards, spends, voids
and refunds in part, at a Poisson rate. Some writes meet a fault: the answer
is lost (the till sends again with the same Idempotency-Key), the line drops
while the request goes out or before the answer comes, or the till gives up
waiting after a few milliseconds. Every retry reuses the key; when a lost
answer had been a final one, the replay must be byte for byte the same. The
run fails on any 5xx, on a replay that differs, and on a refusal that means a
key was taken for another request, since these tills never do that.

Only loopback addresses are driven: this writes real ledger entries.

- `wire`: HTTP on loopback, the faults, a server of our own;
- `tills`: one thread per terminal and the tally they share;
- `run`: terminals and cards from the database, the run, the offline uploads, the summary.
"""

from api.simulation.run import (
    Result,
    cards_known,
    drive,
    entries_since,
    last_entry_id,
    summary,
    terminals_prepare,
)
from api.simulation.tills import Tally
from api.simulation.wire import Answer, Client, NotLoopback, at_most, local_server, quiet_request_log

__all__ = [
    "Answer",
    "Client",
    "NotLoopback",
    "Result",
    "Tally",
    "cards_known",
    "drive",
    "entries_since",
    "last_entry_id",
    "local_server",
    "at_most",
    "quiet_request_log",
    "summary",
    "terminals_prepare",
]
