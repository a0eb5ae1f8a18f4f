"""The back office's admin site: the index lists the secretariat's daily work first and the system screens
(users and groups, background tasks, login lockouts) last, under Japanese names. Who sees a system screen
is decided by the roles (loyalty/roles.py): the secretariat and superusers, nobody else.

Every ModelAdmin registered here, ours and those of Django, django-q2 and axes alike, is given the firewall
between programmes (common.scoping.ProgrammeScopedAdmin) as it is registered, so that no admin can be
added without it: staff who work for some programmes read and change only their programmes' rows, and a
model that belongs to no programme is hidden from them."""

from django.contrib.admin import AdminSite, ModelAdmin
from django.contrib.admin.apps import AdminConfig
from django.utils.translation import gettext_lazy as _

from common.scoping import ProgrammeScopedAdmin

# The order of the index; an app not named comes after these and before the system screens.
DAILY_WORK = (
    "members",
    "points",
    "exchange",
    "donations",
    "campaigns",
    "coupons",
    "rallies",
    "stores",
    "billing",
    "analytics",
    "audit",
)
SYSTEM = {
    "auth": _("System: users and groups"),
    "django_q": _("System: background tasks"),
    "axes": _("System: login attempts and lockouts"),
}


class BackOfficeSite(AdminSite):
    # The lists need the width of a 1,366 px screen; the index and the breadcrumbs lead everywhere the
    # sidebar did.
    enable_nav_sidebar = False

    def register(self, model_or_iterable, admin_class=None, **options):
        admin_class = admin_class or ModelAdmin
        if not issubclass(admin_class, ProgrammeScopedAdmin):
            admin_class = type(
                admin_class.__name__,
                (ProgrammeScopedAdmin, admin_class),
                {"__module__": admin_class.__module__, "__doc__": admin_class.__doc__},
            )
        super().register(model_or_iterable, admin_class, **options)

    def get_app_list(self, request, app_label=None):
        apps = super().get_app_list(request, app_label)
        for app in apps:
            if app["app_label"] in SYSTEM:
                app["name"] = SYSTEM[app["app_label"]]
            for entry in app["models"]:
                # A model admin that is a report (analytics) leads from the index to the report itself.
                index_url = getattr(self._registry.get(entry["model"]), "index_url", None)
                if index_url is not None:
                    entry["admin_url"] = index_url()
        return sorted(apps, key=lambda app: (_place(app["app_label"]), str(app["name"])))


def _place(app_label: str) -> int:
    if app_label in DAILY_WORK:
        return DAILY_WORK.index(app_label)
    if app_label in SYSTEM:
        return len(DAILY_WORK) + 1 + list(SYSTEM).index(app_label)
    return len(DAILY_WORK)


class BackOfficeAdminConfig(AdminConfig):
    default_site = "loyalty.admin_site.BackOfficeSite"
