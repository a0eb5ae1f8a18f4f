"""The member site's pages (/my/): signing in by a one-time link or registering a card from its receipt, then
the member's points, history, cards, personal data, consents, donations, QR points and withdrawal.

`member_required` lets in only a signed-in, active member and puts them on the request; every object is
looked up through that member, so another member's ids answer 404 (membersite/tests/test_isolation.py walks
every id-taking URL). Every change is a POST calling membersite.services.
"""

from __future__ import annotations

import uuid
from functools import wraps

from django.contrib import messages
from django.contrib.auth import login, logout
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from donations.documents import donation_record_pdf
from donations.selectors import donations_of_member
from members.models import Card
from membersite import selectors, services
from membersite.forms import (
    CardCodeForm,
    DonationForm,
    EmailForm,
    NewCardForm,
    PaymentCardForm,
    ProfileForm,
    RegistrationForm,
    WithdrawForm,
    consent_form_class,
)
from membersite.services import MemberSiteError
from qrpoints.tokens import QrCodeInvalid, qr_resolve

REGISTERING = "membersite.registering_card"
BACKEND = "django.contrib.auth.backends.ModelBackend"


def _address(request) -> str:
    return request.META.get("REMOTE_ADDR", "")


def member_required(view):
    """Anyone else goes to the sign-in page; a member who has not agreed to the policy in force is asked first."""

    @wraps(view)
    @never_cache
    def wrapped(request, *args, **kwargs):
        member = services.member_of_user(request.user)
        if member is None:
            return redirect(f"{reverse('my:login')}?next={request.get_full_path()}")
        request.member = member
        if view.__name__ != "policy" and services.member_needs_policy(member=member):
            return redirect(f"{reverse('my:policy')}?next={request.get_full_path()}")
        return view(request, *args, **kwargs)

    return wrapped


def _render(request, template: str, context: dict | None = None, status: int = 200):
    return render(
        request,
        f"membersite/{template}",
        {"member": getattr(request, "member", None), **(context or {})},
        status=status,
    )


def _next(request, default: str) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}) and target.startswith("/my/"):
        return target
    return default


# --- signing in ---------------------------------------------------------------------------------------------


@never_cache
def login_page(request):
    form = EmailForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.member_link_send(email=form.cleaned_data["email"], address=_address(request))
        except MemberSiteError as exc:
            return _render(request, "login.html", {"form": form, "error": str(exc)}, status=429)
        return _render(request, "link_sent.html", {"email": form.cleaned_data["email"]})
    return _render(request, "login.html", {"form": form, "next": _next(request, "")})


@never_cache
def link(request):
    """The mailed link opens this page; only its button (a POST) signs in, so a mail scanner cannot use it up."""
    token = request.POST.get("token") or request.GET.get("token") or ""
    if request.method != "POST":
        return _render(request, "link.html", {"token": token})
    try:
        member = services.member_link_use(request=request, token=token)
    except MemberSiteError as exc:
        return _render(request, "link.html", {"error": str(exc)}, status=400)
    login(request, services.member_login_user(member=member), backend=BACKEND)
    return redirect(_next(request, reverse("my:home")))


@require_POST
def logout_view(request):
    logout(request)
    messages.success(request, _("You have signed out."))
    return redirect("my:login")


@never_cache
def register(request):
    """A card registered from its receipt: the card number and the registration code, then the person."""
    form = CardCodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            card = services.card_to_register(
                number=form.cleaned_data["number"], code=form.cleaned_data["code"], address=_address(request)
            )
        except MemberSiteError as exc:
            form.add_error(None, str(exc))
        else:
            request.session[REGISTERING] = card.pk
            return redirect("my:register_details")
    return _render(request, "register.html", {"form": form})


@never_cache
def register_details(request):
    card = Card.objects.select_related("member").filter(pk=request.session.get(REGISTERING)).first()
    if card is None:
        return redirect("my:register")
    consent_lines = selectors.member_consent_lines(member=card.member)
    form = RegistrationForm(request.POST or None)
    consents = consent_form_class(consent_lines)(request.POST or None, prefix="consent")
    policy = services.policy_in_force()
    if request.method == "POST" and form.is_valid() and consents.is_valid():
        data = form.cleaned_data
        try:
            member = services.member_register_card(
                card=card,
                registration=services.Registration(
                    name=data["name"],
                    name_kana=data["name_kana"],
                    email=data.get("email") or "",
                    phone=data.get("phone") or "",
                    address=data.get("address") or "",
                    postal_code=data.get("postal_code") or "",
                    consents={
                        selectors.consent_key_of_field(key): value for key, value in consents.cleaned_data.items()
                    },
                ),
            )
        except MemberSiteError as exc:
            form.add_error(None, str(exc))
        else:
            del request.session[REGISTERING]
            login(request, services.member_login_user(member=member), backend=BACKEND)
            messages.success(request, _("Your card is registered. Welcome!"))
            return redirect("my:home")
    return _render(
        request, "register_details.html", {"form": form, "consents": consents, "policy": policy, "card": card}
    )


# --- pages --------------------------------------------------------------------------------------------------


@member_required
def home(request):
    return _render(request, "home.html", {"overview": selectors.member_overview(member=request.member)})


@member_required
def history(request):
    return _render(request, "history.html", {"entries": selectors.member_history(member=request.member)})


@member_required
def cards(request):
    return _render(request, "cards.html", {"cards": selectors.member_cards(member=request.member)})


def _own_card(request, card_id: int) -> Card:
    card = Card.objects.filter(member=request.member, pk=card_id).defer("number").first()
    if card is None:
        raise Http404
    return card


@member_required
def card_lost(request, card_id: int):
    card = _own_card(request, card_id)
    if request.method == "POST":
        try:
            services.member_card_lost(member=request.member, card_id=card.pk)
        except MemberSiteError as exc:
            messages.error(request, str(exc))
        else:
            messages.success(request, _("The card is stopped at every store. Move its points to a new card below."))
        return redirect("my:cards")
    return _render(request, "card_lost.html", {"card": card})


@member_required
def card_move(request, card_id: int):
    card = _own_card(request, card_id)
    form = NewCardForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            new = services.member_card_move(
                member=request.member,
                card_id=card.pk,
                number=form.cleaned_data["number"],
                code=form.cleaned_data["code"],
                card_type=form.cleaned_data["card_type"],
                address=_address(request),
            )
        except MemberSiteError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(
                request, _("Your points are now on the card ending %(last4)s.") % {"last4": new.number_last4}
            )
            return redirect("my:cards")
    return _render(request, "card_move.html", {"card": card, "form": form})


@member_required
def profile(request):
    member = request.member
    initial = {field: getattr(member, field) for field in services.PROFILE_FIELDS}
    form = ProfileForm(request.POST or None, initial={**initial, "postal_code": member.postal_code})
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        services.member_profile_update(
            member=member,
            personal={field: data.get(field) or "" for field in services.PROFILE_FIELDS},
            postal_code=data.get("postal_code") or "",
        )
        messages.success(request, _("Your details are changed for every programme."))
        return redirect("my:profile")
    return _render(request, "profile.html", {"form": form})


@member_required
def consents(request):
    lines = selectors.member_consent_lines(member=request.member)
    form = consent_form_class(lines)(request.POST or None, prefix="consent")
    if request.method == "POST" and form.is_valid():
        services.member_consents_update(
            member=request.member,
            choices={selectors.consent_key_of_field(key): value for key, value in form.cleaned_data.items()},
        )
        messages.success(request, _("Your choices are saved."))
        return redirect("my:consents")
    return _render(request, "consents.html", {"form": form, "lines": lines})


@member_required
def policy(request):
    """A new version of the policy: asked again, with every purpose, before anything else."""
    policy = services.member_needs_policy(member=request.member)
    if policy is None:
        return redirect(_next(request, reverse("my:home")))
    lines = selectors.member_consent_lines(member=request.member)
    form = consent_form_class(lines)(request.POST or None, prefix="consent")
    if request.method == "POST" and form.is_valid() and request.POST.get("agree"):
        services.member_consents_update(
            member=request.member,
            choices={selectors.consent_key_of_field(key): value for key, value in form.cleaned_data.items()},
            policy_version=policy.version,
        )
        return redirect(_next(request, reverse("my:home")))
    error = _("Please agree to the new policy to go on.") if request.method == "POST" else ""
    return _render(request, "policy.html", {"form": form, "policy": policy, "error": error, "next": _next(request, "")})


@member_required
def donate(request):
    """Donate points to an organisation, from 1 point; the form's key makes a double submit donate once."""
    organisations = services.member_organisations(member=request.member)
    form = DonationForm(request.POST or None, organisations=organisations, initial={"key": uuid.uuid4()})
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            donation = services.member_donate(
                member=request.member, organisation_id=data["organisation"], points=data["points"], key=str(data["key"])
            )
        except MemberSiteError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(
                request,
                _("Thank you: %(points)s points donated to %(organisation)s.")
                % {"points": f"{donation.points:,}", "organisation": donation.organisation.name},
            )
            return redirect("my:donate")
    donations = donations_of_member(member=request.member)[:20]
    return _render(request, "donate.html", {"form": form, "organisations": organisations, "donations": donations})


@member_required
def donation_record(request):
    return HttpResponse(
        donation_record_pdf(member=request.member),
        content_type="application/pdf",
        headers={"Content-Disposition": 'attachment; filename="donations.pdf"'},
    )


@member_required
def qr(request, token: str):
    """A QR code scanned with the phone's camera opens this page: what the code is, and a button (a POST) that
    claims it, so that a link preview or a scanner opening the URL credits nothing. A member not signed in
    signs in first and comes back here."""
    try:
        kind, obj = qr_resolve(token)
    except QrCodeInvalid as exc:
        return _render(request, "qr.html", {"error": exc.message}, status=404)
    result = services.member_qr_scan(member=request.member, token=token) if request.method == "POST" else None
    return _render(request, "qr.html", {"kind": kind, "obj": obj, "result": result})


@member_required
def withdraw(request):
    """Withdrawal, confirmed twice: this page's warning and button, then typing 退会 on the next."""
    if request.method != "POST":
        return _render(request, "withdraw.html", {"step": 1})
    form = WithdrawForm(request.POST if "confirm" in request.POST else None)
    if form.is_bound and form.is_valid():
        try:
            services.member_withdraw_self(member=request.member)
        except MemberSiteError as exc:
            messages.error(request, str(exc))
            return redirect("my:home")
        logout(request)
        return _render(request, "withdrawn.html")
    return _render(request, "withdraw.html", {"step": 2, "form": form})


@member_required
def offers(request):
    """The member's card-linked offers, each activated with a button (a POST naming the offer)."""
    if request.method == "POST":
        try:
            offer_id = int(request.POST.get("offer", ""))
        except ValueError:
            raise Http404 from None
        try:
            activated = services.member_offer_activate(member=request.member, offer_id=offer_id)
        except MemberSiteError as exc:
            if exc.code == "not_found":
                raise Http404 from exc
            messages.error(request, str(exc))
        else:
            messages.success(request, _("Activated: %(title)s") % {"title": activated.offer.title})
        return redirect("my:offers")
    return _render(request, "offers.html", {"offers": services.member_offers(member=request.member)})


@member_required
def payment_cards(request):
    """The payment cards the member linked for card-linked offers (each by its token's last four characters),
    and a form to link another by the token from the card issuer."""
    form = PaymentCardForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            card = services.member_payment_card_link(member=request.member, token=form.cleaned_data["token"])
        except MemberSiteError as exc:
            form.add_error("token", str(exc))
        else:
            messages.success(request, _("The card %(card)s is linked.") % {"card": card.masked})
            return redirect("my:payment_cards")
    cards = services.member_payment_cards(member=request.member)
    return _render(request, "payment_cards.html", {"cards": cards, "form": form})


@member_required
def payment_card_delete(request, payment_card_id: int):
    """Remove a linked card (a POST); another member's card is 404, whatever the method."""
    card = next((c for c in services.member_payment_cards(member=request.member) if c.id == payment_card_id), None)
    if card is None:
        raise Http404
    if request.method == "POST":
        try:
            services.member_payment_card_unlink(member=request.member, payment_card_id=card.id)
        except MemberSiteError as exc:
            raise Http404 from exc
        messages.success(request, _("The card %(card)s is no longer linked.") % {"card": card.masked})
    return redirect("my:payment_cards")
