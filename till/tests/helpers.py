"""Purchases in tests, made as a terminal makes them: through `till_earn`, with the store's terminal, so
that no test puts the steps of a purchase together in another order than the till does."""

from __future__ import annotations

import datetime
import itertools

from stores.models import Terminal
from stores.tests.factories import TerminalFactory
from till.services import Receipt, till_earn

_keys = itertools.count()


def till_terminal_of(store) -> Terminal:
    """The store's first active terminal, made if it has none."""
    terminal = store.terminals.filter(status=Terminal.Status.ACTIVE).order_by("pk").first()
    return terminal or TerminalFactory(store=store)


def till_buy(
    card,
    store,
    *,
    amount_yen: int = 1_000,
    at: datetime.datetime | None = None,
    key: str | None = None,
    categories=(),
    terminal: Terminal | None = None,
) -> Receipt:
    """One purchase at the store's till on the card; the receipt has the posting, coupons and rally lines."""
    terminal = terminal or till_terminal_of(store)
    terminal.store = store
    return till_earn(
        terminal=terminal,
        card_type=card.card_type,
        number=card.number,
        amount_yen=amount_yen,
        idempotency_key=key or f"till-test-{next(_keys)}",
        occurred_at=at,
        item_categories=frozenset(categories),
    )
