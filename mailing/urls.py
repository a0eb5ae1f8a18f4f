"""/mail/: the one-click unsubscribe link of every mail to members, and the mail provider's webhooks
(django-anymail's, answered only once ANYMAIL["WEBHOOK_SECRET"] is set, so that nobody can post reports
to an unguarded endpoint)."""

from functools import wraps

from anymail import urls as anymail_urls
from django.conf import settings
from django.http import Http404
from django.urls import URLPattern, include, path

from mailing import views

app_name = "mailing"


def _guarded(view):
    @wraps(view)
    def guarded(request, *args, **kwargs):
        if not getattr(settings, "ANYMAIL", {}).get("WEBHOOK_SECRET"):
            raise Http404
        return view(request, *args, **kwargs)

    return guarded


_provider_webhooks = [
    URLPattern(pattern.pattern, _guarded(pattern.callback), pattern.default_args, pattern.name)
    for pattern in anymail_urls.urlpatterns
]

urlpatterns = [
    path("unsubscribe/<str:token>/", views.unsubscribe, name="unsubscribe"),
    path("anymail/", include((_provider_webhooks, "anymail"))),
]
