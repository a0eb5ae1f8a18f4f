"""The OpenAPI 3.1 document of the member API, built from the pydantic models in membersite.api.schemas by the
terminal API's contract builder (api.contract), with its page."""

from __future__ import annotations

from django.conf import settings
from django.utils.translation import gettext as _

from api.contract import Contract, Operation
from membersite.api import schemas
from membersite.api.errors import ERRORS
from membersite.api.pipeline import MAX_BODY
from membersite.api.views import DONATION_LINES, QR_LINES, TICKET_MINUTES
from offers.services import PAYMENT_CARDS_PER_MEMBER

SIGNED_IN = ("policy_not_agreed",)
CARD_ID = (
    {
        "name": "card_id",
        "in": "path",
        "required": True,
        "description": "The `id` of one of the member's cards (GET /me/cards).",
        "schema": {"type": "integer", "minimum": 1},
    },
)
PAYMENT_CARD_ID = (
    {
        "name": "payment_card_id",
        "in": "path",
        "required": True,
        "description": "The `id` of one of the member's linked payment cards (GET /me/payment-cards).",
        "schema": {"type": "integer", "minimum": 1},
    },
)
CONSENTS_EXAMPLE = {"mail_magazine": True, "direct_mail": False, "targeted_offers": False, "analysis": True}

OPERATIONS = (
    Operation(
        method="post",
        path="/links",
        operation_id="link_send",
        summary="Mail a sign-in link",
        description="Mails a one-time sign-in link to the active member with this e-mail address, if there is "
        "one. The answer is the same either way, so addresses cannot be probed. The link's `token` query value "
        "starts a session (POST /sessions); opened in a browser, the link signs in to the member site instead.",
        request=schemas.LinkRequest,
        example={"email": "hanako@example.jp"},
        answer=schemas.LinkSent,
        success={202: "Accepted: a link is mailed if the address is a member's."},
        errors=("throttled",),
        public=True,
    ),
    Operation(
        method="post",
        path="/sessions",
        operation_id="session_start",
        summary="Start a session with a sign-in link's token",
        description="Uses up the token (it works once, and only for a few minutes) and answers the session's "
        "secret, which is shown once: the app keeps it and sends it as `Authorization: Bearer <session>`.\n\n"
        "Too many wrong tokens from one address stop signing in from it for a while (429 `throttled`).",
        request=schemas.SessionRequest,
        example={"token": "AAAAAQZqHhYt5h0lE4iY1y9Vb3k"},
        answer=schemas.Session,
        success={201: "Signed in."},
        errors=("link_invalid", "throttled"),
        public=True,
    ),
    Operation(
        method="delete",
        path="/sessions/current",
        operation_id="session_end",
        summary="Sign out",
        description="Ends the session whose secret the request carries.",
        answer=None,
        success={204: "Signed out."},
        errors=(),
    ),
    Operation(
        method="post",
        path="/registrations/check",
        operation_id="registration_check",
        summary="Check a card to register from its receipt",
        description="The card number and the registration code printed on the receipt of an unregistered card. "
        "The answer's `ticket` names the card for POST /registrations, for "
        f"{TICKET_MINUTES} minutes, with the purposes to ask about and the policy in force.",
        request=schemas.CardCheckRequest,
        example={"number": "0123456789ABCDEF", "code": "K7QM-2XWD"},
        answer=schemas.RegistrationTicket,
        errors=("card_code_mismatch", "card_not_active", "card_already_registered", "throttled"),
        public=True,
    ),
    Operation(
        method="post",
        path="/registrations",
        operation_id="registration",
        summary="Register the card's holder",
        description="The person's details, their answer for each purpose and their agreement to the terms and "
        "the privacy policy. The card's points stay on it; the answer is a session, as POST /sessions gives.",
        request=schemas.RegistrationRequest,
        example={
            "ticket": "eyJjYXJkIjo0Mn0:1vH2Zb:Xr0u8lG8mZQk3Wv1n2f8cX0bQ2o",
            "name": "鈴木 美咲",
            "name_kana": "スズキ ミサキ",
            "email": "misaki@example.jp",
            "phone": "080-2345-6789",
            "postal_code": "530-0001",
            "address": "大阪府大阪市北区梅田1-1",
            "consents": CONSENTS_EXAMPLE,
            "agree": True,
        },
        answer=schemas.Session,
        success={201: "Registered and signed in."},
        errors=("ticket_invalid", "card_not_active", "card_already_registered"),
        public=True,
    ),
    Operation(
        method="get",
        path="/me",
        operation_id="overview",
        summary="The member's points",
        description="Balances per programme, the points held by month of expiry, ranks with what remains to the "
        "next, coupons, rally progress, and the latest QR event claims and flyer rights.",
        answer=schemas.Overview,
        errors=SIGNED_IN,
    ),
    Operation(
        method="get",
        path="/me/history",
        operation_id="history",
        summary="The member's history",
        description="The latest 50 ledger entries of every programme, newest first.",
        answer=schemas.History,
        errors=SIGNED_IN,
    ),
    Operation(
        method="get",
        path="/me/profile",
        operation_id="profile",
        summary="The member's details",
        description="Name, kana, e-mail, phone, postal code and address: one set for every programme.",
        answer=schemas.Profile,
        errors=SIGNED_IN,
    ),
    Operation(
        method="patch",
        path="/me/profile",
        operation_id="profile_update",
        summary="Change the member's details",
        description="Only the fields sent change, for every programme at once; each is checked as the member "
        "site's form checks it.",
        request=schemas.ProfileUpdate,
        example={"postal_code": "150-0001", "address": "渋谷区神宮前1-1"},
        answer=schemas.Profile,
        success={200: "Changed; the details as they are now."},
        errors=SIGNED_IN,
    ),
    Operation(
        method="get",
        path="/me/consents",
        operation_id="consents",
        summary="The member's consents",
        description="Each purpose the member is asked about (mail magazine, direct mail, targeted offers, "
        "analysis, each named third party), with their answer now and when they gave it.",
        answer=schemas.Consents,
        errors=SIGNED_IN,
    ),
    Operation(
        method="put",
        path="/me/consents",
        operation_id="consents_update",
        summary="Answer for each purpose",
        description="The member's answer for every purpose, by `key`; a purpose left out is not given (as an "
        "unticked box). A change holds from the moment it is saved; only changes are recorded.",
        request=schemas.ConsentsUpdate,
        example={"consents": CONSENTS_EXAMPLE},
        answer=schemas.Consents,
        errors=SIGNED_IN,
    ),
    Operation(
        method="get",
        path="/me/policy",
        operation_id="policy",
        summary="The privacy policy in force",
        description="Whether the member must answer a new policy (`needed`: every other operation answers 403 "
        "`policy_not_agreed` until then), the policy, and the purposes to answer with it.",
        answer=schemas.PolicyState,
        errors=(),
    ),
    Operation(
        method="post",
        path="/me/policy",
        operation_id="policy_agree",
        summary="Agree to the policy in force",
        description="The member's answer for every purpose with their agreement, recorded with the policy's "
        "version. Once agreed, the answer is the state as it stands and nothing more is recorded.",
        request=schemas.PolicyAnswer,
        example={"consents": CONSENTS_EXAMPLE, "agree": True},
        answer=schemas.PolicyState,
        errors=(),
    ),
    Operation(
        method="get",
        path="/me/cards",
        operation_id="cards",
        summary="The member's cards",
        description="Active cards first, with what can be done with each.",
        answer=schemas.Cards,
        errors=SIGNED_IN,
    ),
    Operation(
        method="get",
        path="/me/cards/{card_id}",
        operation_id="card",
        summary="One of the member's cards",
        description="Another member's card, like an unknown one, is `not_found`.",
        answer=schemas.CardLine,
        parameters=CARD_ID,
        errors=(*SIGNED_IN, "not_found"),
    ),
    Operation(
        method="post",
        path="/me/cards/{card_id}/lost",
        operation_id="card_lost",
        summary="Report a card lost",
        description="The card is stopped at once, at every store. Its points stay the member's: move them to a "
        "new card with …/move.",
        answer=schemas.CardLine,
        parameters=CARD_ID,
        success={200: "Stopped; the card as it is now."},
        errors=(*SIGNED_IN, "not_found", "card_already_stopped"),
    ),
    Operation(
        method="post",
        path="/me/cards/{card_id}/move",
        operation_id="card_move",
        summary="Move to a new card",
        description="Everything on the member moves to a new card, proven by its number and the registration "
        "code on its receipt; the old card is replaced. A new card used at a till before brings its own points.",
        request=schemas.CardMoveRequest,
        example={"card_type": "transit_ic", "number": "0123456789ABCDEF", "code": "K7QM-2XWD"},
        answer=schemas.CardLine,
        parameters=CARD_ID,
        success={200: "Moved; the new card."},
        errors=(*SIGNED_IN, "not_found", "invalid_card", "card_code_mismatch", "invalid_operation", "throttled"),
    ),
    Operation(
        method="post",
        path="/me/withdrawal",
        operation_id="withdrawal",
        summary="Withdraw",
        description="Confirmed twice: the app warns once, then the member types 退会. The personal data is "
        "erased, every consent ended, the cards stopped and the points forfeited; the session ends.",
        request=schemas.WithdrawalRequest,
        example={"confirm": "退会"},
        answer=schemas.Withdrawn,
        success={200: "Withdrawn."},
        errors=(*SIGNED_IN, "invalid_operation"),
    ),
    Operation(
        method="get",
        path="/organisations",
        operation_id="organisations",
        summary="Organisations taking donations",
        description="The organisations taking donations today in the programmes the member holds points in, "
        "each with its purpose and its programme, whose points a donation takes.",
        answer=schemas.Organisations,
        errors=SIGNED_IN,
    ),
    Operation(
        method="post",
        path="/me/donations",
        operation_id="donate",
        summary="Donate points",
        description="Gives points (1 or more) to one of the organisations of GET /organisations: the points that "
        "expire soonest are taken first (never a company's points for its own stores). `key` is a UUID the app "
        "makes for the donation and sends again when it retries: the same key donates once and answers the same "
        "donation.",
        request=schemas.DonationRequest,
        example={"organisation_id": 1, "points": 100, "key": "7d0c5a6e-2f5b-4a37-9a0e-3f1c2b4d5e6f"},
        answer=schemas.Donated,
        success={201: "Donated (or, for a key sent before, the donation it made)."},
        errors=(
            *SIGNED_IN,
            "member_suspended",
            "organisation_not_accepting",
            "insufficient_points",
            "idempotency_key_reused",
        ),
    ),
    Operation(
        method="get",
        path="/me/donations",
        operation_id="donations",
        summary="The member's donations",
        description=f"The latest {DONATION_LINES} donations, newest first, from the site, the app or the "
        "secretariat's desk, with those of member records merged into this one.",
        answer=schemas.Donations,
        errors=SIGNED_IN,
    ),
    Operation(
        method="get",
        path="/me/donations/record.pdf",
        operation_id="donation_record",
        summary="The record of the member's donations (PDF)",
        description="Every donation of the member, oldest first, with the total of each programme, as a PDF to "
        "keep or print.",
        answer=None,
        file="application/pdf",
        success={200: "The PDF."},
        errors=SIGNED_IN,
    ),
    Operation(
        method="post",
        path="/me/qr",
        operation_id="qr_scan",
        summary="Claim a scanned QR code",
        description="A code the member scanned in the app: an event's poster credits its points once, a flyer's "
        "code keeps the right to its points, a store's visit code credits the rights held for that store's "
        "flyers. Send the code's whole URL or the token in it. Every outcome is answered 200 with a message to "
        "show (points credited, or why none: already claimed, not begun, ended, full); a code that is not the "
        "programme's is 400 `qr_code_invalid`. Ask the member before sending: sending is the claim.",
        request=schemas.QrScanRequest,
        example={"token": "e.WzEsIkJ6VGxTQVpnUlFVIl0:3Jq3Yc2R2m8jv1p4bQdZ0sXH0uQwYfJ9nN6kTqU5aEg"},
        answer=schemas.QrScanned,
        errors=(*SIGNED_IN, "qr_code_invalid"),
    ),
    Operation(
        method="get",
        path="/me/qr",
        operation_id="qr_points",
        summary="The member's QR points",
        description=f"The latest {QR_LINES} QR event claims and flyer rights, newest first: a flyer's right "
        "waits for a visit to one of its stores before its `valid_until`.",
        answer=schemas.QrPoints,
        errors=SIGNED_IN,
    ),
    Operation(
        method="get",
        path="/me/offers",
        operation_id="offers",
        summary="The member's card-linked offers",
        description="The running offers that reach the member: only while the member's consent to the use of "
        "their data for targeted offers holds. An offer's `areas` are decided on the phone; no operation of "
        "this API takes or stores the member's position.",
        answer=schemas.Offers,
        errors=SIGNED_IN,
    ),
    Operation(
        method="post",
        path="/me/offers/activations",
        operation_id="offer_activate",
        summary="Activate an offer",
        description="The member activates one of their offers; only purchases after that qualify. Activating "
        "twice answers the same. An offer that does not reach the member is 404 `not_found`.",
        request=schemas.OfferActivateRequest,
        example={"offer_id": 1},
        answer=schemas.OfferLine,
        errors=(*SIGNED_IN, "not_found", "offer_refused"),
    ),
    Operation(
        method="get",
        path="/me/payment-cards",
        operation_id="payment_cards",
        summary="The member's linked payment cards",
        description="The payment cards the member linked for card-linked offers: an activated offer also pays on "
        "a purchase paid with a linked card, matched from the card issuer's file. Each card is shown by the last "
        "four characters of its token only.",
        answer=schemas.PaymentCards,
        errors=SIGNED_IN,
    ),
    Operation(
        method="post",
        path="/me/payment-cards",
        operation_id="payment_card_link",
        summary="Link a payment card",
        description="Links the card token the card issuer gives for the member's card. A card number (13 digits "
        "or more, with or without spaces or hyphens) is refused as 400 `invalid_request` and never stored; a "
        "token linked to another membership is 409 `card_token_taken` (without saying whose); a member links at "
        f"most {PAYMENT_CARDS_PER_MEMBER} cards (409 `payment_cards_full`). Linking a token the member linked "
        "before answers that link.",
        request=schemas.PaymentCardLinkRequest,
        example={"token": "tok_8f3a2c9e71d4"},
        answer=schemas.PaymentCardLine,
        success={201: "Linked (or, for a token the member linked before, that link)."},
        errors=(*SIGNED_IN, "card_token_taken", "payment_cards_full"),
    ),
    Operation(
        method="delete",
        path="/me/payment-cards/{payment_card_id}",
        operation_id="payment_card_unlink",
        summary="Remove a linked payment card",
        description="The card's purchases no longer qualify from now; benefits already earned stay. Another "
        "member's card, like an unknown one, is `not_found`.",
        answer=None,
        parameters=PAYMENT_CARD_ID,
        success={204: "Removed."},
        errors=(*SIGNED_IN, "not_found"),
    ),
)


def _description() -> str:
    """The overview, in the active language (each paragraph a message of its own in the translations)."""
    paragraphs = [
        _(
            "The API of the member's smartphone app: the member site's functions, for the signed-in member's "
            "own data only."
        ),
        _(
            "Signing in: POST /links mails a one-time link to the member; the `token` of that link starts a "
            "session (POST /sessions), as does registering a card from its receipt (POST /registrations/check, "
            "then POST /registrations). Send the session's secret on every other request as "
            "`Authorization: Bearer <session>`; a session lasts %(days)s days, until DELETE /sessions/current "
            "or the member's withdrawal."
        )
        % {"days": settings.MEMBER_API_SESSION_DAYS},
        _(
            "A new privacy policy: until the member answers it (GET and POST /me/policy), every other operation "
            "answers 403 `policy_not_agreed`."
        ),
        _(
            'Errors: every error has the body `{"error": {"code": ..., "message": ..., "details": [...]}}`, as '
            "in the terminal API. Branch on `code`; show `message` to the member, in Japanese by default or in "
            "English with `Accept-Language: en`; `details` lists each refused field for `invalid_request`. "
            "Another member's ids are answered 404 `not_found`, as unknown ones."
        ),
        _("Limits: a request body is at most %(bytes)s bytes; unknown fields are refused.")
        % {"bytes": f"{MAX_BODY:,}"},
    ]
    return "\n\n".join(paragraphs)


MEMBER = Contract(
    title="Point programme member API",
    page_title="Member API",
    server="/api/member/v1",
    operations=OPERATIONS,
    errors=ERRORS,
    overview=_description,
    bearer="The session's secret, from POST /sessions or POST /registrations.",
    language_header="Language of `message` and of the labels: `ja` (default) or `en`.",
    every_request=("unauthorized",),
    every_write=("invalid_request", "body_incomplete", "body_too_large"),
    retry_after=(429,),
)
openapi_document = MEMBER.document
openapi_json, docs = MEMBER.views()
