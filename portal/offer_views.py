"""The merchant's card-linked offers in the portal: each offer's report (reach, activations, qualifying
purchases, sales, benefit paid, cost; figures about fewer than five members shown as 5名未満), and, where the
programme allows, a new offer created as a draft that the secretariat publishes."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from common.privacy import masked
from offers import selectors
from offers.forms import PortalOfferForm
from offers.services import OfferError, offer_create_in_portal
from portal.views import _render, merchant_required


def _members(value: int):
    return masked(value, value)


@merchant_required
def offer_list(request):
    offers = selectors.merchant_offers(merchant=request.merchant)
    programmes = selectors.portal_creation_programmes(merchant=request.merchant)
    return _render(request, "offers.html", {"offers": offers, "may_create": programmes.exists()})


@merchant_required
def offer_report(request, offer_id: int):
    offer = get_object_or_404(selectors.merchant_offers(merchant=request.merchant), pk=offer_id)
    report = selectors.offer_report(offer=offer)
    # Figures about the members who bought are hidden, all of them, while they are fewer than five.
    buyers = report.buyers
    rows = [
        (_("Members reached"), _members(report.reach)),
        (_("Activations"), _members(report.activations)),
        (_("Qualifying purchases"), masked(report.purchases, buyers)),
        (_("Sales (yen)"), masked(report.sales_yen, buyers)),
        (_("Benefit paid"), masked(report.benefit_paid, buyers)),
        (_("Benefit waiting"), masked(report.benefit_pending, buyers)),
        (_("Fees (yen, before tax)"), masked(report.fees_yen, buyers)),
        (_("Cost (yen, before tax)"), masked(report.cost_yen, buyers)),
    ]
    return _render(request, "offer_report.html", {"offer": offer, "report": report, "rows": rows})


class _ProgrammeChoice(forms.Form):
    programme = forms.ModelChoiceField(label=gettext_lazy("programme"), queryset=None)


@merchant_required
def offer_create(request):
    programmes = selectors.portal_creation_programmes(merchant=request.merchant)
    if not programmes.exists():
        return redirect("portal:offers")
    data = request.POST or None
    chooser = _ProgrammeChoice(data, initial={"programme": programmes.first()})
    chooser.fields["programme"].queryset = programmes
    form = PortalOfferForm(data, merchant=request.merchant)
    if request.method == "POST" and chooser.is_valid() and form.is_valid():
        offer = form.save(commit=False)
        try:
            offer = offer_create_in_portal(
                merchant=request.merchant,
                programme=chooser.cleaned_data["programme"],
                offer=offer,
                stores=list(form.cleaned_data["stores"]),
                user=request.user,
            )
        except OfferError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, _("The offer was saved as a draft: the secretariat publishes it."))
            return redirect("portal:offer", offer_id=offer.pk)
    return _render(request, "offer_form.html", {"form": form, "chooser": chooser})
