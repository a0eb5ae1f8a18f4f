"""Why the till refused a request before the ledger was asked: a stable code and a message in the user's
language. They are ledger errors, so the terminal API answers them like every refusal
(api.errors.LEDGER_STATUS gives each its HTTP status)."""

from django.utils.translation import gettext_lazy as _

from points.errors import LedgerError


class InvalidCard(LedgerError):
    code = "invalid_card"
    default_message = _("Unknown card type.")


class CardNotFound(LedgerError):
    code = "card_not_found"
    default_message = _("This card is not known to the programme.")


class CardTypeMismatch(LedgerError):
    code = "card_type_mismatch"
    default_message = _("This number belongs to a card of another type.")


class OccurredInFuture(LedgerError):
    code = "occurred_at_in_future"
    default_message = _("The time of the transaction is in the future.")


class OccurredTooLongAgo(LedgerError):
    code = "occurred_at_too_old"
    default_message = _("The transaction is older than the programme accepts (%(days)s days).")


class TransactionNotFound(LedgerError):
    code = "transaction_not_found"
    default_message = _("No purchase of this store has this transaction id.")
