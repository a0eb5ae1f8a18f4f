"""The gift-certificate exchange in the back office: the catalogue (counters, windows, items and their
stock), the exchanges, the desk where staff serve members, and the reports."""

from common.scoping import register_programme_paths
from exchange.admin.catalogue import CounterAdmin, ItemAdmin, StockMoveAdmin, WindowRuleAdmin
from exchange.admin.exchanges import ExchangeAdmin
from exchange.models import Counter, CounterHours, Exchange, ExchangeLine, Item, StockMove, WindowRule

register_programme_paths(
    {
        Counter: "programme",
        CounterHours: "counter__programme",
        WindowRule: "programme",
        Item: "programme",
        StockMove: "item__programme",
        Exchange: "programme",
        ExchangeLine: "exchange__programme",
    }
)

__all__ = ["CounterAdmin", "ExchangeAdmin", "ItemAdmin", "StockMoveAdmin", "WindowRuleAdmin"]
