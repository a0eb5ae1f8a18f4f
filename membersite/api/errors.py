"""The member API's error codes, in the terminal API's error shape (api.errors.ApiError): each code's status
and meaning, and the member site's refusals (membersite.services.MemberSiteError, whose `code` is one of them)
as answers."""

from __future__ import annotations

from django.utils.translation import gettext as _

from api.errors import ApiError
from api.openapi import ERRORS as TERMINAL_ERRORS
from membersite.services import MemberSiteError, Throttled

# Every stable error code the member's app may meet: its status and what it means.
ERRORS: dict[str, tuple[int, str]] = {
    "invalid_request": (
        400,
        "The body is not JSON, does not match the schema, or a value is refused as the member site refuses it; "
        "`details` names each field.",
    ),
    "body_incomplete": TERMINAL_ERRORS["body_incomplete"],
    "link_invalid": (400, "The sign-in link's token is wrong, has expired or was used already; ask for a new link."),
    "card_token_invalid": (
        400,
        "The payment card's token is not one: 8 to 64 letters, digits, _ or -, and never a card number.",
    ),
    "card_code_mismatch": (400, "The card number and the registration code do not match."),
    "invalid_card": (400, "The card number is malformed for its card type."),
    "ticket_invalid": (400, "The registration ticket is not valid or has expired; check the card again."),
    "qr_code_invalid": (
        400,
        "The scanned code is not one of the programme's, was altered, or was replaced (a store's old visit code).",
    ),
    "unauthorized": (401, "No session, or one that has ended or expired; sign in again with a new link."),
    "policy_not_agreed": (403, "A new privacy policy is in force: answer it (POST /me/policy) before anything else."),
    "member_suspended": TERMINAL_ERRORS["member_suspended"],
    "not_found": (404, "None of the member's own objects has this id (another member's ids are answered the same)."),
    "card_not_active": (409, "The card can no longer be used; ask the secretariat."),
    "card_already_registered": (409, "The card is registered already; sign in with a link instead."),
    "card_already_stopped": (409, "The card is stopped already."),
    "invalid_operation": (
        409,
        "Not possible for this card or member, e.g. the new card is not a different, active card.",
    ),
    "organisation_not_accepting": (
        409,
        "The organisation is not taking donations today, or is not one of those GET /organisations lists.",
    ),
    "offer_refused": (409, "The offer is not running any more, or no longer reaches the member."),
    "card_token_taken": (409, "The payment card's token is linked to another membership; nothing is linked."),
    "payment_cards_full": (409, "The member has linked as many payment cards as allowed; remove one first."),
    "insufficient_points": (409, "The points that can be donated are fewer than the points asked for."),
    "idempotency_key_reused": (422, "The key was used before for a different donation; make a new key."),
    "body_too_large": TERMINAL_ERRORS["body_too_large"],
    "throttled": (429, "Too many attempts from this address or for this e-mail; retry after Retry-After."),
}


def unauthorized() -> ApiError:
    return ApiError(
        401,
        "unauthorized",
        _("Please sign in again: the session has ended or is not valid."),
        headers={"WWW-Authenticate": "Bearer"},
    )


def not_found() -> ApiError:
    return ApiError(404, "not_found", _("Not found."))


def refusal(error: MemberSiteError) -> ApiError:
    """A refusal of the member site's services, as the API answers it."""
    headers = {"Retry-After": str(error.retry_after)} if isinstance(error, Throttled) else None
    return ApiError(ERRORS.get(error.code, (409,))[0], error.code, str(error), headers=headers)


def throttled(*, retry_after: int) -> ApiError:
    """Too many tries: the services' throttle's refusal, or django-axes' lockout after wrong sign-in tokens."""
    return refusal(Throttled(retry_after=retry_after))


def invalid(details: list[dict]) -> ApiError:
    return ApiError(400, "invalid_request", _("The request is not valid."), details=details)
