"""The public catalogue of the gift-certificate exchange: what members can exchange, where and when."""

from django.urls import path

from exchange import views

app_name = "exchange"

urlpatterns = [
    path("", views.catalogue, name="catalogue"),
    path("<slug:code>/", views.catalogue, name="programme_catalogue"),
]
