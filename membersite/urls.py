"""The member site. Every route that takes an id looks the object up through the signed-in member
(membersite/tests/test_isolation.py walks this list to prove it)."""

from django.urls import path

from membersite import views

app_name = "my"

urlpatterns = [
    path("login/", views.login_page, name="login"),
    path("link/", views.link, name="link"),
    path("logout/", views.logout_view, name="logout"),
    path("register/", views.register, name="register"),
    path("register/details/", views.register_details, name="register_details"),
    path("", views.home, name="home"),
    path("history/", views.history, name="history"),
    path("cards/", views.cards, name="cards"),
    path("cards/<int:card_id>/lost/", views.card_lost, name="card_lost"),
    path("cards/<int:card_id>/move/", views.card_move, name="card_move"),
    path("profile/", views.profile, name="profile"),
    path("consents/", views.consents, name="consents"),
    path("policy/", views.policy, name="policy"),
    path("donate/", views.donate, name="donate"),
    path("donations/record.pdf", views.donation_record, name="donation_record"),
    path("qr/<str:token>/", views.qr, name="qr"),
    path("offers/", views.offers, name="offers"),
    path("payment-cards/", views.payment_cards, name="payment_cards"),
    path("payment-cards/<int:payment_card_id>/delete/", views.payment_card_delete, name="payment_card_delete"),
    path("withdraw/", views.withdraw, name="withdraw"),
]
