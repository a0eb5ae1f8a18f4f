from django.contrib import admin
from django.urls import include, path
from django.utils.translation import gettext_lazy as _
from django.views.generic import RedirectView

admin.site.site_header = admin.site.site_title = _("Point programme back office")
admin.site.index_title = _("Administration")

urlpatterns = [
    path("i18n/", include("django.conf.urls.i18n")),
    path("", RedirectView.as_view(url="/admin/", permanent=False)),
    path("admin/", admin.site.urls),
    path("api/v1/", include("api.urls")),
    path("api/member/v1/", include("membersite.api.urls")),
    path("portal/", include("portal.urls")),
    path("exchange/", include("exchange.urls")),
    path("my/", include("membersite.urls")),
    path("donations/", include("donations.urls")),
    path("mail/", include("mailing.urls")),
]
# No MEDIA_URL route, not even in DEBUG: issued PDFs leave only through the portal and the admin, which
# check who asks.
