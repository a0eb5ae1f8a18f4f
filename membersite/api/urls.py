"""The member API, /api/member/v1/. Every route that takes an id looks the object up through the signed-in
member (membersite/tests/test_isolation.py walks this list to prove it)."""

from django.urls import path

from membersite.api import openapi, views
from membersite.api.pipeline import methods

app_name = "member_api"

urlpatterns = [
    path("links", methods(post=views.link_send), name="links"),
    path("sessions", methods(post=views.session_start), name="sessions"),
    path("sessions/current", methods(delete=views.session_end), name="session"),
    path("registrations/check", methods(post=views.registration_check), name="registration_check"),
    path("registrations", methods(post=views.registration), name="registrations"),
    path("me", methods(get=views.overview), name="me"),
    path("me/history", methods(get=views.history), name="history"),
    path("me/profile", methods(get=views.profile, patch=views.profile_update), name="profile"),
    path("me/consents", methods(get=views.consents, put=views.consents_update), name="consents"),
    path("me/policy", methods(get=views.policy, post=views.policy_agree), name="policy"),
    path("me/cards", methods(get=views.cards), name="cards"),
    path("me/cards/<str:card_id>", methods(get=views.card), name="card"),
    path("me/cards/<str:card_id>/lost", methods(post=views.card_lost), name="card_lost"),
    path("me/cards/<str:card_id>/move", methods(post=views.card_move), name="card_move"),
    path("me/withdrawal", methods(post=views.withdrawal), name="withdrawal"),
    path("organisations", methods(get=views.organisations), name="organisations"),
    path("me/donations", methods(get=views.donations, post=views.donate), name="donations"),
    path("me/donations/record.pdf", methods(get=views.donation_record), name="donation_record"),
    path("me/qr", methods(get=views.qr_points, post=views.qr_scan), name="qr"),
    path("me/offers", methods(get=views.offers), name="offers"),
    path("me/offers/activations", methods(post=views.offer_activate), name="offer_activations"),
    path("me/payment-cards", methods(get=views.payment_cards, post=views.payment_card_link), name="payment_cards"),
    path("me/payment-cards/<str:payment_card_id>", methods(delete=views.payment_card_unlink), name="payment_card"),
    path("openapi.json", openapi.openapi_json, name="openapi"),
    path("docs", openapi.docs, name="docs"),
]
