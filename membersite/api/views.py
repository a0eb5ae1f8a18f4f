"""The member API, version 1, for the member's smartphone app: signing in by the one-time link mailed to the
member, registering a card from its receipt, then the member's own points, history, details, consents, policy,
cards and withdrawal, the member site's functions (/my/) through the same services and selectors.

Every object is looked up through the signed-in member, so another member's ids answer 404 like unknown ones
(membersite/tests/test_isolation.py walks every id-taking route)."""

from __future__ import annotations

import datetime
import re

from django.conf import settings
from django.core import signing
from django.http import HttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _

from api.errors import ApiError
from api.views import rank_line
from coupons.selectors import coupon_receipt_lines
from donations.documents import donation_record_pdf
from donations.models import Donation
from donations.selectors import donations_of_member
from members.models import Card, Member
from membersite import selectors, services
from membersite.api import schemas
from membersite.api.errors import invalid, not_found
from membersite.api.pipeline import address, bearer_key, endpoint, form_cleaned
from membersite.forms import (
    CardCodeForm,
    EmailForm,
    NewCardForm,
    PaymentCardForm,
    ProfileForm,
    RegistrationForm,
    WithdrawForm,
)
from points.models import Account
from qrpoints.selectors import MemberQrPoints, member_qr_points
from qrpoints.services import Outcome

TICKET_SALT = "membersite.api.registration"
TICKET_MINUTES = 30
ID = re.compile(r"^[0-9]{1,18}$")
DONATION_LINES = 50
QR_LINES = 50


def _session(session_and_key) -> schemas.Session:
    session, key = session_and_key
    return schemas.Session(session=key, expires_at=session.expires_at)


def _consent_lines(member: Member) -> list[schemas.ConsentLine]:
    return [
        schemas.ConsentLine(key=line.key, label=str(line.label), detail=line.detail, given=line.given, at=line.at)
        for line in selectors.member_consent_lines(member=member)
    ]


def _choices(member: Member, given: dict[str, bool]) -> dict:
    """The consent keys (members.services.consents) of the answers, every purpose asked: one left out is not
    given, as an unticked box on the site; one not asked about is refused."""
    keys = [line.key for line in selectors.member_consent_lines(member=member)]
    unknown = sorted(set(given) - set(keys))
    if unknown:
        message = _("This purpose is not asked about.")
        raise invalid(
            [{"field": f"consents.{key}", "problem": "unknown_purpose", "message": message} for key in unknown]
        )
    return {selectors.consent_key_of_field(key): given.get(key, False) for key in keys}


def _policy(policy) -> schemas.Policy | None:
    if policy is None:
        return None
    return schemas.Policy(
        version=policy.version,
        title=policy.title,
        summary=policy.summary,
        url=policy.url,
        in_force_from=policy.in_force_from,
    )


def _card_line(card: Card) -> schemas.CardLine:
    return schemas.CardLine(
        id=card.pk,
        card_type=card.card_type,
        last4=card.number_last4,
        status=card.status,
        status_changed_at=card.status_changed_at,
        created_at=card.created_at,
        can_report_lost=card.status == Card.Status.ACTIVE,
        can_move=card.status in (Card.Status.ACTIVE, Card.Status.BLOCKED),
    )


def _own_card(member: Member, card_id: str) -> Card:
    card = Card.objects.filter(member=member, pk=int(card_id)).defer("number").first() if ID.match(card_id) else None
    if card is None:
        raise not_found()
    return card


# --- signing in ---------------------------------------------------------------------------------------------


@endpoint(model=schemas.LinkRequest, signed_in=False)
def link_send(request, member, data: schemas.LinkRequest):
    email = form_cleaned(EmailForm, {"email": data.email})["email"]
    services.member_link_send(email=email, address=address(request))
    minutes = settings.MEMBER_LINK_MINUTES
    message = _(
        "If this is the address of a member, a sign-in link is on its way. It works once, for %(minutes)s minutes."
    )
    return 202, schemas.LinkSent(message=message % {"minutes": minutes}, minutes=minutes)


@endpoint(model=schemas.SessionRequest, signed_in=False)
def session_start(request, member, data: schemas.SessionRequest):
    return 201, _session(services.api_session_start(request=request, token=data.token))


@endpoint(policy=False)
def session_end(request, member, data):
    services.api_session_end(key=bearer_key(request))
    return 204, None


# --- registering a card from its receipt --------------------------------------------------------------------


@endpoint(model=schemas.CardCheckRequest, signed_in=False)
def registration_check(request, member, data: schemas.CardCheckRequest):
    typed = form_cleaned(CardCodeForm, data.model_dump())
    card = services.card_to_register(number=typed["number"], code=typed["code"], address=address(request))
    return 200, schemas.RegistrationTicket(
        ticket=signing.dumps({"card": card.pk}, salt=TICKET_SALT),
        expires_at=timezone.now() + datetime.timedelta(minutes=TICKET_MINUTES),
        card=schemas.CardBrief(card_type=card.card_type, last4=card.number_last4),
        consents=_consent_lines(card.member),
        policy=_policy(services.policy_in_force()),
    )


def _ticket_card(ticket: str) -> Card:
    try:
        card_id = signing.loads(ticket, salt=TICKET_SALT, max_age=datetime.timedelta(minutes=TICKET_MINUTES))["card"]
    except (signing.BadSignature, ValueError, TypeError, KeyError):
        card_id = None
    card = Card.objects.select_related("member").filter(pk=card_id).first() if card_id else None
    if card is None:
        raise ApiError(
            400, "ticket_invalid", _("This registration has expired. Please enter the card number and code again.")
        )
    return card


@endpoint(model=schemas.RegistrationRequest, signed_in=False)
def registration(request, member, data: schemas.RegistrationRequest):
    card = _ticket_card(data.ticket)
    typed = form_cleaned(RegistrationForm, data.model_dump(exclude={"ticket", "consents"}))
    registered = services.member_register_card(
        card=card,
        registration=services.Registration(
            **{field: typed.get(field) or "" for field in (*services.PROFILE_FIELDS, "postal_code")},
            consents=_choices(card.member, data.consents),
        ),
    )
    return 201, _session(services.api_session_open(member=registered))


# --- the member's own -------------------------------------------------------------------------------------


@endpoint()
def overview(request, member, data):
    seen = selectors.member_overview(member=member)
    return 200, schemas.Overview(
        pseudonym=member.pseudonym,
        status=member.status,
        balances=[
            schemas.Balance(
                programme=account.programme.code,
                name=account.programme.name,
                balance=account.balance,
                debt=account.debt,
                purchased=account.purchased,
            )
            for account in seen.accounts
        ],
        expiring=[
            schemas.ExpiringMonth(month=f"{line.month:%Y-%m}", programme_name=line.programme_name, points=line.points)
            for line in seen.expiring
        ],
        ranks=[
            schemas.ProgrammeRank(
                programme=line.programme.code, programme_name=line.programme.name, rank=rank_line(line.standing)
            )
            for line in seen.ranks
        ],
        coupons=[
            schemas.HeldCoupon(**line, status=coupon.status)
            for coupon, line in zip(seen.coupons, coupon_receipt_lines(seen.coupons), strict=True)
        ],
        rallies=[
            schemas.RallyProgress(
                name=line.rally.name,
                ends_at=line.rally.ends_at,
                stamps=line.stamps,
                stores=line.stores,
                goals=len(line.goals),
                goals_reached=len(line.reached),
            )
            for line in seen.rallies
        ],
        qr=_qr_points(seen.qr),
    )


@endpoint()
def history(request, member, data):
    return 200, schemas.History(
        entries=[
            schemas.HistoryEntry(
                transaction_id=entry.operation,
                kind=entry.kind,
                kind_label=entry.get_kind_display(),
                points=entry.points,
                programme=entry.account.programme.code,
                store=entry.store.name if entry.store_id else None,
                reason=entry.reason,
                occurred_at=entry.occurred_at,
                recorded_at=entry.recorded_at,
            )
            for entry in selectors.member_history(member=member)
        ]
    )


def _profile(member: Member) -> schemas.Profile:
    return schemas.Profile(
        **{field: getattr(member, field) or "" for field in services.PROFILE_FIELDS}, postal_code=member.postal_code
    )


@endpoint()
def profile(request, member, data):
    return 200, _profile(member)


@endpoint(model=schemas.ProfileUpdate)
def profile_update(request, member, data: schemas.ProfileUpdate):
    given = data.model_dump(exclude_none=True)
    typed = form_cleaned(ProfileForm, {**_profile(member).model_dump(), **given})
    changed = services.member_profile_update(
        member=member,
        personal={field: typed.get(field) or "" for field in services.PROFILE_FIELDS},
        postal_code=typed.get("postal_code") or "",
    )
    return 200, _profile(changed)


@endpoint()
def consents(request, member, data):
    return 200, schemas.Consents(consents=_consent_lines(member))


@endpoint(model=schemas.ConsentsUpdate)
def consents_update(request, member, data: schemas.ConsentsUpdate):
    services.member_consents_update(member=member, choices=_choices(member, data.consents))
    return 200, schemas.Consents(consents=_consent_lines(member))


def _policy_state(member: Member) -> schemas.PolicyState:
    needed = services.member_needs_policy(member=member)
    return schemas.PolicyState(
        needed=needed is not None,
        policy=_policy(needed or services.policy_in_force()),
        consents=_consent_lines(member),
    )


@endpoint(policy=False)
def policy(request, member, data):
    return 200, _policy_state(member)


@endpoint(model=schemas.PolicyAnswer, policy=False)
def policy_agree(request, member, data: schemas.PolicyAnswer):
    """A policy already agreed to is answered as it stands, nothing recorded (a retry after a lost answer)."""
    needed = services.member_needs_policy(member=member)
    if needed is not None:
        services.member_consents_update(
            member=member, choices=_choices(member, data.consents), policy_version=needed.version
        )
    return 200, _policy_state(member)


@endpoint()
def cards(request, member, data):
    return 200, schemas.Cards(cards=[_card_line(card) for card in selectors.member_cards(member=member)])


@endpoint()
def card(request, member, data, *, card_id: str):
    return 200, _card_line(_own_card(member, card_id))


@endpoint()
def card_lost(request, member, data, *, card_id: str):
    card = services.member_card_lost(member=member, card_id=_own_card(member, card_id).pk)
    card.refresh_from_db()
    return 200, _card_line(card)


@endpoint(model=schemas.CardMoveRequest)
def card_move(request, member, data: schemas.CardMoveRequest, *, card_id: str):
    old = _own_card(member, card_id)
    typed = form_cleaned(NewCardForm, data.model_dump())
    new = services.member_card_move(
        member=member,
        card_id=old.pk,
        number=typed["number"],
        code=typed["code"],
        card_type=typed["card_type"],
        address=address(request),
    )
    new.refresh_from_db()
    return 200, _card_line(new)


@endpoint(model=schemas.WithdrawalRequest)
def withdrawal(request, member, data: schemas.WithdrawalRequest):
    form_cleaned(WithdrawForm, data.model_dump())
    withdrawn = services.member_withdraw_self(member=member)
    services.api_session_end(key=bearer_key(request))
    return 200, schemas.Withdrawn(pseudonym=withdrawn.pseudonym, status=withdrawn.status)


# --- donations ----------------------------------------------------------------------------------------------


def _organisation_brief(organisation) -> dict:
    return {
        "id": organisation.pk,
        "name": organisation.name,
        "programme": organisation.programme.code,
        "programme_name": organisation.programme.name,
    }


@endpoint()
def organisations(request, member, data):
    return 200, schemas.Organisations(
        organisations=[
            schemas.Organisation(
                **_organisation_brief(organisation), purpose=organisation.purpose, website=organisation.website
            )
            for organisation in services.member_organisations(member=member)
        ]
    )


def _donation_line(donation: Donation) -> dict:
    return {
        "id": donation.pk,
        "organisation": schemas.OrganisationBrief(**_organisation_brief(donation.organisation)),
        "points": donation.points,
        "channel": donation.channel,
        "created_at": donation.created_at,
    }


@endpoint(model=schemas.DonationRequest)
def donate(request, member, data: schemas.DonationRequest):
    """A retry with the same key answers the first donation again (its balance as it is now)."""
    donation = services.member_donate(
        member=member,
        organisation_id=data.organisation_id,
        points=data.points,
        key=str(data.key),
        channel=Donation.Channel.API,
    )
    programme = donation.organisation.programme
    balance = Account.objects.filter(member=member, programme=programme).values_list("balance", flat=True).get()
    return 201, schemas.Donated(**_donation_line(donation), balance=balance)


@endpoint()
def donations(request, member, data):
    lines = donations_of_member(member=member)[:DONATION_LINES]
    return 200, schemas.Donations(donations=[schemas.DonationLine(**_donation_line(line)) for line in lines])


@endpoint()
def donation_record(request, member, data):
    return 200, HttpResponse(
        donation_record_pdf(member=member),
        content_type="application/pdf",
        headers={"Content-Disposition": 'attachment; filename="donations.pdf"'},
    )


# --- QR points ----------------------------------------------------------------------------------------------


def _qr_points(seen: MemberQrPoints) -> schemas.QrPoints:
    return schemas.QrPoints(
        claims=[
            schemas.QrClaimLine(event=claim.event.name, points=claim.entry.points, claimed_at=claim.claimed_at)
            for claim in seen.claims
        ],
        rights=[
            schemas.FlyerRightLine(
                flyer=right.flyer.name,
                points=right.entry.points if right.entry_id else right.flyer.points,
                scanned_at=right.scanned_at,
                valid_until=right.flyer.valid_until,
                credited_at=right.redeemed_at,
                store=right.redeemed_store.name if right.redeemed_store_id else None,
            )
            for right in seen.rights
        ],
    )


def qr_token(scanned: str) -> str:
    """The token of a scanned code: the part of its URL after /my/qr/ (the query and the slashes around it
    left out), or the text as it is when it is the token alone."""
    text = scanned.strip()
    if "/my/qr/" in text:
        text = text.split("/my/qr/", 1)[1].split("?", 1)[0].split("#", 1)[0]
    return text.strip("/")


@endpoint(model=schemas.QrScanRequest)
def qr_scan(request, member, data: schemas.QrScanRequest):
    """Every scan's outcome is an answer (already claimed, ended, full...); only a code that is not the
    programme's, altered or retired is an error."""
    result = services.member_qr_scan(member=member, token=qr_token(data.token))
    if result.outcome == Outcome.INVALID:
        raise ApiError(400, "qr_code_invalid", result.message)
    return 200, schemas.QrScanned(
        kind=result.kind, outcome=result.outcome, points=result.points, message=result.message, name=result.obj.name
    )


@endpoint()
def qr_points(request, member, data):
    return 200, _qr_points(member_qr_points(member_id=member.pk, limit=QR_LINES))


def _offer_line(each) -> schemas.OfferLine:
    offer = each.offer
    return schemas.OfferLine(
        id=offer.pk,
        title=offer.title,
        description=offer.description,
        merchant=offer.merchant.name,
        stores=[store.name for store in offer.stores.all()],
        starts_at=offer.starts_at,
        ends_at=offer.ends_at,
        benefit=offer.benefit,
        benefit_fixed=offer.benefit_fixed,
        benefit_rate_bp=offer.benefit_rate_bp,
        benefit_cap=offer.benefit_cap,
        min_purchase_yen=offer.min_purchase_yen,
        waiting_days=offer.waiting_days,
        areas=list(offer.areas),
        activated=each.activated,
        uses=each.uses,
        per_member_limit=offer.per_member_limit,
    )


@endpoint()
def offers(request, member, data):
    return 200, schemas.Offers(offers=[_offer_line(each) for each in services.member_offers(member=member)])


@endpoint(model=schemas.OfferActivateRequest)
def offer_activate(request, member, data: schemas.OfferActivateRequest):
    """An offer that does not reach the member (another's, or none) is not_found, as any other member's id."""
    return 200, _offer_line(services.member_offer_activate(member=member, offer_id=data.offer_id))


# --- payment cards linked for card-linked offers --------------------------------------------------------------


def _payment_card_line(card) -> schemas.PaymentCardLine:
    return schemas.PaymentCardLine(id=card.id, last4=card.last4, masked=card.masked, created_at=card.created_at)


@endpoint()
def payment_cards(request, member, data):
    cards = services.member_payment_cards(member=member)
    return 200, schemas.PaymentCards(payment_cards=[_payment_card_line(card) for card in cards])


@endpoint(model=schemas.PaymentCardLinkRequest)
def payment_card_link(request, member, data: schemas.PaymentCardLinkRequest):
    """The token is checked by the site's form (a card number is refused in the caller's language); a token
    the member linked before answers that link."""
    typed = form_cleaned(PaymentCardForm, data.model_dump())
    return 201, _payment_card_line(services.member_payment_card_link(member=member, token=typed["token"]))


@endpoint()
def payment_card_unlink(request, member, data, *, payment_card_id: str):
    if not ID.match(payment_card_id):
        raise not_found()
    services.member_payment_card_unlink(member=member, payment_card_id=int(payment_card_id))
    return 204, None
