"""What a member does for themselves, on the member site and through the member API alike.

Each function is the one place its operation is done from the member's side: it checks what a member may do,
calls the services of the apps that own the rows (members, lifecycle, donations, qrpoints), and records the
channel as the member site. Signing in: a one-time link mailed to the member's address (django-sesame's
token, bound to the member's own login user and used up by signing in), or, for a member without an e-mail,
the card number and the registration code printed on the receipt.
"""

from __future__ import annotations

import datetime
import hashlib
import secrets
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import update_last_login
from django.core.cache import cache
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop
from sesame.backends import ModelBackend as SesameBackend
from sesame.utils import get_token

from audit.models import AuditEvent
from audit.services import audit_record
from donations.models import Donation
from donations.selectors import organisations_accepting
from donations.services import donation_make
from lifecycle.services import card_replace, member_withdraw
from members import services as members
from members.models import Card, Consent, Member
from members.selectors import card_number_indexes
from members.services.consents import consent_record, policy_in_force
from membersite.models import ApiSession, MemberLogin
from offers.selectors import MemberOffer, MemberPaymentCard, offers_of_member, payment_cards_of_member
from offers.services import OfferError, PaymentCardError, offer_activate, payment_card_link, payment_card_unlink
from points import errors
from points.models import Account
from qrpoints.services import qr_scan


class MemberSiteError(ValueError):
    """A refusal to show the member, in their language; `code` is what the member API answers with it."""

    code = "refused"

    def __init__(self, message: str, *, code: str | None = None):
        super().__init__(message)
        if code is not None:
            self.code = code


class Throttled(MemberSiteError):
    code = "throttled"

    def __init__(self, *, retry_after: int):
        super().__init__(_("Too many attempts. Please wait a while and try again."))
        self.retry_after = retry_after  # seconds until the window ends


# --- throttling -------------------------------------------------------------------------------------------


def throttle(*, kind: str, keys: list[str], limit: int, window_seconds: int = 3600) -> None:
    """Count one try under each key (an address, an e-mail's hash) in a fixed window in the cache (shared by
    every app server when the cache is Redis); refuse once any of them is over the limit."""
    now = int(timezone.now().timestamp())
    bucket = now // window_seconds
    for key in keys:
        name = f"membersite:{kind}:{bucket}:{hashlib.sha256(key.encode()).hexdigest()[:32]}"
        cache.add(name, 0, window_seconds)
        if cache.incr(name) > limit:
            raise Throttled(retry_after=window_seconds - now % window_seconds)


# --- signing in -------------------------------------------------------------------------------------------


def member_login_user(*, member: Member):
    """The member's login user, made on first use: no password, never staff, named by the pseudonym."""
    login = MemberLogin.objects.select_related("user").filter(member=member).first()
    if login is not None:
        return login.user
    User = get_user_model()
    try:
        with transaction.atomic():
            user = User(username=f"member:{member.pseudonym}", is_staff=False, is_active=True)
            user.set_unusable_password()
            user.save()
            MemberLogin.objects.create(user=user, member=member)
            return user
    except IntegrityError:
        return MemberLogin.objects.select_related("user").get(member=member).user


def member_of_user(user) -> Member | None:
    """The active member a signed-in user is, or None (staff, merchants, a withdrawn or suspended member)."""
    if not getattr(user, "is_authenticated", False):
        return None
    login = MemberLogin.objects.select_related("member").filter(user=user).first()
    if login is None or login.member.status != Member.Status.ACTIVE:
        return None
    return login.member


def member_link_send(*, email: str, address: str) -> None:
    """Mail a one-time sign-in link to the active member with this e-mail address, if there is one. Says
    nothing either way (the page answers the same), so addresses cannot be probed; throttled per address
    and per e-mail."""
    typed = (email or "").strip()
    throttle(kind="link", keys=[f"ip:{address}", f"email:{typed.lower()}"], limit=settings.MEMBER_LINKS_PER_HOUR)
    index = members.personal_data_indexes({"email": typed}).get("email_bidx")
    member = Member.objects.filter(email_bidx=index, status=Member.Status.ACTIVE).first() if index else None
    if member is None:
        return
    url = member_link_url(member=member)
    context = {"url": url, "minutes": settings.MEMBER_LINK_MINUTES, "member": member}
    send_mail(
        subject=render_to_string("membersite/link_subject.txt", context).strip(),
        message=render_to_string("membersite/link_email.txt", context),
        from_email=None,
        recipient_list=[member.email],
    )


def member_link_url(*, member: Member) -> str:
    """The sign-in link: the member site's sign-in page, which signs in only when its button is pressed."""
    token = get_token(member_login_user(member=member))
    return f"{settings.MEMBER_SITE_BASE_URL.rstrip('/')}/my/link/?{settings.SESAME_TOKEN_NAME}={token}"


def member_link_use(*, request, token: str) -> Member:
    """The member a sign-in link's token names, using it up (the login user's last login moves on, which the
    token is bound to); refused if it is wrong, used or expired.

    The token is checked by django-sesame's backend alone, not through `authenticate()`: a token is signed, so
    it cannot be guessed, and django-axes (which counts wrong passwords by user name and address) would lock
    out every member behind one shared address (a mobile carrier's) after a few old links."""
    user = SesameBackend().authenticate(request, sesame=token) if token else None
    member = member_of_user(user) if user is not None else None
    if member is not None:
        update_last_login(None, user)
    if member is None:
        raise MemberSiteError(
            _("This sign-in link is not valid: it has expired or was already used. Ask for a new one."),
            code="link_invalid",
        )
    return member


# --- a card registered from its receipt --------------------------------------------------------------------


def card_by_code(*, number: str, code: str, address: str) -> Card:
    """The active card with this number whose registration code is code (throttled per address)."""
    throttle(kind="code", keys=[f"ip:{address}"], limit=settings.MEMBER_CODE_TRIES_PER_HOUR)
    indexes = card_number_indexes(number or "")
    card = Card.objects.select_related("member").filter(number_bidx__in=indexes).first() if indexes else None
    if card is None or not members.card_registration_code_matches(card=card, code=code):
        raise _code_mismatch()
    if card.status != Card.Status.ACTIVE:
        raise _not_active()
    return card


def card_to_register(*, number: str, code: str, address: str) -> Card:
    """The card a person registers from its receipt: card_by_code's, refused if it is registered already."""
    card = card_by_code(number=number, code=code, address=address)
    if card.member.is_registered:
        raise _already_registered()
    return card


def _code_mismatch() -> MemberSiteError:
    return MemberSiteError(_("The card number and the registration code do not match."), code="card_code_mismatch")


def _not_active() -> MemberSiteError:
    return MemberSiteError(_("This card can no longer be used. Ask the secretariat."), code="card_not_active")


def _already_registered() -> MemberSiteError:
    return MemberSiteError(
        _("This card is already registered. Sign in with your e-mail address instead."), code="card_already_registered"
    )


@dataclass(frozen=True)
class Registration:
    name: str
    name_kana: str
    email: str
    phone: str
    address: str
    postal_code: str
    consents: dict[str, bool]


def member_register_card(*, card: Card, registration: Registration) -> Member:
    """Register the provisional member behind a card checked by card_by_code: personal data, the policy in
    force and every consent asked, recorded as given on the member site."""
    if card.status != Card.Status.ACTIVE:
        raise _not_active()
    if card.member.status != Member.Status.UNREGISTERED:
        raise _already_registered()
    policy = policy_in_force()
    with transaction.atomic():
        member = Member.objects.select_for_update().get(pk=card.member_id)
        if member.status != Member.Status.UNREGISTERED:
            raise _already_registered()
        member.postal_code = registration.postal_code
        members.member_register(
            member=member,
            terms_version=policy.version if policy else "",
            personal={
                "name": registration.name,
                "name_kana": registration.name_kana,
                "email": registration.email,
                "phone": registration.phone,
                "address": registration.address,
            },
            consents=registration.consents,
            channel=Consent.Channel.SITE,
        )
        audit_record(
            actor=None,
            action=AuditEvent.Action.ACTION,
            obj=member,
            summary=gettext_noop("registered on the member site"),
        )
    return member


# --- the member's own changes ------------------------------------------------------------------------------

PROFILE_FIELDS = ("name", "name_kana", "email", "phone", "address")


def member_profile_update(*, member: Member, personal: dict, postal_code: str) -> Member:
    """Personal data changed once, for every programme the member is in."""
    with transaction.atomic():
        locked = Member.objects.select_for_update().get(pk=member.pk)
        locked.postal_code = postal_code
        members.member_set_personal_data(
            member=locked, **{key: personal[key] for key in PROFILE_FIELDS if key in personal}
        )
        audit_record(
            actor=None,
            action=AuditEvent.Action.CHANGE,
            obj=locked,
            summary=gettext_noop("personal data changed on the member site"),
            detail={"fields": sorted(set(personal) | {"postal_code"})},
        )
    return locked


def member_consents_update(*, member: Member, choices: dict, policy_version: str | None = None) -> list:
    """The member's answers on the consent page (or to a new policy, with its version: every purpose)."""
    with transaction.atomic():
        rows = consent_record(
            member=member,
            choices=choices,
            channel=Consent.Channel.SITE,
            policy_version=policy_version,
            every=policy_version is not None,
        )
        if policy_version is not None:
            Member.objects.filter(pk=member.pk).update(terms_version=policy_version, terms_agreed_at=timezone.now())
            member.terms_version = policy_version
    return rows


def member_needs_policy(*, member: Member):
    """The policy in force if the member has not agreed to it yet (asked at the next sign-in), else None."""
    policy = policy_in_force()
    if policy is not None and member.terms_version != policy.version:
        return policy
    return None


def member_card_lost(*, member: Member, card_id: int) -> Card:
    """Report one of the member's own cards lost: blocked at once, at every till."""
    card = Card.objects.filter(member=member, pk=card_id).first()
    if card is None:
        raise MemberSiteError(_("No such card."), code="not_found")
    if card.status != Card.Status.ACTIVE:
        raise MemberSiteError(_("This card is already stopped."), code="card_already_stopped")
    with transaction.atomic():
        members.card_block(card=card, note="lost (member site)")
        audit_record(
            actor=None,
            action=AuditEvent.Action.ACTION,
            obj=member,
            summary=gettext_noop("card reported lost on the member site"),
            detail={"card": card.pk},
        )
    return card


def member_card_move(*, member: Member, card_id: int, number: str, code: str, card_type: str, address: str) -> Card:
    """Move a card's place (and everything on the member) to a new card, proven by its number and registration
    code: the new card's own points, if it was used at a till before, join the member's."""
    old = Card.objects.filter(member=member, pk=card_id).first()
    if old is None:
        raise MemberSiteError(_("No such card."), code="not_found")
    throttle(kind="code", keys=[f"ip:{address}"], limit=settings.MEMBER_CODE_TRIES_PER_HOUR)
    try:
        normalised = members.card_number_normalise(number=number, card_type=card_type)
    except members.CardNumberError as exc:
        raise MemberSiteError(str(exc), code="invalid_card") from None
    probe = Card(number_bidx=members.card_number_index(normalised))
    if not members.card_registration_code_matches(card=probe, code=code):
        raise _code_mismatch()
    try:
        return card_replace(
            old_card=old, new_number=normalised, new_card_type=card_type, staff=None, reason=_("member site")
        )
    except errors.InvalidOperation as exc:
        raise MemberSiteError(str(exc), code=exc.code) from None


def member_withdraw_self(*, member: Member) -> Member:
    """The member ends their membership (confirmed twice by the caller): personal data erased, every consent
    ended, cards stopped, remaining points forfeited."""
    try:
        return member_withdraw(
            member=member, staff=None, reason=_("withdrawal on the member site"), channel=Consent.Channel.SITE
        )
    except errors.InvalidOperation as exc:
        raise MemberSiteError(str(exc), code=exc.code) from None


# --- the member API's sessions ----------------------------------------------------------------------------


def _key_hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def api_session_start(*, request, token: str) -> tuple[ApiSession, str]:
    """A member API session from a one-time link's token (using it up): the session and its secret, which is
    shown once and kept only as a hash."""
    return api_session_open(member=member_link_use(request=request, token=token))


def api_session_open(*, member: Member) -> tuple[ApiSession, str]:
    """A member API session for a member who has just proven who they are (a link's token, a registration)."""
    key = secrets.token_urlsafe(32)
    session = ApiSession.objects.create(
        member=member,
        key_hash=_key_hash(key),
        expires_at=timezone.now() + datetime.timedelta(days=settings.MEMBER_API_SESSION_DAYS),
    )
    return session, key


def api_session_member(*, key: str) -> Member | None:
    """The active member of a live session with this secret, or None."""
    if not key:
        return None
    session = (
        ApiSession.objects.select_related("member")
        .filter(key_hash=_key_hash(key), ended_at__isnull=True, expires_at__gt=timezone.now())
        .first()
    )
    if session is None or session.member.status != Member.Status.ACTIVE:
        return None
    return session.member


def api_session_end(*, key: str) -> None:
    ApiSession.objects.filter(key_hash=_key_hash(key), ended_at__isnull=True).update(ended_at=timezone.now())


# --- donations ----------------------------------------------------------------------------------------------


def member_organisations(*, member: Member) -> list:
    """The organisations taking donations today in the programmes the member holds points in."""
    programme_ids = Account.objects.filter(member=member).values_list("programme_id", flat=True)
    return [
        organisation
        for programme_id in sorted(set(programme_ids))
        for organisation in organisations_accepting(programme=programme_id).select_related("programme")
    ]


def member_donate(*, member: Member, organisation_id: int, points: int, key: str, channel: str = Donation.Channel.SITE):
    """The member donates points from the site (or the app, `channel` api): once per key, soonest-expiring
    points first."""
    organisation = next((o for o in member_organisations(member=member) if o.pk == organisation_id), None)
    if organisation is None:
        raise MemberSiteError(_("This organisation is not taking donations."), code="organisation_not_accepting")
    try:
        return donation_make(
            member=member,
            organisation=organisation,
            points=points,
            channel=channel,
            idempotency_key=f"member-{channel}:{member.pk}:{key}"[:190],
        )
    except errors.LedgerError as exc:
        raise MemberSiteError(str(exc), code=exc.code) from None


# --- QR event and flyer points -------------------------------------------------------------------------------


def member_qr_scan(*, member: Member, token: str):
    """A QR code the member scanned: an event's points, a flyer's right, or a store visit redeeming rights
    (qrpoints.services.qr_scan, which answers every outcome with a message and never raises for it)."""
    return qr_scan(member=member, token=token)


def member_offers(*, member: Member) -> list[MemberOffer]:
    """The running card-linked offers that reach the member (none without their consent to targeted offers)."""
    return offers_of_member(member=member)


def member_offer_activate(*, member: Member, offer_id: int) -> MemberOffer:
    """Activate one of the member's own offers; an offer that does not reach them is unknown (not_found)."""
    found = next((each for each in offers_of_member(member=member) if each.offer.pk == offer_id), None)
    if found is None:
        raise MemberSiteError(_("Not found."), code="not_found")
    try:
        activation = offer_activate(member=member, offer=found.offer)
    except OfferError as exc:
        raise MemberSiteError(str(exc), code="offer_refused") from exc
    return MemberOffer(found.offer, True, activation.uses)


# --- payment cards linked for card-linked offers -------------------------------------------------------------


def member_payment_cards(*, member: Member) -> list[MemberPaymentCard]:
    """The member's linked payment cards, each shown by its token's last four characters."""
    return payment_cards_of_member(member=member)


def member_payment_card_link(*, member: Member, token: str) -> MemberPaymentCard:
    """Link a payment card's token from the card issuer (offers.services.payment_card_link: a card number is
    refused and never stored); linking the same token again answers the link the member has."""
    card = _payment_card_audited(
        member,
        gettext_noop("payment card linked on the member site"),
        lambda: payment_card_link(member=member, token=token),
    )
    return MemberPaymentCard(id=card.pk, last4=card.token[-4:], created_at=card.created_at)


def member_payment_card_unlink(*, member: Member, payment_card_id: int) -> None:
    """Remove one of the member's own linked cards; another member's is unknown (not_found)."""
    _payment_card_audited(
        member,
        gettext_noop("payment card removed on the member site"),
        lambda: payment_card_unlink(member=member, card_id=payment_card_id),
        card_id=payment_card_id,
    )


def _payment_card_audited(member: Member, summary: str, change, *, card_id: int | None = None):
    """The change of a linked card and its audit event (the card's id and last four characters, never the
    token), in one transaction; a refusal as the member site's."""
    with transaction.atomic():
        try:
            card = change()
        except PaymentCardError as exc:
            raise _payment_card_refusal(exc) from None
        audit_record(
            actor=None,
            action=AuditEvent.Action.ACTION,
            obj=member,
            summary=summary,
            detail={"payment_card": card_id or card.pk, "last4": card.token[-4:]},
        )
    return card


def _payment_card_refusal(exc: PaymentCardError) -> MemberSiteError:
    """The offers app's refusal with the member API's code for it."""
    if exc.code == "not_found":
        return MemberSiteError(_("Not found."), code="not_found")
    if exc.code == "card_token_taken":
        return MemberSiteError(str(exc), code="card_token_taken")
    if exc.code == "payment_cards_full":
        return MemberSiteError(str(exc), code="payment_cards_full")
    return MemberSiteError(str(exc), code="card_token_invalid")
