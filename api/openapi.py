"""The OpenAPI 3.1 document of the terminal API, built from the pydantic models in api.schemas (api.contract
makes the document and its page)."""

from __future__ import annotations

from django.conf import settings
from django.utils.translation import gettext as _

from api import schemas
from api.batch import inline_max
from api.contract import Contract, Operation, header_parameter
from api.pipeline import KEY_RE

ERRORS: dict[str, tuple[int, str]] = {
    "invalid_request": (400, "The body is not JSON or does not match the schema; `details` names each field."),
    "invalid_card": (400, "The card number is malformed for its card type, or the card type is unknown."),
    "idempotency_key_missing": (400, "A write without a valid Idempotency-Key header."),
    "body_incomplete": (400, "The body ended before its Content-Length (a dropped connection); resend it whole."),
    "unauthorized": (401, "Missing, unknown or revoked terminal secret."),
    "store_suspended": (403, "The terminal's store is not active."),
    "card_blocked": (403, "The card was blocked or replaced; ask for the new card."),
    "member_suspended": (403, "The membership is suspended or has ended."),
    "store_not_in_programme": (403, "The store takes part in no active programme."),
    "spend_not_accepted": (403, "Points cannot be spent at this store."),
    "coupon_not_usable_here": (403, "The coupon is valid only at other stores or store categories."),
    "coupon_other_programme": (403, "The coupon belongs to a programme this store does not take part in."),
    "card_not_found": (404, "No card of this type has this number."),
    "coupon_not_found": (404, "No coupon has this code."),
    "transaction_not_found": (404, "No purchase of this store has this transaction_id."),
    "batch_not_found": (404, "This terminal uploaded no offline batch with this batch_id."),
    "insufficient_points": (409, "The balance is smaller than the points to spend."),
    "nothing_to_void": (409, "The transaction was already voided or refunded in full."),
    "invalid_operation": (409, "The operation is not possible for this transaction."),
    "card_type_mismatch": (409, "The number belongs to a card of another type."),
    "coupon_already_redeemed": (409, "The coupon was redeemed before (with another Idempotency-Key)."),
    "coupon_expired": (409, "The coupon's last valid day has passed."),
    "coupon_withdrawn": (409, "The purchase that earned the coupon was voided."),
    "idempotency_in_progress": (409, "The first request with this key is still running; retry after Retry-After."),
    "body_too_large": (413, "The body is larger than the server's limit."),
    "idempotency_key_reused": (422, "The Idempotency-Key was used before for a different request."),
    "occurred_at_in_future": (422, "occurred_at is later than the server's clock plus the allowed skew."),
    "occurred_at_too_old": (422, "occurred_at is older than the programme accepts."),
    "coupon_key_reused": (422, "The ledger key of this request already redeemed another coupon."),
    "duplicate_key": (422, "Offline batch only: another item of the batch has the same key."),
    "invalid_amount": (422, "The refund is larger than what remains of the purchase."),
    "points_not_sold": (403, "The programme does not sell points."),
    "rate_limited": (429, "Too many requests from this terminal; retry after Retry-After."),
    "till_busy": (503, "Another till held the card for longer than the server waits; retry after Retry-After."),
}
EVERY_REQUEST = ("unauthorized", "store_suspended", "rate_limited")
EVERY_WRITE = (
    "invalid_request",
    "idempotency_key_missing",
    "body_incomplete",
    "idempotency_in_progress",
    "body_too_large",
    "idempotency_key_reused",
    "till_busy",
)
TIME_RULES = ("occurred_at_in_future", "occurred_at_too_old")


CARD_NUMBER = schemas.CardRef.model_json_schema()["properties"]["number"]
OPERATIONS = (
    Operation(
        method="get",
        path="/cards/{card_type}/{number}",
        operation_id="card_lookup",
        summary="Look up a card",
        description="Balance, debt and points expiring within about three months. "
        "An unknown card answers 200 with `known: false` and is not created.",
        answer=schemas.CardLookup,
        errors=("invalid_card", "store_not_in_programme"),
        parameters=(
            {
                "name": "card_type",
                "in": "path",
                "required": True,
                "schema": {"type": "string", "enum": ["transit_ic", "programme", "mobile"]},
            },
            {
                "name": "number",
                "in": "path",
                "required": True,
                "description": "transit_ic: 16 hex digits (IDm); programme: 16 digits; mobile: the token.",
                "schema": {key: CARD_NUMBER[key] for key in ("type", "minLength", "maxLength", "pattern")},
            },
        ),
    ),
    Operation(
        method="post",
        path="/earn",
        operation_id="earn",
        summary="Earn points on a purchase",
        description="Points at the store's rate, rounded down per receipt. The first touch of an unknown card "
        "creates it (`card.created_now`) and the answer carries a `registration_notice` to print. "
        "A purchase worth no points answers 200 with `transaction_id: null` and writes no ledger entry.",
        request=schemas.EarnRequest,
        example={
            "card": {"type": "transit_ic", "number": "0123456789ABCDEF"},
            "amount_yen": 1234,
            "receipt_no": "R-000123",
            "occurred_at": "2026-11-24T10:15:00+09:00",
            "items": [{"code": "4901234567894", "category": "food", "quantity": 2, "amount_yen": 1234}],
        },
        answer=schemas.Receipt,
        success={201: "Points earned.", 200: "Nothing earned (the purchase is worth no points)."},
        errors=(
            *TIME_RULES,
            "invalid_card",
            "card_blocked",
            "member_suspended",
            "store_not_in_programme",
            "card_type_mismatch",
        ),
    ),
    Operation(
        method="post",
        path="/spend",
        operation_id="spend",
        summary="Spend points",
        description="1 point = 1 yen. Never more than the balance, even when two tills spend from one card at "
        "the same moment. The oldest points are spent first.",
        request=schemas.SpendRequest,
        example={
            "card": {"type": "transit_ic", "number": "0123456789ABCDEF"},
            "points": 100,
            "amount_yen": 2500,
            "receipt_no": "R-000124",
            "occurred_at": "2026-11-24T10:20:00+09:00",
        },
        answer=schemas.Receipt,
        success={201: "Points spent; `points.total` is negative."},
        errors=(
            *TIME_RULES,
            "invalid_card",
            "card_not_found",
            "card_blocked",
            "member_suspended",
            "store_not_in_programme",
            "spend_not_accepted",
            "insufficient_points",
        ),
    ),
    Operation(
        method="post",
        path="/purchase-points",
        operation_id="purchase_points",
        summary="Sell points for money",
        description="The member pays `amount_yen` and gets as many points (1 point = 1 yen), in a programme "
        "that sells points. Purchased points are a prepaid payment instrument: the receipt shows them apart "
        "from free points (`programmes[].purchased`), and the sale cannot be voided (they are never refunded "
        "in cash). An unknown card is made on the spot, as at an earn.",
        request=schemas.PurchasePointsRequest,
        example={
            "card": {"type": "transit_ic", "number": "0123456789ABCDEF"},
            "amount_yen": 5000,
            "receipt_no": "R-000140",
            "occurred_at": "2026-11-24T10:40:00+09:00",
        },
        answer=schemas.Receipt,
        success={201: "Points bought; `points.total` is the points added."},
        errors=(
            *TIME_RULES,
            "invalid_card",
            "card_type_mismatch",
            "card_blocked",
            "member_suspended",
            "store_not_in_programme",
            "points_not_sold",
            "invalid_amount",
        ),
    ),
    Operation(
        method="post",
        path="/void",
        operation_id="void",
        summary="Void or partly refund a purchase",
        description="Reverses an earn (with its bonuses) or a spend of this store. Without `refund_amount_yen` "
        "the whole transaction; with it, points in proportion, rounded against the member (earned points are "
        "taken back rounding up, spent points given back rounding down). Earned points already spent are "
        "still taken back: what the balance cannot cover becomes `debt`, repaid by the next earnings.",
        request=schemas.VoidRequest,
        example={
            "transaction_id": "6f1c2a52-2c55-4f0e-9d7e-1f1b2f6a9c3d",
            "refund_amount_yen": 250,
            "occurred_at": "2026-11-24T10:30:00+09:00",
        },
        answer=schemas.Receipt,
        success={201: "Voided or refunded."},
        errors=(
            *TIME_RULES,
            "transaction_not_found",
            "store_not_in_programme",
            "nothing_to_void",
            "invalid_operation",
            "invalid_amount",
        ),
    ),
    Operation(
        method="post",
        path="/coupons/redeem",
        operation_id="coupon_redeem",
        summary="Redeem a receipt coupon",
        description="A coupon printed on an earlier receipt, by its code (with or without the hyphen, any case). "
        "It is redeemed once: a retry with the same Idempotency-Key returns the first answer, any other attempt "
        "is refused with `coupon_already_redeemed`. A `discount_yen` coupon tells the till the discount to give; "
        "a `bonus_points` coupon gives its points to the member at once (`transaction_id`, `balance`).",
        request=schemas.RedeemRequest,
        example={"code": "CAL3-QHQH", "occurred_at": "2026-11-24T10:40:00+09:00", "receipt_no": "R-000125"},
        answer=schemas.Redemption,
        success={201: "Redeemed."},
        errors=(
            *TIME_RULES,
            "store_not_in_programme",
            "member_suspended",
            "coupon_not_found",
            "coupon_not_usable_here",
            "coupon_other_programme",
            "coupon_already_redeemed",
            "coupon_expired",
            "coupon_withdrawn",
            "coupon_key_reused",
            "invalid_operation",
        ),
    ),
    Operation(
        method="post",
        path="/batch",
        operation_id="batch",
        summary="Upload transactions stored while offline",
        description=f"Up to {schemas.MAX_BATCH_ITEMS:,} earn, spend and void items, each what the till would "
        "have sent alone plus `op` and its own `key`: the Idempotency-Key it had, or would have had, as a single "
        "request. A void names the purchase by `transaction_id` or by `void_key`, the key of the item or request "
        "that made it. Items are applied in order of `occurred_at` (ties in the order sent) and answered in the "
        "order sent, each with the status and answer it would have got alone: `applied`, `already_applied` (its "
        "key went through before, online or in an earlier upload: the first answer is returned and nothing is "
        "applied twice) or `rejected` with its error (any code of /earn, /spend or /void, or `duplicate_key` when "
        "two items share a key). One bad item never stops the others. The batch itself has an Idempotency-Key "
        "too: re-send the same batch with the same key after a lost answer. The body limit is "
        "TERMINAL_API_MAX_BATCH_BODY (8 MiB by default), not TERMINAL_API_MAX_BODY.\n\n"
        "A batch of up to TERMINAL_API_BATCH_INLINE_MAX items (200 by default) is applied at once and answered "
        "200 with every item's outcome (BatchResponse). A larger one is stored and answered 202 at once "
        "(BatchAccepted: `batch_id`, `status_url`, also in `Location`); workers apply it in the background and "
        "GET `status_url` gives its progress and, once `done`, the same `counts` and `results` a 200 would "
        "have had. Re-sending it with the same key answers the same 202 and applies nothing twice.",
        request=schemas.BatchRequest,
        example={
            "items": [
                {
                    "op": "earn",
                    "key": "T1-000201",
                    "card": {"type": "transit_ic", "number": "0123456789ABCDEF"},
                    "amount_yen": 800,
                    "receipt_no": "R-000201",
                    "occurred_at": "2026-11-24T11:02:00+09:00",
                },
                {
                    "op": "void",
                    "key": "T1-000202",
                    "void_key": "T1-000201",
                    "occurred_at": "2026-11-24T11:05:00+09:00",
                },
            ]
        },
        answer=schemas.BatchAnswer,
        success={
            200: "Applied at once (BatchResponse): every item has an outcome; see `counts` and each item's `status`.",
            202: "Queued (BatchAccepted): read the outcome from `status_url` (also in the `Location` header).",
        },
        errors=(),
    ),
    Operation(
        method="get",
        path="/batch/{batch_id}",
        operation_id="batch_status",
        summary="Progress and answer of a queued offline batch",
        description="For a batch answered 202, with the same terminal's secret: `status` is `queued`, `running`, "
        "`done` or `failed`, `applied_so_far` counts the items answered so far. Once `done`, `counts` and "
        "`results` are what POST /batch would have answered at once (results in the order sent); until then "
        "they are null. Poll every few seconds. `failed` means the batch was given up after its worker crashed "
        "repeatedly: upload it again with a new Idempotency-Key; what was applied is answered `already_applied`. "
        "Another terminal's batch, like an unknown one, is `batch_not_found`.",
        answer=schemas.BatchStatus,
        errors=("batch_not_found",),
        parameters=(
            {
                "name": "batch_id",
                "in": "path",
                "required": True,
                "description": "The `batch_id` of the 202 answer.",
                "schema": {"type": "string", "format": "uuid"},
            },
        ),
    ),
    Operation(
        method="get",
        path="/day",
        operation_id="day",
        summary="The terminal's day, for closing",
        description="Every ledger line this terminal recorded on one day (Asia/Tokyo, by time recorded) and "
        "totals by kind (earn, bonus, spend, void). At most 5,000 lines.",
        answer=schemas.Day,
        errors=("invalid_request",),
        parameters=(
            {
                "name": "date",
                "in": "query",
                "required": False,
                "description": "YYYY-MM-DD; today in Asia/Tokyo when omitted.",
                "schema": {"type": "string", "format": "date"},
            },
        ),
    ),
)


def _description() -> str:
    """The overview, in the active language (each paragraph a message of its own in the translations)."""
    paragraphs = [
        _(
            "The API that tills of member stores use in real time: look up a card, earn points on a purchase, "
            "spend points, void or refund, and read the terminal's day for closing."
        ),
        _(
            "Authentication: every request carries `Authorization: Bearer <secret>`, the terminal's own secret "
            "issued by the secretariat. A revoked secret gets 401 at once; a terminal of a suspended store gets 403."
        ),
        _(
            "Retries: every write (POST) carries an `Idempotency-Key` header (1 to 100 of `A-Z a-z 0-9 . _ : -`), "
            "unique per terminal. Send the same key and the same body again after a lost answer: the first answer "
            "comes back byte for byte and no second transaction is made. A retry that arrives while the first "
            "request is still running waits for it (up to a few seconds) and then gets its answer; past that, or "
            "while a small offline batch with that key is still being applied, it gets 409 "
            "`idempotency_in_progress` with Retry-After. The same key with a different body gets 422 "
            "`idempotency_key_reused`."
        ),
        _(
            'Errors: every error has the body `{"error": {"code": ..., "message": ..., "details": [...]}}`. '
            "`code` is stable and is what a terminal should branch on; `message` is for people, in Japanese by "
            "default or in English with `Accept-Language: en`; `details` lists each invalid field for "
            "`invalid_request`."
        ),
        _(
            "Time: `occurred_at` is when the purchase happened at the till, with its UTC offset. A time more than "
            "%(seconds)s seconds ahead of the server's clock is refused (422 `occurred_at_in_future`), and so is "
            "one older than the programme's maximum backdating (422 `occurred_at_too_old`), so a terminal that was "
            "offline uploads its stored transactions within that window."
        )
        % {"seconds": settings.TERMINAL_CLOCK_SKEW_SECONDS},
        _(
            "Offline: a till that lost its connection keeps each transaction with its time and its "
            "Idempotency-Key, and uploads them later in one POST /batch; anything that already went through is "
            "answered, not applied again. A batch of more than %(items)s items is answered 202 with a status URL "
            "to read its outcome from."
        )
        % {"items": inline_max()},
        _(
            "Limits: a request body is at most %(bytes)s bytes (413 `body_too_large`); a terminal sending more "
            "than its rate gets 429 `rate_limited` with Retry-After. Amounts and points are whole numbers; strings "
            "are never coerced to numbers and unknown fields are refused."
        )
        % {"bytes": settings.TERMINAL_API_MAX_BODY},
    ]
    return "\n\n".join(paragraphs)


TERMINAL = Contract(
    title="Point programme terminal API",
    page_title="Terminal API",
    server="/api/v1",
    operations=OPERATIONS,
    errors=ERRORS,
    overview=_description,
    bearer="The terminal's secret, issued by the secretariat.",
    language_header="Language of `message` and `registration_notice`: `ja` (default) or `en`.",
    every_request=EVERY_REQUEST,
    every_write=EVERY_WRITE,
    write_headers=(
        header_parameter(
            "Idempotency-Key",
            "Unique per terminal and transaction; the same key and body on a retry replays the first answer.",
            {"type": "string", "pattern": KEY_RE.pattern},
            required=True,
        ),
    ),
)
REQUEST_MODELS = TERMINAL.request_models
ANSWER_MODELS = TERMINAL.answer_models
openapi_document = TERMINAL.document
openapi_json, docs = TERMINAL.views()
