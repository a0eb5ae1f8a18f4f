"""Why the desk refused: a stable machine code and a message in the user's language.

Every refusal is an ExchangeRefused; they are ledger errors too, so `except LedgerError` also catches
what the point ledger refuses (points.errors.InsufficientPoints, MemberNotUsable) during an exchange.
`str(error)` and `error.message` are the message, formatted with the error's parameters, which are
also attributes (`error.item`, `error.available`, ...).
"""

from django.utils import formats, timezone
from django.utils.translation import gettext_lazy as _

from points.errors import LedgerError


class ExchangeRefused(LedgerError):
    code = "exchange_refused"
    default_message = _("The exchange was refused.")

    def __init__(self, message=None, **params):
        for name, value in params.items():
            setattr(self, name, value)
        if message is None:
            message = self.default_message % self._format_params(params) if params else self.default_message
        super().__init__(message, **params)

    def _format_params(self, params: dict) -> dict:
        return dict(params)


class InvalidRequest(ExchangeRefused):
    code = "invalid_request"
    default_message = _("The exchange request is not valid.")


class CounterUnavailable(ExchangeRefused):
    code = "counter_unavailable"
    default_message = _("This counter does not take exchanges.")


class OutsideWindow(ExchangeRefused):
    """Carries `next_opening`: the next moment the counter is open within a window, or None."""

    code = "outside_window"
    default_message = _("Exchanges are not possible now. The next window opens on %(next_opening)s.")
    no_window_message = _("Exchanges are not possible now, and no exchange window is scheduled.")

    def __init__(self, message=None, *, next_opening=None):
        if message is None and next_opening is None:
            message = self.no_window_message
        super().__init__(message, next_opening=next_opening)

    def _format_params(self, params: dict) -> dict:
        when = timezone.localtime(params["next_opening"])
        return {"next_opening": formats.date_format(when, "DATETIME_FORMAT")}


class OverrideNotAllowed(ExchangeRefused):
    code = "override_not_allowed"
    default_message = _("You are not allowed to exchange outside a window.")


class ItemUnavailable(ExchangeRefused):
    code = "item_unavailable"
    default_message = _("“%(item)s” cannot be exchanged here today.")


class OutOfStock(ExchangeRefused):
    code = "out_of_stock"
    default_message = _("Only %(available)s of “%(item)s” left in stock.")


class WindowQuantityReached(ExchangeRefused):
    code = "window_quantity_reached"
    default_message = _("Only %(left)s more of “%(item)s” can be exchanged in this window.")


class LimitReached(ExchangeRefused):
    """`which` is "window" or "year"; `left` is how many the member may still take."""

    code = "limit_reached"
    default_message = _("The member can take only %(left)s more of “%(item)s” in this window.")
    year_message = _("The member can take only %(left)s more of “%(item)s” this year.")

    def __init__(self, message=None, *, item, which: str, left: int):
        if message is None and which == "year":
            message = self.year_message % {"item": item, "left": left}
        super().__init__(message, item=item, which=which, left=left)


class WrongStatus(ExchangeRefused):
    code = "wrong_status"
    default_message = _("Exchange %(serial)s is %(status)s: this is not possible any more.")


class ReservationExpired(ExchangeRefused):
    code = "reservation_expired"
    default_message = _("The reservation could only be collected until %(collect_by)s.")

    def _format_params(self, params: dict) -> dict:
        return {"collect_by": formats.date_format(params["collect_by"], "DATE_FORMAT")}


class ReasonRequired(ExchangeRefused):
    code = "reason_required"
    default_message = _("Please give a reason.")


class CancelNotAllowed(ExchangeRefused):
    code = "cancel_not_allowed"
    default_message = _("You are not allowed to cancel exchanges.")
