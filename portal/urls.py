"""The merchant portal: a merchant's own stores, their activity this period, their analytics (all of them or
one), and their sent statements.

Every route that takes an id looks the object up through the logged-in merchant
(portal/tests/test_isolation.py walks this list to prove it).
"""

from django.urls import path

from portal import offer_views, views

app_name = "portal"

urlpatterns = [
    path("login/", views.PortalLoginView.as_view(), name="login"),
    path("logout/", views.PortalLogoutView.as_view(), name="logout"),
    path("password-reset/", views.PortalPasswordResetView.as_view(), name="password_reset"),
    path("password-reset/sent/", views.PortalPasswordResetDoneView.as_view(), name="password_reset_done"),
    path(
        "password-reset/<uidb64>/<token>/",
        views.PortalPasswordResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
    path("password-reset/complete/", views.PortalPasswordResetCompleteView.as_view(), name="password_reset_complete"),
    path("", views.dashboard, name="dashboard"),
    path("stores/<int:store_id>/", views.store_detail, name="store"),
    path("analytics/", views.analytics, name="analytics"),
    path("analytics/stores/<int:store_id>/", views.analytics, name="analytics_store"),
    path("offers/", offer_views.offer_list, name="offers"),
    path("offers/new/", offer_views.offer_create, name="offer_create"),
    path("offers/<int:offer_id>/", offer_views.offer_report, name="offer"),
    path("statements/", views.statement_list, name="statements"),
    path("statements/<int:statement_id>/pdf", views.statement_pdf, name="statement_pdf"),
    path("statements/<int:statement_id>/csv", views.statement_csv_download, name="statement_csv"),
    path("reports/", views.report_list, name="reports"),
    path("reports/<int:report_id>/pdf", views.report_pdf, name="report_pdf"),
    path("reports/<int:report_id>/csv", views.report_csv, name="report_csv"),
]
