"""The gift-certificate exchange in the back office: the catalogue (counters, windows, items and their
stock), the exchanges, the desk where staff serve members, and the reports."""

from exchange.admin.catalogue import CounterAdmin, ItemAdmin, StockMoveAdmin, WindowRuleAdmin
from exchange.admin.exchanges import ExchangeAdmin

__all__ = ["CounterAdmin", "ExchangeAdmin", "ItemAdmin", "StockMoveAdmin", "WindowRuleAdmin"]
