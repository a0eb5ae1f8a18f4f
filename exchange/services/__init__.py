"""Every write of the exchange desk: exchanges and reservations, their collection, cancellation and
lapse, and the stock received or written off.

Locking order (what keeps the last item from going to two members and a limit from being exceeded by two
counters at once): an exchange row (collect, cancel, lapse), then the items' rows in primary-key order,
then the serial sequence, then the member's point account (inside the ledger service). Every check of
stock, first-come quantity and limits is made while the items are locked, so two desks asking for the
same item queue on its row and the second one counts what the first one wrote.
"""

from exchange.services.exchanges import (
    COUNTING,
    counted_quantities,
    exchange_cancel,
    exchange_collect,
    exchange_create,
    exchange_lapse_due,
    exchange_reservations_release,
    exchange_transfer,
)
from exchange.services.stock import stock_in_ledger, stock_receive, stock_write_off

__all__ = [
    "COUNTING",
    "counted_quantities",
    "exchange_cancel",
    "exchange_collect",
    "exchange_create",
    "exchange_lapse_due",
    "exchange_reservations_release",
    "exchange_transfer",
    "stock_in_ledger",
    "stock_receive",
    "stock_write_off",
]
