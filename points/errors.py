"""Why a ledger operation was refused: a stable machine code and a message in the user's language."""

from django.utils.translation import gettext_lazy as _


class LedgerError(Exception):
    code = "ledger_error"
    default_message = _("The operation was refused.")

    def __init__(self, message=None, **params):
        self.params = params
        self.message = message or self.default_message
        super().__init__(str(self.message))


class InsufficientPoints(LedgerError):
    code = "insufficient_points"
    default_message = _("Not enough points.")


def not_usable_here(*, usable: int, balance: int, exchange: bool = False, donation: bool = False) -> InsufficientPoints:
    """Enough points, but some of them a company issued for its own stores only."""
    if donation:
        message = _("Not enough points to donate: %(usable)s of the balance of %(balance)s points can be donated.")
    elif exchange:
        message = _("Not enough points for an exchange: %(usable)s of the balance of %(balance)s points can be used.")
    else:
        message = _(
            "Not enough points usable at this store: %(usable)s of the balance of %(balance)s can be used here."
        )
    return InsufficientPoints(
        message % {"usable": f"{usable:,}", "balance": f"{balance:,}"}, balance=balance, usable=usable
    )


class PointsNotSold(LedgerError):
    code = "points_not_sold"
    default_message = _("This programme does not sell points.")


class CardNotUsable(LedgerError):
    code = "card_blocked"
    default_message = _("This card can no longer be used.")


class MemberNotUsable(LedgerError):
    code = "member_suspended"
    default_message = _("This membership is suspended or has ended.")


class StoreNotInProgramme(LedgerError):
    code = "store_not_in_programme"
    default_message = _("This store does not take part in the programme.")


class SpendNotAccepted(LedgerError):
    code = "spend_not_accepted"
    default_message = _("Points cannot be spent at this store.")


class NothingToVoid(LedgerError):
    code = "nothing_to_void"
    default_message = _("The transaction has already been voided or refunded in full.")


class InvalidAmount(LedgerError):
    code = "invalid_amount"
    default_message = _("The amount is not valid.")


class InvalidOperation(LedgerError):
    code = "invalid_operation"
    default_message = _("This operation is not possible.")
