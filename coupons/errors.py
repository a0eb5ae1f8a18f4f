"""Why a redemption was refused: a stable machine code and a message in the user's language.

They are ledger errors, so the terminal API answers them like every refusal of the ledger
(api.errors.LEDGER_STATUS gives each its HTTP status).
"""

from django.utils.translation import gettext_lazy as _

from points.errors import LedgerError


class CouponNotFound(LedgerError):
    code = "coupon_not_found"
    default_message = _("No coupon has this code.")


class CouponAlreadyRedeemed(LedgerError):
    code = "coupon_already_redeemed"
    default_message = _("This coupon has already been used.")


class CouponExpired(LedgerError):
    code = "coupon_expired"
    default_message = _("This coupon is no longer valid.")


class CouponWithdrawn(LedgerError):
    code = "coupon_withdrawn"
    default_message = _("This coupon was withdrawn: the purchase that earned it was cancelled.")


class CouponNotUsableHere(LedgerError):
    code = "coupon_not_usable_here"
    default_message = _("This coupon cannot be used at this store.")


class CouponOtherProgramme(LedgerError):
    code = "coupon_other_programme"
    default_message = _("This coupon belongs to a programme this store does not take part in.")


class CouponKeyReused(LedgerError):
    code = "coupon_key_reused"
    default_message = _("This idempotency key was already used to redeem another coupon.")
