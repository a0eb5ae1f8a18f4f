"""The exchange desk: the screen staff use all day at a counter.

Find the member (card reader, typed card number, or phone), see the balance and what is left of each
item's limits, choose quantities, confirm, hand over and print the slip; or take a reservation by phone
and hand over reserved items later. Every write is a service call (exchange.services); the desk only
shows what the services refuse, in the staff's language.

The basket carries a hidden idempotency key made when it was shown; the confirmation posts it back to
exchange_create, which returns the first exchange for a key it has seen, so a double submit or a
reload of the confirmation never exchanges twice.

Staff of some programmes serve at their programmes' counters, find only their programmes' members, and see
only their programmes' exchanges (common/scoping.py); another programme's member or exchange answers 404.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.http import HttpResponse, HttpResponseBadRequest, HttpResponseNotAllowed
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from common.scoping import narrow_form, request_scope, scoped
from exchange import selectors
from exchange.forms import BasketForm, CardLookupForm, CollectForm, CounterChoiceForm, PhoneLookupForm
from exchange.models import Counter, Exchange, Item
from exchange.services import exchange_collect, exchange_create
from exchange.slip import balance_after
from exchange.windows import next_opening
from members.admin.base import can_view_personal_data
from members.models import Card, Member
from members.selectors import card_search
from members.services import personal_data_indexes
from points.errors import LedgerError
from points.selectors import card_balance

SESSION_COUNTER = "exchange_desk_counter"
SESSION_CARD = "exchange_desk_card"
# More members than this on one phone number is not a household: ask for the card instead.
MAX_PHONE_MATCHES = 10


def desk_now() -> datetime.datetime:
    """The desk's clock; one place for tests to set it."""
    return timezone.now()


@dataclass
class ItemRow:
    item: Item
    left: dict
    can_take: int
    field: object = None


class DeskViews:
    """The desk's pages, mounted under the exchange admin (admin/exchange/exchange/desk/)."""

    def __init__(self, model_admin):
        self.model_admin = model_admin
        self.admin_site = model_admin.admin_site

    def urls(self):
        view = self.admin_site.admin_view
        return [
            path("desk/", view(self.find_view), name="exchange_desk"),
            path("desk/member/<int:member_id>/", view(self.member_view), name="exchange_desk_member"),
            path("desk/member/<int:member_id>/confirm/", view(self.confirm_view), name="exchange_desk_confirm"),
            path("desk/member/<int:member_id>/exchange/", view(self.exchange_view), name="exchange_desk_exchange"),
            path(
                "desk/member/<int:member_id>/collect/<int:exchange_id>/",
                view(self.collect_view),
                name="exchange_desk_collect",
            ),
            path("desk/done/<int:exchange_id>/", view(self.done_view), name="exchange_desk_done"),
        ]

    # --- shared ------------------------------------------------------------------------

    @staticmethod
    def _check(request) -> None:
        if not request.user.has_perm("exchange.add_exchange"):
            raise PermissionDenied

    def _context(self, request, title: str, **extra) -> dict:
        return {
            **self.admin_site.each_context(request),
            "opts": self.model_admin.opts,
            "title": title,
            **extra,
        }

    def _counter(self, request) -> Counter | None:
        """The counter this desk serves: the one chosen last in this session, else the first active one."""
        counters = scoped(request, Counter.objects.filter(is_active=True)).select_related("programme")
        chosen = request.GET.get("counter") or request.POST.get("counter") or request.session.get(SESSION_COUNTER)
        counter = None
        if chosen and str(chosen).isdigit():
            counter = counters.filter(pk=int(chosen)).first()
        counter = counter or counters.order_by("position", "pk").first()
        if counter is not None:
            request.session[SESSION_COUNTER] = counter.pk
        return counter

    def _counter_form(self, request, counter: Counter | None) -> CounterChoiceForm:
        form = CounterChoiceForm(initial={"counter": counter.pk if counter else None})
        narrow_form(request, form)
        return form

    # --- finding the member -------------------------------------------------------------

    def find_view(self, request):
        self._check(request)
        counter = self._counter(request)
        card_form, phone_form = CardLookupForm(), PhoneLookupForm()
        matches: list[Member] = []
        if request.method == "POST":
            if "card" in request.POST:
                card_form = CardLookupForm(request.POST)
                if card_form.is_valid():
                    found = self._by_card(request, card_form)
                    if found is not None:
                        return found
            elif "phone" in request.POST:
                phone_form = PhoneLookupForm(request.POST)
                if phone_form.is_valid():
                    matches = self._by_phone(request, phone_form)
                    if len(matches) == 1:
                        request.session.pop(SESSION_CARD, None)
                        return redirect(reverse("admin:exchange_desk_member", args=[matches[0].pk]))
                    if not matches:
                        phone_form.add_error("phone", _("No member has this phone number."))
        context = self._context(
            request,
            _("Exchange desk"),
            counter=counter,
            counter_form=self._counter_form(request, counter),
            card_form=card_form,
            phone_form=phone_form,
            matches=[
                {"member": member, "cards": _card_endings(member), "name": _name(request, member)} for member in matches
            ],
            opening=_opening(counter),
        )
        return TemplateResponse(request, "admin/exchange/desk/find.html", context)

    def _by_card(self, request, form: CardLookupForm):
        cards = list(scoped(request, card_search(query=form.cleaned_data["card"])).select_related("member"))
        if not cards:
            form.add_error("card", _("No card has this number."))
            return None
        active = [card for card in cards if card.status == Card.Status.ACTIVE]
        if not active:
            form.add_error(
                "card",
                _("This card can no longer be used (replaced or blocked). Ask for the member's current card."),
            )
            return None
        card = active[0]
        request.session[SESSION_CARD] = {"member": card.member_id, "last4": card.number_last4}
        return redirect(reverse("admin:exchange_desk_member", args=[card.member_id]))

    @staticmethod
    def _by_phone(request, form: PhoneLookupForm) -> list[Member]:
        digest = personal_data_indexes({"phone": form.cleaned_data["phone"]})["phone_bidx"]
        return list(
            scoped(request, Member.objects.filter(phone_bidx=digest))
            .exclude(status=Member.Status.WITHDRAWN)
            .order_by("pk")[:MAX_PHONE_MATCHES]
        )

    # --- the member and the basket ------------------------------------------------------

    def _member(self, request, member_id: int) -> Member:
        members = scoped(request, Member.objects.exclude(status=Member.Status.WITHDRAWN))
        return get_object_or_404(members, pk=member_id)

    def _items(self, counter: Counter, day: datetime.date) -> list[Item]:
        """The counter's catalogue today: active items of its programme collectable there."""
        items = (
            Item.objects.filter(programme_id=counter.programme_id, is_active=True)
            .filter(Q(active_from__isnull=True) | Q(active_from__lte=day))
            .filter(Q(active_until__isnull=True) | Q(active_until__gte=day))
            .filter(Q(counters__isnull=True) | Q(counters=counter))
            .distinct()
            .order_by("position", "pk")
        )
        return list(items)

    def _basket(self, request, member: Member, counter: Counter, at, data=None) -> BasketForm:
        return BasketForm(
            data,
            items=self._items(counter, timezone.localtime(at).date()),
            can_override=request.user.has_perm("exchange.override_window"),
        )

    def _member_page(self, request, member: Member, counter: Counter | None, form: BasketForm | None = None):
        at = desk_now()
        rows: list[ItemRow] = []
        balance = 0
        if counter is not None:
            form = form or self._basket(request, member, counter, at)
            account = card_balance(member_id=member.pk, programme=counter.programme_id)
            balance = account.balance if account else 0
            for item, field in form.quantity_inputs():
                left = selectors.limits_left(member, item, at)
                rows.append(ItemRow(item=item, left=left, can_take=_can_take(left, item, balance), field=field))
        reservations = list(selectors.member_reservations(member, programme_ids=request_scope(request).programme_ids))
        can_override = request.user.has_perm("exchange.override_window")
        context = self._context(
            request,
            _("Exchange desk: %(member)s") % {"member": member.pseudonym},
            member=member,
            member_name=_name(request, member),
            card=_card_used(request, member),
            cards=_card_endings(member),
            counter=counter,
            counter_form=self._counter_form(request, counter),
            balance=balance,
            form=form,
            rows=rows,
            opening=_opening(counter, at),
            reservations=[
                {
                    "exchange": exchange,
                    "lines": list(exchange.lines.all()),
                    "form": CollectForm(prefix=f"collect-{exchange.pk}") if can_override else None,
                }
                for exchange in reservations
            ],
            recent=scoped(request, Exchange.objects.filter(member=member))
            .select_related("counter")
            .exclude(status=Exchange.Status.RESERVED)
            .order_by("-created_at", "-pk")[:5],
        )
        return TemplateResponse(request, "admin/exchange/desk/member.html", context)

    def member_view(self, request, member_id: int):
        self._check(request)
        member = self._member(request, member_id)
        return self._member_page(request, member, self._counter(request))

    def _posted(self, request, member_id: int) -> tuple[Member, Counter, BasketForm] | HttpResponse:
        """The member, the counter and the bound basket of a POST from the desk, or the answer to a bad one."""
        self._check(request)
        # The member first: another programme's answers 404 whatever the method.
        member = self._member(request, member_id)
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        counter = scoped(request, Counter.objects.filter(pk=request.POST.get("counter") or 0, is_active=True)).first()
        if counter is None:
            return HttpResponseBadRequest(_("Choose a counter."))
        request.session[SESSION_COUNTER] = counter.pk
        return member, counter, self._basket(request, member, counter, desk_now(), data=request.POST)

    def confirm_view(self, request, member_id: int):
        posted = self._posted(request, member_id)
        if isinstance(posted, HttpResponse):
            return posted
        member, counter, form = posted
        if not form.is_valid():
            return self._member_page(request, member, counter, form)
        lines = [
            {
                "item": item,
                "quantity": quantity,
                "points": item.price_points * quantity,
                "yen": item.face_value_yen * quantity,
            }
            for item, quantity in form.lines()
        ]
        points = sum(line["points"] for line in lines)
        account = card_balance(member_id=member.pk, programme=counter.programme_id)
        balance = account.balance if account else 0
        context = self._context(
            request,
            _("Confirm the exchange"),
            member=member,
            member_name=_name(request, member),
            card=_card_used(request, member),
            counter=counter,
            form=form,
            lines=lines,
            points=points,
            face_value_yen=sum(line["yen"] for line in lines),
            balance=balance,
            balance_after=balance - points,
            enough=balance >= points,
            reserve=form.cleaned_data["reserve"],
            override_reason=form.cleaned_data.get("override_reason", ""),
            opening=_opening(counter),
        )
        return TemplateResponse(request, "admin/exchange/desk/confirm.html", context)

    def exchange_view(self, request, member_id: int):
        posted = self._posted(request, member_id)
        if isinstance(posted, HttpResponse):
            return posted
        member, counter, form = posted
        if not form.is_valid():
            return self._member_page(request, member, counter, form)
        try:
            exchange = exchange_create(
                member=member,
                counter=counter,
                lines=form.lines(),
                staff=request.user,
                idempotency_key=form.cleaned_data["idempotency_key"],
                at=desk_now(),
                override_reason=form.cleaned_data.get("override_reason", ""),
                reserve=form.cleaned_data["reserve"],
            )
        except LedgerError as error:
            messages.error(request, refusal_text(error))
            return self._member_page(request, member, counter, form)
        if exchange.member_id != member.pk:
            # The key belongs to another member's exchange: a tampered form, never a double submit.
            messages.error(request, _("The form is out of date; open the desk again."))
            return redirect(reverse("admin:exchange_desk_member", args=[member.pk]))
        return redirect(reverse("admin:exchange_desk_done", args=[exchange.pk]))

    def collect_view(self, request, member_id: int, exchange_id: int):
        self._check(request)
        member = self._member(request, member_id)
        exchange = get_object_or_404(scoped(request, Exchange.objects.all()), pk=exchange_id, member=member)
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        form = CollectForm(request.POST, prefix=f"collect-{exchange.pk}")
        reason = form.cleaned_data["override_reason"] if form.is_valid() else ""
        if reason and not request.user.has_perm("exchange.override_window"):
            reason = ""
        try:
            exchange_collect(exchange=exchange, staff=request.user, at=desk_now(), override_reason=reason)
        except LedgerError as error:
            messages.error(request, refusal_text(error))
            return redirect(reverse("admin:exchange_desk_member", args=[member.pk]))
        return redirect(reverse("admin:exchange_desk_done", args=[exchange.pk]))

    # --- done ---------------------------------------------------------------------------

    def done_view(self, request, exchange_id: int):
        self._check(request)
        exchange = get_object_or_404(
            scoped(request, Exchange.objects.select_related("member", "counter")), pk=exchange_id
        )
        context = self._context(
            request,
            _("Exchange %(serial)s") % {"serial": exchange.serial},
            exchange=exchange,
            lines=list(exchange.lines.select_related("item")),
            balance_after=balance_after(exchange),
            slip_url=reverse("admin:exchange_exchange_slip", args=[exchange.pk]),
        )
        return TemplateResponse(request, "admin/exchange/desk/done.html", context)


# --- helpers ------------------------------------------------------------------------------


def refusal_text(error: LedgerError) -> str:
    """What a refusal says at the desk: the service's own message (the outside-window refusal names the next
    opening itself)."""
    return str(error)


def _opening(counter: Counter | None, at: datetime.datetime | None = None) -> dict | None:
    """Whether the counter takes exchanges now, or when it does next."""
    if counter is None:
        return None
    at = at or desk_now()
    opening = next_opening(counter.programme_id, counter, at)
    return {"open_now": opening is not None and opening <= at, "next": opening}


def _can_take(left: dict, item: Item, balance: int) -> int:
    """The most the member can take of the item now: stock, first-come, limits and points together."""
    bounds = [value for value in (left.get("stock"), left.get("first_come"), left.get("window"), left.get("year"))]
    bounds = [value for value in bounds if value is not None]
    bounds.append(balance // item.price_points)
    return max(min(bounds), 0)


def _card_endings(member: Member) -> list[str]:
    return list(
        Card.objects.filter(member=member, status=Card.Status.ACTIVE)
        .order_by("pk")
        .values_list("number_last4", flat=True)
    )


def _card_used(request, member: Member) -> str:
    found = request.session.get(SESSION_CARD) or {}
    return found.get("last4", "") if found.get("member") == member.pk else ""


def _name(request, member: Member) -> str:
    """The member's name for staff who may see personal data; otherwise nothing (the member id is shown)."""
    return member.name if can_view_personal_data(request) else ""
