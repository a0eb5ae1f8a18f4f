"""The public page of point donations: each organisation's running total."""

from django.urls import path

from donations import views

app_name = "donations"

urlpatterns = [path("", views.totals, name="totals")]
