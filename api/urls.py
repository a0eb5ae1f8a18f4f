from django.urls import path

from api import batch, openapi, views

app_name = "api"

urlpatterns = [
    path("cards/<str:card_type>/<str:number>", views.card_lookup, name="card"),
    path("earn", views.earn, name="earn"),
    path("spend", views.spend, name="spend"),
    path("void", views.void, name="void"),
    path("purchase-points", views.purchase_points, name="purchase_points"),
    path("coupons/redeem", views.redeem_coupon, name="coupon_redeem"),
    path("day", views.day, name="day"),
    path("batch", batch.batch, name="batch"),
    path("batch/<str:batch_id>", batch.batch_status, name="batch_status"),
    path("openapi.json", openapi.openapi_json, name="openapi"),
    path("docs", openapi.docs, name="docs"),
]
