"""One shape for every error: an HTTP status, a stable code and a message in the caller's language."""

from __future__ import annotations

import json

from django.http import HttpResponse
from django.utils.translation import gettext as _

from coupons import errors as coupon_errors
from points import errors as ledger_errors
from till import errors as till_errors

# The ledger's refusals, as the terminal sees them.
LEDGER_STATUS = {
    ledger_errors.InsufficientPoints: 409,
    ledger_errors.CardNotUsable: 403,
    ledger_errors.MemberNotUsable: 403,
    ledger_errors.StoreNotInProgramme: 403,
    ledger_errors.SpendNotAccepted: 403,
    ledger_errors.PointsNotSold: 403,
    ledger_errors.NothingToVoid: 409,
    ledger_errors.InvalidAmount: 422,
    ledger_errors.InvalidOperation: 409,
    coupon_errors.CouponNotFound: 404,
    coupon_errors.CouponAlreadyRedeemed: 409,
    coupon_errors.CouponExpired: 409,
    coupon_errors.CouponWithdrawn: 409,
    coupon_errors.CouponNotUsableHere: 403,
    coupon_errors.CouponOtherProgramme: 403,
    coupon_errors.CouponKeyReused: 422,
    till_errors.InvalidCard: 400,
    till_errors.CardNotFound: 404,
    till_errors.CardTypeMismatch: 409,
    till_errors.OccurredInFuture: 422,
    till_errors.OccurredTooLongAgo: 422,
    till_errors.TransactionNotFound: 404,
}


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str, *, details: list | None = None, headers=None):
        super().__init__(message)
        self.status, self.code, self.message = status, code, message
        self.details = details or []
        self.headers = headers or {}

    @classmethod
    def from_ledger(cls, error: ledger_errors.LedgerError) -> ApiError:
        return cls(LEDGER_STATUS.get(type(error), 409), error.code, str(error.message))

    def response(self) -> HttpResponse:
        body: dict = {"error": {"code": self.code, "message": self.message}}
        if self.details:
            body["error"]["details"] = self.details
        response = json_response(body, status=self.status)
        for name, value in self.headers.items():
            response[name] = value
        return response


def json_response(data, *, status: int = 200) -> HttpResponse:
    body = json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode()
    return HttpResponse(body, status=status, content_type="application/json")


def unauthorized() -> ApiError:
    return ApiError(
        401, "unauthorized", _("Unknown or revoked terminal credentials."), headers={"WWW-Authenticate": "Bearer"}
    )
