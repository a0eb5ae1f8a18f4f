"""Every change of points goes through these services.

Locking discipline (what keeps balances right under concurrent tills):
an operation locks the card row(s) it acts through, then the account row(s),
each kind in primary-key order; lots and the cached balance of an account are
only ever changed while its row is locked. The database refuses what must
never be (a negative balance, a lot used beyond its size, a second entry with
one idempotency key), so a bug fails loudly instead of corrupting the ledger.

Till operations (earn, spend, void) may run inside a caller's transaction:
the terminal API stores its answer in the same transaction as the entries
it reports. The secretariat's operations insist on being outermost.
"""

from points.services.donation import points_donate
from points.services.exchange import points_exchange, points_exchange_return
from points.services.ledger import (
    LOT_ORDER,
    MAX_AMOUNT_YEN,
    MAX_POINTS,
    Posting,
    earn_points_for,
    expiry_date,
    member_check_usable,
    participations_of_store,
    points_account_lock,
    points_card_lock,
    points_replay,
    points_usable,
    programme_for_store,
    programmes_known,
)
from points.services.prepaid import points_post_sale, points_refund_purchased, points_sell_at_desk
from points.services.purchases import (
    BonusGrant,
    item_category_normalise,
    points_bonus,
    points_bonuses,
    points_coupon_bonus,
    points_earn,
    points_grant,
    points_item_categories_record,
    points_post_earn,
    points_post_spend,
    points_spend,
    points_take_back,
    points_void,
)
from points.services.secretariat import (
    accounts_forfeit,
    accounts_open,
    accounts_transfer,
    cards_lock,
    points_adjust,
    points_expire_lapsed,
)

__all__ = [
    "LOT_ORDER",
    "MAX_AMOUNT_YEN",
    "MAX_POINTS",
    "Posting",
    "accounts_forfeit",
    "accounts_open",
    "accounts_transfer",
    "cards_lock",
    "earn_points_for",
    "expiry_date",
    "member_check_usable",
    "participations_of_store",
    "points_account_lock",
    "points_usable",
    "points_adjust",
    "points_donate",
    "BonusGrant",
    "points_bonus",
    "points_bonuses",
    "points_card_lock",
    "points_post_earn",
    "points_item_categories_record",
    "item_category_normalise",
    "points_post_spend",
    "points_replay",
    "programmes_known",
    "points_coupon_bonus",
    "points_earn",
    "points_exchange",
    "points_exchange_return",
    "points_grant",
    "points_expire_lapsed",
    "points_spend",
    "points_take_back",
    "points_void",
    "points_post_sale",
    "points_sell_at_desk",
    "points_refund_purchased",
    "programme_for_store",
]
